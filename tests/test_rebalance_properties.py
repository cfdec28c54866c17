"""Property tests of the pod-block rebalancer (`fabric.ipam.rebalance`), written from
its documented contract, not from its code.

Acceptance (the issue's, literally): no block in use is released; no block is given
to two nodes; no allocation of another node moves; no flapping; replaying the same
usage at the same time changes nothing; a node keeps its floor and cap.

A hypothesis state machine drives a small fabric (2 racks × 3 nodes, /24 rack
pools of eight /27 blocks, so a rack pool runs out) through random sequences of
(time advance, what Cilium reports in use). Usage is drawn only from each node's
active blocks (Cilium hands out pool addresses only), except that a withdrawn
block sometimes still holds addresses (Cilium keeps an in-use address that left
the pool), a node is sometimes not reported (unknown is not empty) and a stray
address sometimes shows up. Each step goes as the pipeline goes: rebalance, then
allocate from its state; now and then through the state file and
`pipeline.rebalance`. The test keeps its own record of what it saw (when each
block was seen empty, withdrawn, when each node grew) to judge the steps by.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from fabric import pipeline
from fabric.cli.main import main
from fabric.ipam.allocate import allocate
from fabric.ipam.rebalance import Action, Rebalanced, Step, rebalance
from fabric.ipam.state import LIFE, SECTIONS, STATE_FILE, dump_state, load_state, write_state
from fabric.model.load import load_model

pytestmark = pytest.mark.unit

State = dict[str, dict[str, Any]]
Usage = dict[str, frozenset[int]]

GROW_BELOW, RELEASE_ABOVE, RELEASE_AFTER, MAX_BLOCKS = 4, 8, 60, 4
BLOCK_LEN = 27
SIZE = 1 << (32 - BLOCK_LEN)
GRACE = timedelta(seconds=RELEASE_AFTER)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
STRAY = int(IPv4Address("192.168.7.7"))       # in use on a node, outside every pool

RACKS = {"r1": ["r1-n1", "r1-n2", "r1-n3"], "r2": ["r2-n1", "r2-n2", "r2-n3"]}
RACK_OF = {n: r for r, nodes in RACKS.items() for n in nodes}
NODES = sorted(RACK_OF)
FLOOR = {n: 2 if n == "r1-n2" else 1 for n in NODES}     # pod_blocks
# r1 needs 4 blocks at first and may grow to 12: its eight-block pool runs out.


def model_text(release_after: int = RELEASE_AFTER) -> str:
    lines = [
        "fabric: rebal",
        "pools:",
        "  pod:",
        "    supernet: 10.128.0.0/23",
        "    rack_prefix_length: 24",
        f"    block_prefix_length: {BLOCK_LEN}",
        f"    rebalance: {{grow_below: {GROW_BELOW}, release_above: {RELEASE_ABOVE}, "
        f"release_after: {release_after}, max_blocks_per_node: {MAX_BLOCKS}}}",
        "  vip: 10.61.0.0/24",
        "  links: 10.63.0.0/24",
        "  loopbacks: 10.62.0.0/24",
        "  rack_asns: 65100-65199",
        "cores:",
        "  - {name: core1, platform: frr, asn: 65001, mgmt: 198.18.1.1}",
        "racks:",
    ]
    for i, (rack, nodes) in enumerate(RACKS.items(), start=1):
        lines += [f"  - name: {rack}", f"    subnet: 10.64.{i}.0/24",
                  f"    tor: {{platform: frr, mgmt: 198.18.0.{i}}}", "    nodes:"]
        for j, n in enumerate(nodes, start=11):
            extra = f", pod_blocks: {FLOOR[n]}" if FLOOR[n] != 1 else ""
            lines.append(f"      - {{name: {n}, ip: 10.64.{i}.{j}{extra}}}")
    return "\n".join(lines) + "\n"


MODEL_TEXT = model_text()
MODEL = load_model("<mem>", text=MODEL_TEXT)


def empty_state() -> State:
    return {s: {} for s in (*SECTIONS, LIFE)}


def start_state() -> State:
    return allocate(MODEL, empty_state()).state


# --- reading a state -------------------------------------------------------

def life(state: Mapping[str, Any], block: str) -> Mapping[str, str]:
    return state.get(LIFE, {}).get(block, {})


def is_withdrawn(state: Mapping[str, Any], block: str) -> bool:
    return "withdrawn" in life(state, block)


def held(state: Mapping[str, Any], node: str) -> list[str]:
    return list(state["node_blocks"].get(node, []))


def active(state: Mapping[str, Any], node: str) -> list[str]:
    return [b for b in held(state, node) if not is_withdrawn(state, b)]


def withdrawn(state: Mapping[str, Any], node: str) -> list[str]:
    return [b for b in held(state, node) if is_withdrawn(state, b)]


def span(block: str) -> range:
    net = IPv4Network(block)
    return range(int(net.network_address), int(net.broadcast_address) + 1)


def used_in(block: str, addrs: frozenset[int]) -> int:
    r = span(block)
    return sum(1 for a in addrs if a in r)


def free_of(blocks: list[str], addrs: frozenset[int]) -> int:
    return sum(SIZE - used_in(b, addrs) for b in blocks)


def rack_blocks(state: Mapping[str, Any], rack: str) -> list[str]:
    pool = IPv4Network(state["rack_pools"][rack])
    return [str(b) for b in pool.subnets(new_prefix=BLOCK_LEN)]


def all_held(state: Mapping[str, Any]) -> set[str]:
    return {b for blocks in state["node_blocks"].values() for b in blocks}


def notes_of(r: Rebalanced, node: str) -> list[str]:
    return [n for n in r.notes if n.startswith(f"{node}: ")]


# --- usage as Cilium reports it ---------------------------------------------

COUNT = st.one_of(st.sampled_from([0, 0, 1, SIZE // 2, SIZE - 3, SIZE - 2, SIZE - 1, SIZE]),
                  st.integers(0, SIZE))
ADVANCE = st.one_of(st.sampled_from([0, 1, RELEASE_AFTER - 1, RELEASE_AFTER,
                                     RELEASE_AFTER + 1, 2 * RELEASE_AFTER + 1]),
                    st.integers(0, 3 * RELEASE_AFTER))


def draw_usage(data: st.DataObject, state: State, last: Usage) -> Usage:
    """Per node: omitted (unknown), the same as last time, or drawn afresh from its
    active blocks (mostly full, empty, or mixed); a withdrawn block keeps last time's
    addresses, gets one by a race, or stays empty."""
    rng = data.draw(st.randoms(use_true_random=False), label="rng")
    usage: Usage = {}
    for node in NODES:
        mode = data.draw(st.sampled_from(["mixed", "full", "empty", "same", "same", "omit"]),
                         label=f"{node} mode")
        if mode == "omit":
            continue
        before = last.get(node, frozenset())
        addrs: set[int] = set()
        for b in held(state, node):
            base = span(b).start
            mine = {a for a in before if a in span(b)}
            if is_withdrawn(state, b):
                keep = data.draw(st.sampled_from(["none", "none", "none", "keep", "race"]),
                                 label=f"{b} withdrawn")
                if keep == "keep":
                    addrs |= mine
                elif keep == "race":
                    addrs |= {base + i for i in rng.sample(range(SIZE), 1)}
                continue
            if mode == "same":
                addrs |= mine
                continue
            if mode == "full":
                count = data.draw(st.integers(SIZE - GROW_BELOW, SIZE), label="count")
            else:
                count = 0 if mode == "empty" else data.draw(COUNT, label="count")
            addrs |= {base + i for i in rng.sample(range(SIZE), count)}
        if data.draw(st.integers(0, 19), label=f"{node} stray") == 0:
            addrs.add(STRAY)
        usage[node] = frozenset(addrs)
    if data.draw(st.integers(0, 19), label="ghost") == 0:
        usage["ghost-node"] = frozenset({STRAY})     # a node not in the model
    return usage


# --- the machine -----------------------------------------------------------

class RebalanceMachine(RuleBasedStateMachine):
    """Random (time advance, usage) sequences; every step is checked against the
    acceptance properties. Idempotence is checked in a subclass, so that a failure
    there does not hide the others."""

    check_idempotence = False

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="rebal-"))
        self.model_file = self.tmp / "fabric.yaml"
        self.model_file.write_text(MODEL_TEXT)
        self.state_dir = self.tmp / "state"
        self.now = T0
        self.state = start_state()
        self.usage: Usage = {}
        self.notes: list[str] = []
        # What the test saw, to judge the steps by.
        self.empty_seen: dict[str, datetime] = {}    # active block → seen empty since
        self.withdrawn_at: dict[str, datetime] = {}  # block → its WITHDRAW step
        self.grew_at: dict[str, datetime] = {}       # node → its last GROW/REINSTATE

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- rules -------------------------------------------------------------
    @rule(advance=ADVANCE, data=st.data(), via_files=st.booleans())
    def observe(self, advance: int, data: st.DataObject, via_files: bool) -> None:
        self.now += timedelta(seconds=advance)
        self.step(draw_usage(data, self.state, self.usage), via_files=via_files)

    @precondition(lambda self: bool(self.usage))
    @rule(advances=st.lists(ADVANCE, min_size=2, max_size=6))
    def steady(self, advances: list[int]) -> None:
        """Property 4, hysteresis: at a constant usage a node settles. After the
        step that acted on this usage, no node grows again (unless its rack pool
        was exhausted and a block has come back since), none reinstates, each block
        is withdrawn and returned at most once; and in bounded time nothing is left
        to do."""
        usage, notes = self.usage, self.notes
        seen: dict[tuple[str, str, Action], int] = {}
        for advance in [*advances, *[RELEASE_AFTER] * (2 * MAX_BLOCKS * len(NODES))]:
            self.now += timedelta(seconds=advance)
            r = self.step(usage)
            for s in r.steps:
                assert s.action is not Action.REINSTATE, (s, "at a constant usage")
                if s.action is Action.GROW:
                    assert any("exhausted" in n for n in notes if n.startswith(f"{s.node}: ")), (
                        s, "grew at a constant usage, but was not short of a block "
                        "for want of one", notes)
                key = (s.node, s.block, s.action)
                seen[key] = seen.get(key, 0) + 1
                assert seen[key] == 1, (s, "twice at a constant usage")
            notes = r.notes
            if not r.steps and advance >= RELEASE_AFTER:
                break
        else:
            pytest.fail(f"no fixed point at a constant usage; last steps {r.steps}")
        self.now += timedelta(seconds=10 * RELEASE_AFTER)
        r = self.step(usage)
        assert r.steps == [], "settled, yet a step later on"

    @rule()
    def roundtrip(self) -> None:
        """The state survives its file."""
        text = dump_state(MODEL, self.state)
        write_state(self.state_dir, text)
        back = load_state(self.state_dir)
        assert back == self.state
        assert dump_state(MODEL, back) == text

    # --- one step --------------------------------------------------------
    def step(self, usage: Usage, via_files: bool = False) -> Rebalanced:
        pre = copy.deepcopy(self.state)
        now = self.now
        r = rebalance(MODEL, self.state, usage, now)
        assert self.state == pre, "rebalance changed its input"
        alloc = allocate(MODEL, r.stored)
        assert alloc.changes == [], "allocating from the rebalanced state moved something"
        post = alloc.state
        if via_files:
            # The pipeline's way: the state file in, the state text out.
            write_state(self.state_dir, dump_state(MODEL, pre))
            plan, text = pipeline.rebalance(self.model_file, self.state_dir, usage, now)
            assert plan.steps == r.steps and plan.notes == r.notes
            assert text == dump_state(MODEL, post)
            write_state(self.state_dir, text)
            post = load_state(self.state_dir)
            assert post == alloc.state
        self.check_step(pre, usage, now, r, post)
        self.check_offered(post, alloc.node_blocks)
        if self.check_idempotence:
            again = rebalance(MODEL, post, usage, now)
            assert again.steps == [], ("replayed at the same time and usage", again.steps)
            assert allocate(MODEL, again.stored).state == post, "replay changed the state"
        self.record(pre, usage, now, r)
        self.state, self.usage, self.notes = post, usage, r.notes
        return r

    def record(self, pre: State, usage: Usage, now: datetime, r: Rebalanced) -> None:
        for s in r.steps:
            if s.action in (Action.GROW, Action.REINSTATE):
                self.grew_at[s.node] = now
                self.withdrawn_at.pop(s.block, None)
                self.empty_seen[s.block] = now
            elif s.action is Action.WITHDRAW:
                self.withdrawn_at[s.block] = now
                self.empty_seen.pop(s.block, None)
            else:
                self.withdrawn_at.pop(s.block, None)

    def seen_empty(self, pre: State, usage: Usage, now: datetime) -> None:
        """Before judging a step: each reported node's active blocks as seen now."""
        for node, addrs in usage.items():
            if node not in RACK_OF:
                continue
            for b in active(pre, node):
                if used_in(b, addrs):
                    self.empty_seen.pop(b, None)
                else:
                    self.empty_seen.setdefault(b, now)

    # --- the properties --------------------------------------------------
    def check_step(self, pre: State, usage: Usage, now: datetime, r: Rebalanced,
                   post: State) -> None:
        self.seen_empty(pre, usage, now)
        everything = frozenset().union(*usage.values()) if usage else frozenset()
        by_node: dict[str, list[Step]] = {n: [] for n in NODES}
        for s in r.steps:
            assert s.node in by_node, s
            by_node[s.node].append(s)

        # 1. No block in use is released; a return waits release_after after the withdrawal.
        for s in r.steps:
            if s.action in (Action.WITHDRAW, Action.RETURN):
                assert used_in(s.block, everything) == 0, (s, "released a block in use")
            if s.action is Action.RETURN:
                assert s.block in self.withdrawn_at, (s, "returned a block never withdrawn")
                assert now - self.withdrawn_at[s.block] >= GRACE, (
                    s, f"returned {now - self.withdrawn_at[s.block]} after its withdrawal")
                stored = datetime.fromisoformat(life(pre, s.block)["withdrawn"])
                assert now - stored >= GRACE, (s, "returned before release_after")

        # 2. No block is given to two nodes; each inside its node's rack pool.
        owners: dict[str, str] = {}
        for node, blocks in post["node_blocks"].items():
            pool = IPv4Network(post["rack_pools"][RACK_OF[node]])
            for b in blocks:
                assert b not in owners, (b, "held by", owners.get(b), "and", node)
                owners[b] = node
                net = IPv4Network(b)
                assert net.prefixlen == BLOCK_LEN and net.subnet_of(pool), (node, b, pool)
        assert not _overlaps([IPv4Network(b) for b in owners])
        assert set(post[LIFE]) <= set(owners), "a block state of a block nobody holds"

        # 3. No allocation of another node moves.
        for section in (s for s in post if s not in ("node_blocks", LIFE)):
            assert post[section] == pre[section], (section, "changed")
        assert set(post["node_blocks"]) == set(pre["node_blocks"])
        for node in NODES:
            mine = by_node[node]
            returned = [s.block for s in mine if s.action is Action.RETURN]
            grown = [s.block for s in mine if s.action is Action.GROW]
            before = held(pre, node)
            assert set(returned) <= set(withdrawn(pre, node)), (node, returned)
            assert held(post, node) == [b for b in before if b not in returned] + grown, (
                node, "its held blocks moved", before, held(post, node), mine)
            if not mine:
                assert held(post, node) == before and active(post, node) == active(pre, node)
            if node not in usage:
                assert not mine, (node, "acted on without usage")
                assert {b: life(post, b) for b in before} == {b: life(pre, b) for b in before}
            expect_withdrawn = [b for b in withdrawn(pre, node) if b not in returned and b not in
                                {s.block for s in mine if s.action is Action.REINSTATE}]
            expect_withdrawn += [s.block for s in mine if s.action is Action.WITHDRAW]
            assert sorted(withdrawn(post, node)) == sorted(expect_withdrawn), (node, mine)

        # 4. No flapping; growth follows the contract.
        pools_taken = {rack: all_held(pre) for rack in RACKS}
        for node in NODES:
            mine = by_node[node]
            still = withdrawn(pre, node)
            addrs = usage.get(node, frozenset())
            kinds = {s.action for s in mine}
            assert not ({Action.GROW, Action.REINSTATE} & kinds and Action.WITHDRAW in kinds), (
                node, "grew and withdrew in one step", mine)
            for s in mine:
                if s.action is Action.RETURN:
                    still.remove(s.block)
                elif s.action is Action.REINSTATE:
                    assert s.block in still, (s, "reinstated a block not withdrawn")
                    still.remove(s.block)
                elif s.action is Action.GROW:
                    assert not still, (s, "took a new block while holding withdrawn", still)
                    rack = RACK_OF[node]
                    free = [b for b in rack_blocks(pre, rack) if b not in pools_taken[rack]]
                    assert free and s.block == free[0], (s, "not the lowest free block", free)
                    pools_taken[rack].add(s.block)
                elif s.action is Action.WITHDRAW:
                    grew = self.grew_at.get(node)
                    assert grew is None or now - grew >= GRACE, (
                        s, f"withdrawn {now - grew} after the node grew")
                    seen = self.empty_seen.get(s.block)
                    assert seen is not None and now - seen >= GRACE, (
                        s, "withdrawn before it was empty for release_after", seen)
                    act = active(pre, node)
                    empties = [b for b in act if not used_in(b, addrs)]
                    assert empties and s.block == empties[-1], (s, "not its newest empty block")
                    assert len(act) > FLOOR[node], (s, "withdrawn at the floor")
                    left = free_of(act, addrs) - SIZE
                    assert left > RELEASE_ABOVE, (s, f"only {left} free without it")

        # 6. Floor and cap; a node left short says why.
        for node in NODES:
            assert len(active(r.stored, node)) >= FLOOR[node], (node, "below its floor")
            cap = max(MAX_BLOCKS, len(held(pre, node)))
            assert len(held(post, node)) <= cap, (node, "above max_blocks_per_node")
            if any(s.action is Action.GROW for s in by_node[node]):
                assert len(held(post, node)) <= MAX_BLOCKS
            if node not in usage:
                continue
            free = free_of(active(post, node), usage[node])
            if free >= GROW_BELOW:
                continue
            why = notes_of(r, node)
            capped = [n for n in why if "max_blocks_per_node" in n]
            exhausted = [n for n in why if "exhausted" in n]
            assert capped or exhausted, (node, f"left short ({free} free) without a note",
                                         r.notes)
            if capped:
                assert len(held(post, node)) >= MAX_BLOCKS, (node, capped)
            if exhausted:
                rack = RACK_OF[node]
                assert set(rack_blocks(pre, rack)) <= pools_taken[rack], (node, exhausted)

    def check_offered(self, post: State, offered: Mapping[str, tuple[IPv4Network, ...]]
                      ) -> None:
        """What is announced and offered to Cilium: the active blocks, in order."""
        for node in NODES:
            assert [str(b) for b in offered[node]] == active(post, node), node


class RebalanceIdempotence(RebalanceMachine):
    """Property 5: replaying the same usage at the same `now` gives no step and
    leaves the state as it is."""

    check_idempotence = True


def _overlaps(nets: list[IPv4Network]) -> list[tuple[IPv4Network, IPv4Network]]:
    nets = sorted(nets, key=lambda n: int(n.network_address))
    return [(a, b) for a, b in zip(nets, nets[1:], strict=False)
            if int(b.network_address) <= int(a.broadcast_address)]


TestRebalanceProperties = RebalanceMachine.TestCase
TestRebalanceProperties.settings = settings(max_examples=60, stateful_step_count=20,
                                            deadline=None)
TestRebalanceIdempotence = RebalanceIdempotence.TestCase
TestRebalanceIdempotence.settings = settings(max_examples=60, stateful_step_count=20,
                                             deadline=None)
