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

Below the machines: the minimal examples of what they found, one test each, and
`fabric ipam rebalance` end to end on the example model.
"""

from __future__ import annotations

import copy
import itertools
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
from conftest import tree
from hypothesis import Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from fabric import pipeline
from fabric.cli.main import main
from fabric.errors import InputError
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
    addresses, gets some by a race (Cilium handed them out before its pool shrank),
    or stays empty."""
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
                elif keep == "race":      # handed out before the pool shrank
                    count = data.draw(st.one_of(st.just(1), st.integers(1, SIZE)), label="race")
                    addrs |= {base + i for i in rng.sample(range(SIZE), count)}
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

    @rule(advance=ADVANCE, node=st.sampled_from(NODES))
    def flood(self, advance: int, node: str) -> None:
        """Every address of a node's active blocks in use, the rest as last time: a
        node that keeps filling up runs into max_blocks_per_node or its rack pool."""
        self.now += timedelta(seconds=advance)
        full = frozenset(a for b in active(self.state, node) for a in span(b))
        self.step({**self.usage, node: full})

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
        for advance in [*advances, *[RELEASE_AFTER] * (3 * MAX_BLOCKS)]:
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
            plan, result = pipeline.rebalance(self.model_file, self.state_dir, usage, now)
            assert plan.steps == r.steps and plan.notes == r.notes
            text = result.state_text
            assert text == dump_state(MODEL, post)
            assert {n: [str(b) for b in bs] for n, bs in result.intent.node_blocks.items()} \
                == {n: [b for b in post["node_blocks"][n] if "withdrawn" not in
                        post[LIFE].get(b, {})] for n in result.intent.node_blocks}
            write_state(self.state_dir, text)
            post = load_state(self.state_dir)
            assert post == alloc.state
        self.check_step(pre, usage, now, r, post)
        self.check_offered(post, alloc.node_blocks)
        if self.check_idempotence:
            again = rebalance(MODEL, post, usage, now)
            assert again.steps == [], ("replayed at the same time and usage", again.steps)
            assert allocate(MODEL, again.stored).state == post, "replay changed the state"
        self.record(usage, now, r)
        self.state, self.usage, self.notes = post, usage, r.notes
        return r

    def record(self, usage: Usage, now: datetime, r: Rebalanced) -> None:
        for n in r.notes:
            event("note: " + ("cap" if "max_blocks" in n else "exhausted" if "exhausted" in n
                              else "kept" if "kept" in n else "other"))
        for s in r.steps:
            event(f"step {s.action}")
            if s.action in (Action.GROW, Action.REINSTATE):
                self.grew_at[s.node] = now
                self.withdrawn_at.pop(s.block, None)
                # Empty from now on, unless an address of it was seen in use just now.
                if not used_in(s.block, usage.get(s.node, frozenset())):
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

        if "ghost-node" in usage:
            assert any("not in the model" in n and "ghost-node" in n for n in r.notes)
        for node, addrs in usage.items():
            if STRAY in addrs and node in RACK_OF:
                assert any("outside its blocks" in n for n in notes_of(r, node)), node

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

        # 4. No flapping; growth and release follow the contract.
        back = {s.block for s in r.steps if s.action is Action.RETURN}   # free again
        taken = all_held(pre)
        for node in NODES:
            mine = by_node[node]
            still = withdrawn(pre, node)
            gave_back: list[str] = []
            act = active(pre, node)
            addrs = usage.get(node, frozenset())
            kinds = {s.action for s in mine}
            assert not ({Action.GROW, Action.REINSTATE} & kinds and Action.WITHDRAW in kinds), (
                node, "grew and withdrew in one step", mine)
            for s in mine:
                if s.action is Action.RETURN:
                    still.remove(s.block)
                    gave_back.append(s.block)
                elif s.action is Action.REINSTATE:
                    assert s.block in still, (s, "reinstated a block not withdrawn")
                    still.remove(s.block)
                elif s.action is Action.GROW:
                    assert not still, (s, "took a new block while holding withdrawn", still)
                    # Short with a withdrawn block: it comes back; it does not go back to
                    # the pool for another block to be taken in its place.
                    assert not gave_back, (s, "took a new block, returning its withdrawn",
                                           gave_back)
                    # The lowest free block: free before the step, or (if what was
                    # returned in the step is free at once) returned in it.
                    pool = [b for b in rack_blocks(pre, RACK_OF[node]) if b not in taken]
                    wider = sorted(set(pool) | (back & set(rack_blocks(pre, RACK_OF[node]))),
                                   key=lambda b: int(IPv4Network(b).network_address))
                    assert s.block in pool[:1] + wider[:1], (s, "not the lowest free block",
                                                            pool, wider)
                    taken.add(s.block)
                    back.discard(s.block)
                elif s.action is Action.WITHDRAW:
                    grew = self.grew_at.get(node)
                    assert grew is None or now - grew >= GRACE, (
                        s, f"withdrawn {now - grew} after the node grew")
                    seen = self.empty_seen.get(s.block)
                    assert seen is not None and now - seen >= GRACE, (
                        s, "withdrawn before it was empty for release_after", seen)
                    empties = [b for b in act if not used_in(b, addrs)]
                    assert empties and s.block == empties[-1], (s, "not its newest empty block")
                    assert len(act) > FLOOR[node], (s, "withdrawn at the floor")
                    left = free_of(act, addrs) - SIZE
                    assert left > RELEASE_ABOVE, (s, f"only {left} free without it")
                    act.remove(s.block)

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
            if exhausted:       # true of the result: no block of the rack pool is free
                rack = RACK_OF[node]
                assert set(rack_blocks(post, rack)) <= all_held(post), (
                    node, exhausted, "yet a block of the rack pool is free after the step",
                    sorted(set(rack_blocks(post, rack)) - all_held(post)), r.steps)

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
    return [(a, b) for a, b in itertools.pairwise(nets)
            if int(b.network_address) <= int(a.broadcast_address)]


