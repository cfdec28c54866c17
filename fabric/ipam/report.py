"""`fabric ipam show`: the allocation table, for people and for --json."""

from __future__ import annotations

from typing import Any

from fabric.ipam.allocate import Allocation
from fabric.model.types import Model


def ipam_rows(model: Model, alloc: Allocation) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in sorted(model.racks, key=lambda r: r.name):
        rows.append({"rack": r.name, "owner": r.tor.name, "kind": "rack_asn",
                     "value": str(alloc.rack_asns[r.name])})
        rows.append({"rack": r.name, "owner": r.tor.name, "kind": "rack_pool",
                     "value": str(alloc.rack_pools[r.name])})
        for n in sorted(r.nodes, key=lambda n: n.name):
            for b in alloc.node_blocks[n.name]:
                rows.append({"rack": r.name, "owner": n.name, "kind": "node_block",
                             "value": str(b)})
    for key, net in sorted(alloc.links.items()):
        tor, core = key.split("~")
        rows.append({"rack": "", "owner": f"{tor}–{core}", "kind": "link", "value": str(net)})
    for name, rid in sorted(alloc.router_ids.items()):
        rows.append({"rack": "", "owner": name, "kind": "router_id", "value": str(rid)})
    return rows


def ipam_text(rows: list[dict[str, Any]], alloc: Allocation) -> str:
    head = ("rack", "owner", "kind", "value")
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in head]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*(r[h] for h in head)).rstrip() for r in rows]
    if alloc.changes:
        lines += ["", "pending (written by `fabric render`):", *(f"  {c}" for c in alloc.changes)]
    if alloc.reserved:
        lines += ["", "reserved, gone from the model (freed by `fabric render --prune`):",
                  *(f"  {c}" for c in alloc.reserved)]
    return "\n".join(lines)
