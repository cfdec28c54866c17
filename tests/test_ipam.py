"""IPAM by example: the pools, allocation on the example model, reservation until
prune, explicit values, the state file, and `fabric ipam show`."""

from __future__ import annotations

import copy
import json
import random
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE

from fabric.cli.main import main
from fabric.errors import InputError
from fabric.ipam.allocate import Allocation, Cause, Move, _Allocator, allocate
from fabric.ipam.pools import NumberPool, PrefixPool
from fabric.ipam.state import LIFE, SECTIONS, STATE_FILE, dump_state, load_state
from fabric.model.load import load_model
from fabric.model.types import Model

pytestmark = pytest.mark.unit

N = IPv4Network


# --- helpers ---------------------------------------------------------------

def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


def model_of(data: dict[str, Any]) -> Model:
    return load_model("<mem>", text=yaml.safe_dump(data, sort_keys=False))


def empty() -> dict[str, dict[str, Any]]:
    return {s: {} for s in (*SECTIONS, LIFE)}


def rack(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in data["racks"] if r["name"] == name)


def node(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for r in data["racks"] for n in r["nodes"] if n["name"] == name)


def new_rack(name: str, i: int, **extra: Any) -> dict[str, Any]:
    """A rack for the example model on 10.2.<i>.0/24 with one node."""
    tor = {"platform": "frr", "mgmt": f"192.0.2.{10 + i}", **extra.pop("tor", {})}
    return {"name": name, "subnet": f"10.2.{i}.0/24", **extra, "tor": tor,
            "nodes": [{"name": f"{name}-n1", "ip": f"10.2.{i}.11"}]}


def roundtrip(model: Model, state: dict[str, dict[str, Any]], tmp: Path) -> dict[str, Any]:
    """The state as the next run reads it: through the file."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / STATE_FILE).write_text(dump_state(model, state))
    return load_state(tmp)


def fields(a: Allocation) -> dict[str, Any]:
    return {k: getattr(a, k) for k in ("rack_asns", "rack_pools", "node_blocks", "links",
                                       "router_ids", "state", "changes", "reserved")}


@pytest.fixture
def base(tmp_path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The example model's data and the state a first allocation gives it (via the file)."""
    data = example_data()
    model = model_of(data)
    return data, roundtrip(model, allocate(model, empty()).state, tmp_path / "base")


# --- PrefixPool / NumberPool -----------------------------------------------

def test_prefix_pool_takes_lowest_free_until_exhausted() -> None:
    pool = PrefixPool(N("10.0.0.0/24"), 26)
    assert pool.free == 4
    got = [pool.take() for _ in range(4)]
    assert got == [N("10.0.0.0/26"), N("10.0.0.64/26"), N("10.0.0.128/26"), N("10.0.0.192/26")]
    assert pool.free == 0
    assert pool.take() is None
    assert pool.take() is None


def test_prefix_pool_reserve_skips_reserved_children() -> None:
    pool = PrefixPool(N("10.0.0.0/24"), 26)
    assert pool.reserve(N("10.0.0.0/26"))
    assert pool.reserve(N("10.0.0.128/26"))
    assert not pool.reserve(N("10.0.0.128/26")), "reserved twice"
    assert not pool.reserve(N("10.0.1.0/26")), "outside the parent"
    assert not pool.reserve(N("10.0.0.0/25")), "not a child: other length"
    assert not pool.reserve(N("10.0.0.64/27")), "not a child: other length"
    assert pool.free == 2
    assert pool.take() == N("10.0.0.64/26")
    assert pool.take() == N("10.0.0.192/26")
    assert pool.take() is None


def test_prefix_pool_release_makes_a_child_takeable_again() -> None:
    pool = PrefixPool(N("10.0.0.0/24"), 26)
    taken = [pool.take() for _ in range(4)]
    pool.release(taken[1])
    pool.release(N("192.0.2.0/26"))          # not a child: ignored
    assert pool.free == 1
    assert pool.take() == taken[1]
    assert pool.take() is None


def test_prefix_pool_skip_first_for_loopbacks() -> None:
    pool = PrefixPool(N("10.254.0.0/30"), 32, skip_first=True)
    assert pool.free == 3
    assert not pool.reserve(N("10.254.0.0/32")), "the network address is never handed out"
    assert [pool.take() for _ in range(4)] == [N("10.254.0.1/32"), N("10.254.0.2/32"),
                                               N("10.254.0.3/32"), None]


