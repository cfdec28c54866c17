"""Intent types: what every speaker must do, derived from the model and the IPAM allocation.

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
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from fabric.errors import Diagnostics
from fabric.model.types import BmpCollector, Discovery, SecretRef

# Model value types the intent carries as they are.
__all__ = ["BmpCollector", "Discovery", "SecretRef"]


class Role(StrEnum):
    CORE = "core"
    TOR = "tor"
    RR_SWITCH = "rr_switch"
    NODE = "node"
    NODE_RR = "node_rr"


SWITCH_ROLES = frozenset({Role.CORE, Role.TOR, Role.RR_SWITCH})
NODE_ROLES = frozenset({Role.NODE, Role.NODE_RR})


class Link(StrEnum):
    """What an interface of the fabric faces."""

    CORE_LINK = "link"    # a ToR–core /31
    RACK = "rack"         # the rack's node subnet


class SessionKind(StrEnum):
    IBGP = "ibgp"
    EBGP = "ebgp"


@dataclass(frozen=True)
class PrefixRule:
    prefix: IPv4Network
    ge: int | None = None
    le: int | None = None
    action: str = "permit"


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
    ttl_security: bool = False       # GTSM, one hop: only directly connected peers
    bfd: bool = False                # BFD with the device's timers
    add_paths: int = 0               # send up to this many paths per prefix (ADD-PATH)
    add_path_receive: bool = False   # take several paths per prefix from this peer
    description: str = ""

    @property
    def dynamic(self) -> bool:
        return self.listen_range is not None


@dataclass(frozen=True)
class Interface:
    """An L3 interface the fabric needs; port names are the operator's, not ours."""

    address: IPv4Interface
    peer: str            # device at the other end, or the rack for a rack subnet
    kind: Link


@dataclass
class Device:
    name: str
    role: Role
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
    max_prefix_restart: int          # minutes a session over its prefix limit stays down
    bfd_interval: int                # ms between BFD packets, sent and expected
    bfd_multiplier: int              # packets missed before BFD declares the peer down
    peers: list[Peer] = field(default_factory=list)
    prefix_lists: list[PrefixList] = field(default_factory=list)
    originate: list[IPv4Network] = field(default_factory=list)
    aggregates: list[IPv4Network] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    bmp: tuple[BmpCollector, ...] = ()

    @property
    def is_switch(self) -> bool:
        return self.role in SWITCH_ROLES

    @property
    def is_node(self) -> bool:
        return self.role in NODE_ROLES

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
    kind: SessionKind
    dynamic: bool
    rack: str | None
    graceful_restart: bool = True


@dataclass(frozen=True)
class Pools:
    """The fabric's address plan."""

    pod: IPv4Network
    vip: IPv4Network
    links: IPv4Network
    loopbacks: IPv4Network
    rack_prefix_length: int
    block_prefix_length: int


@dataclass(frozen=True)
class Rack:
    """A rack as the later stages need it: its AS, pool and subnet, its ToR and its
    uplinks (core → the /31 between them), its nodes and route reflectors."""

    name: str
    asn: int
    pool: IPv4Network
    subnet: IPv4Network
    gateway: IPv4Address
    tor: str
    uplinks: dict[str, IPv4Network]
    discovery: Discovery
    nodes: tuple[str, ...]
    route_reflectors: tuple[str, ...]     # nodes first, then switches, as in the model


@dataclass(frozen=True)
class Vip:
    address: IPv4Address
    announcers: tuple[str, ...]


@dataclass
class Intent:
    fabric: str
    devices: dict[str, Device]
    sessions: list[Session]
    pools: Pools
    cores: tuple[str, ...]
    racks: dict[str, Rack]                       # by name, sorted
    vips: tuple[Vip, ...]                        # by address
    node_blocks: dict[str, tuple[IPv4Network, ...]]
    secrets: dict[str, SecretRef]
    # The model file's positions, for locating a problem found later (a secret
    # that cannot be read at deploy time) in the file the user wrote.
    source: Diagnostics | None = None
    # What each rack's part, and the whole, was built from (intent/build.py): equal
    # digests, equal intent. For the incremental render; not intent either.
    rack_digests: dict[str, str] = field(default_factory=dict)
    digest: str = ""

    def device(self, name: str) -> Device:
        return self.devices[name]


