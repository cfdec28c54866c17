"""Allocations never move unless asked: renamed racks, nodes and switches, changed
prefix lengths and pools, explicit values over allocated ones.

Each change is refused by default (exit 2, the exact located message, nothing
written); `fabric ipam rename` carries the allocations to the new name and the
next render moves nothing else; `fabric render --renumber` carries the move out
and lists it. Everything runs through the CLI on a copy of the example model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.cli.main import main

pytestmark = pytest.mark.unit

REFUSED_TAIL = "or render with --renumber to allocate anew"


# --- helpers ---------------------------------------------------------------

def state_file(model: Path) -> Path:
    return model.parent / "state" / "ipam.yaml"


def state_of(model: Path) -> dict[str, Any]:
    return yaml.safe_load(state_file(model).read_text())


def snapshot(*dirs: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `dirs`, bytes and mtime: proof that nothing was written."""
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for d in dirs for p in sorted(d.rglob("*")) if p.is_file()}


def edit(model: Path, old: str, new: str, count: int = 1) -> str:
    text = model.read_text()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times"
    text = text.replace(old, new)
    model.write_text(text)
    return text


def at(model: Path, key: str, value: str) -> str:
    """`file:line:col` of the value in the first line holding `key: value`."""
    marker = f"{key}: {value}"
    for i, line in enumerate(model.read_text().splitlines(), 1):
        if marker in line:
            return f"{model}:{i}:{line.index(marker) + len(key) + 3}"
    raise AssertionError(f"{marker!r} not in {model}")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def renamed(state: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """`state` with every key (and each link key's ToR and core, each record's rack
    and ToR) renamed by `names`, every value as it was."""
    out: dict[str, Any] = {}
    for section, body in state.items():
        if not isinstance(body, dict):
            out[section] = body
            continue
        new = {}
        for key, value in body.items():
            if isinstance(value, dict):
                value = {f: names.get(v, v) if f in ("rack", "tor") else v
                         for f, v in value.items()}
            new["~".join(names.get(p, p) for p in key.split("~"))] = value
        out[section] = new
    return out


def show_rows(capsys: pytest.CaptureFixture[str], model: Path) -> list[dict[str, str]]:
    code, out, _ = run(capsys, "ipam", "show", "--json", str(model))
    assert code == 0
    return json.loads(out)["allocations"]


def rows_renamed(rows: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    return sorted(({**r, "rack": names.get(r["rack"], r["rack"]),
                    "owner": "–".join(names.get(p, p) for p in r["owner"].split("–"))}
                   for r in rows), key=lambda r: sorted(r.items()))


@pytest.fixture
def rendered(example_copy: Path, tmp_path: Path,
             capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """The example copy, rendered once (so its state has every record); (model, build)."""
    out = tmp_path / "build"
    assert main(["render", str(example_copy), "--out", str(out)]) == 0
    capsys.readouterr()
    return example_copy, out


def refused(capsys: pytest.CaptureFixture[str], model: Path, build: Path, line: str,
            *extra: str) -> None:
    """render and validate exit 2 with exactly `line` as the error; nothing written."""
    before = snapshot(model.parent / "state", build)
    for args in (["render", str(model), "--out", str(build), *extra], ["validate", str(model)]):
        code, out, err = run(capsys, *args)
        assert code == 2, (args, out, err)
        errors = [e for e in err.splitlines() if ": warning: " not in e]
        assert errors == [line, "fabric: 1 error; nothing written"], err
        assert "Traceback" not in err
    assert snapshot(model.parent / "state", build) == before


# --- a renamed rack ----------------------------------------------------------

R02_HELD = "AS 65102, pod pool 172.16.16.0/20, router id 10.254.0.4, 2 link /31s"


def test_renamed_rack_is_refused_with_the_exact_message(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "- name: r02\n", "- name: r2x\n")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r2x')}: racks[1].name: rack 'r2x' has the subnet "
            f"10.2.2.0/24 of rack 'r02', which holds allocations ({R02_HELD}); rename it with "
            f"`fabric ipam rename rack r02 r2x`, {REFUSED_TAIL}")
    code, out, _ = run(capsys, "render", str(model), "--out", str(build), "--json")
    assert code == 2
    [error] = json.loads(out)["errors"]
    assert error["path"] == "racks[1].name" and "rename rack r02 r2x" in error["message"]


@pytest.mark.parametrize("order", ["edit first", "rename first"])
def test_ipam_rename_rack_then_render_moves_nothing(rendered, capsys, order: str) -> None:
    model, build = rendered
    before, rows = state_of(model), show_rows(capsys, model)
    names = {"r02": "r2x", "r02-tor": "r2x-tor"}
    if order == "edit first":
        edit(model, "- name: r02\n", "- name: r2x\n")
    code, out, err = run(capsys, "ipam", "rename", "rack", "r02", "r2x", str(model))
    assert code == 0, err
    assert out.splitlines()[:3] == [f"renamed rack r02 → r2x in {state_file(model)}:",
                                    "  rack_asns r02 → r2x: 65102",
                                    "  rack_pools r02 → r2x: 172.16.16.0/20"]
    assert "  links r02-tor~core2 → r2x-tor~core2: 10.255.0.6/31" in out.splitlines()
    assert state_of(model) == renamed(before, names)
    if order == "rename first":
        assert ("note: rack r02 is still in the model: rename it there to r2x before "
                "`fabric render`, or it is allocated anew") in out.splitlines()
        edit(model, "- name: r02\n", "- name: r2x\n")
    code, out, err = run(capsys, "render", str(model), "--out", str(build))
    assert code == 0, err
    assert "renumbered" not in out and "allocated" not in out
    assert state_of(model) == renamed(before, names), "the render moved something"
    assert rows_renamed(show_rows(capsys, model), {}) == rows_renamed(rows, names)
    cfg = (build / "configs" / "r2x-tor.cfg").read_text()
    assert "65102" in cfg and "10.254.0.4" in cfg and "10.255.0.4" in cfg
    assert not (build / "configs" / "r02-tor.cfg").exists()


def test_renamed_rack_with_renamed_nodes_is_carried_in_one_rename(rendered, capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "- name: r02\n", "- name: r2x\n")
    for i in (1, 2, 3):
        edit(model, f"name: r02-n{i},", f"name: r2x-n{i},")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r2x')}: racks[1].name: rack 'r2x' has the subnet "
            f"10.2.2.0/24 of rack 'r02', which holds allocations ({R02_HELD}); rename it with "
            "`fabric ipam rename rack r02 r2x` (which carries its renamed nodes too: "
            f"r02-n1 → r2x-n1, r02-n2 → r2x-n2, r02-n3 → r2x-n3), {REFUSED_TAIL}")
    code, out, err = run(capsys, "ipam", "rename", "rack", "r02", "r2x", str(model))
    assert code == 0, err
    assert "  node_blocks r02-n3 → r2x-n3: ['172.16.16.128/26']" in out.splitlines()
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0
    names = {"r02": "r2x", "r02-tor": "r2x-tor", **{f"r02-n{i}": f"r2x-n{i}" for i in (1, 2, 3)}}
    assert state_of(model) == renamed(before, names)


def test_renamed_rack_in_a_state_without_records_is_found_by_its_nodes(rendered,
                                                                       capsys) -> None:
    """A state file written before the identity records: the nodes kept their names
    and their blocks lie in the old rack's pool."""
    model, build = rendered
    state = state_of(model)
    for section in ("racks", "nodes", "switches"):
        del state[section]
    state_file(model).write_text(yaml.safe_dump(state))
    edit(model, "- name: r02\n", "- name: r2x\n")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r2x')}: racks[1].name: rack 'r2x' holds nodes r02-n1, "
            f"r02-n2, r02-n3 of rack 'r02', which holds allocations ({R02_HELD}); rename it "
            f"with `fabric ipam rename rack r02 r2x`, {REFUSED_TAIL}")