def test_prefix_pool_of_longer_parent_is_empty() -> None:
    pool = PrefixPool(N("10.0.0.0/24"), 20)
    assert pool.free == 0
    assert pool.take() is None


def test_number_pool() -> None:
    pool = NumberPool(65101, 65104)
    assert pool.reserve(65101)
    assert pool.reserve(65103)
    assert not pool.reserve(65103), "reserved twice"
    assert not pool.reserve(65001), "below the range"
    assert not pool.reserve(65105), "above the range"
    assert pool.free == 2
    assert [pool.take(), pool.take(), pool.take()] == [65102, 65104, None]
    assert pool.free == 0


# --- allocate on the example model -----------------------------------------

def test_example_from_empty_state_is_deterministic() -> None:
    runs = [allocate(load_model(EXAMPLE), empty()) for _ in range(2)]
    assert fields(runs[0]) == fields(runs[1])
    model = load_model(EXAMPLE)
    assert dump_state(model, runs[0].state) == dump_state(model, runs[1].state)


def test_example_from_empty_state_lowest_free_in_name_order() -> None:
    data = example_data()
    a = allocate(model_of(data), empty())
    racks = sorted(r["name"] for r in data["racks"])
    nodes = {n["name"]: n.get("pod_blocks", 1) for r in data["racks"] for n in r["nodes"]}
    assert list(a.rack_asns.items()) == [(r, 65101 + i) for i, r in enumerate(racks)]
    assert a.rack_pools == {r: N(f"172.16.{16 * i}.0/20") for i, r in enumerate(racks)}
    assert set(a.node_blocks) == set(nodes)
    assert {k: len(v) for k, v in a.node_blocks.items()} == nodes
    assert a.node_blocks["r01-n3"] == (N("172.16.0.128/26"), N("172.16.0.192/26"))
    assert a.node_blocks["r06-n4"] == (N("172.16.80.192/26"),)
    assert a.links["r01-tor~core1"] == N("10.255.0.0/31")
    assert a.links["r06-tor~core2"] == N("10.255.0.22/31")
    assert a.router_ids["core1"] == IPv4Address("10.254.0.1")   # .0 is skipped
    assert a.router_ids["r06-tor"] == IPv4Address("10.254.0.8")
    assert a.reserved == []
    # Everything is new, and the changes say so.
    assert len(a.changes) == sum(len(a.state[s]) for s in SECTIONS)
    assert all(c.startswith("allocated ") for c in a.changes)


def test_stored_state_gives_the_same_allocation_and_no_changes(base) -> None:
    data, state = base
    a = allocate(model_of(data), state)
    assert a.state == state
    assert a.changes == [] and a.reserved == []


def test_file_order_does_not_matter(base) -> None:
    data, state = base
    shuffled = copy.deepcopy(data)
    rng = random.Random(7)
    rng.shuffle(shuffled["racks"])
    for r in shuffled["racks"]:
        rng.shuffle(r["nodes"])
    for stored in (empty(), state):
        assert fields(allocate(model_of(shuffled), copy.deepcopy(stored))) == \
            fields(allocate(model_of(data), copy.deepcopy(stored)))


def test_adding_a_rack_moves_nothing(base) -> None:
    data, state = base
    data["racks"].insert(0, new_rack("r07", 7))     # first in the file, last by name
    a = allocate(model_of(data), state)
    for section in SECTIONS:
        for key, value in state[section].items():
            assert a.state[section][key] == value, f"{section} {key} moved"
    assert a.rack_asns["r07"] == 65107
    assert a.rack_pools["r07"] == N("172.16.96.0/20")
    assert a.node_blocks["r07-n1"] == (N("172.16.96.0/26"),)
    assert a.links["r07-tor~core1"] == N("10.255.0.24/31")
    assert a.router_ids["r07-tor"] == IPv4Address("10.254.0.9")
    assert all("r07" in c for c in a.changes), a.changes
    assert len(a.changes) == 6 and a.reserved == []


