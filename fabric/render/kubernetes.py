"""Kubernetes side of IPAM: CiliumNode podCIDRs patches and Cilium Helm values."""

from __future__ import annotations

import jinja2

from fabric.intent.types import Intent


def render(intent: Intent, env: jinja2.Environment) -> dict[str, str]:
    files: dict[str, str] = {}
    patch = env.get_template("kubernetes/ciliumnode-patch.yaml.j2")
    for d in intent.devices.values():
        if d.is_node:
            blocks = intent.node_blocks[d.name]
            files[f"kubernetes/ciliumnodes/{d.name}.yaml"] = patch.render(
                fabric=intent.fabric, node=d, blocks=blocks)
    values = env.get_template("kubernetes/cilium-values.yaml.j2")
    files["kubernetes/cilium-values.yaml"] = values.render(
        fabric=intent.fabric, pools=intent.pools)
    return files
