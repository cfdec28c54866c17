"""Every rendered FRR config passes FRR's own parsers, and every gobgpd.toml
passes gobgpd's config check (which rejects unknown keys and wrong types).

Needs the Debian packages `frr` and `gobgpd` (README set-up and .ci/run install them).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import EXAMPLE, FIXTURES, render_model

pytestmark = pytest.mark.unit

BGPD = "/usr/lib/frr/bgpd"


# Lines of the integrated config that belong to zebra, not bgpd (vtysh -C checks them).
ZEBRA_LINES: set[str] = set()


def bgpd_check(config: Path) -> str:
    """Run `bgpd -C` on a copy the frr user can read (bgpd drops root privileges);
    it exits 0 even on errors, so return its log for the caller to judge."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        copy = Path(d) / config.name
        lines = config.read_text().splitlines(keepends=True)
        copy.write_text("".join(ln for ln in lines if ln.strip() not in ZEBRA_LINES))
        copy.chmod(0o644)
        run = subprocess.run([BGPD, "-C", "-f", str(copy), "-M", "bmp"], capture_output=True,
                             text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("parsers")
    return [render_model(EXAMPLE, tmp), render_model(FIXTURES / "golden" / "allroles.yaml", tmp)]


def _frr_configs(builds: list[Path]) -> list[Path]:
    out = []
    for b in builds:
        out += [p for p in sorted((b / "configs").glob("*.cfg"))
                if "\nfrr defaults" in p.read_text()]
    return out


def test_frr_configs_pass_vtysh_and_bgpd_check(builds: list[Path]) -> None:
    files = _frr_configs(builds)
    assert len(files) >= 10  # example and golden fixture both have several FRR devices
    for f in files:
        vtysh = subprocess.run(["vtysh", "-C", "-f", str(f)], capture_output=True, text=True)
        assert vtysh.returncode == 0, f"{f.name}: {vtysh.stdout}{vtysh.stderr}"
        log = bgpd_check(f)
        assert "[EC" not in log, f"{f.name}: {log}"


def test_frr_check_catches_a_broken_line(tmp_path: Path, builds: list[Path]) -> None:
    good = _frr_configs(builds)[0]
    bad = tmp_path / "bad.cfg"
    bad.write_text(good.read_text().replace(" maximum-paths", " maximum-pathz", 1))
    bad.chmod(0o644)
    assert subprocess.run(["vtysh", "-C", "-f", str(bad)], capture_output=True).returncode != 0
    assert "No such command on config line" in bgpd_check(bad)


def test_gobgpd_configs_pass_gobgpd_check(builds: list[Path]) -> None:
    files = [p for b in builds for p in sorted((b / "nodes").glob("*/gobgpd.toml"))]
    assert len(files) >= 20
    roles = set()
    for f in files:
        text = f.read_text()
        roles.add("node_rr" if ": node_rr," in text else "node")
        run = subprocess.run(["gobgpd", "-d", "-t", "toml", "-f", str(f)],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, f"{f}: {run.stdout}{run.stderr}"
    assert roles == {"node", "node_rr"}


def test_gobgpd_check_rejects_unknown_keys(tmp_path: Path, builds: list[Path]) -> None:
    good = next((builds[0] / "nodes").glob("*/gobgpd.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("neighbor-address", "neighbor-addres"))
    run = subprocess.run(["gobgpd", "-d", "-t", "toml", "-f", str(bad)], capture_output=True,
                         text=True, timeout=30)
    assert run.returncode != 0 and "invalid keys: neighbor-addres" in run.stdout + run.stderr
