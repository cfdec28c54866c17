"""Output discipline: determinism, shuffled input, rewrite-only-on-change,
removal of files for devices gone from the model, and `render --check`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE, ROOT, tree

from fabric.cli.main import main

pytestmark = pytest.mark.unit


def _render(model: Path, out: Path) -> dict[str, bytes]:
    assert main(["render", str(model), "--out", str(out)]) == 0
    return tree(out)


def test_committed_build_is_current() -> None:
    """Acceptance: `fabric render --check` passes on what is committed."""
    assert main(["render", str(EXAMPLE), "--out", str(ROOT / "build"), "--check"]) == 0


def test_render_twice_gives_identical_bytes(example_copy: Path, tmp_path: Path) -> None:
    first = _render(example_copy, tmp_path / "a")
    second = _render(example_copy, tmp_path / "b")
    assert first == second
    assert len(first) > 50


def test_shuffled_model_gives_identical_bytes(tmp_path: Path) -> None:
    """Order of racks, nodes and VIPs in the file does not matter, even with no state."""
    data = yaml.safe_load(EXAMPLE.read_text())
    outputs = []
    for seed in (0, 1):
        rng = random.Random(seed)
        shuffled = json.loads(json.dumps(data))
        if seed:
            rng.shuffle(shuffled["racks"])
            for rack in shuffled["racks"]:
                rng.shuffle(rack["nodes"])
            rng.shuffle(shuffled["vips"])
            for vip in shuffled["vips"]:
                rng.shuffle(vip["announcers"])
        work = tmp_path / f"s{seed}"
        work.mkdir()
        (work / "fabric.yaml").write_text(yaml.safe_dump(shuffled, sort_keys=False))
        outputs.append(_render(work / "fabric.yaml", work / "build"))
        outputs[-1]["state"] = (work / "state" / "ipam.yaml").read_bytes()
    assert outputs[0] == outputs[1]


def test_unchanged_files_are_not_rewritten(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(example_copy, out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    _render(example_copy, out)
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_one_node_change_touches_only_its_rack(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    before = _render(example_copy, out)
    text = example_copy.read_text().replace(
        "      - {name: r02-n3, ip: 10.2.2.13}\n",
        "      - {name: r02-n3, ip: 10.2.2.13}\n      - {name: r02-n4, ip: 10.2.2.14}\n")
    example_copy.write_text(text)
    after = _render(example_copy, out)
    changed = sorted(k for k in after if before.get(k) != after[k])
    # The ToR's config does not change: nodes come and go without switch edits.
    assert changed == [
        ".fabric-manifest", "docs/fabric.md", "docs/ipam.csv", "docs/racks/r02.md",
        "docs/sessions.csv",
        "kubernetes/ciliumnodes/r02-n4.yaml",
        "nodes/r02-n4/announce.yaml", "nodes/r02-n4/gobgpd.toml",
    ]


def test_removed_devices_lose_their_files(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "mine.txt").write_text("not ours")
    _render(example_copy, out)
    text = example_copy.read_text().replace("      - {name: r02-n3, ip: 10.2.2.13}\n", "")
    example_copy.write_text(text)
    after = _render(example_copy, out)
    assert not (out / "nodes" / "r02-n3").exists()
    assert "kubernetes/ciliumnodes/r02-n3.yaml" not in after
    assert (out / "notes" / "mine.txt").read_text() == "not ours"   # never ours to delete


def test_check_lists_stale_missing_and_extra(example_copy: Path, tmp_path: Path,
                                             capsys) -> None:
    out = tmp_path / "build"
    _render(example_copy, out)
    assert main(["render", str(example_copy), "--out", str(out), "--check"]) == 0
    (out / "configs" / "core1.cfg").write_text("edited by hand\n")
    (out / "docs" / "fabric.md").unlink()
    example_copy.write_text(example_copy.read_text().replace(
        "      - {name: r02-n3, ip: 10.2.2.13}\n", ""))
    capsys.readouterr()
    assert main(["render", str(example_copy), "--out", str(out), "--check"]) == 1
    report = capsys.readouterr().out
    assert f"stale: {out / 'configs' / 'core1.cfg'}" in report
    assert f"missing: {out / 'docs' / 'fabric.md'}" in report
    assert f"extra: {out / 'nodes' / 'r02-n3' / 'gobgpd.toml'}" in report
    assert (out / "configs" / "core1.cfg").read_text() == "edited by hand\n"  # wrote nothing


def test_check_reports_stale_state(example_copy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "build"
    _render(example_copy, out)
    state = example_copy.parent / "state" / "ipam.yaml"
    state.write_text(state.read_text().replace("r06-n4: [", "r06-n9: ["))  # its blocks only
    capsys.readouterr()
    assert main(["render", str(example_copy), "--out", str(out), "--check", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["state_stale"] is True


def test_no_secret_value_reaches_build(example_copy: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FABRIC_BGP_CORE_KEY", "s3cr3t-core-key")
    monkeypatch.setenv("FABRIC_BGP_NODES_KEY", "s3cr3t-nodes-key")
    files = _render(example_copy, tmp_path / "build")
    assert not [k for k, v in files.items() if b"s3cr3t-core-key" in v or b"s3cr3t-nodes" in v]
    assert any(b"__secret_bgp_core__" in v for v in files.values())
    assert any(b"__secret_bgp_nodes__" in v for v in files.values())


def test_parallel_render_equals_one_process(monkeypatch) -> None:
    """Spread over two forked workers (shares of 7 devices here), the files are the
    one-process render's, byte for byte, on the mixed-vendor example."""
    from fabric import pipeline
    from fabric.render import engine

    result = pipeline.build(EXAMPLE)
    alone = engine.render_all(result.intent, workers=1)
    monkeypatch.setattr(engine, "PARALLEL_FROM", 1)
    monkeypatch.setattr(engine, "_SHARE", 7)
    spread = engine.render_all(result.intent, workers=2)
    assert list(spread) == list(alone) and spread == alone
    assert len({result.intent.devices[n].platform for n in result.intent.devices}) > 3
