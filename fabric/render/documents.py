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
    vips: Table = (("vip", "announcers", "racks"),
            [(v.address, " ".join(sorted(v.announcers)),
              " ".join(sorted({devs[a].rack_name for a in v.announcers})))
             for v in intent.vips])
    return {"asns": asns, "links": _links(intent), "ipam": _ipam(intent),
            "sessions": _sessions(intent), "vips": vips}


def _links(intent: Intent) -> Table:
    # The core's end is the address the ToR peers with on that link: a rack's part
    # of the intent holds no core.
    links: Table = (("tor", "tor_address", "core", "core_address", "link"), [])
    for d in intent.devices.values():
        if d.role == Role.TOR:
            core_at = {p.name: p.address for p in d.peers}
            links[1].extend((d.name, i.address.ip, i.peer, core_at[i.peer], i.address.network)
                            for i in d.interfaces if i.kind == Link.CORE_LINK)
    return links


def _ipam(intent: Intent) -> Table:
    ipam: Table = (("rack", "owner", "kind", "prefix"), [])
    for r in intent.racks.values():
        ipam[1].append((r.name, r.tor, "rack_pool", r.pool))
        for n in sorted(r.nodes):
            ipam[1].extend((r.name, n, "node_block", b) for b in intent.node_blocks[n])
    return ipam


def _sessions(intent: Intent) -> Table:
    return (("rack", "a", "a_address", "a_as", "b", "b_address", "b_as", "kind", "dynamic"),
            [(s.rack or "", s.a, s.a_address, s.a_as, s.b, s.b_address, s.b_as, s.kind,
              "yes" if s.dynamic else "no") for s in intent.sessions])


def _csv(table: Table) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(table[0])
    w.writerows(table[1])
    return out.getvalue()


def render(intent: Intent, env: jinja2.Environment) -> dict[str, str]:
    """The fabric document and the CSVs, from the whole intent."""
    t = tables(intent)
    files = {f"docs/{name}.csv": _csv(table) for name, table in t.items()}
    env.filters["mdtable"] = _markdown_table
    page = env.get_template("docs/fabric.md.j2")
    files["docs/fabric.md"] = page.render(intent=intent, t=t, racks=list(intent.racks.values()))
    return files


def rack_page(part: Intent, env: jinja2.Environment) -> dict[str, str]:
    """The page of the one rack of `part` (intent/parts.py)."""
    env.filters["mdtable"] = _markdown_table
    (rack,) = part.racks.values()
    page = env.get_template("docs/rack.md.j2").render(
        intent=part, rack=rack, tor=part.devices[rack.tor], ipam=_ipam(part),
        sessions=_sessions(part), links=_links(part))
    return {f"docs/racks/{rack.name}.md": page}


def _markdown_table(table: Table) -> str:
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