# No shrinking: a failing run of these machines takes minutes to shrink. The
# minimal examples of what they found are the tests below.
MACHINE_SETTINGS = settings(max_examples=50, stateful_step_count=20, deadline=None,
                            phases=[Phase.explicit, Phase.reuse, Phase.generate])
TestRebalanceProperties = RebalanceMachine.TestCase
TestRebalanceProperties.settings = MACHINE_SETTINGS
TestRebalanceIdempotence = RebalanceIdempotence.TestCase
TestRebalanceIdempotence.settings = MACHINE_SETTINGS


# --- minimal examples -------------------------------------------------------
# r2's pool 10.128.1.0/24 holds eight /27s; at the start r2-n1 holds .0, r2-n2 .32
# and r2-n3 .64, and a node grows by the lowest free one (.96 first).

A, B, C = "10.128.1.32/27", "10.128.1.96/27", "10.128.1.128/27"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def addresses(block: str, count: int | None = None) -> frozenset[int]:
    """The first `count` addresses of `block` (all of them by default)."""
    r = span(block)
    return frozenset(r[:SIZE if count is None else count])


def run(state: State, usage: Usage, now: datetime, model: Any = MODEL
        ) -> tuple[State, Rebalanced]:
    """One rebalance as the pipeline does it: decide, then allocate from the result."""
    r = rebalance(model, state, usage, now)
    return allocate(model, r.stored).state, r


def moves(r: Rebalanced) -> list[tuple[str, str, str]]:
    return [(s.action.value, s.node, s.block) for s in r.steps]


def grown_twice() -> State:
    """r2-n2 holds A, B (.96) and C (.128), all three full at T0."""
    s, r = run(start_state(), {"r2-n2": addresses(A)}, at(0))
    assert moves(r) == [("grow", "r2-n2", B)]
    s, r = run(s, {"r2-n2": addresses(A) | addresses(B)}, at(0))
    assert moves(r) == [("grow", "r2-n2", C)]
    return s


def withdrawn_b() -> State:
    """r2-n2 holds A and B, B withdrawn at T0 + 60 s (empty since it grew at T0)."""
    s, r = run(start_state(), {"r2-n2": addresses(A)}, at(0))
    assert moves(r) == [("grow", "r2-n2", B)]
    s, r = run(s, {"r2-n2": addresses(A, 10)}, at(60))
    assert moves(r) == [("withdraw", "r2-n2", B)]
    return s


def test_replay_withdraws_no_second_block() -> None:
    """Property 5. B and C are both empty for release_after: one run withdraws both
    (newest first), so the same usage at the same time finds nothing more."""
    s = grown_twice()
    u = {"r2-n2": addresses(A, 16)}
    s, r = run(s, u, at(1))                    # B empty from now on, C since T0
    assert moves(r) == []
    s, r = run(s, u, at(61))
    assert ("withdraw", "r2-n2", C) in moves(r)
    again, r = run(s, u, at(61))
    assert moves(r) == [], "replayed at the same time and usage"
    assert again == s


def test_short_node_takes_its_withdrawn_block_back_rather_than_returning_it() -> None:
    """Property 4: a node that runs short gets its withdrawn block back, even when
    B's grace is over, rather than returning B and taking another from the pool."""
    s = withdrawn_b()
    s, r = run(s, {"r2-n2": addresses(A)}, at(120))
    assert moves(r) == [("reinstate", "r2-n2", B)]