def test_removed_node_keeps_its_blocks_until_prune(base, tmp_path: Path) -> None:
    data, state = base
    gone = state["node_blocks"]["r04-n3"]
    r04 = rack(data, "r04")
    r04["nodes"] = [n for n in r04["nodes"] if n["name"] != "r04-n3"]
    r04["nodes"].append({"name": "r04-n4", "ip": "10.2.4.14"})

    a = allocate(model_of(data), state)
    assert "r04-n3" not in a.node_blocks
    assert a.state["node_blocks"]["r04-n3"] == gone
    assert a.reserved == ["node_blocks r04-n3"]
    # The new node does not get the reserved block.
    assert a.node_blocks["r04-n4"] == (N("172.16.48.192/26"),)
    assert a.changes == ["allocated node_blocks r04-n4: ['172.16.48.192/26']"]

    state = roundtrip(model_of(data), a.state, tmp_path / "1")
    again = allocate(model_of(data), state)
    assert again.state == state and again.reserved == ["node_blocks r04-n3"]

    pruned = allocate(model_of(data), state, prune=True)
    assert "r04-n3" not in pruned.state["node_blocks"]
    assert pruned.reserved == []
    assert pruned.changes == [f"released node_blocks r04-n3: {gone}"]

    # Released: the next node of the rack may have it.
    state = roundtrip(model_of(data), pruned.state, tmp_path / "2")
    r04["nodes"].append({"name": "r04-n5", "ip": "10.2.4.15"})
    nxt = allocate(model_of(data), state)
    assert nxt.node_blocks["r04-n5"] == tuple(N(b) for b in gone)


def test_removed_rack_stays_reserved_until_prune(base, tmp_path: Path) -> None:
    data, state = base
    data["racks"] = [r for r in data["racks"] if r["name"] != "r04"]
    data["racks"].append(new_rack("r07", 7))
    a = allocate(model_of(data), state)
    held = {f"{s} {k}" for s in SECTIONS for k in state[s] if k.startswith("r04")}
    assert set(a.reserved) == held
    assert held == {"rack_asns r04", "rack_pools r04", "node_blocks r04-n1",
                    "node_blocks r04-n2", "node_blocks r04-n3", "links r04-tor~core1",
                    "links r04-tor~core2", "router_ids r04-tor"}
    for s in SECTIONS:
        for k, v in state[s].items():
            assert a.state[s][k] == v
    # The new rack gets fresh numbers, none of r04's.
    assert a.rack_asns["r07"] == 65107
    assert a.rack_pools["r07"] == N("172.16.96.0/20")
    assert a.router_ids["r07-tor"] == IPv4Address("10.254.0.9")

    state = roundtrip(model_of(data), a.state, tmp_path / "1")
    p = allocate(model_of(data), state, prune=True)
    assert p.reserved == []
    assert not [k for s in SECTIONS for k in p.state[s] if k.startswith("r04")]
    released = sorted(c.split(":")[0] for c in p.changes)
    assert released == sorted(f"released {h}" for h in held)
    # Released entries are free from the next run on (not reused in the pruning run).
    state = roundtrip(model_of(data), p.state, tmp_path / "2")
    data["racks"].append(new_rack("r08", 8))
    nxt = allocate(model_of(data), state)
    assert nxt.rack_asns["r08"] == 65104
    assert nxt.rack_pools["r08"] == N("172.16.48.0/20")


def test_growing_pod_blocks_keeps_the_first_block(base, tmp_path: Path) -> None:
    data, state = base
    node(data, "r02-n1")["pod_blocks"] = 2
    a = allocate(model_of(data), state)
    assert a.node_blocks["r02-n1"] == (N("172.16.16.0/26"), N("172.16.16.192/26"))
    assert a.changes == ["allocated node_blocks r02-n1: ['172.16.16.192/26']"]
    for other in ("r02-n2", "r02-n3"):
        assert a.node_blocks[other] == tuple(N(b) for b in state["node_blocks"][other])

    # Shrinking again: pods may use the second block, so it stays the node's (and
    # announced), with or without prune, until `fabric ipam rebalance` finds it empty.
    state = roundtrip(model_of(data), a.state, tmp_path / "1")
    node(data, "r02-n1")["pod_blocks"] = 1
    for prune in (False, True):
        b = allocate(model_of(data), state, prune=prune)
        assert b.node_blocks["r02-n1"] == (N("172.16.16.0/26"), N("172.16.16.192/26"))
        assert b.state["node_blocks"]["r02-n1"] == ["172.16.16.0/26", "172.16.16.192/26"]
        assert b.reserved == [] and b.changes == []


def test_pool_exhaustion_is_an_input_error_naming_the_rack() -> None:
    data = example_data()
    data["pools"]["pod"]["rack_prefix_length"] = 24      # a /24 rack pool: 4 blocks of /26
    node(data, "r01-n3")["pod_blocks"] = 3               # r01 needs 5
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), empty())
    [problem] = exc.value.problems
    assert problem.path == "racks[0].nodes"
    assert problem.message == ("rack r01 pod pool 172.16.0.0/24 exhausted: needs 5 more /26 "
                               "block(s), 4 left")


