"""The intent cut into racks, for rendering a rack on its own: a rack's part holds
its devices (ToR, route reflectors, nodes), sessions and blocks, with what the
whole fabric shares (name, pools, cores' names, secrets); its nodes' VIPs are in
their announcements. `Intent.rack_digests` says what each part was built from."""

from __future__ import annotations

from collections.abc import Iterable

from fabric.intent.types import Intent


def rack_parts(intent: Intent, racks: Iterable[str]) -> dict[str, Intent]:
    wanted = set(racks)
    parts = {name: Intent(fabric=intent.fabric, devices={}, sessions=[], pools=intent.pools,
                          cores=intent.cores, racks={name: intent.racks[name]}, vips=(),
                          node_blocks={}, secrets=intent.secrets,
                          rack_digests={name: intent.rack_digests[name]})
             for name in sorted(wanted)}
    for d in intent.devices.values():
        if d.rack is not None and d.rack in wanted:
            parts[d.rack].devices[d.name] = d
            if d.is_node:
                parts[d.rack].node_blocks[d.name] = intent.node_blocks[d.name]
    for s in intent.sessions:
        if s.rack is not None and s.rack in wanted:
            parts[s.rack].sessions.append(s)
    return parts
