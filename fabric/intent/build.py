"""Build the intent from the validated model and the IPAM allocation: the one place
that reads both (see intent/types.py for what the intent means)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from fabric import platforms
from fabric.digest import digest
from fabric.intent.limits import rack_limits
from fabric.intent.policy import core_lists, from_rack, host, rack_lists, rule
from fabric.intent.types import (
    Device,
    Discovery,
    Intent,
    Interface,
    Link,
    Peer,
    Pools,
    PrefixList,
    Rack,
    Role,
    Session,
    SessionKind,
    Vip,
)
from fabric.ipam.allocate import Allocation, link_key
from fabric.model.types import Model
from fabric.model.types import Rack as ModelRack

IBGP, EBGP = SessionKind.IBGP, SessionKind.EBGP


def build_intent(model: Model, alloc: Allocation) -> Intent:
    devices: dict[str, Device] = {}
    sessions: list[Session] = []
    p = model.pools
    pools = Pools(p.pod, p.vip, p.links, p.loopbacks, p.rack_prefix_length,
                  p.block_prefix_length)
    vip_racks = _vips_by_rack(model)
    for core in model.cores:
        devices[core.name] = _device(model, core.name, Role.CORE, core.platform, None,
                                     core.asn, alloc.router_ids[core.name], core.mgmt)
    racks = sorted(model.racks, key=lambda r: r.name)
    for rack in racks:
        _rack(model, pools, alloc, rack, devices, sessions, vip_racks.get(rack.name, []))
    for core in model.cores:
        core_lists(pools, devices[core.name])
    for d in devices.values():
        d.peers.sort(key=lambda p: (not p.dynamic, int(p.address or 0), p.name))
        d.interfaces.sort(key=lambda i: (i.kind, int(i.address.ip)))
    sessions.sort(key=lambda s: (s.rack or "", s.a, s.b))
    rack_digests, whole = _digests(model, alloc, racks)
    return Intent(
        fabric=model.name, devices=dict(sorted(devices.items())), sessions=sessions,
        pools=pools,
        cores=tuple(c.name for c in model.cores),
        racks={r.name: _rack_summary(r, alloc) for r in racks},
        vips=tuple(Vip(v.address, v.announcers)
                   for v in sorted(model.vips, key=lambda v: v.address)),
        node_blocks={n.name: tuple(alloc.node_blocks.get(n.name, ()))
                     for r in racks for n in r.nodes},
        secrets=dict(model.secrets), source=model.diag, rack_digests=rack_digests,
        digest=whole)


def _digests(model: Model, alloc: Allocation,
             racks: list[ModelRack]) -> tuple[dict[str, str], str]:
    """What each rack's part of the intent is built from, and the whole fabric: the
    fabric-wide sections of the model, the rack's own section, the VIPs its nodes
    announce and what IPAM gave it. Nothing else reaches `_rack` (the cores' names
    and AS numbers it reads are in the fabric-wide `cores` section)."""
    sections = model.digests
    wide = digest(*(f"{k}:{v}" for k, v in sorted(sections.items())
                    if k != "vips" and not k.startswith("racks/")))
    out: dict[str, str] = {}
    for rack in racks:
        tor = rack.tor.name
        names = {n.name for n in rack.nodes}
        allocated = (alloc.rack_asns[rack.name], alloc.rack_pools[rack.name],
                     [alloc.router_ids[s] for s in (tor, *(s.name for s in rack.rr_switches))],
                     [alloc.links[link_key(tor, up)] for up in rack.tor.uplinks],
                     [alloc.node_blocks.get(n.name, ()) for n in rack.nodes],
                     [(v.address, v.announcers) for v in model.vips
                      if not names.isdisjoint(v.announcers)])
        out[rack.name] = digest(wide, sections[f"racks/{rack.name}"], repr(allocated))
    cores = repr([alloc.router_ids[c.name] for c in model.cores])
    return out, digest(wide, sections.get("vips", ""), cores, *out.values())


def _rack_summary(rack: ModelRack, alloc: Allocation) -> Rack:
    tor = rack.tor.name
    return Rack(rack.name, alloc.rack_asns[rack.name], alloc.rack_pools[rack.name],
                rack.subnet, rack.tor.gateway, tor,
                {up: alloc.links[link_key(tor, up)] for up in rack.tor.uplinks},
                rack.discovery, tuple(n.name for n in rack.nodes),
                (*rack.rr_nodes, *(s.name for s in rack.rr_switches)))


def _gtsm(model: Model, ebgp: bool, *ends: str) -> bool:
    """GTSM on a session whose ends run these platforms: only if every end has it."""
    feature = "gtsm" if ebgp else "gtsm_ibgp"
    return model.bgp.gtsm and all(platforms.capabilities(p)[feature] == "yes" for p in ends)


def _bfd(wanted: bool, *ends: str) -> bool:
    """BFD on a session whose ends run these platforms: if asked and every end has it."""
    return wanted and all(platforms.capabilities(p)["bfd"] == "yes" for p in ends)


def _add_paths(model: Model, platform: str) -> int:
    """How many paths per prefix a reflector on `platform` passes on: as many as the
    receiver may install (ecmp), so a VIP keeps one next hop per announcer."""
    b = model.bgp
    return b.ecmp if b.ecmp > 1 and platforms.capabilities(platform)["add_paths"] == "yes" else 0


def _add_path_receive(model: Model, platform: str) -> bool:
    """Whether a reflector's client on `platform` takes several paths per prefix."""
    return _add_paths(model, platform) > 0


