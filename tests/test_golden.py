"""Golden files: every platform in every role, compared byte for byte.

tests/golden/<model>/ holds three trees, one per stage, so a reviewer sees which
stage a change went through: `intent.yaml` (the intent), `structured/<device>.yaml`
(what each device's templates walk over) and everything else, the rendered
build/ itself.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_golden.py`
and review the diff like any other change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT, render_model

from fabric import pipeline, platforms
from fabric.intent.dump import as_data, to_yaml
from fabric.intent.types import Discovery, Intent, Role
from fabric.render.cache import DIR as CACHE
from fabric.render.engine import structured_data

pytestmark = pytest.mark.unit

GOLDEN = ROOT / "tests" / "golden"
MODELS = sorted((FIXTURES / "golden").glob("*.yaml"))

INTENT = "intent.yaml"
STRUCTURED = "structured"
STAGES = ("intent", "structured", "rendered")
Tree = dict[str, bytes]                      # path under tests/golden/<model>/ → bytes


def _stage(relative: Path) -> str:
    return {INTENT: "intent", STRUCTURED: "structured"}.get(relative.parts[0], "rendered")


def _trees(root: Path) -> dict[str, Tree]:
    """A golden folder split into its stages' trees."""
    trees: dict[str, Tree] = {stage: {} for stage in STAGES}
    for p in sorted(root.rglob("*")):
        if p.is_file() and CACHE not in p.parts:
            rel = p.relative_to(root)
            trees[_stage(rel)][rel.as_posix()] = p.read_bytes()
    return trees


def snapshots(intent: Intent) -> dict[str, Tree]:
    """The intent and structured-config snapshots, as their golden files."""
    return {
        "intent": {INTENT: to_yaml(as_data(intent)).encode()},
        "structured": {f"{STRUCTURED}/{name}.yaml":
                       to_yaml(structured_data(device, intent)).encode()
                       for name, device in intent.devices.items()},
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], dict[str, Tree]]:
    """Each model rendered once for its three stage tests."""
    @cache
    def generate(model: Path) -> dict[str, Tree]:
        build = render_model(model, tmp_path_factory.mktemp("golden"))
        # The intent of the copy render just wrote the state of, so it is build/'s.
        trees = snapshots(pipeline.build(build.parent / "fabric.yaml").intent)
        trees["rendered"] = _trees(build)["rendered"]
        return trees
    return generate


def _replace(want: Path, stage: str, files: Tree) -> None:
    """Regenerate one stage's tree of a golden folder, leaving the other stages'."""
    for name in _trees(want)[stage]:
        (want / name).unlink()
    for d in sorted((p for p in want.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    for name, data in files.items():
        (want / name).parent.mkdir(parents=True, exist_ok=True)
        (want / name).write_bytes(data)


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_golden(model: Path, stage: str, generated: Callable[[Path], dict[str, Tree]]) -> None:
    got = generated(model)[stage]
    want = GOLDEN / model.stem
    if os.environ.get("UPDATE_GOLDEN"):
        _replace(want, stage, got)
    exp = _trees(want)[stage]
    assert sorted(got) == sorted(exp), f"{stage}: other files than tests/golden/{model.stem}/"
    for name in sorted(got):
        assert got[name] == exp[name], f"{name} differs from tests/golden/{model.stem}/{name}"


def test_golden_covers_every_platform_and_role() -> None:
    """Every registered platform in each role of its kind, read from the intent
    golden: a platform added without golden coverage fails here."""
    intent = yaml.safe_load((GOLDEN / "allroles" / INTENT).read_text())
    devices = intent["devices"]
    covered = {(d["role"], d["platform"]) for d in devices.values()}
    dynamic_tors = {devices[r["tor"]]["platform"] for r in intent["racks"].values()
                    if r["discovery"] == Discovery.DYNAMIC.value}
    for name in platforms.SWITCH_PLATFORMS:
        assert (Role.CORE.value, name) in covered, name
        assert name in dynamic_tors, name                     # dyn-<short>-tor
        assert (Role.RR_SWITCH.value, name) in covered, name  # rr-<short>-rr1
    for name in (n for n, p in platforms.registry().items() if p.kind == "node"):
        assert (Role.NODE.value, name) in covered, name
        assert (Role.NODE_RR.value, name) in covered, name
    # Every switch has its config, whose header "! <device>: <role>, ..., AS n"
    # agrees with the intent.
    configs = GOLDEN / "allroles" / "configs"
    switches = sorted(n for n, d in devices.items() if d["platform"] in platforms.SWITCH_PLATFORMS)
    assert sorted(cfg.stem for cfg in configs.glob("*.cfg")) == switches
    for cfg in configs.glob("*.cfg"):
        header = re.search(r"^[!#] (\S+): (\w+),", cfg.read_text(), re.M)
        assert header and header[1] == cfg.stem and header[2] == devices[cfg.stem]["role"]
    nodes = GOLDEN / "allroles" / "nodes"
    assert "node_rr" in (nodes / "rrnode-n1" / "gobgpd.toml").read_text()
    assert "node," in (nodes / "rrnode-n3" / "gobgpd.toml").read_text()
    # ToRs in route-reflector mode (every rr-* rack's ToR is FRR; rrnode's is IOS)
    assert "route reflector rrnode-n1" in (configs / "rrnode-tor.cfg").read_text()


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_snapshots_are_deterministic(model: Path, tmp_path: Path) -> None:
    """The same model built twice in one process, without the CLI, gives the same
    snapshots (the golden comparison checks across processes and hash seeds)."""
    first = snapshots(pipeline.build(model, tmp_path / "a").intent)
    second = snapshots(pipeline.build(model, tmp_path / "b").intent)
    assert first == second
