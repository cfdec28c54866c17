"""Semantic checks of a structurally valid model. Every problem is collected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv4Network

from fabric import platforms
from fabric.errors import Path
from fabric.model.types import Discovery, ParsedModel, ParsedRack

MAX_ASN = 4294967294     # 4294967295 is reserved (RFC 7300)
# AS numbers no speaker may have: a peer would take them for something else.
RESERVED_ASNS = {
    23456: "AS_TRANS, RFC 6793: what a 2-byte speaker sees in place of a 4-byte AS",
    65535: "reserved, RFC 7300",
}
_MULTICAST = IPv4Network("224.0.0.0/4")
_NOT_HOSTS = IPv4Network("224.0.0.0/3")   # multicast, and class E up to the broadcast
_BROADCAST = IPv4Address("255.255.255.255")


def check_model(m: ParsedModel) -> None:
    for check in (_unique_names, _asns, _bgp, _bmp, _pools, _router_ids, _racks, _vips,
                  _references, _capabilities, _peer_limits):
        check(m)


def _first_seen(m: ParsedModel, items: Iterable[tuple[object, Path]], what: str) -> None:
    """Report every item whose key was already seen, naming the first one."""
    seen: dict[object, Path] = {}
    for key, path in items:
        if key in seen:
            first = seen[key]
            line = m.diag.locate(first)[0]
            m.diag.add(path, f"expected a unique {what}, found {key} again "
                             f"(first used at line {line})")
        else:
            seen[key] = path


def _devices(m: ParsedModel) -> list[tuple[str, Path]]:
    out = [(c.name, (*c.path, "name")) for c in m.cores]
    racks = [r.name for r in m.racks]
    for r in m.racks:
        if r.tor.name == f"{r.name}-tor" and racks.count(r.name) > 1:
            continue  # a derived name of a duplicate rack: the rack's error says it all
        out.append((r.tor.name, (*r.tor.path, "name") if r.tor.name != f"{r.name}-tor"
                    else (*r.path, "name")))
        out += [(n.name, (*n.path, "name")) for n in r.nodes]
        out += [(s.name, (*s.path, "name")) for s in r.rr_switches]
    return out


def _unique_names(m: ParsedModel) -> None:
    _first_seen(m, ((r.name, (*r.path, "name")) for r in m.racks), "rack name")
    _first_seen(m, _devices(m), "device name")
    mgmt = [(c.mgmt, (*c.path, "mgmt")) for c in m.cores]
    for r in m.racks:
        mgmt.append((r.tor.mgmt, (*r.tor.path, "mgmt")))
        mgmt += [(s.mgmt, (*s.path, "mgmt")) for s in r.rr_switches]
    _first_seen(m, mgmt, "management address")
    rids = [(c.router_id, (*c.path, "router_id")) for c in m.cores if c.router_id]
    for r in m.racks:
        if r.tor.router_id:
            rids.append((r.tor.router_id, (*r.tor.path, "router_id")))
        rids += [(s.router_id, (*s.path, "router_id")) for s in r.rr_switches if s.router_id]
    _first_seen(m, rids, "router id")


def _asns(m: ParsedModel) -> None:
    items = [(c.asn, (*c.path, "asn")) for c in m.cores]
    items += [(r.tor.asn, (*r.tor.path, "asn")) for r in m.racks if r.tor.asn]
    _first_seen(m, items, "AS number (each core and each rack has its own)")
    for asn, path in items:
        if asn in RESERVED_ASNS:
            m.diag.add(path, f"expected an AS number a BGP speaker may use, found {asn} "
                             f"({RESERVED_ASNS[asn]})")
    if m.pools.rack_asns:
        _asn_range(m, *m.pools.rack_asns)
    else:
        for r in m.racks:
            if r.tor.asn is None:
                m.diag.add(r.tor.path, "expected 'asn' on the ToR, or pools.rack_asns to take "
                                       "one from; found neither")


def _asn_range(m: ParsedModel, lo: int, hi: int) -> None:
    """A range the allocator can hand out whole. A range holding a reserved AS is
    refused rather than skipped: what the file says is what racks can get."""
    path = ("pools", "rack_asns")
    if lo > hi:
        m.diag.add(path, f"expected a range low-high, found {lo}-{hi}")
    elif lo < 1 or hi > MAX_ASN:
        m.diag.add(path, f"expected a range within 1-{MAX_ASN} (0 and 4294967295 are "
                         f"reserved, RFC 7607 and RFC 7300), found {lo}-{hi}")
    else:
        for asn, why in sorted(RESERVED_ASNS.items()):
            if lo <= asn <= hi:
                m.diag.add(path, f"expected a range without AS {asn} ({why}), found "
                                 f"{lo}-{hi}; start it above {asn} or end it below")


def _bgp(m: ParsedModel) -> None:
    b = m.bgp
    if b.select_defer_time >= b.restart_time:
        m.diag.add(("defaults", "bgp", "graceful_restart", "select_defer_time"),
                   f"expected less than restart_time ({b.restart_time}) so a restarting "
                   f"speaker re-advertises before its peers drop its routes, found "
                   f"{b.select_defer_time}")
    if b.keepalive * 3 > b.hold:
        m.diag.add(("defaults", "bgp", "keepalive"),
                   f"expected keepalive at most hold/3 ({b.hold // 3}), found {b.keepalive}")
    own = [(r.auth_nodes, (*r.path, "auth", "nodes")) for r in m.racks
           if (*r.path, "auth", "nodes") in m.diag.positions]
    for name, path in ((m.auth_core_links, ("defaults", "auth", "core_links")),
                       (m.auth_nodes, ("defaults", "auth", "nodes")), *own):
        if name and name not in m.secrets:
            known = ", ".join(sorted(m.secrets)) or "none defined"
            m.diag.add(path, f"expected the name of a secret under 'secrets' ({known}), "
                             f"found {name!r}")


def _bmp(m: ParsedModel) -> None:
    at = ("defaults", "bmp")
    _first_seen(m, ((c.name, (*at, i, "name")) for i, c in enumerate(m.bmp)),
                "BMP collector name")
    _first_seen(m, ((f"{c.address}:{c.port}", (*at, i, "address"))
                    for i, c in enumerate(m.bmp)), "BMP collector address and port")


def _router_ids(m: ParsedModel) -> None:
    """RFC 6286 allows any non-zero router id; RFC 4271 asked for a unicast host
    address, and platforms still refuse others (or pick their own)."""
    given = [(c.router_id, (*c.path, "router_id")) for c in m.cores]
    for r in m.racks:
        given.append((r.tor.router_id, (*r.tor.path, "router_id")))
        given += [(s.router_id, (*s.path, "router_id")) for s in r.rr_switches]
    for rid, path in given:
        if rid is not None and not _unicast(rid):
            m.diag.add(path, f"expected a unicast router id (not 0.0.0.0, 255.255.255.255 or "
                             f"multicast), found {rid}")
    pool = m.pools.loopbacks
    # Router ids come from the pool's addresses, its first one skipped unless it is alone.
    if pool is not None and (pool.overlaps(_MULTICAST) or _BROADCAST in pool
                             or pool == IPv4Network("0.0.0.0/32")):
        m.diag.add(("pools", "loopbacks"), f"expected a pool of unicast router ids (not "
                   f"0.0.0.0, 255.255.255.255 or multicast), found {pool}")


def _unicast(addr: IPv4Address) -> bool:
    return addr not in (IPv4Address(0), _BROADCAST) and addr not in _MULTICAST


def _rebalance(m: ParsedModel) -> None:
    """Hysteresis needs release_above > grow_below; and an empty block must itself
    hold grow_below addresses, or a node with an empty block could still grow."""
    p, path = m.pools, ("pools", "pod", "rebalance")
    rb = p.rebalance
    if rb.release_above <= rb.grow_below:
        m.diag.add((*path, "release_above"), f"expected more than grow_below "
                   f"({rb.grow_below}), found {rb.release_above}")
    size = 2 ** (32 - p.block_prefix_length)
    if rb.grow_below > size:
        m.diag.add((*path, "grow_below"), f"expected at most {size}, the addresses of one "
                   f"/{p.block_prefix_length} block, found {rb.grow_below}")
    if rb.max_blocks_per_node < p.blocks_per_node:
        m.diag.add((*path, "max_blocks_per_node"), f"expected at least blocks_per_node "
                   f"({p.blocks_per_node}), found {rb.max_blocks_per_node}")
    for r in m.racks:
        for n in r.nodes:
            if n.pod_blocks > rb.max_blocks_per_node:
                m.diag.add((*n.path, "pod_blocks"), f"expected at most "
                           f"pools.pod.rebalance.max_blocks_per_node "
                           f"({rb.max_blocks_per_node}), found {n.pod_blocks}")


def _pools(m: ParsedModel) -> None:
    p = m.pools
    if p.pod and not p.pod.prefixlen <= p.rack_prefix_length <= p.block_prefix_length:
        m.diag.add(("pools", "pod"), "expected supernet length ≤ rack_prefix_length ≤ "
                   f"block_prefix_length, found /{p.pod.prefixlen}, /{p.rack_prefix_length}, "
                   f"/{p.block_prefix_length}")
    _rebalance(m)
    named: list[tuple[str, IPv4Network | None, Path]] = [
        ("pools.pod.supernet", p.pod, ("pools", "pod", "supernet")),
        ("pools.vip", p.vip, ("pools", "vip")),
        ("pools.links", p.links, ("pools", "links")),
        ("pools.loopbacks", p.loopbacks, ("pools", "loopbacks"))]
    named += [(f"rack {r.name}'s subnet", r.subnet, (*r.path, "subnet")) for r in m.racks]
    _no_overlap(m, [(label, net, path) for label, net, path in named if net])
    if p.links and p.links.prefixlen > 31:
        m.diag.add(("pools", "links"), f"expected a pool of /31 links, found {p.links}")


def _no_overlap(m: ParsedModel, nets: list[tuple[str, IPv4Network, Path]]) -> None:
    ordered = sorted(nets, key=lambda t: (int(t[1].network_address), t[1].prefixlen))
    # Sorted by start, a prefix overlaps an earlier one iff it starts inside the
    # furthest-reaching earlier prefix.
    reach: tuple[str, IPv4Network, Path] | None = None
    for item in ordered:
        _label, net, path = item
        if reach and int(net.network_address) <= int(reach[1].broadcast_address):
            line = m.diag.locate(reach[2])[0]
            m.diag.add(path, f"expected no overlap, found {net} overlaps {reach[1]} "
                             f"({reach[0]}, line {line})")
        if reach is None or int(net.broadcast_address) > int(reach[1].broadcast_address):
            reach = item


def _racks(m: ParsedModel) -> None:
    node_ips = []
    for r in m.racks:
        if r.subnet:
            _rack_addresses(m, r, r.subnet)
        if r.pod_pool and m.pools.pod:
            if not r.pod_pool.subnet_of(m.pools.pod):
                m.diag.add((*r.path, "pod_pool"), f"expected a prefix inside the pod supernet "
                           f"{m.pools.pod}, found {r.pod_pool}")
            elif r.pod_pool.prefixlen != m.pools.rack_prefix_length:
                m.diag.add((*r.path, "pod_pool"), f"expected a /{m.pools.rack_prefix_length} "
                           f"(pools.pod.rack_prefix_length), found {r.pod_pool}")
        node_ips += [(n.ip, (*n.path, "ip")) for n in r.nodes]
        node_ips += [(s.ip, (*s.path, "ip")) for s in r.rr_switches]
        names = {n.name for n in r.nodes}
        rr_path = (*r.path, "route_reflectors")
        if r.discovery == Discovery.DYNAMIC and (r.rr_nodes or r.rr_switches):
            m.diag.add(rr_path, "expected no route_reflectors with discovery: dynamic "
                       "(set discovery: route_reflector to use them)")
        if r.discovery == Discovery.ROUTE_REFLECTOR and not (r.rr_nodes or r.rr_switches):
            m.diag.add((*r.path, "discovery"), "expected route_reflectors (one or two nodes of "
                       "this rack, or a switch) with discovery: route_reflector, found none")
        for j, rr in enumerate(r.rr_nodes):
            if rr not in names:
                where = next((o.name for o in m.racks for n in o.nodes if n.name == rr), None)
                found = f"{rr!r}, a node of rack {where}" if where else f"unknown node {rr!r}"
                m.diag.add((*rr_path, j), f"expected a node of rack {r.name}, found {found}")
    explicit = [(r.pod_pool, (*r.path, "pod_pool")) for r in m.racks if r.pod_pool]
    _first_seen(m, explicit, "rack pod pool")
    _first_seen(m, node_ips, "node address")


def _rack_addresses(m: ParsedModel, r: ParsedRack, subnet: IPv4Network) -> None:
    if subnet.prefixlen > 30 or subnet.overlaps(_NOT_HOSTS):
        m.diag.add((*r.path, "subnet"), f"expected a unicast subnet of /30 or shorter (the "
                   f"ToR's gateway and each node need a host address), found {subnet}")
        return
    gw = r.tor.gateway
    if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
        m.diag.add((*r.tor.path, "gateway"), f"expected a host address inside {subnet} "
                   f"(rack {r.name} subnet), found {gw}")
    members = [(n.ip, (*n.path, "ip")) for n in r.nodes]
    members += [(s.ip, (*s.path, "ip")) for s in r.rr_switches]
    for ip, path in members:
        if ip not in subnet:
            m.diag.add(path, f"expected an address inside {subnet} (rack {r.name} subnet), "
                             f"found {ip}")
        elif ip == gw:
            m.diag.add(path, f"expected an address other than the gateway {gw} "
                             f"(the ToR {r.tor.name}), found {ip}")
        elif ip in (subnet.network_address, subnet.broadcast_address):
            m.diag.add(path, f"expected a host address of {subnet}, found the "
                             f"{'network' if ip == subnet.network_address else 'broadcast'} "
                             f"address {ip}")


def _vips(m: ParsedModel) -> None:
    nodes = {n.name for r in m.racks for n in r.nodes}
    _first_seen(m, ((v.address, (*v.path, "address")) for v in m.vips), "VIP")
    for v in m.vips:
        if m.pools.vip and v.address not in m.pools.vip:
            m.diag.add((*v.path, "address"), f"expected an address inside the VIP pool "
                       f"{m.pools.vip}, found {v.address}")
        for j, who in enumerate(v.announcers):
            if who not in nodes:
                m.diag.add((*v.path, "announcers", j), f"expected the name of a node, found "
                           f"unknown node {who!r}")


def _references(m: ParsedModel) -> None:
    cores = {c.name for c in m.cores}
    for r in m.racks:
        for j, up in enumerate(r.tor.uplinks):
            if up not in cores:
                m.diag.add((*r.tor.path, "uplinks", j), f"expected the name of a core "
                           f"({', '.join(sorted(cores))}), found {up!r}")


def _peer_limits(m: ParsedModel) -> None:
    """listen_limit and the prefix limits given must fit what the sessions carry, or a
    ToR turns away nodes, or cuts a session once it holds more prefixes than the
    limit. Limits left out are derived per session (intent/limits.py) and fit."""
    b = m.bgp
    listens = [(need, r.name, who) for r in m.racks for need, who in _listeners(r)]
    _at_least(m, "listen_limit", b.listen_limit, listens, "racks",
              lambda need, rack, who: f"rack {rack} has {need} nodes, each a dynamic peer "
                                      f"of {who}")
    node_side, core_side = _announcements(m)
    if b.max_prefixes is not None:
        _at_least(m, "max_prefixes", b.max_prefixes, node_side, "sessions", lambda *t: t[2])
    if b.core_max_prefixes is not None:
        _at_least(m, "core_max_prefixes", b.core_max_prefixes, core_side, "sessions",
                  lambda *t: t[2])


def _listeners(r: ParsedRack) -> list[tuple[int, str]]:
    """(dynamic peers, who listens) for the speakers of rack `r` that enforce a limit."""
    def limited(platform: str) -> bool:
        return platforms.capabilities(platform).get("listen_limit") == "yes"
    if r.discovery == Discovery.DYNAMIC:
        return [(len(r.nodes), f"ToR {r.tor.name}")] if limited(r.tor.platform) else []
    clients = sum(1 for n in r.nodes if n.name not in r.rr_nodes)
    return [(clients, f"route reflector {s.name}") for s in r.rr_switches
            if limited(s.platform)]


def _announcements(m: ParsedModel) -> tuple[list[tuple[int, str, str]],
                                             list[tuple[int, str, str]]]:
    """(prefixes, rack, what) for every session a prefix limit applies to (see
    intent/build.py): on the node side each node's own routes and the whole rack from
    a route reflector; on the core side a ToR's export, and what the cores send it."""
    vips: dict[str, list[str]] = defaultdict(list)
    for v in m.vips:
        for who in v.announcers:
            vips[who].append(str(v.address))
    node_side, core_side = [], []
    for r in m.racks:
        rack_vips = {a for n in r.nodes for a in vips[n.name]}
        for n in r.nodes:
            node_side.append((n.pod_blocks + len(vips[n.name]), r.name,
                              f"node {n.name} announces {n.pod_blocks} pod block(s) and "
                              f"{len(vips[n.name])} VIP(s)"))
        if r.discovery == Discovery.ROUTE_REFLECTOR:
            blocks = sum(n.pod_blocks for n in r.nodes)
            paths = sum(len(vips[n.name]) for n in r.nodes)   # one per announcer: add-path
            node_side.append((blocks + paths, r.name,
                              f"a route reflector of rack {r.name} sends ToR {r.tor.name} "
                              f"{blocks} pod block(s) and {paths} VIP path(s)"))
        core_side.append((1 + len(rack_vips), r.name, f"ToR {r.tor.name} sends each core "
                                                      f"its rack pool and {len(rack_vips)} "
                                                      "VIP(s)"))
    if m.racks:
        others = len(m.racks) - 1
        core_side.append((others + len(m.vips), "", f"each core sends a ToR the pools of "
                                                     f"{others} other rack(s) and "
                                                     f"{len(m.vips)} VIP(s)"))
    return node_side, core_side


