"""Property tests of the IPAM allocator.

Acceptance: no two allocations overlap, and no existing allocation moves across
random sequences of rack/node additions and removals.

A hypothesis state machine keeps a Python description of a small fabric (pools
small enough that exhaustion and reuse happen often), renders it as model YAML,
and after every operation allocates with the previous step's state read back
from a real state file. Exhaustion is a legitimate outcome of a step: the test
predicts exactly which pools run short, for which rack and by how much, checks
the error says so, and then skips the step (the model change is discarded).
"""

from __future__ import annotations

import copy
import itertools
import random
import re
import tempfile
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from fabric.errors import InputError
from fabric.ipam.allocate import Allocation, allocate, link_key
from fabric.ipam.pools import NumberPool, PrefixPool
from fabric.ipam.state import LIFE, SECTIONS, dump_state, load_state, write_state
from fabric.model.load import load_model
from fabric.model.types import Model

pytestmark = pytest.mark.unit

# --- the model, described in Python and rendered as YAML -------------------

SUPERNET = IPv4Address("10.128.0.0")
LINKS = IPv4Address("10.63.0.0")
LOOPBACKS = IPv4Address("10.62.0.0")
CORE1_RID = IPv4Address("10.62.0.5")     # explicit: must never be handed to anyone else
BLOCK_LEN = 26
ASN_LO = 65100
CORE_ASNS = {"core1": 65001, "core2": ASN_LO + 2}   # core2's AS lies inside the rack range
CORES = tuple(CORE_ASNS)


@dataclass(frozen=True)
class Sizes:
    """Pool sizes of one run: small, so pools run out and freed space gets reused."""

    pod_len: int      # pod supernet 10.128.0.0/pod_len
    rack_len: int     # rack pools; node blocks are /26
    links_len: int    # ToR–core /31s from 10.63.0.0/links_len
    loop_len: int     # router ids from 10.62.0.0/loop_len
    asn_count: int    # rack ASNs ASN_LO .. ASN_LO + asn_count - 1

    @property
    def asn_hi(self) -> int:
        return ASN_LO + self.asn_count - 1

    @property
    def supernet(self) -> IPv4Network:
        return IPv4Network((SUPERNET, self.pod_len))

    @property
    def links(self) -> IPv4Network:
        return IPv4Network((LINKS, self.links_len))

    @property
    def loopbacks(self) -> IPv4Network:
        return IPv4Network((LOOPBACKS, self.loop_len))


@dataclass
class NodeDesc:
    name: str
    host: int        # last octet of the node address in the rack subnet
    blocks: int      # pod_blocks


@dataclass
class RackDesc:
    name: str
    index: int       # subnet 10.64.<index>.0/24, ToR mgmt 198.18.0.<index + 1>
    nodes: list[NodeDesc] = field(default_factory=list)
    next_node: int = 0

    @property
    def tor(self) -> str:
        return f"{self.name}-tor"


def render_model(sizes: Sizes, racks: list[RackDesc]) -> str:
    """Model YAML for `racks`, in list order (rack order and node order are the file's)."""
    lines = [
        "fabric: props",
        "pools:",
        f"  pod: {{supernet: {sizes.supernet}, rack_prefix_length: {sizes.rack_len}, "
        f"block_prefix_length: {BLOCK_LEN}, blocks_per_node: 1}}",
        "  vip: 10.61.0.0/24",
        f"  links: {sizes.links}",
        f"  loopbacks: {sizes.loopbacks}",
        f"  rack_asns: {ASN_LO}-{sizes.asn_hi}",
        "cores:",
        f"  - {{name: core1, platform: frr, asn: {CORE_ASNS['core1']}, mgmt: 198.18.1.1, "
        f"router_id: {CORE1_RID}}}",
        f"  - {{name: core2, platform: frr, asn: {CORE_ASNS['core2']}, mgmt: 198.18.1.2}}",
        "racks:",
    ]
    for r in racks:
        lines += [
            f"  - name: {r.name}",
            f"    subnet: 10.64.{r.index}.0/24",
            f"    tor: {{platform: frr, mgmt: 198.18.0.{r.index + 1}}}",
            "    nodes:" if r.nodes else "    nodes: []",
        ]
        for n in r.nodes:
            # pod_blocks 1 is the pools default: leave it out, so the default is exercised.
            extra = f", pod_blocks: {n.blocks}" if n.blocks != 1 else ""
            lines.append(f"      - {{name: {n.name}, ip: 10.64.{r.index}.{n.host}{extra}}}")
    return "\n".join(lines) + "\n"


