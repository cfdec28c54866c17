"""Shared test helpers: the repository root and the example model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory" / "fabric.yaml"
FIXTURES = ROOT / "tests" / "fixtures"


def render_model(model: Path, tmp: Path) -> Path:
    """Render `model` (copied into its own folder under tmp, state and all); returns build/."""
    from fabric.cli import main

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
