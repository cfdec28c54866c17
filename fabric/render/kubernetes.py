"""Kubernetes side of IPAM: each node's CiliumNode with the addresses of its
blocks (Cilium CRD-backed IPAM), and the Cilium Helm values for that mode."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from ipaddress import IPv4Network

import jinja2

from fabric.intent.types import Device, Intent


def node_files(intent: Intent, env: jinja2.Environment,
               devices: Iterable[Device]) -> dict[str, str]:
    """The CiliumNode of each node among `devices`."""
    files: dict[str, str] = {}
    node = env.get_template("kubernetes/ciliumnode.yaml.j2")
    for d in devices:
        if d.is_node:
            blocks = intent.node_blocks[d.name]
            files[f"kubernetes/ciliumnodes/{d.name}.yaml"] = node.render(
                fabric=intent.fabric, node=d, blocks=blocks, pool=pool_lines(blocks))
    return files


def fabric_files(intent: Intent, env: jinja2.Environment) -> dict[str, str]:
    """What the whole cluster shares: the Cilium Helm values."""
    values = env.get_template("kubernetes/cilium-values.yaml.j2")
    return {"kubernetes/cilium-values.yaml": values.render(fabric=intent.fabric,
                                                           pools=intent.pools)}


def pool_lines(blocks: Iterable[IPv4Network], indent: int = 6) -> str:
    """`spec.ipam.pool`'s entries, every address of `blocks` with no owner. Written
    here, not looped in the template: 80,000 nodes list five million addresses."""
    pad = " " * indent
    return "\n".join(f"{pad}{a}: {{}}" for a in pool_addresses(blocks))


def pool_addresses(blocks: Iterable[IPv4Network]) -> list[str]:
    """Every address of `blocks`, as text, in order: what a node's CiliumNode pool
    holds. Without an IPv4Address per address (five million at 80,000 nodes)."""
    out: list[str] = []
    for b in blocks:
        if b.prefixlen >= 24:         # one /24: only the last octet changes
            head, _, last = str(b.network_address).rpartition(".")
            out += [f"{head}.{int(last) + i}" for i in range(b.num_addresses)]
        else:
            base = int(b.network_address)
            out += [socket.inet_ntoa((base + i).to_bytes(4, "big"))
                    for i in range(b.num_addresses)]
    return out