def test_renamed_rack_with_renumber_is_allocated_anew_and_says_so(rendered, capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "- name: r02\n", "- name: r2x\n")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["renumbered"] == [
        f"renumbered rack r2x: allocated anew, not rack r02's ({R02_HELD}), which stay "
        "reserved until `fabric render --prune`",
        "renumbered node_blocks r02-n1: ['172.16.16.0/26'] → ['172.16.96.0/26']",
        "renumbered node_blocks r02-n2: ['172.16.16.64/26'] → ['172.16.96.64/26']",
        "renumbered node_blocks r02-n3: ['172.16.16.128/26'] → ['172.16.96.128/26']"]
    assert set(result["renumbered"]) <= set(result["changes"])
    after = state_of(model)
    assert after["rack_asns"] == {**before["rack_asns"], "r2x": 65107}
    assert after["rack_pools"] == {**before["rack_pools"], "r2x": "172.16.96.0/20"}
    for section in ("links", "router_ids"):       # r02's stay reserved; r2x's are new
        assert {k: v for k, v in after[section].items() if "r2x" not in k} == before[section]


# --- a renamed node and a renamed switch ------------------------------------

def test_renamed_node_is_refused_then_carried_by_ipam_rename(rendered, capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "name: r02-n3,", "name: r02-n9,")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r02-n9')}: racks[1].nodes[2].name: node 'r02-n9' has the "
            "address 10.2.2.13 of node 'r02-n3', which holds allocations (pod blocks "
            "172.16.16.128/26); rename it with `fabric ipam rename node r02-n3 r02-n9`, "
            f"{REFUSED_TAIL}")
    code, out, err = run(capsys, "ipam", "rename", "node", "r02-n3", "r02-n9", str(model),
                         "--json")
    assert code == 0, err
    assert json.loads(out)["moved"] == [
        {"section": "node_blocks", "from": "r02-n3", "to": "r02-n9",
         "value": ["172.16.16.128/26"]}]
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0
    assert state_of(model) == renamed(before, {"r02-n3": "r02-n9"})


