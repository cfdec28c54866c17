"""GoBGP on the nodes (and node route reflectors).

GoBGP keeps policy on the global RIB: per-peer import/export lists become
statements matching a neighbor set. Statements for static peers come before the
dynamic group's, because the group's range also covers the static peers.
"""

from __future__ import annotations

from typing import Any

from fabric.intent.types import Device, Intent
from fabric.render.context import context


def _set_name(peer_name: str) -> str:
    return f"peer-{peer_name}"


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    ctx = context(device, intent)
    ordered = ctx["neighbors"] + ctx["groups"]
    ctx["neighbor_sets"] = [
        {"name": _set_name(p.name), "members": [str(p.address or p.listen_range)]}
        for p in ordered
    ]
    ctx["import_rules"] = [(_set_name(p.name), p.import_list) for p in ordered]
    ctx["export_rules"] = [(_set_name(p.name), p.export_list) for p in ordered]
    return ctx
