"""The route policy every rack and core applies, as prefix lists named by what they
hold: decided here, in one place, so that templates only loop over them."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from fabric.intent.types import Device, Pools, PrefixList, PrefixRule

DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")


def rule(prefix: IPv4Network, ge: int | None = None, le: int | None = None) -> PrefixRule:
    """A permit rule in the form every vendor accepts: len < ge ≤ le ≤ 32, or exact."""
    n = prefix.prefixlen
    ge = ge if ge is not None and ge > n else None
    le = le if le is not None and le > n else None
    if ge is not None and le is None:
        le = 32
    return PrefixRule(prefix, ge, le)


def host(addr: IPv4Address) -> IPv4Network:
    return IPv4Network((addr, 32))


def rack_lists(pools: Pools, pool: IPv4Network, vips: list[IPv4Address]) -> dict[str, PrefixList]:
    """The prefix lists every rack speaker uses, named by what they hold. `vips`: the
    VIPs nodes of this rack announce, and no others."""
    blk = pools.block_prefix_length
    rack_len = pools.rack_prefix_length
    # Exactly the block length: an aggregate of the pool (or a longer prefix) from
    # a host on the rack subnet would draw a rack-mate's traffic the moment its
    # block is withdrawn. Only this rack's VIPs: another rack's, announced here,
    # would win over the genuine eBGP paths for every node of the rack.
    blocks = rule(pool, ge=blk, le=blk)
    own_vips = tuple(rule(host(v)) for v in vips)
    lists = [
        PrefixList("RACK-ROUTES", (blocks, *own_vips),
                   "what rack speakers may announce: pod blocks of this rack and its VIPs"),
        PrefixList("TO-NODES", (rule(DEFAULT_ROUTE), blocks),
                   "what nodes receive: a default and this rack's pod blocks"),
        PrefixList("DEFAULT-ONLY", (rule(DEFAULT_ROUTE),), "the ToR's default route"),
        PrefixList("FABRIC-IN", (rule(pools.pod, ge=rack_len, le=rack_len),
                                 rule(pools.vip, ge=32, le=32)),
                   "what a ToR accepts from the cores: rack pools and VIP /32s"),
        PrefixList("RACK-EXPORT", (rule(pool), *own_vips),
                   "what a ToR sends to the cores: the rack pool and the rack's VIPs"),
    ]
    return {pl.name: pl for pl in lists}


def from_rack(rack: str, export: PrefixList) -> PrefixList:
    """What a core accepts from rack `rack`'s ToR: exactly what the ToR exports (its
    pool and its own VIPs), so one lost export line on one ToR cannot leak another
    rack's VIP fabric-wide."""
    return PrefixList(f"FROM-{rack.upper()}", export.rules,
                      f"what rack {rack} may announce: its pool and its VIPs")


def core_lists(pools: Pools, core: Device) -> None:
    pod = pools.pod
    vip_pool = pools.vip
    rack_len = pools.rack_prefix_length
    core.prefix_lists.append(PrefixList(
        "TO-RACKS", (rule(pod, ge=rack_len, le=rack_len), rule(vip_pool, ge=32, le=32)),
        "what racks receive: rack pools and VIP /32s"))
    core.prefix_lists.sort(key=lambda p: p.name)