def test_renamed_node_with_renumber_gets_a_new_block_the_old_stays_reserved(rendered,
                                                                            capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "name: r02-n3,", "name: r02-n9,")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber")
    assert code == 0, err
    assert ("renumbered node r02-n9: allocated anew, not node r02-n3's (pod blocks "
            "172.16.16.128/26), which stay reserved until `fabric render --prune`"
            ) in out.splitlines()
    after = state_of(model)
    assert after["node_blocks"] == {**before["node_blocks"], "r02-n9": ["172.16.16.192/26"]}


def test_renamed_core_is_refused_then_carried_with_its_links(rendered, capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "{name: core1,", "{name: spine1,")
    refused(capsys, model, build,
            f"{at(model, 'name', 'spine1')}: cores[0].name: switch 'spine1' has the "
            "management address 192.0.2.1 of switch 'core1', which holds allocations "
            "(router id 10.254.0.1, 6 link /31s); rename it with `fabric ipam rename switch "
            f"core1 spine1`, {REFUSED_TAIL}")
    assert run(capsys, "ipam", "rename", "switch", "core1", "spine1", str(model))[0] == 0
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0
    after = state_of(model)
    assert after == renamed(before, {"core1": "spine1"})
    assert after["links"]["r04-tor~spine1"] == before["links"]["r04-tor~core1"]


# --- ipam rename refuses what it cannot do ---------------------------------------

def rack_asns_line(model: Path) -> int:
    """The line of the section's first entry: where its value, a block mapping, starts."""
    return next(i for i, t in enumerate(state_file(model).read_text().splitlines(), 1)
                if t.startswith("rack_asns:")) + 1


def test_ipam_rename_of_a_name_without_allocations_is_refused(rendered, capsys) -> None:
    model, _ = rendered
    before = snapshot(model.parent / "state")
    code, _, err = run(capsys, "ipam", "rename", "rack", "r9", "r10", str(model))
    assert code == 2
    line = rack_asns_line(model)
    assert err.splitlines()[0] == (
        f"{state_file(model)}:{line}:3: rack_asns: expected a rack with allocations in the IPAM "
        "state, found none for 'r9' (racks there: r01, r02, r03, r04, r05, r06)")
    assert snapshot(model.parent / "state") == before


def test_ipam_rename_onto_a_name_with_allocations_is_refused(rendered, capsys) -> None:
    model, _ = rendered
    before = snapshot(model.parent / "state")
    code, _, err = run(capsys, "ipam", "rename", "rack", "r02", "r03", str(model))
    assert code == 2
    lines = state_file(model).read_text().splitlines()
    line = lines.index("  r03: 65103") + 1
    col = lines[line - 1].index("65103") + 1
    assert err.splitlines()[0] == (
        f"{state_file(model)}:{line}:{col}: rack_asns.r03: expected no allocations for rack "
        "'r03', found AS 65103, pod pool 172.16.32.0/20, router id 10.254.0.5, 2 link /31s "
        "in the IPAM state: rack 'r02' cannot be renamed onto it")
    code, _, err = run(capsys, "ipam", "rename", "node", "r02-n1", "r02-n2", str(model))
    assert code == 2 and "expected no allocations for node 'r02-n2'" in err
    assert snapshot(model.parent / "state") == before
    assert not [p for p in (model.parent / "state").iterdir() if p.name != "ipam.yaml"], \
        "a temporary file was left behind"


