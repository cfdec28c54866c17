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
BFDD = "/usr/lib/frr/bfdd"


# Lines of the integrated config that belong to zebra, not bgpd (vtysh -C checks them).
ZEBRA_LINES: set[str] = set()


def _split_bfd(text: str) -> tuple[str, str]:
    """(bgpd's part, bfdd's part) of an integrated config: the top-level `bfd` block,
    up to its closing `exit`, is bfdd's."""
    bgpd, bfdd, inside = [], [], False
    for ln in text.splitlines(keepends=True):
        if ln.rstrip() == "bfd":
            inside = True
        (bfdd if inside else bgpd).append(ln)
        if inside and ln.rstrip() == "exit":
            inside = False
    return "".join(bgpd), "".join(bfdd)


def _check(daemon: str, text: str, name: str, *extra: str) -> str:
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        copy = Path(d) / name
        copy.write_text(text)
        copy.chmod(0o644)
        run = subprocess.run([daemon, "-C", "-f", str(copy), *extra], capture_output=True,
                             text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout + run.stderr


def bgpd_check(config: Path) -> str:
    """Run `bgpd -C` on its part of a copy the frr user can read (the daemons drop
    root privileges), and `bfdd -C` on the `bfd` block; they exit 0 even on errors,
    so return their logs for the caller to judge."""
    lines = config.read_text().splitlines(keepends=True)
    bgpd, bfdd = _split_bfd("".join(ln for ln in lines if ln.strip() not in ZEBRA_LINES))
    log = _check(BGPD, bgpd, config.name, "-M", "bmp")
    return log + (_check(BFDD, bfdd, config.name) if bfdd else "")


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


@pytest.mark.parametrize("good_line, bad_line", [(" maximum-paths", " maximum-pathz"),
                                                  ("  receive-interval", "  receive-intervl")])
def test_frr_check_catches_a_broken_line(tmp_path: Path, builds: list[Path], good_line: str,
                                         bad_line: str) -> None:
    good = next(f for f in _frr_configs(builds) if good_line in f.read_text())
    bad = tmp_path / "bad.cfg"
    bad.write_text(good.read_text().replace(good_line, bad_line, 1))
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