def _device(model: Model, name: str, role: Role, platform: str, rack: str | None, asn: int,
            router_id: IPv4Address, mgmt: IPv4Address | None,
            cluster_id: IPv4Address | None = None) -> Device:
    b = model.bgp
    return Device(
        name=name, role=role, platform=platform, rack=rack, asn=asn, router_id=router_id,
        mgmt=mgmt, keepalive=b.keepalive, hold=b.hold, restart_time=b.restart_time,
        stalepath_time=b.stalepath_time, select_defer_time=b.select_defer_time,
        ecmp_ebgp=b.ecmp if role in (Role.CORE, Role.TOR) else 1,
        ecmp_ibgp=b.ecmp if role == Role.TOR else 1,
        multipath_relax=role in (Role.CORE, Role.TOR),
        max_prefix_restart=b.max_prefix_restart,
        bfd_interval=b.bfd.interval, bfd_multiplier=b.bfd.multiplier,
        cluster_id=cluster_id, bmp=model.bmp,
    )


def _vips_by_rack(model: Model) -> dict[str, list[IPv4Address]]:
    where = {n.name: r.name for r in model.racks for n in r.nodes}
    out: dict[str, set[IPv4Address]] = {}
    for v in model.vips:
        for who in v.announcers:
            out.setdefault(where[who], set()).add(v.address)
    return {k: sorted(v) for k, v in out.items()}


