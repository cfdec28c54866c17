"""The incremental render never serves stale output: after each kind of change
(the model's sections, the state, a template, a platform descriptor, this code's
cache, the tree itself) `fabric render` on the warm tree gives, byte for byte,
what a cold render of the same inputs gives in an empty directory, and it reuses
what the change did not touch.

Each render is the CLI in its own process, on a copy of this package (so a
template and a platform descriptor can be edited) and of the mixed-vendor
example; the changes pile up, as in a day of pull requests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLE, ROOT, tree

from fabric.render.cache import DIR

pytestmark = [pytest.mark.unit, pytest.mark.slow]

CORES = 2
ALL = -1             # every unit: every rack, every core, the fabric's documents


@dataclass
class World:
    src: Path           # the package copy the CLI runs from
    model: Path
    out: Path           # the warm tree
    tmp: Path

    def edit(self, file: Path, old: str, new: str) -> None:
        text = file.read_text()
        assert text.count(old) == 1, f"{old!r} is not once in {file}"
        file.write_text(text.replace(old, new))

    def edit_model(self, old: str, new: str) -> None:
        self.edit(self.model, old, new)

    def fabric(self, *args: str) -> dict:
        env = {**os.environ, "PYTHONPATH": str(self.src)}
        proc = subprocess.run([sys.executable, "-m", "fabric.cli", *args, "--json"],
                              capture_output=True, text=True, env=env, cwd=self.tmp)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    def render(self, out: Path, *flags: str) -> dict:
        return self.fabric("render", str(self.model), "--out", str(out), *flags)


@pytest.fixture
def world(tmp_path: Path) -> World:
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "fabric", src / "fabric", ignore=ignore)
    shutil.copytree(ROOT / "templates", src / "templates", ignore=ignore)
    inv = tmp_path / "inventory"
    (inv / "state").mkdir(parents=True)
    shutil.copy(EXAMPLE, inv / "fabric.yaml")
    shutil.copy(EXAMPLE.parent / "state" / "ipam.yaml", inv / "state" / "ipam.yaml")
    return World(src, inv / "fabric.yaml", tmp_path / "build", tmp_path)


def _append(file: Path, text: str) -> None:
    file.write_text(file.read_text() + text)


def _other_secret(w: World) -> None:
    w.edit_model("  bgp_core: {env: FABRIC_BGP_CORE_KEY}\n",
                 "  bgp_core: {env: FABRIC_BGP_CORE_KEY}\n  bgp_links: {env: FABRIC_LINK_KEY}\n")
    w.edit_model("core_links: bgp_core ", "core_links: bgp_links ")


def _same_size_edit(file: Path) -> None:
    """What `rsync --inplace -t` or an editor restoring the mtime leaves: only the
    ctime says the file changed."""
    before = file.stat()
    data = bytearray(file.read_bytes())
    data[-2] = ord("#") if data[-2] != ord("#") else ord("!")
    with open(file, "r+b") as fh:
        fh.write(data)
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size, before.st_mtime_ns, before.st_ino)


def _reshape_cache(file: Path) -> None:
    """Valid JSON of this code's version, with its units a list."""
    data = json.loads(file.read_text())
    data["units"] = list(data["units"].items())
    file.write_text(json.dumps(data))


def _remove_rack(w: World, name: str) -> None:
    text = w.model.read_text()
    cut = re.sub(rf"  - name: {name}\n.*?(?=\n  - name: |\nvips:)", "", text, count=1,
                 flags=re.S)
    assert cut != text
    w.model.write_text(cut)


