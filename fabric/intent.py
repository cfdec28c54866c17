"""Intent: what every speaker must do, derived from the model and the IPAM allocation.

Vendor-neutral. Every session is listed once with both ends (`Session`), and
each device carries its own view of it (`Peer`), its prefix lists, the
prefixes it originates, and its BGP-wide settings. Semantics (see docs/design.md):
a rack's ToR (or its RRs) reflects node routes unchanged, so same-rack next
hops are the peer node; nodes receive only rack-local routes and a default;
ToRs send the rack pool aggregate and the rack's VIPs to the cores; cores
accept from each ToR only that rack's pool and the VIP pool and multipath
across racks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from .ipam import Allocation, link_key
from .model import BmpCollector, Model, Rack

DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class PrefixRule:
    prefix: IPv4Network
    ge: int | None = None
    le: int | None = None
    action: str = "permit"


def rule(prefix: IPv4Network, ge: int | None = None, le: int | None = None) -> PrefixRule:
    """A permit rule in the form every vendor accepts: len < ge ≤ le ≤ 32, or exact."""
    n = prefix.prefixlen
    ge = ge if ge is not None and ge > n else None
    le = le if le is not None and le > n else None
    if ge is not None and le is None:
        le = 32
    return PrefixRule(prefix, ge, le)


@dataclass(frozen=True)
class PrefixList:
    name: str
    rules: tuple[PrefixRule, ...]
    description: str


@dataclass(frozen=True)
class Peer:
    """One device's side of a session: a static neighbor, or a dynamic listen group."""

    name: str                        # group name (dynamic) or the peer device's name
    remote_as: int
    ibgp: bool
    address: IPv4Address | None = None        # static peers
    listen_range: IPv4Network | None = None   # dynamic groups: accept any peer in it
    listen_limit: int | None = None
    local_address: IPv4Address | None = None
    rr_client: bool = False
    import_list: str | None = None
    export_list: str | None = None
    max_prefixes: int | None = None
    default_originate: bool = False
    auth: str | None = None          # secret placeholder, never the secret
    description: str = ""

    @property
    def dynamic(self) -> bool:
        return self.listen_range is not None


@dataclass(frozen=True)
class Interface:
    """An L3 interface the fabric needs; port names are the operator's, not ours."""

    address: IPv4Interface
    peer: str            # device at the other end, or the rack for a rack subnet
    kind: str            # "link" (ToR–core /31) or "rack" (node subnet)


@dataclass
class Device:
    name: str
    role: str            # core | tor | rr_switch | node | node_rr
    platform: str
    rack: str | None
    asn: int
    router_id: IPv4Address
    mgmt: IPv4Address | None
    keepalive: int
    hold: int
    restart_time: int
    stalepath_time: int
    select_defer_time: int
    ecmp_ebgp: int
    ecmp_ibgp: int
    multipath_relax: bool
    cluster_id: IPv4Address | None
    peers: list[Peer] = field(default_factory=list)
    prefix_lists: list[PrefixList] = field(default_factory=list)
    originate: list[IPv4Network] = field(default_factory=list)
    aggregates: list[IPv4Network] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    bmp: tuple[BmpCollector, ...] = ()

    @property
    def is_switch(self) -> bool:
        return self.role in ("core", "tor", "rr_switch")

    @property
    def rack_name(self) -> str:
        """The rack of a ToR, a route reflector or a node; a core has none."""
        if self.rack is None:
            raise ValueError(f"{self.role} {self.name} is in no rack")
        return self.rack


@dataclass(frozen=True)
class Session:
    """A BGP session seen from both ends; `b` listens when `dynamic` is set."""

    a: str
    a_address: IPv4Address
    a_as: int
    b: str
    b_address: IPv4Address
    b_as: int
    kind: str            # ibgp | ebgp
    dynamic: bool
    rack: str | None
    graceful_restart: bool = True


@dataclass
class Intent:
    fabric: str
    devices: dict[str, Device]
    sessions: list[Session]
    model: Model
    alloc: Allocation

    def device(self, name: str) -> Device:
        return self.devices[name]