def _rack(model: Model, pools: Pools, alloc: Allocation, rack: ModelRack,
          devices: dict[str, Device], sessions: list[Session], vips: list[IPv4Address]) -> None:
    b = model.bgp
    asn = alloc.rack_asns[rack.name]
    pool = alloc.rack_pools[rack.name]
    subnet = rack.subnet
    lists = rack_lists(pools, pool, vips)
    names = {n.name for n in rack.nodes}
    limits = rack_limits(model, rack, len(vips),
                         sum(len(names.intersection(v.announcers)) for v in model.vips))
    accepted = from_rack(rack.name, lists["RACK-EXPORT"])   # by each core, from this ToR
    core_auth = model.secrets[model.auth_core_links].placeholder if model.auth_core_links else None
    node_auth = model.secrets[rack.auth_nodes].placeholder if rack.auth_nodes else None
    tor_spec = rack.tor
    tor = _device(model, tor_spec.name, Role.TOR, tor_spec.platform, rack.name, asn,
                  alloc.router_ids[tor_spec.name], tor_spec.mgmt)
    devices[tor.name] = tor
    tor.aggregates.append(pool)
    tor.interfaces.append(Interface(IPv4Interface((tor_spec.gateway, subnet.prefixlen)),
                                    rack.name, Link.RACK))
    tor_lists = ["RACK-ROUTES", "TO-NODES", "FABRIC-IN", "RACK-EXPORT"]
    tor.prefix_lists += [lists[n] for n in tor_lists]

    # ToR ↔ cores: eBGP over the allocated /31s (core takes the lower address).
    for up in tor_spec.uplinks:
        core = devices[up]
        link = alloc.links[link_key(tor.name, up)]
        core_ip, tor_ip = link.network_address, link.network_address + 1
        tor.interfaces.append(Interface(IPv4Interface((tor_ip, 31)), up, Link.CORE_LINK))
        core.interfaces.append(Interface(IPv4Interface((core_ip, 31)), tor.name, Link.CORE_LINK))
        uplink_gtsm = _gtsm(model, True, tor.platform, core.platform)
        uplink_bfd = _bfd(b.bfd.core_links, tor.platform, core.platform)
        tor.peers.append(Peer(up, core.asn, False, address=core_ip, local_address=tor_ip,
                              import_list="FABRIC-IN", export_list="RACK-EXPORT",
                              max_prefixes=limits.from_cores, auth=core_auth,
                              ttl_security=uplink_gtsm, bfd=uplink_bfd,
                              description=f"core {up}"))
        core.prefix_lists.append(accepted)   # uplinks are unique: once per core
        core.peers.append(Peer(tor.name, asn, False, address=tor_ip, local_address=core_ip,
                               import_list=accepted.name, export_list="TO-RACKS",
                               max_prefixes=limits.from_tor, auth=core_auth,
                               ttl_security=uplink_gtsm, bfd=uplink_bfd,
                               description=f"rack {rack.name} ToR"))
        sessions.append(Session(up, core_ip, core.asn, tor.name, tor_ip, asn, EBGP, False,
                                rack.name))

    nodes_rr = set(rack.rr_nodes)
    rr_addrs = {n.name: n.ip for n in rack.nodes if n.name in nodes_rr}
    rr_addrs.update({s.name: s.ip for s in rack.rr_switches})
    # Who runs what in this rack, for GTSM on the sessions between them.
    platform_of = {n.name: "gobgp" for n in rack.nodes}
    platform_of.update({s.name: s.platform for s in rack.rr_switches})
    platform_of[tor.name] = tor.platform

    def gtsm(a: str, b: str) -> bool:
        return _gtsm(model, False, platform_of[a], platform_of[b])

    def node_bfd(a: str, b: str) -> bool:
        return _bfd(model.bgp.bfd.nodes, platform_of[a], platform_of[b])

    # GoBGP 3.10 has no MD5 on dynamic neighbors: with a key, node RRs peer with each
    # client statically instead of listening on the subnet.
    static_rrs = set(nodes_rr) if node_auth else set()
    clients = [n for n in rack.nodes if n.name not in nodes_rr]

    node_targets: dict[str, IPv4Address]   # whom a plain node peers with
    listeners: list[Device] = []

    if rack.discovery == Discovery.DYNAMIC:
        node_targets = {tor.name: tor_spec.gateway}
        listeners.append(tor)
    else:
        node_targets = dict(sorted(rr_addrs.items(), key=lambda kv: int(kv[1])))
        cluster_id = min(rr_addrs.values())  # two RRs share one cluster id
        for s in rack.rr_switches:
            rr = _device(model, s.name, Role.RR_SWITCH, s.platform, rack.name, asn,
                         alloc.router_ids[s.name], s.mgmt, cluster_id=cluster_id)
            rr.interfaces.append(Interface(IPv4Interface((s.ip, subnet.prefixlen)),
                                           rack.name, Link.RACK))
            rr.prefix_lists += [lists[n] for n in ("RACK-ROUTES", "TO-NODES", "DEFAULT-ONLY")]
            devices[rr.name] = rr
            listeners.append(rr)
        for rr_name, rr_ip in node_targets.items():
            # ToR ↔ RR: plain iBGP; the ToR sends only its default and takes every
            # path the RR has (add-path), so a VIP keeps one next hop per announcer.
            tor.peers.append(Peer(rr_name, asn, True, address=rr_ip,
                                  local_address=tor_spec.gateway, import_list="RACK-ROUTES",
                                  export_list="TO-NODES", default_originate=True,
                                  max_prefixes=limits.rack, auth=node_auth,
                                  ttl_security=gtsm(tor.name, rr_name),
                                  bfd=node_bfd(tor.name, rr_name),
                                  add_path_receive=_add_path_receive(model, tor.platform),
                                  description=f"route reflector {rr_name}"))
            sessions.append(Session(tor.name, tor_spec.gateway, asn, rr_name, rr_ip, asn,
                                    IBGP, False, rack.name))

    for node in rack.nodes:
        role = Role.NODE_RR if node.name in nodes_rr else Role.NODE
        cluster = min(rr_addrs.values()) if role == Role.NODE_RR else None
        d = _device(model, node.name, role, "gobgp", rack.name, asn, node.ip, None,
                    cluster_id=cluster)
        d.interfaces.append(Interface(IPv4Interface((node.ip, subnet.prefixlen)),
                                      rack.name, Link.RACK))
        own = list(alloc.node_blocks.get(node.name, ()))
        own += sorted(host(v.address) for v in model.vips if node.name in v.announcers)
        d.originate = own
        d.prefix_lists.append(PrefixList("OWN", tuple(rule(p) for p in own),
                                         "this node's pod blocks and VIPs"))
        devices[d.name] = d
        if role == Role.NODE_RR:
            listeners.append(d)
            d.prefix_lists += [lists[n] for n in ("RACK-ROUTES", "TO-NODES", "DEFAULT-ONLY")]
            continue
        d.prefix_lists.append(lists["TO-NODES"])
        for t_name, t_ip in node_targets.items():
            d.peers.append(Peer(t_name, asn, True, address=t_ip, local_address=node.ip,
                                import_list="TO-NODES", export_list="OWN", auth=node_auth,
                                ttl_security=gtsm(node.name, t_name),
                                bfd=node_bfd(node.name, t_name),
                                add_path_receive=_add_path_receive(model, "gobgp"),
                                description=f"rack {rack.name} {t_name}"))
            # Whoever a node peers with listens on the rack subnet, but static RRs.
            sessions.append(Session(node.name, node.ip, asn, t_name, t_ip, asn, IBGP,
                                    t_name not in static_rrs, rack.name))

    for lst in listeners:
        my_ip = next(i.address.ip for i in lst.interfaces if i.kind == Link.RACK)
        paths = _add_paths(model, platform_of[lst.name])
        if lst.name in static_rrs:
            for n in clients:
                lst.peers.append(Peer(n.name, asn, True, address=n.ip, local_address=my_ip,
                                      rr_client=True, import_list="RACK-ROUTES",
                                      export_list="TO-NODES", max_prefixes=limits.node,
                                      auth=node_auth, ttl_security=gtsm(lst.name, n.name),
                                      bfd=node_bfd(lst.name, n.name), add_paths=paths,
                                      description=f"rack {rack.name} node {n.name}"))
        else:
            # Node-facing listen group: rack subnet, RR clients, locked-down imports.
            lst.peers.append(Peer("NODES", asn, True, listen_range=subnet,
                                  listen_limit=b.listen_limit, rr_client=True,
                                  import_list="RACK-ROUTES", export_list="TO-NODES",
                                  max_prefixes=limits.node,
                                  default_originate=lst.role == Role.TOR, auth=node_auth,
                                  ttl_security=_gtsm(model, False, lst.platform, "gobgp"),
                                  bfd=_bfd(b.bfd.nodes, lst.platform, "gobgp"),
                                  add_paths=paths,
                                  description=f"rack {rack.name} nodes (dynamic)"))
        if lst.role == Role.TOR:
            continue
        lst.peers.append(Peer(tor.name, asn, True, address=tor_spec.gateway, local_address=my_ip,
                              import_list="DEFAULT-ONLY", export_list="RACK-ROUTES",
                              auth=node_auth, ttl_security=gtsm(lst.name, tor.name),
                              bfd=node_bfd(lst.name, tor.name), add_paths=paths,
                              description=f"rack {rack.name} ToR"))
        if lst.role != Role.NODE_RR:
            continue
        # Node RRs peer with each other only for the routes each originates itself:
        # client routes reach both RRs directly, and a copy via the other RR would
        # compete with the client's own path (GoBGP sends it without a cluster list).
        for other, ip in rr_addrs.items():
            if other == lst.name:
                continue
            lst.peers.append(Peer(other, asn, True, address=ip, local_address=my_ip,
                                  import_list="RACK-ROUTES", export_list="OWN",
                                  max_prefixes=limits.node, auth=node_auth,
                                  ttl_security=gtsm(lst.name, other),
                                  bfd=node_bfd(lst.name, other),
                                  description=f"peer route reflector {other}"))
            if lst.name < other:
                sessions.append(Session(lst.name, my_ip, asn, other, ip, asn, IBGP, False,
                                        rack.name))


