"""Kubernetes side of IPAM: each node's CiliumNode with the addresses of its
blocks (Cilium CRD-backed IPAM), and the Cilium Helm values for that mode."""

from __future__ import annotations

import jinja2

from fabric.intent.types import Intent


def render(intent: Intent, env: jinja2.Environment) -> dict[str, str]:
    files: dict[str, str] = {}
    node = env.get_template("kubernetes/ciliumnode.yaml.j2")
    for d in intent.devices.values():
        if d.is_node:
            blocks = intent.node_blocks[d.name]
            files[f"kubernetes/ciliumnodes/{d.name}.yaml"] = node.render(
                fabric=intent.fabric, node=d, blocks=blocks)
    values = env.get_template("kubernetes/cilium-values.yaml.j2")
    files["kubernetes/cilium-values.yaml"] = values.render(
        fabric=intent.fabric, pools=intent.pools)
    return files