def build_intent(model: Model, alloc: Allocation) -> Intent:
    devices: dict[str, Device] = {}
    sessions: list[Session] = []
    vip_racks = _vips_by_rack(model)
    for core in model.cores:
        devices[core.name] = _device(model, core.name, "core", core.platform, None, core.asn,
                                     alloc.router_ids[core.name], core.mgmt)
    for rack in sorted(model.racks, key=lambda r: r.name):
        _rack(model, alloc, rack, devices, sessions, vip_racks.get(rack.name, []))
    for core in model.cores:
        _core_lists(model, devices[core.name])
    for d in devices.values():
        d.peers.sort(key=lambda p: (not p.dynamic, int(p.address or 0), p.name))
        d.interfaces.sort(key=lambda i: (i.kind, int(i.address.ip)))
    sessions.sort(key=lambda s: (s.rack or "", s.a, s.b))
    return Intent(model.name, dict(sorted(devices.items())), sessions, model, alloc)


def _device(model: Model, name: str, role: str, platform: str, rack: str | None, asn: int,
            router_id: IPv4Address, mgmt: IPv4Address | None,
            cluster_id: IPv4Address | None = None) -> Device:
    b = model.bgp
    switch = role in ("core", "tor", "rr_switch")
    return Device(
        name=name, role=role, platform=platform, rack=rack, asn=asn, router_id=router_id,
        mgmt=mgmt, keepalive=b.keepalive, hold=b.hold, restart_time=b.restart_time,
        stalepath_time=b.stalepath_time, select_defer_time=b.select_defer_time,
        ecmp_ebgp=b.ecmp if role in ("core", "tor") else 1,
        ecmp_ibgp=b.ecmp if role == "tor" else 1,
        multipath_relax=role in ("core", "tor"),
        cluster_id=cluster_id, bmp=model.bmp if (switch or role.startswith("node")) else (),
    )


def _vips_by_rack(model: Model) -> dict[str, list[IPv4Address]]:
    where = {n.name: r.name for r in model.racks for n in r.nodes}
    out: dict[str, set[IPv4Address]] = {}
    for v in model.vips:
        for who in v.announcers:
            out.setdefault(where[who], set()).add(v.address)
    return {k: sorted(v) for k, v in out.items()}


def _host(addr: IPv4Address) -> IPv4Network:
    return IPv4Network((addr, 32))


def _rack_lists(model: Model, pool: IPv4Network, vips: list[IPv4Address]) -> dict[str, PrefixList]:
    """The prefix lists every rack speaker uses, named by what they hold."""
    blk = model.pools.block_prefix_length
    vip_pool = model.pools.vip
    pod = model.pools.pod
    rack_len = model.pools.rack_prefix_length
    # Blocks are longer than the rack pool, so the pool aggregate itself never
    # goes to or comes from a node.
    blocks = rule(pool, ge=rack_len + 1, le=blk)
    lists = [
        PrefixList("RACK-ROUTES", (blocks, rule(vip_pool, ge=32, le=32)),
                   "what rack speakers may announce: pod blocks of this rack and VIP /32s"),
        PrefixList("TO-NODES", (rule(DEFAULT_ROUTE), blocks),
                   "what nodes receive: a default and this rack's pod blocks"),
        PrefixList("DEFAULT-ONLY", (rule(DEFAULT_ROUTE),), "the ToR's default route"),
        PrefixList("FABRIC-IN", (rule(pod, ge=rack_len, le=rack_len),
                                 rule(vip_pool, ge=32, le=32)),
                   "what a ToR accepts from the cores: rack pools and VIP /32s"),
        PrefixList("RACK-EXPORT", (rule(pool), *(rule(_host(v)) for v in vips)),
                   "what a ToR sends to the cores: the rack pool and the rack's VIPs"),
    ]
    return {pl.name: pl for pl in lists}