# --- prefix lengths and pools ---------------------------------------------------

def test_rack_prefix_length_change_is_refused_then_renumbered(rendered, capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, "rack_prefix_length: 20", "rack_prefix_length: 19")
    refused(capsys, model, build,
            f"{at(model, 'rack_prefix_length', '19')}: pools.pod.rack_prefix_length: expected "
            "20, the length of the rack pools in the IPAM state, found 19: 6 rack pools and the "
            "pod blocks of 16 nodes would move (rack r01 pool 172.16.0.0/20 → 172.16.0.0/19, "
            "rack r02 pool 172.16.16.0/20 → 172.16.32.0/19, rack r03 pool 172.16.32.0/20 → "
            "172.16.64.0/19, and 19 more); keep 20, or render with --renumber to allocate anew")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber",
                         "--json")
    assert code == 0, err
    moved = json.loads(out)["renumbered"]
    after = state_of(model)
    assert len(moved) == 6 + 16
    for rack, pool in before["rack_pools"].items():
        assert f"renumbered rack_pools {rack}: {pool} → {after['rack_pools'][rack]}" in moved
        assert after["rack_pools"][rack].endswith("/19")
    for node, blocks in before["node_blocks"].items():
        line = f"renumbered node_blocks {node}: {blocks} → {after['node_blocks'][node]}"
        assert (line in moved) == (blocks != after["node_blocks"][node]), node
    # r01's new /19 holds its old /20: its nodes keep their blocks.
    assert all(after["node_blocks"][n] == before["node_blocks"][n] for n in
               ("r01-n1", "r01-n2", "r01-n3"))
    for section in ("rack_asns", "links", "router_ids"):
        assert after[section] == before[section], f"{section} moved"
    # And the renumbered state is stable: the next render moves nothing.
    code, out, _ = run(capsys, "render", str(model), "--out", str(build), "--json")
    assert code == 0 and json.loads(out)["state_changed"] is False


def test_block_prefix_length_change_is_refused(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "block_prefix_length: 26", "block_prefix_length: 27")
    refused(capsys, model, build,
            f"{at(model, 'block_prefix_length', '27')}: pools.pod.block_prefix_length: "
            "expected 26, the length of the node blocks in the IPAM state, found 27: the pod "
            "blocks of 19 nodes would move (node r01-n1 ['172.16.0.0/26'] → ['172.16.0.0/27'], "
            "node r01-n2 ['172.16.0.64/26'] → ['172.16.0.32/27'], node r01-n3 "
            "['172.16.0.128/26', '172.16.0.192/26'] → ['172.16.0.64/27', '172.16.0.96/27'], "
            "and 16 more); keep 26, or render with --renumber to allocate anew")


def test_links_pool_that_no_longer_holds_the_links_is_refused(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "links: 10.255.0.0/24", "links: 10.255.1.0/24")
    refused(capsys, model, build,
            f"{at(model, 'links', '10.255.1.0/24')}: pools.links: expected a prefix holding the "
            "link /31s in the IPAM state, found 10.255.1.0/24: 12 link /31s would move (link "
            "r01-tor–core1 10.255.0.0/31 → 10.255.1.0/31, link r01-tor–core2 10.255.0.2/31 → "
            "10.255.1.2/31, link r02-tor–core1 10.255.0.4/31 → 10.255.1.4/31, and 9 more); keep "
            "one that holds them, or render with --renumber to allocate anew")


# --- explicit values over allocated ones ---------------------------------------

R02_TOR = "tor: {platform: huawei_vrp, mgmt: 192.0.2.12"


