"""The fabric model's types: what `load_model` (load.py) returns once the schema and
the semantic checks (checks.py) pass, and the parsed form the checks read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network

from fabric.errors import Diagnostics, Path


class Discovery(StrEnum):
    DYNAMIC = "dynamic"                   # nodes peer with the ToR's listen range
    ROUTE_REFLECTOR = "route_reflector"   # nodes peer with the rack's route reflectors


@dataclass(frozen=True)
class Bfd:
    """BFD (RFC 5880) on BGP sessions: a silent link is noticed in interval ×
    multiplier instead of the hold time."""

    core_links: bool = True      # every ToR–core session
    nodes: bool = False          # node sessions, where the node speaker has BFD
    interval: int = 300          # ms, transmit and receive
    multiplier: int = 3


@dataclass(frozen=True)
class BgpDefaults:
    keepalive: int = 3
    hold: int = 9
    restart_time: int = 120
    stalepath_time: int = 360
    # FRR waits 360 s by default, longer than peers keep our routes (restart_time);
    # SONiC runs 15 s. A restarting ToR must advertise again before peers give up.
    select_defer_time: int = 15
    ecmp: int = 8
    # Prefix limits: None derives each session's from what its peer may announce
    # (intent/limits.py); a number applies to every session of the kind.
    max_prefixes: int | None = None        # sessions that carry node routes
    core_max_prefixes: int | None = None   # ToR–core sessions, both ends
    max_prefix_restart: int = 5            # minutes a tripped session stays down
    # GTSM (RFC 5082, one hop) on every session whose two ends support it.
    gtsm: bool = True
    listen_limit: int = 200
    bfd: Bfd = Bfd()


@dataclass(frozen=True)
class BmpCollector:
    name: str
    address: IPv4Address
    port: int


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives; the value itself is read only at deploy time."""

    name: str
    env: str | None = None
    file: str | None = None

    @property
    def placeholder(self) -> str:
        return f"__secret_{self.name}__"


@dataclass(frozen=True)
class Rebalance:
    """When `fabric ipam rebalance` grows and releases node blocks. The defaults:
    Cilium's own pre-allocation (8 free addresses), twice that to release so a
    node does not flap, and Calico's 15-minute grace for an empty block."""

    grow_below: int = 8
    release_above: int = 16
    release_after: int = 900          # seconds
    max_blocks_per_node: int = 8


@dataclass(frozen=True)
class ParsedPools:
    """The pools as parsed: a prefix that did not parse is None (and reported)."""

    pod: IPv4Network | None
    rack_prefix_length: int
    block_prefix_length: int
    blocks_per_node: int
    vip: IPv4Network | None
    links: IPv4Network | None
    loopbacks: IPv4Network | None
    rack_asns: tuple[int, int] | None    # absent: every ToR gives its own asn
    rebalance: Rebalance


@dataclass(frozen=True)
class Pools(ParsedPools):
    """The validated pools: the schema requires every prefix, and each one parsed."""

    pod: IPv4Network
    vip: IPv4Network
    links: IPv4Network
    loopbacks: IPv4Network


@dataclass(frozen=True)
class Core:
    name: str
    platform: str
    asn: int
    mgmt: IPv4Address
    router_id: IPv4Address | None
    path: Path


@dataclass(frozen=True)
class Tor:
    name: str
    platform: str
    asn: int | None
    mgmt: IPv4Address
    router_id: IPv4Address | None
    gateway: IPv4Address
    uplinks: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class Node:
    name: str
    ip: IPv4Address
    pod_blocks: int
    rack: str
    path: Path


@dataclass(frozen=True)
class SwitchRR:
    name: str
    platform: str
    ip: IPv4Address
    mgmt: IPv4Address
    router_id: IPv4Address | None
    rack: str
    path: Path


@dataclass(frozen=True)
class ParsedRack:
    """A rack as parsed: its subnet is None if it did not parse (and was reported)."""

    name: str
    subnet: IPv4Network | None
    pod_pool: IPv4Network | None         # absent: IPAM allocates one from pools.pod
    tor: Tor
    discovery: Discovery
    rr_nodes: tuple[str, ...]
    rr_switches: tuple[SwitchRR, ...]
    nodes: tuple[Node, ...]
    path: Path
    # The secret of this rack's node sessions: its own `auth.nodes`, else the
    # fabric's `defaults.auth.nodes`; None: no authentication.
    auth_nodes: str | None = None


@dataclass(frozen=True)
class Rack(ParsedRack):
    """A validated rack: the schema requires the subnet, and it parsed."""

    subnet: IPv4Network


@dataclass(frozen=True)
class Vip:
    address: IPv4Address
    announcers: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class ParsedModel:
    """What parsing a structurally valid document gives; the semantic checks read it.
    Only `load_model` turns one into a `Model`, once nothing was reported."""

    file: str
    name: str
    bgp: BgpDefaults
    auth_core_links: str | None
    auth_nodes: str | None
    bmp: tuple[BmpCollector, ...]
    secrets: dict[str, SecretRef]
    pools: ParsedPools
    cores: tuple[Core, ...]
    racks: tuple[ParsedRack, ...]
    vips: tuple[Vip, ...]
    # model/digest.py's digest of each section and rack, for the incremental render
    digests: dict[str, str] = field(repr=False)
    diag: Diagnostics = field(repr=False)


@dataclass(frozen=True)
class Model(ParsedModel):
    """The validated model: its pools and racks hold every prefix the schema requires."""

    pools: Pools
    racks: tuple[Rack, ...]

    def rack(self, name: str) -> Rack:
        return next(r for r in self.racks if r.name == name)
