"""Golden files: every platform in every role, compared byte for byte.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_golden.py`
and review the diff like any other change.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, render_model

pytestmark = pytest.mark.unit

GOLDEN = ROOT / "tests" / "golden"
MODELS = sorted((FIXTURES / "golden").glob("*.yaml"))


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_golden(model: Path, tmp_path: Path) -> None:
    build = render_model(model, tmp_path)
    want = GOLDEN / model.stem
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(want, ignore_errors=True)
        shutil.copytree(build, want)
    got = {p.relative_to(build): p.read_bytes() for p in build.rglob("*") if p.is_file()}
    exp = {p.relative_to(want): p.read_bytes() for p in want.rglob("*") if p.is_file()}
    assert sorted(got) == sorted(exp)
    for name in sorted(got):
        assert got[name] == exp[name], f"{name} differs from tests/golden/{model.stem}/{name}"


def test_golden_covers_every_platform_and_role() -> None:
    configs = GOLDEN / "allroles" / "configs"
    roles = set()
    for cfg in configs.glob("*.cfg"):
        # Header line "! <device>: <role>, ..., AS n"; fixture names are <kind>-<platform>-...
        header = re.search(r"^[!#] (\S+): (\w+),", cfg.read_text(), re.M)
        assert header and header[1] == cfg.stem
        roles.add((header[2], cfg.stem.split("-")[1]))
    for short in ("h3c", "vrp", "ios", "nxos", "frr"):
        assert ("core", short) in roles
        assert ("tor", short) in roles            # dyn-<short>-tor: dynamic ToR
        assert ("rr_switch", short) in roles      # rr-<short>-rr1: switch route reflector
    nodes = GOLDEN / "allroles" / "nodes"
    assert "node_rr" in (nodes / "rrnode-n1" / "gobgpd.toml").read_text()
    assert "node," in (nodes / "rrnode-n3" / "gobgpd.toml").read_text()
    # ToRs in route-reflector mode (every rr-* rack's ToR is FRR; rrnode's is IOS)
    assert "route reflector rrnode-n1" in (configs / "rrnode-tor.cfg").read_text()
