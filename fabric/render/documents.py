"""Review documents under build/docs/: a Markdown fabric document, one page per
rack (so a one-rack change touches one page), and CSVs of the same tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import jinja2

from fabric.intent.types import Intent, Link, Role

Table = tuple[Sequence[str], list[Sequence[object]]]

def tables(intent: Intent) -> dict[str, Table]:
    """The fabric's tables, shared by the Markdown pages and the CSVs."""
    devs = intent.devices
    switches = [d for d in devs.values() if d.is_switch]
    asns: Table = (("device", "role", "platform", "rack", "asn", "router_id", "mgmt"),
            [(d.name, d.role, d.platform, d.rack or "", d.asn, d.router_id, d.mgmt or "")
             for d in switches])
    links: Table = (("tor", "tor_address", "core", "core_address", "link"), [])
    for d in switches:
        if d.role == Role.TOR:
            for i in d.interfaces:
                if i.kind == Link.CORE_LINK:
                    core_if = next(c for c in devs[i.peer].interfaces if c.peer == d.name)
                    links[1].append((d.name, i.address.ip, i.peer, core_if.address.ip,
                                     i.address.network))
    ipam: Table = (("rack", "owner", "kind", "prefix"), [])
    for r in intent.racks.values():
        ipam[1].append((r.name, r.tor, "rack_pool", r.pool))
        for n in sorted(r.nodes):
            ipam[1].extend((r.name, n, "node_block", b) for b in intent.node_blocks[n])
    sessions: Table = (
        ("rack", "a", "a_address", "a_as", "b", "b_address", "b_as", "kind", "dynamic"),
        [(s.rack or "", s.a, s.a_address, s.a_as, s.b, s.b_address, s.b_as, s.kind,
          "yes" if s.dynamic else "no") for s in intent.sessions])
    vips: Table = (("vip", "announcers", "racks"),
            [(v.address, " ".join(sorted(v.announcers)),
              " ".join(sorted({devs[a].rack_name for a in v.announcers})))
             for v in intent.vips])
    return {"asns": asns, "links": links, "ipam": ipam, "sessions": sessions, "vips": vips}

def _csv(table: Table) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(table[0])
    w.writerows(table[1])
    return out.getvalue()

def render(intent: Intent, env: jinja2.Environment) -> dict[str, str]:
    t = tables(intent)
    files = {f"docs/{name}.csv": _csv(table) for name, table in t.items()}
    env.filters["mdtable"] = _markdown_table
    page = env.get_template("docs/fabric.md.j2")
    racks = list(intent.racks.values())
    files["docs/fabric.md"] = page.render(intent=intent, t=t, racks=racks)
    rack_page = env.get_template("docs/rack.md.j2")
    ipam, sessions, links = (_group(t[name], 0) for name in ("ipam", "sessions", "links"))
    for r in racks:
        files[f"docs/racks/{r.name}.md"] = rack_page.render(
            intent=intent, rack=r, tor=intent.devices[r.tor],
            ipam=ipam(r.name), sessions=sessions(r.name), links=links(r.tor))
    return files

def _group(table: Table, col: int):
    """Rows of `table` by the value of one column, as a lookup returning sub-tables."""
    groups: dict[str, list[Sequence[object]]] = {}
    for row in table[1]:
        groups.setdefault(str(row[col]), []).append(row)
    return lambda key: (table[0], groups.get(key, []))


def _markdown_table(table: Table) -> str:
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
