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
- Return (phase two): a withdrawn block `release_after` later goes back to the
  rack pool. One with an address in use (a pod raced the withdrawal) is
  reinstated instead: it is routed again.

Hysteresis: a node that grows or takes a block back restarts the clock of its
empty blocks (`empty_since`), so nothing it holds is withdrawn for
`release_after`; and a withdrawal leaves more than `release_above`
(> `grow_below`) free, so it does not make the node short.
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
    return t.isoformat()


def rebalance(model: Model, stored: Mapping[str, Mapping[str, Any]],
              usage: Mapping[str, frozenset[int]], now: datetime) -> Rebalanced:
    """The next state for `usage` (node → IPv4 addresses in use, as integers) at
    `now`. Nodes without usage are left as they are; the input is not changed.

    Two passes, so the result does not depend on the order of nodes and a second
    run with the same usage at the same time changes nothing: first every node
    takes back what it needs of its withdrawn blocks and returns the rest that are
    due (freeing them in the rack pool), then nodes grow or withdraw."""
    if now.tzinfo is None:
        raise ValueError("rebalance needs an aware time")
    state: dict[str, dict[str, Any]] = {
        s: {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
            for k, v in body.items()} for s, body in stored.items()}
    state.setdefault(LIFE, {})
    out = Rebalanced([], state)
    pools = _rack_pools(model, state)
    known = {n.name for r in model.racks for n in r.nodes}
    unknown = sorted(set(usage) - known)
    if unknown:
        out.notes.append(f"usage for {len(unknown)} node(s) not in the model, ignored: "
                         f"{', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}")
    size = 1 << (32 - model.pools.block_prefix_length)
    nodes = []
    for r in sorted(model.racks, key=lambda r: r.name):
        for n in sorted(r.nodes, key=lambda n: n.name):
            used = usage.get(n.name)
            held: list[str] | None = state["node_blocks"].get(n.name)
            if used is not None and held is not None:   # else nothing to go by
                nodes.append(_Node(out, model.pools.rebalance, size, n.name, n.pod_blocks,
                                   held, used, pools.get(r.name), now))
    for node in nodes:
        node.take_back_or_return()
    for node in nodes:
        node.grow_or_withdraw()
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


class _Node:
    """One node's blocks during a decision; `held` is the state's own list."""

    def __init__(self, out: Rebalanced, policy: Rebalance, size: int, name: str, floor: int,
                 held: list[str], used: frozenset[int], pool: PrefixPool | None,
                 now: datetime):
        self.out, self.policy, self.size, self.name, self.floor = out, policy, size, name, floor
        self.held, self.pool, self.now = held, pool, now
        self.life: dict[str, dict[str, str]] = out.stored[LIFE]
        self.grace = timedelta(seconds=policy.release_after)
        per_block: dict[int, int] = {}
        for a in used:                  # blocks are equal-size and aligned
            start = a & ~(size - 1)
            per_block[start] = per_block.get(start, 0) + 1
        self.in_use = {b: per_block.get(_start(b), 0) for b in held}
        stray = len(used) - sum(self.in_use.values())
        if stray:
            out.notes.append(f"{name}: {stray} address(es) in use outside its blocks")
        self.grew = False

    def withdrawn(self) -> list[str]:
        return [b for b in self.held if "withdrawn" in self.life.get(b, {})]

    def active(self) -> list[str]:
        return [b for b in self.held if "withdrawn" not in self.life.get(b, {})]

    def free(self) -> int:
        return sum(self.size - self.in_use[b] for b in self.active())

    def since(self, b: str, key: str) -> datetime:
        return datetime.fromisoformat(self.life[b][key])

    def step(self, b: str, action: Action, why: str) -> None:
        self.out.steps.append(Step(self.name, b, action, why))

    def take_back_or_return(self) -> None:
        """A short node takes back its newest withdrawn blocks (a release cancelled:
        nothing changes hands); withdrawn blocks it does not need and whose grace is
        over, with nothing of them in use, go back to the rack pool."""
        withdrawn = self.withdrawn()
        for b in [b for b in withdrawn if self.in_use[b]]:
            # A pod took an address of it after all (it raced the withdrawal): routed
            # again, or that pod stays unreachable.
            withdrawn.remove(b)
            del self.life[b]
            self.grew = True
            self.step(b, Action.REINSTATE, f"{self.in_use[b]} of its addresses in use")
        while withdrawn and (free := self.free()) < self.policy.grow_below:
            b = withdrawn.pop()
            del self.life[b]
            self.grew = True
            self.step(b, Action.REINSTATE, f"{free} address(es) free, below "
                      f"{self.policy.grow_below}; its withdrawn block comes back")
        for b in withdrawn:
            if self.now - self.since(b, "withdrawn") >= self.grace:
                when = self.life.pop(b)["withdrawn"]
                self.held.remove(b)
                if self.pool is not None:
                    self.pool.release(IPv4Network(b))
                self.step(b, Action.RETURN, f"withdrawn at {when}, at least "
                          f"{self.policy.release_after} s ago, and nothing of it in use")

    def grow_or_withdraw(self) -> None:
        for b in self.active():        # how long each active block has been empty
            entry = self.life.setdefault(b, {})
            if self.in_use[b]:
                entry.pop("empty_since", None)
            else:
                entry.setdefault("empty_since", stamp(self.now))
            if not entry:
                del self.life[b]
        if self.free() < self.policy.grow_below:
            self._grow()
        if self.grew:
            # Grow and release never alternate within the grace: a node that just
            # grew or took a block back restarts the clock of its empty blocks.
            for b in self.active():
                if not self.in_use[b]:
                    self.life[b] = {"empty_since": stamp(self.now)}
        else:
            self._withdraw()

    def _grow(self) -> None:
        while (free := self.free()) < self.policy.grow_below:
            why = f"{free} address(es) free, below {self.policy.grow_below}"
            if len(self.held) >= self.policy.max_blocks_per_node:
                self.out.notes.append(f"{self.name}: {why}, but it holds max_blocks_per_node "
                                      f"({self.policy.max_blocks_per_node}); not grown")
                return
            net = self.pool.take() if self.pool is not None else None
            if net is None:
                self.out.notes.append(f"{self.name}: {why}, but its rack pool is exhausted; "
                                      "not grown")
                return
            b = str(net)
            self.held.append(b)
            self.in_use[b] = 0
            self.grew = True
            self.step(b, Action.GROW, why)

    def _withdraw(self) -> None:
        """Its empty blocks, newest first, while each is due and more than
        release_above addresses stay free without it (all at once, so that a second
        run at the same time finds nothing more)."""
        active = self.active()
        for b in reversed(active):
            if self.in_use[b]:
                continue
            left = self.free() - self.size
            if (len(active) <= self.floor or left <= self.policy.release_above
                    or self.now - self.since(b, "empty_since") < self.grace):
                return
            self.life[b] = {"empty_since": self.life[b]["empty_since"],
                            "withdrawn": stamp(self.now)}
            active.remove(b)
            self.step(b, Action.WITHDRAW, f"empty since {self.life[b]['empty_since']}; "
                      f"{left} address(es) free without it, above "
                      f"{self.policy.release_above}")