def test_rack_asn_exhaustion_names_each_rack() -> None:
    data = example_data()
    data["pools"]["rack_asns"] = "65101-65104"
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), empty())
    assert [p.message for p in exc.value.problems] == [
        f"rack AS range exhausted: rack {r} needs 1 AS number, 0 left in 65101-65104"
        for r in ("r05", "r06")]


# --- explicit values -------------------------------------------------------

def test_explicit_values_are_honoured_and_never_handed_out(base) -> None:
    data, state = base
    data["racks"].append(new_rack("r07", 7, pod_pool="172.16.96.0/20",
                                  tor={"asn": 65107, "router_id": "10.254.0.9"}))
    data["racks"].append(new_rack("r08", 8))
    a = allocate(model_of(data), state)
    assert a.rack_pools["r07"] == N("172.16.96.0/20")
    assert a.rack_asns["r07"] == 65107
    assert a.router_ids["r07-tor"] == IPv4Address("10.254.0.9")
    assert a.node_blocks["r07-n1"] == (N("172.16.96.0/26"),)
    # What r08 would have had, had r07 not spelled them out, goes to nobody else.
    assert a.rack_pools["r08"] == N("172.16.112.0/20")
    assert a.rack_asns["r08"] == 65108
    assert a.router_ids["r08-tor"] == IPv4Address("10.254.0.10")
    # The state holds allocations only.
    assert "r07" not in a.state["rack_pools"] and "r07" not in a.state["rack_asns"]
    assert "r07-tor" not in a.state["router_ids"]
    assert a.state["node_blocks"]["r07-n1"] == ["172.16.96.0/26"]


def test_explicit_values_on_an_empty_state_are_skipped_by_the_allocator() -> None:
    data = example_data()
    rack(data, "r06")["pod_pool"] = "172.16.0.0/20"          # what r01 would get
    rack(data, "r06")["tor"]["asn"] = 65101
    data["cores"][1]["router_id"] = "10.254.0.1"             # what core1 would get
    a = allocate(model_of(data), empty())
    assert a.rack_pools["r06"] == N("172.16.0.0/20")
    assert a.rack_pools["r01"] == N("172.16.16.0/20")
    assert a.rack_asns["r06"] == 65101 and a.rack_asns["r01"] == 65102
    assert a.router_ids["core2"] == IPv4Address("10.254.0.1")
    assert a.router_ids["core1"] == IPv4Address("10.254.0.2")
    assert all(b.subnet_of(N("172.16.0.0/20")) for n in ("r06-n1", "r06-n4")
               for b in a.node_blocks[n])
    assert len(set(a.rack_pools.values())) == len(a.rack_pools)


def _claim_r01_pool(data: dict[str, Any]) -> None:
    rack(data, "r02")["pod_pool"] = "172.16.0.0/20"     # held by r01 in the state


def test_explicit_pod_pool_held_by_another_rack_is_an_input_error(base) -> None:
    data, state = base
    _claim_r01_pool(data)
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), state)
    [problem] = exc.value.problems
    assert problem.path == "racks[1].pod_pool"          # r02, where the claim is written
    assert "172.16.0.0/20" in problem.message
    assert "allocated to rack r01 in the IPAM state" in problem.message


def test_explicit_pod_pool_held_by_a_removed_rack_is_an_input_error(base) -> None:
    data, state = base
    data["racks"] = [r for r in data["racks"] if r["name"] != "r04"]
    data["racks"].append(new_rack("r07", 7, pod_pool="172.16.48.0/20"))   # r04's, reserved
    # By default a new rack with a gone rack's pool is taken for a rename of it ...
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), state)
    assert "rack 'r07' has the pod pool 172.16.48.0/20 of rack 'r04'" in str(exc.value)
    # ... and when renumbering, the pool is still r04's (reserved) and not free.
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), state, renumber=True)
    assert "allocated to rack r04 in the IPAM state" in str(exc.value)


def test_explicit_pod_pool_clash_message_names_both_racks(base) -> None:
    data, state = base
    _claim_r01_pool(data)
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), state)
    [problem] = exc.value.problems
    assert "r01" in problem.message
    assert "r02" in problem.message