def shuffled(racks: list[RackDesc], seed: int) -> list[RackDesc]:
    """The same fabric with racks, and the nodes inside each rack, in another order."""
    rng = random.Random(seed)
    out = copy.deepcopy(racks)
    rng.shuffle(out)
    for r in out:
        rng.shuffle(r.nodes)
    return out


# --- what the model asks of each section -----------------------------------

def wanted_keys(racks: list[RackDesc]) -> dict[str, set[str]]:
    """Keys each state section holds for the items in the model (core1's id is explicit)."""
    return {
        "rack_asns": {r.name for r in racks},
        "rack_pools": {r.name for r in racks},
        "node_blocks": {n.name for r in racks for n in r.nodes},
        "links": {link_key(r.tor, c) for r in racks for c in CORES},
        "router_ids": {r.tor for r in racks} | {"core2"},
    }


def nets_overlap(nets: list[IPv4Network]) -> list[tuple[IPv4Network, IPv4Network]]:
    """Pairs of overlapping prefixes (sorted by start, each against the furthest reach)."""
    bad = []
    reach: IPv4Network | None = None
    for net in sorted(nets, key=lambda n: (int(n.network_address), n.prefixlen)):
        if reach is not None and int(net.network_address) <= int(reach.broadcast_address):
            bad.append((reach, net))
        if reach is None or int(net.broadcast_address) > int(reach.broadcast_address):
            reach = net
    return bad


def expected_shortfalls(sizes: Sizes, racks: list[RackDesc], stored: dict[str, dict[str, Any]],
                        prune: bool) -> set[tuple]:
    """Predict every exhaustion error: which pool, which rack (or key), and the counts.

    Stored entries of items gone from the model stay reserved for this run even
    when pruned (they are released from the state, free again the next run);
    extra blocks of a node whose pod_blocks shrank stay the node's, even with
    prune (pods may use them; only `fabric ipam rebalance` releases them).
    """
    want = wanted_keys(racks)

    def gone(section: str) -> int:
        return sum(1 for k in stored[section] if k not in want[section])

    out: set[tuple] = set()
    names = sorted(r.name for r in racks)

    # Rack AS numbers: one error per rack left without one.
    cap = sizes.asn_count - 1                       # core2's AS is inside the range
    missing = [n for n in names if n not in stored["rack_asns"]]
    short = len(racks) + gone("rack_asns") - cap
    for name in missing[len(missing) - max(short, 0):]:
        out.add(("rack_asns", name))

    # Rack pools: one error for the first rack (name order) left without one.
    cap = 1 << (sizes.rack_len - sizes.pod_len)
    missing = [n for n in names if n not in stored["rack_pools"]]
    short = len(racks) + gone("rack_pools") - cap
    with_pool = set(names) - set(missing) | set(missing[:len(missing) - max(short, 0)])
    if short > 0:
        out.add(("rack_pools", missing[len(missing) - short], short))

    # Node blocks, per rack that has a pool.
    cap = 1 << (BLOCK_LEN - sizes.rack_len)
    present = want["node_blocks"]
    for r in racks:
        if r.name not in with_pool:
            continue
        pool = IPv4Network(stored["rack_pools"][r.name]) if r.name in stored["rack_pools"] \
            else None
        used = need = 0
        for n in r.nodes:
            kept = len(stored["node_blocks"].get(n.name, []))
            used += kept
            need += max(0, n.blocks - kept)
        if pool is not None:
            used += sum(1 for k, blocks in stored["node_blocks"].items() if k not in present
                        for b in blocks if IPv4Network(b).subnet_of(pool))
        if need > cap - used:
            out.add(("node_blocks", r.name, need, cap - used))

    # Links and router ids: one error for the first key (name order) left without one.
    for section, cap in (("links", 1 << (31 - sizes.links_len)),
                         ("router_ids", (1 << (32 - sizes.loop_len)) - 2)):  # skip .0, core1
        missing = sorted(k for k in want[section] if k not in stored[section])
        short = len(want[section]) + gone(section) - cap
        if short > 0:
            # The message writes a link key tor~core as tor–core.
            out.add((section, missing[len(missing) - short].replace("~", "–"), short))
    return out


