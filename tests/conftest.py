"""Shared test helpers: the repository root and the example model."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory" / "fabric.yaml"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A copy of the example model and its state in a tmp dir; returns the model path."""
    inv = tmp_path / "inventory"
    (inv / "state").mkdir(parents=True)
    (inv / "fabric.yaml").write_text(EXAMPLE.read_text())
    (inv / "state" / "ipam.yaml").write_text((EXAMPLE.parent / "state" / "ipam.yaml").read_text())
    return inv / "fabric.yaml"