def _rack(model: Model, alloc: Allocation, rack: Rack, devices: dict[str, Device],
          sessions: list[Session], vips: list[IPv4Address]) -> None:
    b = model.bgp
    asn = alloc.rack_asns[rack.name]
    pool = alloc.rack_pools[rack.name]
    subnet = rack.subnet
    vip_pool = model.pools.vip
    lists = _rack_lists(model, pool, vips)
    core_auth = model.secrets[model.auth_core_links].placeholder if model.auth_core_links else None
    node_auth = model.secrets[model.auth_nodes].placeholder if model.auth_nodes else None
    tor_spec = rack.tor
    tor = _device(model, tor_spec.name, "tor", tor_spec.platform, rack.name, asn,
                  alloc.router_ids[tor_spec.name], tor_spec.mgmt)
    devices[tor.name] = tor
    tor.aggregates.append(pool)
    tor.interfaces.append(Interface(IPv4Interface((tor_spec.gateway, subnet.prefixlen)),
                                    rack.name, "rack"))
    tor_lists = ["RACK-ROUTES", "TO-NODES", "FABRIC-IN", "RACK-EXPORT"]
    tor.prefix_lists += [lists[n] for n in tor_lists]

    # ToR ↔ cores: eBGP over the allocated /31s (core takes the lower address).
    for up in tor_spec.uplinks:
        core = devices[up]
        link = alloc.links[link_key(tor.name, up)]
        core_ip, tor_ip = link.network_address, link.network_address + 1
        tor.interfaces.append(Interface(IPv4Interface((tor_ip, 31)), up, "link"))
        core.interfaces.append(Interface(IPv4Interface((core_ip, 31)), tor.name, "link"))
        tor.peers.append(Peer(up, core.asn, False, address=core_ip, local_address=tor_ip,
                              import_list="FABRIC-IN", export_list="RACK-EXPORT",
                              auth=core_auth, description=f"core {up}"))
        from_rack = f"FROM-{rack.name.upper()}"
        core.prefix_lists.append(PrefixList(   # uplinks are unique: once per rack
            from_rack, (rule(pool), rule(vip_pool, ge=32, le=32)),
            f"what rack {rack.name} may announce: its pool and VIP /32s"))
        core.peers.append(Peer(tor.name, asn, False, address=tor_ip, local_address=core_ip,
                               import_list=from_rack, export_list="TO-RACKS",
                               max_prefixes=b.max_prefixes, auth=core_auth,
                               description=f"rack {rack.name} ToR"))
        sessions.append(Session(up, core_ip, core.asn, tor.name, tor_ip, asn, "ebgp", False,
                                rack.name))

    nodes_rr = set(rack.rr_nodes)
    rr_addrs = {n.name: n.ip for n in rack.nodes if n.name in nodes_rr}
    rr_addrs.update({s.name: s.ip for s in rack.rr_switches})
    node_targets: dict[str, IPv4Address]   # whom a plain node peers with
    listeners: list[Device] = []

    if rack.discovery == "dynamic":
        node_targets = {tor.name: tor_spec.gateway}
        listeners.append(tor)
    else:
        node_targets = dict(sorted(rr_addrs.items(), key=lambda kv: int(kv[1])))
        cluster_id = min(rr_addrs.values())  # two RRs share one cluster id
        for s in rack.rr_switches:
            rr = _device(model, s.name, "rr_switch", s.platform, rack.name, asn,
                         alloc.router_ids[s.name], s.mgmt, cluster_id=cluster_id)
            rr.interfaces.append(Interface(IPv4Interface((s.ip, subnet.prefixlen)),
                                           rack.name, "rack"))
            rr.prefix_lists += [lists[n] for n in ("RACK-ROUTES", "TO-NODES", "DEFAULT-ONLY")]
            devices[rr.name] = rr
            listeners.append(rr)
        for rr_name, rr_ip in node_targets.items():
            # ToR ↔ RR: plain iBGP; the ToR sends only its default.
            tor.peers.append(Peer(rr_name, asn, True, address=rr_ip,
                                  local_address=tor_spec.gateway, import_list="RACK-ROUTES",
                                  export_list="TO-NODES", default_originate=True,
                                  max_prefixes=b.max_prefixes, auth=node_auth,
                                  description=f"route reflector {rr_name}"))
            sessions.append(Session(tor.name, tor_spec.gateway, asn, rr_name, rr_ip, asn,
                                    "ibgp", False, rack.name))

    for node in rack.nodes:
        role = "node_rr" if node.name in nodes_rr else "node"
        cluster = min(rr_addrs.values()) if role == "node_rr" else None
        d = _device(model, node.name, role, "gobgp", rack.name, asn, node.ip, None,
                    cluster_id=cluster)
        d.interfaces.append(Interface(IPv4Interface((node.ip, subnet.prefixlen)),
                                      rack.name, "rack"))
        own = list(alloc.node_blocks.get(node.name, ()))
        own += [_host(v.address) for v in model.vips if node.name in v.announcers]
        d.originate = own
        d.prefix_lists.append(PrefixList("OWN", tuple(rule(p) for p in own),
                                         "this node's pod blocks and VIPs"))
        devices[d.name] = d
        if role == "node_rr":
            listeners.append(d)
            d.prefix_lists += [lists[n] for n in ("RACK-ROUTES", "TO-NODES", "DEFAULT-ONLY")]
            continue
        d.prefix_lists.append(lists["TO-NODES"])
        for t_name, t_ip in node_targets.items():
            d.peers.append(Peer(t_name, asn, True, address=t_ip, local_address=node.ip,
                                import_list="TO-NODES", export_list="OWN",
                                auth=node_auth, description=f"rack {rack.name} {t_name}"))
            # Whoever a node peers with listens on the rack subnet: always dynamic.
            sessions.append(Session(node.name, node.ip, asn, t_name, t_ip, asn, "ibgp", True,
                                    rack.name))

    for lst in listeners:
        # Node-facing listen group: rack subnet, RR clients, locked-down imports.
        lst.peers.append(Peer("NODES", asn, True, listen_range=subnet,
                              listen_limit=b.listen_limit, rr_client=True,
                              import_list="RACK-ROUTES", export_list="TO-NODES",
                              max_prefixes=b.max_prefixes,
                              default_originate=lst.role == "tor", auth=node_auth,
                              description=f"rack {rack.name} nodes (dynamic)"))
        if lst.role == "tor":
            continue
        my_ip = next(i.address.ip for i in lst.interfaces if i.kind == "rack")
        lst.peers.append(Peer(tor.name, asn, True, address=tor_spec.gateway, local_address=my_ip,
                              import_list="DEFAULT-ONLY", export_list="RACK-ROUTES",
                              auth=node_auth, description=f"rack {rack.name} ToR"))
        if lst.role != "node_rr":
            continue
        # Node RRs peer with each other only for the routes each originates itself:
        # client routes reach both RRs directly, and a copy via the other RR would
        # compete with the client's own path (GoBGP sends it without a cluster list).
        for other, ip in rr_addrs.items():
            if other == lst.name:
                continue
            lst.peers.append(Peer(other, asn, True, address=ip, local_address=my_ip,
                                  import_list="RACK-ROUTES", export_list="OWN",
                                  max_prefixes=b.max_prefixes, auth=node_auth,
                                  description=f"peer route reflector {other}"))
            if lst.name < other:
                sessions.append(Session(lst.name, my_ip, asn, other, ip, asn, "ibgp", False,
                                        rack.name))


def _core_lists(model: Model, core: Device) -> None:
    pod = model.pools.pod
    vip_pool = model.pools.vip
    rack_len = model.pools.rack_prefix_length
    core.prefix_lists.append(PrefixList(
        "TO-RACKS", (rule(pod, ge=rack_len, le=rack_len), rule(vip_pool, ge=32, le=32)),
        "what racks receive: rack pools and VIP /32s"))
    core.prefix_lists.sort(key=lambda p: p.name)