def test_explicit_router_id_replaces_the_stored_one_only_when_renumbering(base) -> None:
    data, state = base
    data["cores"][0]["router_id"] = "10.254.0.100"
    with pytest.raises(InputError) as exc:
        allocate(model_of(data), state)
    [problem] = exc.value.problems
    assert problem.path == "cores[0].router_id"
    a = allocate(model_of(data), state, renumber=True)
    assert a.router_ids["core1"] == IPv4Address("10.254.0.100")
    assert a.renumbered == ["renumbered router_ids core1: 10.254.0.1 → 10.254.0.100"]
    assert "core1" not in a.state["router_ids"]       # the state holds allocations only
    # core1 is in the model: its superseded id must not be reported as gone from it.
    assert not any(r.startswith("router_ids core1") for r in a.reserved), a.reserved


# --- the state file --------------------------------------------------------

def test_dump_state_is_sorted_and_stable(tmp_path: Path) -> None:
    model = load_model(EXAMPLE)
    state = {
        "router_ids": {"b-tor": "10.254.0.3", "a-tor": "10.254.0.2"},
        "links": {"b-tor~core1": "10.255.0.2/31", "a-tor~core1": "10.255.0.0/31"},
        "node_blocks": {"z-n1": ["172.16.0.64/26", "172.16.0.0/26"], "a-n1": ["172.16.1.0/26"]},
        "rack_pools": {"z": "172.16.0.0/20", "a": "172.16.16.0/20"},
        "rack_asns": {"z": 65102, "a": 65101},
    }
    text = dump_state(model, state)
    assert text == dump_state(model, copy.deepcopy(state))
    assert text.startswith("# IPAM state of fabric idc-sh1")
    data = yaml.safe_load(text)
    assert list(data) == ["version", *SECTIONS]
    for s in SECTIONS:
        assert list(data[s]) == sorted(state[s]), s
    # A node's blocks keep their order: the first block is the one a node keeps.
    assert data["node_blocks"]["z-n1"] == ["172.16.0.64/26", "172.16.0.0/26"]
    (tmp_path / STATE_FILE).write_text(text)
    back = load_state(tmp_path)
    assert back == {**state, LIFE: {}}      # no block under rebalance: none written
    assert dump_state(model, back) == text


def test_load_state_without_a_file_is_empty(tmp_path: Path) -> None:
    assert load_state(tmp_path) == empty()


@pytest.mark.parametrize(("text", "where"), [
    ("version: 1\nrack_asns: {r01: 65101\n", "invalid YAML"),
    ("{", "invalid YAML"),
    ("- version: 1\n", "version: 1"),
    ("rack_asns: {}\n", "version: 1"),
    ("version: 2\nrack_asns: {}\n", "version: 1"),
    ("", "version: 1"),
])
def test_load_state_on_a_malformed_file_is_an_input_error(tmp_path: Path, text: str,
                                                          where: str) -> None:
    (tmp_path / STATE_FILE).write_text(text)
    with pytest.raises(InputError) as exc:
        load_state(tmp_path)
    [problem] = exc.value.problems
    assert problem.file == str(tmp_path / STATE_FILE)
    assert where in problem.message


@pytest.mark.parametrize("text", [
    "version: 1\nrack_pools: [r01, r02]\n",
    "version: 1\nnode_blocks: 5\n",
])
def test_load_state_section_of_the_wrong_shape_is_an_input_error(tmp_path: Path,
                                                                 text: str) -> None:
    (tmp_path / STATE_FILE).write_text(text)
    with pytest.raises(InputError):
        load_state(tmp_path)


@pytest.mark.parametrize("entry", [
    "rack_asns: {r01: sixty}",
    "rack_asns: {r01: null}",
    "rack_pools: {r01: not-a-prefix}",
    "rack_pools: {r01: 172.16.0.1/20}",
    "node_blocks: {r01-n1: 172.16.0.0/26}",
    "router_ids: {core1: [10.254.0.1]}",
])
def test_bad_state_entry_is_an_input_error(tmp_path: Path, entry: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / STATE_FILE).write_text(f"version: 1\n{entry}\n")
    assert main(["ipam", "show", str(EXAMPLE), "--state", str(tmp_path)]) == 2
    assert STATE_FILE in capsys.readouterr().err


# --- fabric ipam show --------------------------------------------------------

