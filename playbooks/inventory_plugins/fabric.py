"""Ansible inventory plugin: the fabric model's devices, grouped by role, rack and platform.

Groups: `switches`, `nodes`, `role_<core|tor|rr_switch|node|node_rr>`,
`rack_<name>`, `platform_<name>`. Host vars: Ansible's `ansible_host`,
`ansible_connection`, `ansible_network_os` and `ansible_user`, and this project's
`fabric_role`, `fabric_rack`, `fabric_platform`, `fabric_asn`, `fabric_router_id`
and `fabric_model`. Every value is a plain str or int.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = r"""
---
name: fabric
short_description: The devices of a bgp-fabric model
description:
  - Reads the fabric model (for example C(inventory/fabric.yaml)) and its IPAM state,
    and adds every switch and node of it, grouped by role, rack and platform.
  - "Groups: C(switches), C(nodes), C(role_<core|tor|rr_switch|node|node_rr>),
    C(rack_<name>) (a C(-) in the name becomes C(_)) and C(platform_<name>)."
  - Every host gets C(ansible_host) (its management address, or a node's address),
    C(ansible_connection), C(ansible_network_os), C(ansible_user), and C(fabric_role),
    C(fabric_rack), C(fabric_platform), C(fabric_asn), C(fabric_router_id) and
    C(fabric_model) (the model file, absolute).
  - Switches get C(ansible_connection=local) - this project's modules run on the
    controller and reach the switch through their own drivers, so Ansible must not open
    a connection of its own (a host variable outranks a play's C(connection)). Nodes,
    Linux servers running GoBGP, get C(ansible_connection=ssh).
  - C(ansible_network_os) is the Ansible collection's name where one exists
    (C(cisco.ios.ios), C(cisco.nxos.nxos), C(frr.frr.frr)), else netmiko's device type
    (C(hp_comware), C(huawei_vrpv8), and C(linux) for nodes).
  - C(ansible_user) is the login this project's modules will use for the device
    (E(FABRIC_USERNAME) and E(FABRIC_PASSWORD), or the credentials file named by
    E(FABRIC_CREDENTIALS)), else E(FABRIC_USERNAME) alone, else the user running
    Ansible. Passwords never enter the inventory.
  - A model that does not validate fails the inventory with the located errors.
author:
  - bgp-fabric maintainers
options:
  plugin:
    description: The name of this plugin; the inventory file is read only when it is C(fabric).
    type: str
    required: true
    choices: [fabric]
  model:
    description:
      - The fabric model file, relative to the inventory file.
      - E(FABRIC_MODEL), when set, takes its place.
    type: str
    default: ../inventory/fabric.yaml
notes:
  - The inventory file must be named C(fabric.inventory.yml) or C(fabric.inventory.yaml).
"""

EXAMPLES = r"""
# playbooks/fabric.inventory.yml
plugin: fabric
model: ../inventory/fabric.yaml
"""

# Jinja's delimiters: values are trusted as templates (so `ansible-inventory --list`
# shows them as plain strings), hence none may contain one.
TEMPLATE_MARKS = ("{{", "{%", "{#")


class InventoryModule(BaseInventoryPlugin):
    NAME = "fabric"
    trusted_by_default = True

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("fabric.inventory.yml",
                                                             "fabric.inventory.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        from fabric import pipeline, platforms
        from fabric.errors import InputError, OperationalError

        model = os.environ.get("FABRIC_MODEL") or self.get_option("model")
        model_path = (Path(path).parent / model).resolve()
        try:
            intent = pipeline.build(model_path).intent
            users = usernames(list(intent.devices))
        except (InputError, OperationalError) as exc:
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
            host_vars = {
                "ansible_host": str(d.mgmt or d.router_id),
                "ansible_connection": "local" if d.is_switch else "ssh",
                "ansible_network_os": platforms.get(d.platform).ansible_network_os,
                "ansible_user": users[d.name],
                "fabric_role": d.role.value, "fabric_rack": d.rack or "",
                "fabric_platform": d.platform, "fabric_asn": int(d.asn),
                "fabric_router_id": str(d.router_id), "fabric_model": str(model_path),
            }
            for key, value in host_vars.items():
                self.inventory.set_variable(d.name, key, plain(d.name, key, value))


def usernames(devices: list[str]) -> dict[str, str]:
    """device → the login the modules will use (`credentials.load`: environment and
    credentials file), else FABRIC_USERNAME alone, else whoever runs Ansible."""
    from fabric.deploy.credentials import ENV_USER, CredentialError, load

    store = load()
    found = {name: store.per_device.get(name, store.default) for name in devices}
    fallback = os.environ.get(ENV_USER)
    if not fallback and not all(found.values()):
        try:
            fallback = getpass.getuser()
        except (KeyError, OSError):         # no login name for this uid (a bare container)
            raise CredentialError(f"no user name for ansible_user: set {ENV_USER}") from None
    return {name: creds.username if creds else fallback for name, creds in found.items()}


def plain(host: str, key: str, value: object) -> str | int:
    """`value` as a plain str or int, refusing what Ansible would template."""
    if type(value) is int:
        return value
    if type(value) is not str:
        raise AnsibleParserError(f"{host}: {key}: expected a string, found "
                                 f"{type(value).__name__}")
    if any(mark in value for mark in TEMPLATE_MARKS):
        raise AnsibleParserError(f"{host}: {key}: {value!r} contains a Jinja delimiter "
                                 "({{, {% or {#), which Ansible would evaluate")
    return value