ERRORS = [
    ("rack_asns", re.compile(r"rack AS range exhausted: rack (\S+) needs 1 AS number, "
                             r"0 left in \d+-\d+$"), (str,)),
    ("rack_pools", re.compile(r"pod supernet \S+ exhausted: rack (\S+) needs a /\d+ rack pool, "
                              r"0 left \((\d+) rack\(s\) without one\)$"), (str, int)),
    ("node_blocks", re.compile(r"rack (\S+) pod pool \S+ exhausted: needs (\d+) more /\d+ "
                               r"block\(s\), (\d+) left$"), (str, int, int)),
    ("links", re.compile(r"\S+ exhausted: (\S+) needs a ToR–core /31 link, 0 left "
                         r"\((\d+) still without one\)$"), (str, int)),
    ("router_ids", re.compile(r"\S+ exhausted: (\S+) needs a router id, 0 left "
                              r"\((\d+) still without one\)$"), (str, int)),
]


def parse_shortfalls(exc: InputError) -> set[tuple]:
    """The exhaustion errors as (section, rack or key, counts...); anything else fails."""
    out = set()
    for p in exc.problems:
        for section, pattern, types in ERRORS:
            m = pattern.match(p.message)
            if m:
                out.add((section, *(t(g) for t, g in zip(types, m.groups(), strict=True))))
                break
        else:
            raise AssertionError(f"unexpected error from allocate: {p}")
    return out


# --- the state machine -----------------------------------------------------

BLOCKS = st.integers(1, 3)
PRUNE = st.integers(0, 3).map(lambda i: i == 0)     # prune one step in four
SEED = st.integers(0, 2**32 - 1)
PICK = st.integers(0, 10_000)                       # an index, taken modulo the choices
LETTERS = "abmxyz"                                  # name order ≠ creation order


class IpamMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory(prefix="ipam-props-")
        self.state_dir = Path(self._tmp.name)
        self.racks: list[RackDesc] = []
        self.removed: list[RackDesc] = []
        self.state: dict[str, dict[str, Any]] = {s: {} for s in (*SECTIONS, LIFE)}
        self.alloc: Allocation | None = None
        self.counter = itertools.count()
        self.steps = 0

    def teardown(self) -> None:
        self._tmp.cleanup()

    # --- building blocks ---
    def new_rack(self, letter: str, blocks: list[int]) -> RackDesc:
        i = next(self.counter)
        rack = RackDesc(f"{letter}{i}", i)
        for b in blocks:
            self.new_node(rack, letter, b)
        return rack

    @staticmethod
    def new_node(rack: RackDesc, letter: str, blocks: int) -> None:
        k = rack.next_node
        rack.next_node += 1
        rack.nodes.append(NodeDesc(f"{rack.name}-{letter}{k}", 11 + k, blocks))

    def racks_copy(self) -> list[RackDesc]:
        return copy.deepcopy(self.racks)

    def load(self, racks: list[RackDesc]) -> Model:
        return load_model("<mem>", text=render_model(self.sizes, racks))

    # --- one step: allocate the changed model against the stored state ---
    def step(self, racks: list[RackDesc], prune: bool, seed: int) -> bool:
        """Allocate; on success commit the model and the state. False on exhaustion."""
        stored = load_state(self.state_dir)
        assert stored == self.state, "the state file does not round-trip"
        predicted = expected_shortfalls(self.sizes, racks, stored, prune)
        try:
            alloc = allocate(self.load(racks), stored, prune=prune)
        except InputError as exc:
            assert parse_shortfalls(exc) == predicted
            for section in sorted({p[0] for p in predicted}):
                event(f"exhausted: {section}")
            with_shuffle = self.allocate_shuffled(racks, prune, seed)
            assert isinstance(with_shuffle, InputError)
            assert sorted(p.message for p in with_shuffle.problems) == \
                sorted(p.message for p in exc.problems)
            assert load_state(self.state_dir) == self.state   # nothing changed
            return False
        assert not predicted, f"expected exhaustion {predicted}, allocate succeeded"

        self.check_sound(racks, alloc)
        self.check_stable(racks, stored, alloc, prune)
        self.check_order_independent(racks, prune, seed, alloc)

        model = self.load(racks)
        text = dump_state(model, alloc.state)
        write_state(self.state_dir, text)
        back = load_state(self.state_dir)
        assert back == alloc.state, "dump_state/load_state lost or changed an entry"
        assert dump_state(model, back) == text
        self.racks, self.state, self.alloc = racks, alloc.state, alloc
        self.steps += 1
        if alloc.reserved:
            event("reserved entries kept")
        if prune and any(c.startswith("released") for c in alloc.changes):
            event("entries released by prune")
        return True

    def allocate_shuffled(self, racks: list[RackDesc], prune: bool,
                          seed: int) -> Allocation | InputError:
        try:
            return allocate(self.load(shuffled(racks, seed)), load_state(self.state_dir),
                            prune=prune)
        except InputError as exc:
            return exc

    # --- (a) no overlaps, everything inside its pool, unique numbers ---
    def check_sound(self, racks: list[RackDesc], a: Allocation) -> None:
        sz = self.sizes
        want = wanted_keys(racks)
        rack_of = {n.name: r.name for r in racks for n in r.nodes}
        blocks_of = {n.name: n.blocks for r in racks for n in r.nodes}

        # What the model uses.
        assert set(a.rack_asns) == want["rack_asns"]
        assert set(a.rack_pools) == want["rack_pools"]
        assert set(a.node_blocks) == want["node_blocks"]
        assert set(a.links) == want["links"]
        assert set(a.router_ids) == want["router_ids"] | {"core1"}
        for name, pool in a.rack_pools.items():
            assert pool.prefixlen == sz.rack_len and pool.subnet_of(sz.supernet), (name, pool)
        for name, blocks in a.node_blocks.items():
            # At least pod_blocks; more where it shrank (rebalance releases those).
            assert len(blocks) >= blocks_of[name], (name, blocks)
            for b in blocks:
                assert b.prefixlen == BLOCK_LEN, (name, b)
                assert b.subnet_of(a.rack_pools[rack_of[name]]), \
                    f"{name} block {b} outside rack {rack_of[name]} pool"
        for key, net in a.links.items():
            assert net.prefixlen == 31 and net.subnet_of(sz.links), (key, net)
        assert a.router_ids["core1"] == CORE1_RID
        for name, rid in a.router_ids.items():
            assert rid in sz.loopbacks and rid != sz.loopbacks.network_address, (name, rid)
        assert len(set(a.router_ids.values())) == len(a.router_ids), a.router_ids
        assert len(set(a.rack_asns.values())) == len(a.rack_asns), a.rack_asns
        for name, asn in a.rack_asns.items():
            assert ASN_LO <= asn <= sz.asn_hi and asn not in CORE_ASNS.values(), (name, asn)

        # The whole state, reserved entries included.
        s = a.state
        pools = [IPv4Network(v) for v in s["rack_pools"].values()]
        assert not nets_overlap(pools), nets_overlap(pools)
        blocks = [IPv4Network(b) for v in s["node_blocks"].values() for b in v]
        assert not nets_overlap(blocks), nets_overlap(blocks)
        for b in blocks:
            assert any(b.subnet_of(p) for p in pools), f"block {b} outside every rack pool"
        links = [IPv4Network(v) for v in s["links"].values()]
        assert not nets_overlap(links), nets_overlap(links)
        rids = [IPv4Address(v) for v in s["router_ids"].values()]
        assert len(set(rids)) == len(rids) and CORE1_RID not in rids, s["router_ids"]
        asns = list(s["rack_asns"].values())
        assert len(set(asns)) == len(asns), s["rack_asns"]
        assert not set(asns) & set(CORE_ASNS.values()), s["rack_asns"]

        # The state holds exactly what the model uses, for the items in the model.
        for name in want["rack_asns"]:
            assert s["rack_asns"][name] == a.rack_asns[name]
            assert IPv4Network(s["rack_pools"][name]) == a.rack_pools[name]
        for name, blocks_ in a.node_blocks.items():
            held = [IPv4Network(b) for b in s["node_blocks"][name]]
            assert tuple(held[:len(blocks_)]) == blocks_, (name, held, blocks_)
        for key, net in a.links.items():
            assert IPv4Network(s["links"][key]) == net
        for name in want["router_ids"]:
            assert IPv4Address(s["router_ids"][name]) == a.router_ids[name]

    # --- (b) nothing moves, (c) reserved until pruned ---
    def check_stable(self, racks: list[RackDesc], old: dict[str, dict[str, Any]],
                     a: Allocation, prune: bool) -> None:
        want = wanted_keys(racks)
        blocks_of = {n.name: n.blocks for r in racks for n in r.nodes}
        new = a.state
        reserved = set()
        for section in SECTIONS:
            for key, value in old[section].items():
                if key in want[section]:
                    if section != "node_blocks":
                        assert new[section][key] == value, \
                            f"{section} {key} moved: {value} → {new[section][key]}"
                        continue
                    # Blocks: every held block stays, prefix for prefix, and in use.
                    n = blocks_of[key]
                    assert new[section][key][:len(value)] == value, \
                        f"node_blocks {key} moved: {value} → {new[section][key]}"
                    assert len(new[section][key]) == max(n, len(value)), \
                        (key, value, new[section][key])
                    assert [str(b) for b in a.node_blocks[key]] == new[section][key]
                elif prune:
                    assert key not in new[section], f"prune kept {section} {key}"
                    assert any(c.startswith(f"released {section} {key}: ") for c in a.changes), \
                        (section, key, a.changes)
                else:
                    assert new[section].get(key) == value, \
                        f"reserved {section} {key} changed: {value} → {new[section].get(key)}"
                    reserved.add(f"{section} {key}")
            for key in new[section].keys() - old[section].keys():
                assert key in want[section], f"new state entry {section} {key} for no item"
                assert any(c.startswith(f"allocated {section} {key}: ") for c in a.changes)
        assert set(a.reserved) == reserved
        assert len(a.reserved) == len(reserved)

        # The same, said of the items seen by the previous step and this one.
        before = self.alloc
        if before is None:
            return
        for r in racks:
            if r.name in before.rack_pools:
                assert a.rack_asns[r.name] == before.rack_asns[r.name]
                assert a.rack_pools[r.name] == before.rack_pools[r.name]
                assert a.router_ids[r.tor] == before.router_ids[r.tor]
                for c in CORES:
                    assert a.links[link_key(r.tor, c)] == before.links[link_key(r.tor, c)]
            for n in r.nodes:
                if n.name in before.node_blocks:
                    old_b, new_b = before.node_blocks[n.name], a.node_blocks[n.name]
                    k = min(len(old_b), len(new_b))
                    assert old_b[:k] == new_b[:k], (n.name, old_b, new_b)
        for c in CORES:
            assert a.router_ids[c] == before.router_ids[c]

    # --- (d) the order of the file does not matter ---
    def check_order_independent(self, racks: list[RackDesc], prune: bool, seed: int,
                                a: Allocation) -> None:
        b = self.allocate_shuffled(racks, prune, seed)
        assert isinstance(b, Allocation), f"shuffled model failed: {b}"
        for attr in ("rack_asns", "rack_pools", "node_blocks", "links", "router_ids", "state",
                     "changes", "reserved"):
            assert getattr(b, attr) == getattr(a, attr), f"{attr} depends on the file order"

    # --- rules ---
    @initialize(
        sizes=st.builds(Sizes, pod_len=st.sampled_from([19, 20, 21]),
                        rack_len=st.sampled_from([22, 23, 24]),
                        links_len=st.sampled_from([26, 27, 28, 29]),
                        loop_len=st.sampled_from([28, 29]),
                        asn_count=st.sampled_from([4, 6, 9, 14])),
        first=st.lists(st.lists(st.integers(1, 2), max_size=2), min_size=1, max_size=2),
        letters=st.lists(st.sampled_from(LETTERS), min_size=3, max_size=3),
        seed=SEED,
    )
    def start(self, sizes: Sizes, first: list[list[int]], letters: list[str],
              seed: int) -> None:
        self.sizes = sizes
        racks = [self.new_rack(letter, blocks)
                 for letter, blocks in zip(letters, first, strict=False)]
        assert self.step(racks, prune=False, seed=seed), "the first fabric always fits"

    @rule(new=st.lists(st.tuples(st.sampled_from(LETTERS), st.lists(BLOCKS, max_size=3)),
                       min_size=1, max_size=3),
          prune=PRUNE, seed=SEED)
    def add_racks(self, new: list[tuple[str, list[int]]], prune: bool, seed: int) -> None:
        racks = self.racks_copy()
        for i, (letter, blocks) in enumerate(new):
            racks.insert((seed >> i) % (len(racks) + 1), self.new_rack(letter, blocks))
        self.step(racks, prune, seed)

    @precondition(lambda self: len(self.racks) > 1)
    @rule(pick=PICK, prune=PRUNE, seed=SEED)
    def remove_rack(self, pick: int, prune: bool, seed: int) -> None:
        racks = self.racks_copy()
        gone = racks.pop(pick % len(racks))
        if self.step(racks, prune, seed):
            self.removed.append(gone)

    @precondition(lambda self: bool(self.removed))
    @rule(pick=PICK, prune=PRUNE, seed=SEED)
    def restore_rack(self, pick: int, prune: bool, seed: int) -> None:
        """Put a removed rack back as it was: if still reserved, it gets its numbers back."""
        back = self.removed[pick % len(self.removed)]
        racks = [*self.racks_copy(), copy.deepcopy(back)]
        # check_stable proves it: its reserved state entries are "wanted" again and unchanged.
        if self.step(racks, prune, seed):
            self.removed.remove(back)

    @precondition(lambda self: bool(self.racks))
    @rule(pick=PICK, letter=st.sampled_from(LETTERS), blocks=BLOCKS, prune=PRUNE, seed=SEED)
    def add_node(self, pick: int, letter: str, blocks: int, prune: bool, seed: int) -> None:
        racks = self.racks_copy()
        rack = racks[pick % len(racks)]
        self.new_node(rack, letter, blocks)
        n = rack.nodes.pop()
        rack.nodes.insert(seed % (len(rack.nodes) + 1), n)
        self.step(racks, prune, seed)

    @precondition(lambda self: any(r.nodes for r in self.racks))
    @rule(pick=PICK, prune=PRUNE, seed=SEED)
    def remove_node(self, pick: int, prune: bool, seed: int) -> None:
        racks = self.racks_copy()
        rack = [r for r in racks if r.nodes][pick % sum(1 for r in racks if r.nodes)]
        rack.nodes.pop(seed % len(rack.nodes))
        self.step(racks, prune, seed)

    @precondition(lambda self: any(r.nodes for r in self.racks))
    @rule(pick=PICK, blocks=st.integers(1, 4), prune=PRUNE, seed=SEED)
    def set_pod_blocks(self, pick: int, blocks: int, prune: bool, seed: int) -> None:
        racks = self.racks_copy()
        nodes = [n for r in racks for n in r.nodes]
        nodes[pick % len(nodes)].blocks = blocks
        self.step(racks, prune, seed)

    @rule(prune=PRUNE, seed=SEED)
    def shuffle_file(self, prune: bool, seed: int) -> None:
        """Reorder racks and nodes in the file: nothing may change (unless pruning)."""
        before = copy.deepcopy(self.state)
        assert self.step(shuffled(self.racks, seed), prune, seed)
        if not prune:
            assert self.state == before

    @rule(seed=SEED)
    def prune_only(self, seed: int) -> None:
        assert self.step(self.racks_copy(), True, seed)
        want = wanted_keys(self.racks)
        for section in SECTIONS:
            assert set(self.state[section]) == want[section]

    @invariant()
    def state_file_matches(self) -> None:
        if self.steps:
            assert load_state(self.state_dir) == self.state


IpamMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=25, deadline=None)
TestIpamStateMachine = IpamMachine.TestCase


# --- the pools on their own, against a set-based reference ----------------

POOL_OPS = st.lists(st.tuples(st.sampled_from(["take", "reserve", "release"]),
                              st.integers(0, 17)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(skip_first=st.booleans(), ops=POOL_OPS)
def test_prefix_pool_takes_lowest_free(skip_first: bool, ops: list[tuple[str, int]]) -> None:
    parent = IPv4Network("10.9.0.0/28")
    pool = PrefixPool(parent, 30, skip_first=skip_first)       # 4 children
    children = list(parent.subnets(new_prefix=30))
    used = {0} if skip_first else set()
    for op, i in ops:
        # Indexes 4.. are not children: outside the parent, or inside it but not a /30.
        net = children[i] if i < 4 else IPv4Network("10.9.1.0/30" if i % 2 else "10.9.0.0/29")
        if op == "take":
            free = [k for k in range(4) if k not in used]
            got = pool.take()
            assert got == (children[free[0]] if free else None)
            used |= {free[0]} if free else set()
        elif op == "reserve":
            assert pool.reserve(net) == (i < 4 and i not in used)
            used |= {i} if i < 4 else set()
        elif not (skip_first and i == 0):   # the skipped first child is never released
            pool.release(net)
            used.discard(i)
        assert pool.free == 4 - len(used)


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["take", "reserve"]), st.integers(0, 12)),
                    max_size=40))
def test_number_pool_takes_lowest_free(ops: list[tuple[str, int]]) -> None:
    pool = NumberPool(3, 9)
    used: set[int] = set()
    for op, n in ops:
        if op == "take":
            free = [k for k in range(3, 10) if k not in used]
            assert pool.take() == (free[0] if free else None)
            used |= {free[0]} if free else set()
        else:
            assert pool.reserve(n) == (3 <= n <= 9 and n not in used)
            used |= {n} if 3 <= n <= 9 else set()
        assert pool.free == 7 - len(used)