def test_explicit_asn_over_the_allocated_one_is_refused_then_renumbered(rendered,
                                                                        capsys) -> None:
    model, build = rendered
    before = state_of(model)
    edit(model, R02_TOR, R02_TOR + ", asn: 65150")
    refused(capsys, model, build,
            f"{at(model, 'asn', '65150')}: racks[1].tor.asn: expected 65102, the AS allocated "
            "to rack r02 in the IPAM state, found 65150: 1 rack AS number would move (rack r02 "
            "AS 65102 → 65150); remove tor.asn or set it to 65102, or render with --renumber "
            "to move it")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["renumbered"] == ["renumbered rack_asns r02: 65102 → 65150"]
    after = state_of(model)
    assert after["rack_asns"] == {k: v for k, v in before["rack_asns"].items() if k != "r02"}
    assert {k: v for k, v in after.items() if k != "rack_asns"} == \
        {k: v for k, v in before.items() if k != "rack_asns"}
    assert "remote-as 65150" in (build / "configs" / "core1.cfg").read_text()


def test_explicit_asn_equal_to_the_allocated_one_pins_it(rendered, capsys) -> None:
    """Writing down the allocated AS moves nothing, and neither does removing it again."""
    model, build = rendered
    before = state_of(model)
    edit(model, R02_TOR, R02_TOR + ", asn: 65102")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--json")
    assert code == 0, err
    assert json.loads(out)["state_changed"] is False
    edit(model, R02_TOR + ", asn: 65102", R02_TOR)
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0
    assert state_of(model) == before


def test_explicit_pod_pool_over_the_allocated_one_is_refused(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "    subnet: 10.2.3.0/24\n",
         "    subnet: 10.2.3.0/24\n    pod_pool: 172.16.240.0/20\n")
    refused(capsys, model, build,
            f"{at(model, 'pod_pool', '172.16.240.0/20')}: racks[2].pod_pool: expected "
            "172.16.32.0/20, the pool allocated to rack r03 in the IPAM state, found "
            "172.16.240.0/20: 1 rack pool and the pod blocks of 3 nodes would move (rack r03 "
            "pool 172.16.32.0/20 → 172.16.240.0/20, node r03-n1 ['172.16.32.0/26'] → "
            "['172.16.240.0/26'], node r03-n2 ['172.16.32.64/26'] → ['172.16.240.64/26'], "
            "and 1 more); remove pod_pool or set it to 172.16.32.0/20, or render with "
            "--renumber to move it")


def test_explicit_router_id_over_the_allocated_one_is_refused(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "mgmt: 192.0.2.2}", "mgmt: 192.0.2.2, router_id: 10.254.0.99}")
    refused(capsys, model, build,
            f"{at(model, 'router_id', '10.254.0.99')}: cores[1].router_id: expected "
            "10.254.0.2, the router id allocated to core2 in the IPAM state, found 10.254.0.99: "
            "1 router id would move (core2 router id 10.254.0.2 → 10.254.0.99); remove "
            "router_id or set it to 10.254.0.2, or render with --renumber to move it")


# --- what is not a move ------------------------------------------------------------

def test_removing_a_rack_and_adding_another_is_not_a_rename(rendered, capsys) -> None:
    """Removal keeps the allocations reserved (until --prune), as before; a new rack
    with a subnet of its own is new."""
    model, build = rendered
    before = state_of(model)
    text = model.read_text()
    start = text.index("  - name: r04\n")
    end = text.index("  - name: r05\n")
    r07 = text[start:end].replace("r04", "r07").replace("10.2.4.", "10.2.7.") \
        .replace("192.0.2.14", "192.0.2.17")
    model.write_text(text[:start] + r07 + text[end:])
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["renumbered"] == []
    after = state_of(model)
    for section in ("rack_asns", "rack_pools", "node_blocks", "links", "router_ids"):
        for key, value in before[section].items():
            assert after[section][key] == value, f"{section} {key} moved"
    assert after["racks"]["r04"] == before["racks"]["r04"]     # kept with its allocations
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--prune")
    assert code == 0, err
    pruned = state_of(model)
    assert "r04" not in pruned["rack_asns"] and "r04" not in pruned["racks"]


# --- swapped explicit values ------------------------------------------------------

def refused_lines(capsys: pytest.CaptureFixture[str], model: Path, build: Path,
                  *lines: str) -> None:
    """render exits 2 with exactly `lines` as the errors; nothing written."""
    before = snapshot(model.parent / "state", build)
    code, out, err = run(capsys, "render", str(model), "--out", str(build))
    assert code == 2, (out, err)
    errors = [e for e in err.splitlines() if ": warning: " not in e]
    assert errors == [*lines, f"fabric: {len(lines)} errors; nothing written"], err
    assert snapshot(model.parent / "state", build) == before


