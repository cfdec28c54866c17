"""The package as a user installs it: a wheel built from this checkout, installed
into a fresh virtual environment outside the checkout, renders the example exactly
as the committed build/ holds it; and building the wheel writes nothing into build/."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLE, ROOT, tree

pytestmark = [pytest.mark.unit, pytest.mark.slow]


def tree_digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in tree(folder).items()}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.defpath
    return env


def test_wheel_in_a_fresh_venv_renders_the_example_byte_identical(tmp_path):
    before = tree_digest(ROOT / "build")
    # setuptools' own build directory (.build/, gitignored) is a cache it never
    # clears: a module moved away in the checkout would still ship from it.
    shutil.rmtree(ROOT / ".build", ignore_errors=True)
    dist = tmp_path / "dist"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                          "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert tree_digest(ROOT / "build") == before, "building the wheel wrote into build/"
    wheel = next(dist.glob("bgp_fabric-*.whl"))

    # Every module and template of the checkout is in the wheel.
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "fabric", "templates", "napalm_fabric_*"],
                             capture_output=True, text=True, cwd=ROOT).stdout.split()
    want = {("fabric/" + t if t.startswith("templates/") else t) for t in tracked}
    assert want - names == set()
    # ... and nothing else.
    shipped = {n for n in names if n.endswith((".py", ".j2", ".yml", ".json"))
               and not n.startswith(("bgp_fabric-", "fabric/platforms/gobgp/_generated/"))}
    assert shipped - want == set()

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    run = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(wheel)], capture_output=True, text=True, cwd=tmp_path, env=_env())
    assert run.returncode == 0, run.stderr[-3000:]

    work = tmp_path / "user"
    (work / "state").mkdir(parents=True)
    shutil.copy(EXAMPLE, work / "fabric.yaml")
    shutil.copy(EXAMPLE.parent / "state" / "ipam.yaml", work / "state" / "ipam.yaml")
    where = subprocess.run([str(py), "-c", "import fabric; print(fabric.__file__)"],
                           capture_output=True, text=True, cwd=work, env=_env())
    assert Path(where.stdout.strip()).is_relative_to(env_dir), where.stdout + where.stderr
    run = subprocess.run([str(env_dir / "bin" / "fabric"), "render", "fabric.yaml",
                          "--out", "build"], capture_output=True, text=True, cwd=work,
                         env=_env())
    assert run.returncode == 0, run.stdout + run.stderr
    assert tree_digest(work / "build") == tree_digest(ROOT / "build")