def _show(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["ipam", "show", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _expected_rows(a: Allocation, model: Model) -> set[tuple[str, str, str]]:
    rows = {("rack_pool", model.rack(r).tor.name, str(p)) for r, p in a.rack_pools.items()}
    rows |= {("node_block", n, str(b)) for n, bs in a.node_blocks.items() for b in bs}
    return rows


def test_ipam_show_json_lists_every_pool_and_block(example_copy: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = _show(capsys, str(example_copy))
    expected = allocate(load_model(example_copy), load_state(example_copy.parent / "state"))
    got = {(r["kind"], r["owner"], r["value"]) for r in out["allocations"]
           if r["kind"] in ("rack_pool", "node_block")}
    assert got == _expected_rows(expected, load_model(example_copy))
    model = load_model(example_copy)
    assert {r["rack"] for r in out["allocations"] if r["kind"] == "rack_pool"} == \
        {r.name for r in model.racks}
    assert {r["owner"] for r in out["allocations"] if r["kind"] == "node_block"} == \
        {n.name for r in model.racks for n in r.nodes}
    for r in out["allocations"]:
        if r["kind"] == "node_block":
            assert N(r["value"]).subnet_of(expected.rack_pools[r["rack"]])


def test_ipam_show_json_with_an_empty_state_lists_pending(example_copy: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    state_dir = tmp_path / "empty-state"
    state_dir.mkdir()
    out = _show(capsys, str(example_copy), "--state", str(state_dir))
    fresh = allocate(load_model(example_copy), empty())
    got = {(r["kind"], r["owner"], r["value"]) for r in out["allocations"]
           if r["kind"] in ("rack_pool", "node_block")}
    assert got == _expected_rows(fresh, load_model(example_copy))
    assert out["pending"] == fresh.changes
    model = load_model(example_copy)
    for r in model.racks:
        assert f"allocated rack_pools {r.name}: {fresh.rack_pools[r.name]}" in out["pending"]
        assert f"allocated rack_asns {r.name}: {fresh.rack_asns[r.name]}" in out["pending"]
        for n in r.nodes:
            blocks = [str(b) for b in fresh.node_blocks[n.name]]
            assert f"allocated node_blocks {n.name}: {blocks}" in out["pending"]
    assert out["reserved"] == []
    assert list(state_dir.iterdir()) == [], "ipam show writes nothing"


def test_ipam_show_lists_reserved_entries(example_copy: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(example_copy.read_text())
    r04 = rack(data, "r04")
    r04["nodes"] = [n for n in r04["nodes"] if n["name"] != "r04-n3"]
    example_copy.write_text(yaml.safe_dump(data, sort_keys=False))
    out = _show(capsys, str(example_copy))
    assert out["reserved"] == ["node_blocks r04-n3"]
    assert out["pending"] == []
    assert "r04-n3" not in {r["owner"] for r in out["allocations"]}


def test_ipam_show_bad_state_file_exits_2_with_json_errors(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    (tmp_path / STATE_FILE).write_text("version: [\n")
    assert main(["ipam", "show", "--json", str(EXAMPLE), "--state", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["ok"] is False
    assert out["errors"][0]["file"] == str(tmp_path / STATE_FILE)
    assert "invalid YAML" in out["errors"][0]["message"]
    assert "Traceback" not in captured.err


def test_renumbered_key_without_a_new_value_says_released(
        base: tuple[dict[str, Any], dict[str, dict[str, Any]]]) -> None:
    """A move whose key got no new value reads `released`, never `→ None`."""
    data, stored = base
    alloc = _Allocator(model_of(data), stored, prune=False, renumber=True)
    alloc.out.rack_asns["r01"] = 65150
    cause = Cause(("racks",), "expected …", "…")
    alloc.moves = [Move("rack_asns", "r01", 65101, cause), Move("rack_asns", "r09", 65109, cause)]
    alloc._settle_moves()
    assert alloc.out.renumbered == ["renumbered rack_asns r01: 65101 → 65150",
                                    "renumbered rack_asns r09: 65109 released, none allocated anew"]


def test_a_withdrawn_block_comes_back_when_the_node_needs_it(base, tmp_path: Path) -> None:
    """A hand-edited (or raised) floor: a node whose withdrawn block would leave it
    below pod_blocks takes that block back instead of a new one."""
    data, state = base
    [block] = state["node_blocks"]["r02-n1"]
    state[LIFE] = {block: {"withdrawn": "2026-12-01T12:00:00+00:00"}}
    a = allocate(model_of(data), state)
    assert a.node_blocks["r02-n1"] == (N(block),)
    assert a.state["node_blocks"]["r02-n1"] == [block]
    assert a.state[LIFE] == {}
    assert a.changes == [f"reinstated node_blocks r02-n1: {block} (withdrawn, and the node "
                         "needs 1)"]