def test_a_block_returned_in_a_run_is_free_in_that_run() -> None:
    """Property 6. r2's pool is full; r2-n1 returns a block in the same run in which
    r2-n3 runs short: r2-n3 grows into it in that run (returns come first)."""
    s = start_state()
    n1 = ["10.128.1.0/27"]
    for _ in range(3):                 # r2-n1 grows to .0 .96 .128 .160
        s, r = run(s, {"r2-n1": frozenset().union(*map(addresses, n1))}, at(0))
        n1 += [x.block for x in r.steps]
    n2 = [A]
    for _ in range(2):                 # r2-n2 to .32 .192 .224: r2's pool is full
        s, r = run(s, {"r2-n2": frozenset().union(*map(addresses, n2))}, at(0))
        n2 += [x.block for x in r.steps]
    assert set(rack_blocks(s, "r2")) <= all_held(s)
    u1 = addresses(n1[0]) | addresses(n1[1]) | addresses(n1[2], 16)
    s, r = run(s, {"r2-n1": u1}, at(60))
    assert moves(r) == [("withdraw", "r2-n1", n1[3])]
    s, r = run(s, {"r2-n1": u1, "r2-n3": addresses("10.128.1.64/27")}, at(120))
    assert ("return", "r2-n1", n1[3]) in moves(r)
    assert ("grow", "r2-n3", n1[3]) in moves(r), (moves(r), r.notes)


def test_reinstated_block_in_use_replays_unchanged() -> None:
    """Property 5. B is withdrawn, then an address of it shows up in use and r2-n2
    runs short: B comes back, not recorded as empty, and the replay changes nothing."""
    s = withdrawn_b()
    u = {"r2-n2": addresses(A) | addresses(B, 1)}
    s, r = run(s, u, at(61))
    assert moves(r) == [("reinstate", "r2-n2", B)]
    again, r = run(s, u, at(61))
    assert moves(r) == []
    assert again == s, ("replay changed the state", s[LIFE], again[LIFE])


def test_reinstated_block_in_use_waits_release_after_once_empty() -> None:
    """Property 4 (withdraw only a block empty for release_after). B comes back in
    use at 61 s; first seen empty at 200 s, it waits release_after from then."""
    s = withdrawn_b()
    s, r = run(s, {"r2-n2": addresses(A) | addresses(B, 1)}, at(61))
    assert moves(r) == [("reinstate", "r2-n2", B)]
    s, r = run(s, {"r2-n2": addresses(A, 10)}, at(200))     # B first seen empty
    assert moves(r) == [], "withdrawn when first seen empty"


def test_reinstated_block_counts_its_addresses_in_use() -> None:
    """Property 6. B comes back holding 30 addresses in use: they count as used, so
    r2-n2, still short, grows in the same run; the replay changes nothing."""
    s = withdrawn_b()
    u = {"r2-n2": addresses(A) | addresses(B, 30)}
    s, r = run(s, u, at(61))
    free = free_of(active(s, "r2-n2"), u["r2-n2"])
    short = [n for n in notes_of(r, "r2-n2") if "not grown" in n]
    assert free >= GROW_BELOW or short, (moves(r), free, r.notes)


def test_release_after_is_counted_in_real_time() -> None:
    """Property 4. Times are kept to the microsecond: a block grown at 0.9 s is not
    withdrawn at 60.1 s, 59.2 s later, with release_after 60."""
    s, r = run(start_state(), {"r2-n2": addresses(A)}, at(0.9))
    assert moves(r) == [("grow", "r2-n2", B)]
    s, r = run(s, {"r2-n2": addresses(A, 10)}, at(60.1))
    assert moves(r) == [], "withdrawn 59.2 s after it grew"


def test_a_withdrawn_block_a_pod_took_is_reinstated() -> None:
    """A pod raced the withdrawal (Cilium keeps an address in use that left the pool):
    the block is routed again at once, whether or not the node is short, and its
    grace does not return it while the address is in use."""
    s = withdrawn_b()
    u = {"r2-n2": addresses(A, 10) | addresses(B, 1)}
    s, r = run(s, u, at(200))
    assert moves(r) == [("reinstate", "r2-n2", B)]
    assert B in active(s, "r2-n2")
    again, r = run(s, u, at(200))
    assert moves(r) == [] and again == s


