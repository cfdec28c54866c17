"""Shared test helpers: the repository root and the example model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from switch_kinds import SWITCH_KINDS, SwitchKind

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory" / "fabric.yaml"
FIXTURES = ROOT / "tests" / "fixtures"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, but the render's cache (which
    says how the tree was made, not what it holds)."""
    from fabric.render.cache import DIR

    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and DIR not in p.relative_to(root).parts}


def render_model(model: Path, tmp: Path) -> Path:
    """Render `model` (copied into its own folder under tmp, state and all); returns build/."""
    from fabric.cli.main import main

    work = tmp / model.stem
    work.mkdir()
    shutil.copy(model, work / "fabric.yaml")
    assert main(["render", str(work / "fabric.yaml"), "--out", str(work / "build")]) == 0
    return work / "build"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A copy of the example model and its state in a tmp dir; returns the model path."""
    inv = tmp_path / "inventory"
    (inv / "state").mkdir(parents=True)
    (inv / "fabric.yaml").write_text(EXAMPLE.read_text())
    (inv / "state" / "ipam.yaml").write_text((EXAMPLE.parent / "state" / "ipam.yaml").read_text())
    return inv / "fabric.yaml"


KINDS = ("unit", "sim", "lab", "ansible")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is of exactly one kind (its module's `pytestmark`)."""
    wrong = [f"{i.nodeid}: {kinds or 'none'}" for i in items
             if len(kinds := [m.name for m in i.iter_markers() if m.name in KINDS]) != 1]
    if wrong:
        raise pytest.UsageError("expected each test to be one of "
                                f"{', '.join(KINDS)}, found: " + "; ".join(wrong[:5]))


LOGIN_PW = "Lg-9xQ-unique-login-pw"
CORE_KEY = "Core-K3y-unique-8812"
NODE_KEY = "Node-K3y-unique-3307"


def switch_fabric_for(kind: SwitchKind, tmp_path: Path, monkeypatch) -> Iterator[
        tuple[Path, dict, list[str]]]:
    """A generated fabric of `kind` switches (2 cores, 2 racks), one simulated switch
    per device; yields (model, {device: simulator}, CLI args to reach them)."""
    from fabric.deploy import rollout
    from fabric.model.starter import starter_model

    text = starter_model(2, 2, platform=kind.platform, name="t-sw")
    # The starter keys node sessions already; the cores' links get a key of their own.
    text = text.replace("  auth:\n", "  auth:\n    core_links: core\n", 1)
    text = text.replace("secrets:\n", "secrets:\n  core: {env: FABRIC_CORE_KEY}\n", 1)
    model = tmp_path / "fabric.yaml"
    model.write_text(text)
    monkeypatch.setenv("FABRIC_CORE_KEY", CORE_KEY)
    monkeypatch.setenv("FABRIC_BGP_NODES_KEY", NODE_KEY)
    monkeypatch.setenv("FABRIC_USERNAME", "netops")
    monkeypatch.setenv("FABRIC_PASSWORD", LOGIN_PW)
    monkeypatch.setenv("FABRIC_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setattr(rollout, "BACKUP_ROOT", tmp_path / "backups")
    sims: dict = {}
    try:
        for n in ["core1", "core2", "r01-tor", "r02-tor"]:
            sims[n] = kind.start(n, "netops", LOGIN_PW)
        (tmp_path / "hosts.yaml").write_text(
            "".join(f"{n}: {s.host}:{s.port}\n" for n, s in sims.items()))
        (tmp_path / "known_hosts").write_text(
            "".join(s.known_hosts_line() + "\n" for s in sims.values()))
        yield model, sims, ["--hosts", str(tmp_path / "hosts.yaml"),
                            "--known-hosts", str(tmp_path / "known_hosts")]
    finally:
        for s in sims.values():
            s.stop()


@pytest.fixture
def comware_fabric(tmp_path: Path, monkeypatch):
    yield from switch_fabric_for(SWITCH_KINDS["h3c_comware"], tmp_path, monkeypatch)


@pytest.fixture(params=list(SWITCH_KINDS))
def switch_fabric(request, tmp_path: Path, monkeypatch):
    """`comware_fabric` for every switch platform with a simulator; yields the
    SwitchKind too."""
    kind = SWITCH_KINDS[request.param]
    for model, sims, args in switch_fabric_for(kind, tmp_path, monkeypatch):
        yield kind, model, sims, args