def _at_least(m: ParsedModel, key: str, limit: int, needs: list[tuple[int, str, str]], what: str,
              why: Callable[..., str]) -> None:
    """One problem for the largest need over `limit`, with how many others exceed it."""
    over = sorted((t for t in needs if t[0] > limit), key=lambda t: -t[0])
    if not over:
        return
    path = ("defaults", "bgp", key)
    found = f"{limit}" if path in m.diag.positions else f"{limit} (the default)"
    more = f"; {len(over) - 1} other {what} exceed it too" if len(over) > 1 else ""
    m.diag.add(path, f"expected at least {over[0][0]} ({why(*over[0])}{more}), found {found}")


def _capabilities(m: ParsedModel) -> None:
    """Ask each platform for the features this model needs from it."""
    wanted: dict[str, list[tuple[str, Path, str]]] = defaultdict(list)
    for r in m.racks:
        tor = r.tor
        if m.bgp.gtsm:
            # Where a platform lacks it, its sessions go without (intent/build.py).
            wanted[tor.platform].append(("gtsm", tor.path, f"ToR {tor.name}"))
            wanted[tor.platform].append(("gtsm_ibgp", tor.path, f"ToR {tor.name}"))
            for s in r.rr_switches:
                wanted[s.platform].append(("gtsm_ibgp", s.path, f"switch RR {s.name}"))
        if m.bgp.bfd.core_links:
            wanted[tor.platform].append(("bfd", tor.path, f"ToR {tor.name}"))
            wanted[tor.platform].append(("bfd_timers", tor.path, f"ToR {tor.name}"))
        if m.bgp.ecmp > 1:
            # Reflectors pass on every path, and a ToR takes them (intent/build.py).
            wanted[tor.platform].append(("add_paths", tor.path, f"ToR {tor.name}"))
            for s in r.rr_switches:
                wanted[s.platform].append(("add_paths", s.path, f"switch RR {s.name}"))
        if r.discovery == Discovery.DYNAMIC:
            wanted[tor.platform].append(("dynamic_neighbors", tor.path, f"ToR {tor.name}"))
            wanted[tor.platform].append(("listen_limit", tor.path, f"ToR {tor.name}"))
            if r.auth_nodes:
                wanted[tor.platform].append(("md5_dynamic", tor.path, f"ToR {tor.name}"))
        else:
            # Node RRs of a rack with a key peer with each client statically
            # (intent/build.py): GoBGP 3.10 has no MD5 on dynamic neighbors.
            for s in r.rr_switches:
                if r.auth_nodes:
                    wanted[s.platform].append(("md5_dynamic", s.path, f"switch RR {s.name}"))
                wanted[s.platform].append(("dynamic_neighbors", s.path, f"switch RR {s.name}"))
                wanted[s.platform].append(("route_reflector", s.path, f"switch RR {s.name}"))
        if m.bmp:
            wanted[tor.platform].append(("bmp", tor.path, f"ToR {tor.name}"))
    # Asked for only when the model sets it: a default the device lacks is no news.
    defer = ("defaults", "bgp", "graceful_restart", "select_defer_time") in m.diag.positions
    if defer:
        for r in m.racks:
            wanted[r.tor.platform].append(("select_defer_time", r.tor.path, f"ToR {r.tor.name}"))
            for s in r.rr_switches:
                wanted[s.platform].append(("select_defer_time", s.path, f"switch RR {s.name}"))
    for c in m.cores:
        if defer:
            wanted[c.platform].append(("select_defer_time", c.path, f"core {c.name}"))
        if m.bmp:
            wanted[c.platform].append(("bmp", c.path, f"core {c.name}"))
        if m.bgp.gtsm:
            wanted[c.platform].append(("gtsm", c.path, f"core {c.name}"))
        if m.bgp.bfd.core_links:
            wanted[c.platform].append(("bfd", c.path, f"core {c.name}"))
            wanted[c.platform].append(("bfd_timers", c.path, f"core {c.name}"))
    if m.bgp.bfd.nodes and any(r.nodes for r in m.racks):
        # Once for all nodes: they all run GoBGP.
        wanted["gobgp"].append(("bfd", ("defaults", "bgp", "bfd", "nodes"), "nodes"))
    for platform, needs in sorted(wanted.items()):
        caps = platforms.capabilities(platform)
        notes = platforms.get(platform).notes
        for feature, path, who in needs:
            level = caps.get(feature, "no")
            if level == "yes":
                continue
            why = platforms.FEATURES[feature]
            msg = f"{who}: platform {platform} lacks {why}"
            if feature in notes:
                msg += f" ({notes[feature]})"
            if feature == "md5_dynamic":
                line = m.diag.locate(("defaults", "auth", "nodes"))[0]
                msg += (f", which defaults.auth.nodes (line {line}) asks for; remove it or use "
                        "a switch route reflector")
            if level == "warn":
                m.diag.warn(path, msg + " (rendered without it)")
            else:
                m.diag.add(path, msg)