def test_release_after_zero_is_refused() -> None:
    """Two phases need a grace: with release_after 0 a replay at the same time would
    return what the first run withdrew, so the schema asks for at least 1 s."""
    with pytest.raises(InputError) as exc:
        load_model("<mem>", text=model_text(release_after=0))
    assert any(p.path == "pools.pod.rebalance.release_after" for p in exc.value.problems), \
        exc.value.problems


# --- the command, end to end --------------------------------------------------

def ciliumnodes(used: Mapping[str, list[str]]) -> dict[str, Any]:
    """`kubectl get ciliumnodes -o json`: `used` node → addresses in use; a node
    mapped to no list has no status.ipam yet (its agent has not reported)."""
    items = []
    for name, addrs in used.items():
        item: dict[str, Any] = {"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
                                "metadata": {"name": name}}
        if addrs is not None:
            item["status"] = {"ipam": {"used": {a: {"owner": f"default/pod-{i}"}
                                                for i, a in enumerate(addrs)}}}
        items.append(item)
    return {"apiVersion": "v1", "kind": "List", "items": items}


def test_cli_rebalance_grows_a_full_node(example_copy: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`fabric ipam rebalance` on the example: r01-n1's /26 has 60 of 64 addresses in
    use (grow_below 8 by default), so it grows; the re-rendered CiliumNode offers
    the new block and GoBGP announces it; the same command again changes nothing;
    --dry-run writes nothing."""
    state_file = example_copy.parent / "state" / STATE_FILE
    old = yaml.safe_load(state_file.read_text())
    first = old["node_blocks"]["r01-n1"][0]
    base = span(first).start
    usage = tmp_path / "ciliumnodes.json"
    usage.write_text(json.dumps(ciliumnodes({
        "r01-n1": [str(IPv4Address(base + i)) for i in range(1, 61)],
        "r01-n2": [str(IPv4Network(old["node_blocks"]["r01-n2"][0])[5])],
        "r02-n1": None,                   # not reported: unknown, not empty
    })))
    out = tmp_path / "build"
    args = ["ipam", "rebalance", str(example_copy), "--usage", str(usage),
            "--now", "2026-06-01T12:00:00Z", "--out", str(out), "--json"]

    def command(*extra: str) -> dict[str, Any]:
        capsys.readouterr()
        assert main([*args, *extra]) == 0
        return json.loads(capsys.readouterr().out)

    # --dry-run: the plan, and nothing written.
    before = state_file.read_bytes()
    plan = command("--dry-run")
    assert [(s["action"], s["node"]) for s in plan["steps"]] == [("grow", "r01-n1")]
    assert plan["dry_run"] is True and plan["state_changed"] is False
    assert state_file.read_bytes() == before and not out.exists()

    done = command()
    assert done["steps"] == plan["steps"] and done["state_changed"] is True
    new = done["steps"][0]["block"]
    net = IPv4Network(new)
    rack_pool = IPv4Network(old["rack_pools"]["r01"])
    assert net.prefixlen == 26 and net.subnet_of(rack_pool)
    assert new not in {b for blocks in old["node_blocks"].values() for b in blocks}
    state = yaml.safe_load(state_file.read_text())
    assert state["node_blocks"]["r01-n1"] == [first, new]
    assert {k: v for k, v in state["node_blocks"].items() if k != "r01-n1"} == {
        k: v for k, v in old["node_blocks"].items() if k != "r01-n1"}, "another node moved"
    for section in ("rack_asns", "rack_pools", "links", "router_ids"):
        assert state[section] == old[section], section
    assert state[LIFE] == {new: {"empty_since": "2026-06-01T12:00:00+00:00"}}

    # What Cilium is offered and what GoBGP announces: both blocks.
    cn = yaml.safe_load((out / "kubernetes" / "ciliumnodes" / "r01-n1.yaml").read_text())
    pool = set(cn["spec"]["ipam"]["pool"])
    assert {str(a) for a in net} <= pool
    assert {str(a) for a in IPv4Network(first)} <= pool
    assert len(pool) == 2 * net.num_addresses
    announce = yaml.safe_load((out / "nodes" / "r01-n1" / "announce.yaml").read_text())
    assert first in announce["prefixes"] and new in announce["prefixes"]
    gobgp = (out / "nodes" / "r01-n1" / "gobgpd.toml").read_text()
    assert f'ip-prefix = "{new}"' in gobgp
    assert new not in (out / "nodes" / "r01-n2" / "announce.yaml").read_text()

    # The same command again: nothing to do, nothing written.
    rendered, stored = tree(out), state_file.read_bytes()
    again = command()
    assert again["steps"] == [] and again["state_changed"] is False
    assert tree(out) == rendered and state_file.read_bytes() == stored
