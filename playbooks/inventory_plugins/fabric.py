"""Ansible inventory plugin: the fabric model's devices, grouped by role, rack and platform.

Groups: `switches`, `nodes`, `role_<core|tor|rr_switch|node|node_rr>`,
`rack_<name>`, `platform_<name>`. Host vars: `ansible_host` (management
address, or the node's address), `fabric_role`, `fabric_rack`,
`fabric_platform`, `fabric_asn`, `fabric_router_id`, and `fabric_model`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = r"""
name: fabric
short_description: devices of a bgp-fabric model
description: Reads the fabric model (inventory/fabric.yaml) and its IPAM state.
options:
  plugin:
    description: must be C(fabric)
    required: true
    choices: [fabric]
  model:
    description: the model file, relative to this inventory file (or FABRIC_MODEL)
    required: false
"""


class InventoryModule(BaseInventoryPlugin):
    NAME = "fabric"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("fabric.inventory.yml",
                                                             "fabric.inventory.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        from fabric import pipeline
        from fabric.errors import InputError

        model = os.environ.get("FABRIC_MODEL") or self.get_option("model") or \
            "../inventory/fabric.yaml"
        model_path = (Path(path).parent / model).resolve()
        try:
            intent = pipeline.build(model_path).intent
        except InputError as exc:
            raise AnsibleParserError(f"fabric model {model_path}:\n{exc}") from None
        for group in ("switches", "nodes"):
            self.inventory.add_group(group)
        for d in intent.devices.values():
            self.inventory.add_host(d.name)
            groups = ["switches" if d.is_switch else "nodes", f"role_{d.role}",
                      f"platform_{d.platform}"]
            if d.rack:
                groups.append(f"rack_{d.rack}".replace("-", "_"))
            for g in groups:
                self.inventory.add_group(g)
                self.inventory.add_child(g, d.name)
            address = d.mgmt or d.router_id
            for key, value in (("ansible_host", str(address)), ("fabric_role", d.role),
                               ("fabric_rack", d.rack or ""), ("fabric_platform", d.platform),
                               ("fabric_asn", d.asn), ("fabric_router_id", str(d.router_id)),
                               ("fabric_model", str(model_path))):
                self.inventory.set_variable(d.name, key, value)
