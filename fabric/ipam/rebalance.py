"""Node blocks that follow their use: grow when a node runs short, release in two
phases when a block has stayed empty.

One pure function, `rebalance`, decides from the stored state, the model's
policy (`pools.pod.rebalance`), what Cilium reports in use on each node and the
time. `fabric ipam rebalance` runs it once on a usage file; `fabric ipam
controller` runs it on every change it watches. Per node:

- Grow: fewer than `grow_below` addresses free in its active blocks → the
  newest withdrawn block comes back if it has one (a release is cancelled, no
  block changes hands), else the lowest free block of its rack pool, up to
  `max_blocks_per_node`.
- Withdraw (release, phase one): its newest empty block, above the model's
  `pod_blocks`, empty for `release_after`, and more than `release_above`
  addresses still free without it. It leaves the announcements and the
  CiliumNode pool, and stays the node's.
- Return (phase two): a withdrawn block `release_after` later, with no address
  of it in use, goes back to the rack pool.

Hysteresis: a node that grew has no empty block (each holds at least
`grow_below` addresses), so nothing it holds is withdrawn for `release_after`;
and a withdrawal leaves more than `release_above` (> `grow_below`) free.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Any

from fabric.ipam.pools import PrefixPool
from fabric.ipam.state import LIFE
from fabric.model.types import Model, Rebalance


class Action(StrEnum):
    GROW = "grow"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"
    RETURN = "return"


@dataclass(frozen=True)
class Step:
    node: str
    block: str
    action: Action
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"node": self.node, "block": self.block, "action": str(self.action),
                "why": self.why}

    def line(self) -> str:
        return f"{self.action:<9} {self.node} {self.block}: {self.why}"


@dataclass
class Rebalanced:
    steps: list[Step]
    stored: dict[str, dict[str, Any]]      # the state to allocate from next
    notes: list[str] = field(default_factory=list)


def stamp(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def rebalance(model: Model, stored: Mapping[str, Mapping[str, Any]],
              usage: Mapping[str, frozenset[int]], now: datetime) -> Rebalanced:
    """The next state for `usage` (node → IPv4 addresses in use, as integers) at
    `now`. Nodes without
    usage are left as they are; the input is not changed."""
    if now.tzinfo is None:
        raise ValueError("rebalance needs an aware time")
    state: dict[str, dict[str, Any]] = {
        s: {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
            for k, v in body.items()} for s, body in stored.items()}
    state.setdefault(LIFE, {})
    policy = model.pools.rebalance
    out = Rebalanced([], state)
    pools = _rack_pools(model, state)
    known = {n.name for r in model.racks for n in r.nodes}
    unknown = sorted(set(usage) - known)
    if unknown:
        out.notes.append(f"usage for {len(unknown)} node(s) not in the model, ignored: "
                         f"{', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}")
    for r in sorted(model.racks, key=lambda r: r.name):
        for n in sorted(r.nodes, key=lambda n: n.name):
            used = usage.get(n.name)
            held: list[str] | None = state["node_blocks"].get(n.name)
            if used is None or held is None:
                continue         # no usage reported, or never rendered: nothing to go by
            _node(out, policy, model.pools.block_prefix_length, n.name, n.pod_blocks, held, used,
                  pools.get(r.name), now)
    return out


def _rack_pools(model: Model, state: Mapping[str, Mapping[str, Any]]) -> dict[str, PrefixPool]:
    """Each rack's pool with every block any node holds taken (nodes gone from the
    model included: their blocks are reserved until pruned)."""
    p = model.pools
    pools = {rack: PrefixPool(IPv4Network(net), p.block_prefix_length)
             for rack, net in state["rack_pools"].items()}
    # Rack pools are equal-size and aligned: a block's pool is found by its bits.
    mask = ~((1 << (32 - p.rack_prefix_length)) - 1)
    by_start = {pool.base: pool for pool in pools.values()}
    for blocks in state["node_blocks"].values():
        for b in blocks:
            start = _start(b)
            pool = by_start.get(start & mask)
            if pool is not None:
                pool.reserve_start(start)
    return pools


def _start(block: str) -> int:
    """The first address of a stored block, as an int (IPv4Network is slow here: a
    fabric of 80,000 nodes is decided on every change the controller sees)."""
    return int.from_bytes(socket.inet_aton(block.partition("/")[0]), "big")


def _node(out: Rebalanced, policy: Rebalance, block_length: int, node: str, floor: int,
          held: list[str], used: frozenset[int], pool: PrefixPool | None,
          now: datetime) -> None:
    life: dict[str, dict[str, str]] = out.stored[LIFE]
    grace = timedelta(seconds=policy.release_after)
    size = 1 << (32 - block_length)
    per_block: dict[int, int] = {}
    for a in used:                  # blocks are equal-size and aligned
        start = a & ~(size - 1)
        per_block[start] = per_block.get(start, 0) + 1
    in_use = {b: per_block.get(_start(b), 0) for b in held}
    stray = len(used) - sum(in_use.values())
    if stray:
        out.notes.append(f"{node}: {stray} address(es) in use outside its blocks")

    def since(b: str, key: str) -> datetime:
        return datetime.fromisoformat(life[b][key])

    def step(b: str, action: Action, why: str) -> None:
        out.steps.append(Step(node, b, action, why))

    # Phase two first: withdrawn blocks whose grace is over go back to the rack pool.
    for b in [b for b in held if "withdrawn" in life.get(b, {})]:
        if in_use[b]:
            out.notes.append(f"{node}: withdrawn block {b} still holds {in_use[b]} "
                             "address(es) in use; kept")
        elif now - since(b, "withdrawn") >= grace:
            held.remove(b)
            step(b, Action.RETURN, f"withdrawn at {life.pop(b)['withdrawn']}, at least "
                 f"{policy.release_after} s ago, and nothing of it in use")
    active = [b for b in held if "withdrawn" not in life.get(b, {})]
    for b in active:            # how long each active block has been empty
        entry = life.setdefault(b, {})
        if in_use[b]:
            entry.pop("empty_since", None)
        else:
            entry.setdefault("empty_since", stamp(now))
    for b in [b for b in held if not life.get(b)]:
        life.pop(b, None)
    free = sum(size - in_use[b] for b in active)
    if free < policy.grow_below:
        _grow(out, policy, node, held, active, free, size, pool, now)
        return
    empty = [b for b in reversed(active) if not in_use[b]]
    if len(active) <= floor or not empty:
        return
    b = empty[0]
    left = free - size
    if now - since(b, "empty_since") >= grace and left > policy.release_above:
        life[b] = {"empty_since": life[b]["empty_since"], "withdrawn": stamp(now)}
        step(b, Action.WITHDRAW, f"empty since {life[b]['empty_since']}; {left} address(es) "
             f"free without it, above {policy.release_above}")


def _grow(out: Rebalanced, policy: Rebalance, node: str, held: list[str], active: list[str],
          free: int, size: int, pool: PrefixPool | None, now: datetime) -> None:
    life: dict[str, dict[str, str]] = out.stored[LIFE]
    withdrawn = [b for b in held if "withdrawn" in life.get(b, {})]
    while free < policy.grow_below:
        why = f"{free} address(es) free, below {policy.grow_below}"
        if withdrawn:
            b = withdrawn.pop()
            life[b] = {"empty_since": stamp(now)}
            out.steps.append(Step(node, b, Action.REINSTATE, why + "; its withdrawn block "
                                  "comes back"))
        elif len(held) >= policy.max_blocks_per_node:
            out.notes.append(f"{node}: {why}, but it holds max_blocks_per_node "
                             f"({policy.max_blocks_per_node}); not grown")
            return
        else:
            net = pool.take() if pool is not None else None
            if net is None:
                out.notes.append(f"{node}: {why}, but its rack pool is exhausted; not grown")
                return
            b = str(net)
            held.append(b)
            life[b] = {"empty_since": stamp(now)}
            out.steps.append(Step(node, b, Action.GROW, why))
        active.append(b)
        free += size
