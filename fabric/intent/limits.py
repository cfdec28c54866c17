"""Prefix limits per session: what the peer may legitimately announce, plus a
margin, unless the model gives a number.

A limit above what the session's filter can ever admit never trips; one below
what the peer may announce cuts a healthy session. So each limit is derived from
the model alone (not from the blocks a node holds today): a rebalance that grows
a node's blocks, up to `max_blocks_per_node`, changes no switch config.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabric.model.types import Model, Rack


def with_margin(n: int) -> int:
    """`n` and a quarter more (at least 2), so that a peer announcing all it may
    never trips its limit, whether its vendor counts a prefix before or after the
    inbound filter (FRR counts after; `force` before)."""
    return n + max(2, n // 4)


@dataclass(frozen=True)
class RackLimits:
    node: int         # one node's routes: to its ToR or RR, between node RRs
    rack: int         # a whole rack's, from a route reflector to the ToR
    from_tor: int     # what a core takes from this rack's ToR
    from_cores: int   # what this rack's ToR takes from each core


def most_blocks(model: Model, pod_blocks: int) -> int:
    """The most blocks a node may hold: its own count, or what rebalance may grow to."""
    return max(pod_blocks, model.pools.rebalance.max_blocks_per_node)


def rack_limits(model: Model, rack: Rack, vips: int, vip_paths: int) -> RackLimits:
    """`vips`: how many VIPs nodes of this rack announce; `vip_paths`: how many
    announcements of them there are, each a path of its own to the ToR (add-path)."""
    b = model.bgp
    blocks = [most_blocks(model, n.pod_blocks) for n in rack.nodes]
    node = b.max_prefixes or with_margin(max(blocks, default=0) + vips)
    whole = b.max_prefixes or with_margin(sum(blocks) + vip_paths)
    pools = model.pools
    # A core sends every rack pool and VIP of the fabric: bound by the pools, not
    # by the racks there are today, so a rack added elsewhere changes no ToR.
    fabric_wide = (2 ** (pools.rack_prefix_length - pools.pod.prefixlen)
                   + pools.vip.num_addresses)
    return RackLimits(node=node, rack=whole,
                      from_tor=b.core_max_prefixes or with_margin(1 + vips),
                      from_cores=b.core_max_prefixes or with_margin(fabric_wide))