def test_swapped_explicit_asns_are_refused_both(rendered, capsys) -> None:
    """Each explicit AS equals the other rack's allocated one: both would move."""
    model, build = rendered
    r03_tor = "tor: {platform: cisco_ios, mgmt: 192.0.2.13"
    edit(model, R02_TOR, R02_TOR + ", asn: 65103")
    edit(model, r03_tor, r03_tor + ", asn: 65102")
    refused_lines(
        capsys, model, build,
        f"{at(model, 'asn', '65103')}: racks[1].tor.asn: expected 65102, the AS allocated to "
        "rack r02 in the IPAM state, found 65103: 1 rack AS number would move (rack r02 AS "
        "65102 → 65103); remove tor.asn or set it to 65102, or render with --renumber to "
        "move it",
        f"{at(model, 'asn', '65102')}: racks[2].tor.asn: expected 65103, the AS allocated to "
        "rack r03 in the IPAM state, found 65102: 1 rack AS number would move (rack r03 AS "
        "65103 → 65102); remove tor.asn or set it to 65103, or render with --renumber to "
        "move it")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["renumbered"] == ["renumbered rack_asns r02: 65102 → 65103",
                                             "renumbered rack_asns r03: 65103 → 65102"]


def test_swapped_explicit_router_ids_are_refused_both(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "mgmt: 192.0.2.1}", "mgmt: 192.0.2.1, router_id: 10.254.0.2}")
    edit(model, "mgmt: 192.0.2.2}", "mgmt: 192.0.2.2, router_id: 10.254.0.1}")
    refused_lines(
        capsys, model, build,
        f"{at(model, 'router_id', '10.254.0.2')}: cores[0].router_id: expected 10.254.0.1, the "
        "router id allocated to core1 in the IPAM state, found 10.254.0.2: 1 router id would "
        "move (core1 router id 10.254.0.1 → 10.254.0.2); remove router_id or set it to "
        "10.254.0.1, or render with --renumber to move it",
        f"{at(model, 'router_id', '10.254.0.1')}: cores[1].router_id: expected 10.254.0.2, the "
        "router id allocated to core2 in the IPAM state, found 10.254.0.1: 1 router id would "
        "move (core2 router id 10.254.0.2 → 10.254.0.1); remove router_id or set it to "
        "10.254.0.2, or render with --renumber to move it")


def test_explicit_asn_of_an_allocated_rack_is_one_clash(rendered, capsys) -> None:
    """Taking an AS another rack holds (not written down) is a clash, said once."""
    model, build = rendered
    edit(model, R02_TOR, R02_TOR + ", asn: 65103")
    refused(capsys, model, build,
            f"{at(model, 'asn', '65103')}: racks[1].tor.asn: rack r02: expected a free AS "
            "number, found 65103 allocated to rack r03 in the IPAM state")


# --- renamed onto a name the state still holds --------------------------------------

R05_HELD = "AS 65105, pod pool 172.16.64.0/20, router id 10.254.0.7, 2 link /31s"
R04_HELD = "AS 65104, pod pool 172.16.48.0/20, router id 10.254.0.6, 2 link /31s"


def remove_rack(model: Path, rack: str, following: str) -> None:
    text = model.read_text()
    start, end = text.index(f"  - name: {rack}\n"), text.index(f"  - name: {following}\n")
    model.write_text(text[:start] + text[end:])