# (what changes, how, extra render flags, how many units the warm render renders:
# ALL, or None for "whatever it takes")
Step = tuple[str, Callable[[World], None], tuple[str, ...], int | None]
STEPS: list[Step] = [
    ("nothing", lambda w: None, (), 0),
    ("a node added to a rack",
     lambda w: w.edit_model("      - {name: r03-n3, ip: 10.2.3.13}\n",
                            "      - {name: r03-n3, ip: 10.2.3.13}\n"
                            "      - {name: r03-n4, ip: 10.2.3.14}\n"), (), 1 + CORES + 1),
    ("a node's blocks grown",
     lambda w: w.edit_model("{name: r02-n3, ip: 10.2.2.13}",
                            "{name: r02-n3, ip: 10.2.2.13, pod_blocks: 2}"), (), 1 + CORES + 1),
    ("only a comment", lambda w: w.edit_model("fabric: idc-sh1\n", "fabric: idc-sh1  # sh\n"),
     (), 0),
    ("BGP defaults", lambda w: w.edit_model("    keepalive: 3\n    hold: 9\n",
                                            "    keepalive: 5\n    hold: 15\n"), (), ALL),
    ("a VIP moved to another rack",
     lambda w: w.edit_model("announcers: [r03-n1, r06-n3]", "announcers: [r02-n1, r06-n3]"),
     (), 3 + CORES + 1),     # r03 loses it, r02 gains it, r06 shares it
    ("another secret referenced", _other_secret, (), ALL),
    ("a secret's source", lambda w: w.edit_model("{env: FABRIC_BGP_CORE_KEY}",
                                                 "{file: /run/secrets/bgp-core}"), (), ALL),
    ("the pools (renumbered)", lambda w: w.edit_model("links: 10.255.0.0/24",
                                                      "links: 10.255.8.0/24"),
     ("--renumber",), ALL),
    ("a rack's pool pinned",
     lambda w: w.edit_model("  - name: r02\n    subnet: 10.2.2.0/24\n",
                            "  - name: r02\n    subnet: 10.2.2.0/24\n"
                            "    pod_pool: 172.31.0.0/20\n"), ("--renumber",), None),
    ("a rack removed", lambda w: _remove_rack(w, "r04"), ("--prune",), None),
    ("the state removed", lambda w: (w.model.parent / "state" / "ipam.yaml").unlink(), (), None),
    ("a template file", lambda w: _append(w.src / "templates" / "gobgp" / "announce.yaml.j2",
                                          "# announced by the node agent\n"), (), ALL),
    ("a platform descriptor",
     lambda w: w.edit(w.src / "fabric" / "platforms" / "frr" / "platform.yml",
                      "defaults: {restart_time: 120,", "defaults: {restart_time: 90,"),
     (), ALL),
    ("a file edited by hand",
     lambda w: (w.out / "configs" / "core1.cfg").write_text("hostname rogue\n"), (), 1),
    ("a file touched", lambda w: os.utime(w.out / "nodes" / "r01-n1" / "gobgpd.toml",
                                          ns=(1, 1)), (), 1),
    ("a file edited in place, its size and mtime kept", lambda w: _same_size_edit(
        w.out / "configs" / "r02-tor.cfg"), (), 1),
    ("a file removed", lambda w: (w.out / "docs" / "racks" / "r05.md").unlink(), (), 1),
    ("a file the tool does not know", lambda w: (w.out / "notes.txt").write_text("mine\n"),
     (), 0),
    ("a damaged cache", lambda w: (w.out / DIR / "units.json").write_text("{\"format\": 1,"),
     (), ALL),
    ("a cache of the wrong shape", lambda w: _reshape_cache(w.out / DIR / "units.json"), (), ALL),
]


def test_incremental_render_equals_a_cold_one(world: World) -> None:
    first = world.render(world.out)
    assert first["units_rendered"] == 6 + CORES + 1 and first["units_reused"] == 0
    ignore = (world.out / DIR / ".gitignore").read_text()
    assert ignore.splitlines()[-1] == "*"
    for i, (what, change, flags, expected) in enumerate(STEPS):
        change(world)
        warm = world.render(world.out, *flags)
        cold_dir = world.tmp / f"cold{i}"
        cold = world.render(cold_dir, *flags)
        assert not cold["changes"], f"{what}: the warm render left the state to change"
        got, want = tree(world.out), tree(cold_dir)
        if "notes.txt" in got:              # not the tool's: left alone
            want["notes.txt"] = b"mine\n"
        assert got == want, f"{what}: the warm tree is not the cold one"
        if expected is not None:
            wanted = cold["units_rendered"] if expected == ALL else expected
            assert warm["units_rendered"] == wanted, f"{what}: {warm}"
        assert cold["units_rendered"] > 0 and cold["units_reused"] == 0
        check = world.render(world.out, "--check", *flags)
        assert check["ok"] and check["units_rendered"] == 0, f"{what}: {check}"