@pytest.mark.parametrize("nodes", ["kept", "renamed"])
def test_rack_renamed_onto_a_removed_rack_still_reserved_is_refused(rendered, capsys,
                                                                    nodes: str) -> None:
    model, build = rendered
    remove_rack(model, "r04", "r05")
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0   # r04 reserved
    before = state_of(model)
    edit(model, "- name: r05\n", "- name: r04\n")
    carry = ""
    if nodes == "renamed":
        edit(model, "r05-n", "r04-n", count=5)
        carry = (" (which carries its renamed nodes too: r05-n1 → r04-n1, r05-n2 → r04-n2, "
                 "r05-n3 → r04-n3)")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r04')}: racks[3].name: rack 'r04' has the subnet 10.2.5.0/24 "
            f"of rack 'r05', which holds allocations ({R05_HELD}), but 'r04' holds the "
            f"allocations of the removed rack r04 (subnet 10.2.4.0/24: {R04_HELD}); to carry "
            "r05's over, release r04's with `fabric render --prune` while the model names it "
            f"r05, then `fabric ipam rename rack r05 r04`{carry}, or render with --renumber "
            "to give it r04's")
    # What the message says to do carries r05's allocations over, nothing else moves.
    edit(model, "- name: r04\n", "- name: r05\n")
    if nodes == "renamed":
        edit(model, "r04-n", "r05-n", count=5)
    assert run(capsys, "render", str(model), "--out", str(build), "--prune")[0] == 0
    edit(model, "- name: r05\n", "- name: r04\n")
    if nodes == "renamed":
        edit(model, "r05-n", "r04-n", count=5)
    code, _, err = run(capsys, "ipam", "rename", "rack", "r05", "r04", str(model))
    assert code == 0, err
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--json")
    assert code == 0, err
    assert json.loads(out)["changes"] == []
    after = state_of(model)
    assert after["rack_asns"]["r04"] == before["rack_asns"]["r05"] == 65105
    assert after["racks"]["r04"] == {"subnet": "10.2.5.0/24", "tor": "r04-tor"}
    assert after["router_ids"]["r04-tor"] == before["router_ids"]["r05-tor"]
    node = "r04-n1" if nodes == "renamed" else "r05-n1"
    assert after["node_blocks"][node] == before["node_blocks"]["r05-n1"]


def test_rack_renamed_onto_a_removed_rack_with_renumber_says_what_it_gets(rendered,
                                                                          capsys) -> None:
    model, build = rendered
    remove_rack(model, "r04", "r05")
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0
    edit(model, "- name: r05\n", "- name: r04\n")
    code, out, err = run(capsys, "render", str(model), "--out", str(build), "--renumber",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["renumbered"][0] == (
        f"renumbered rack r04: given the allocations of rack r04 (subnet 10.2.4.0/24: "
        f"{R04_HELD}), not rack r05's ({R05_HELD}), which stay reserved until `fabric render "
        "--prune`")
    assert state_of(model)["rack_asns"]["r05"] == 65105        # reserved, not reused


def test_swapped_rack_names_are_refused(rendered, capsys) -> None:
    model, build = rendered
    edit(model, "- name: r04\n", "- name: rXX\n")
    edit(model, "- name: r05\n", "- name: r04\n")
    edit(model, "- name: rXX\n", "- name: r05\n")
    before = snapshot(model.parent / "state", build)
    code, _, err = run(capsys, "render", str(model), "--out", str(build))
    assert code == 2
    line = "{}: racks[{}].name: rack '{}' has the subnet {} of rack '{}', which holds " \
        "allocations ({}), but '{}' holds the allocations of rack {} (subnet {}: {}), which " \
        "the model names '{}'; give both their names back, or render with --renumber to " \
        "give it {}'s"
    assert [e for e in err.splitlines() if ": warning: " not in e] == [
        line.format(at(model, "- name", "r05"), 3, "r05", "10.2.4.0/24", "r04", R04_HELD, "r05",
                    "r05", "10.2.5.0/24", R05_HELD, "r04", "r05"),
        line.format(at(model, "- name", "r04"), 4, "r04", "10.2.5.0/24", "r05", R05_HELD, "r04",
                    "r04", "10.2.4.0/24", R04_HELD, "r05", "r04"),
        "fabric: 2 errors; nothing written"]
    assert snapshot(model.parent / "state", build) == before


def test_node_renamed_onto_a_removed_node_still_reserved_is_refused(rendered,
                                                                    capsys) -> None:
    model, build = rendered
    edit(model, "      - {name: r02-n3, ip: 10.2.2.13}\n", "")
    assert run(capsys, "render", str(model), "--out", str(build))[0] == 0   # r02-n3 reserved
    edit(model, "name: r02-n2,", "name: r02-n3,")
    refused(capsys, model, build,
            f"{at(model, 'name', 'r02-n3')}: racks[1].nodes[1].name: node 'r02-n3' has the "
            "address 10.2.2.12 of node 'r02-n2', which holds allocations (pod blocks "
            "172.16.16.64/26), but 'r02-n3' holds the allocations of the removed node r02-n3 "
            "(address 10.2.2.13: pod blocks 172.16.16.128/26); to carry r02-n2's over, "
            "release r02-n3's with `fabric render --prune` while the model names it r02-n2, "
            "then `fabric ipam rename node r02-n2 r02-n3`, or render with --renumber to give "
            "it r02-n3's")
