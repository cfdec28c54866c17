"""Benchmark: the fabric at scale, cold and warm; prints seconds and memory.

    python benchmarks/bench_scale.py [--profile] [RACKSxNODES ...]
                                         (default 100x40 500x40 2000x40)

It works in `.bench/` of the checkout (ignored by git), not in /tmp: on this
project's machine /tmp creates files 15x slower than the checkout's disk.

Per size, on a `fabric init --platform mixed` model:
- stages: each pipeline stage in one process (the high-water RSS after each),
  with `--profile` the functions that took the most time in each;
- floor: the same number of files, of the same mean size, rendered by plain
  Jinja2 from one template and written with open/write, in one process;
- cold: `fabric render` on an empty tree, as a user runs it (a new process,
  with its peak memory), and its ratio to the floor;
- warm: `fabric render --check` with nothing changed, `fabric validate`, a
  one-rack change (a node added to the middle rack) followed by `fabric render`,
  and `fabric render --check` again without the render's cache (as on a fresh
  clone of a committed tree, where every file is read and compared).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import jinja2

from fabric.intent.build import build_intent
from fabric.ipam.allocate import allocate
from fabric.ipam.state import dump_state, load_state, write_state
from fabric.model.load import load_model
from fabric.model.starter import SUBNETS
from fabric.render import write as output
from fabric.render.cache import DIR as CACHE
from fabric.render.engine import render_all

T = TypeVar("T")
FABRIC = [sys.executable, "-m", "fabric.cli"]
STAGES = ("load+validate", "state load", "allocate", "state dump", "intent", "render", "write")


def lap(times: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    """fn(), its seconds recorded as times[name]."""
    start = time.perf_counter()
    value = fn()
    times[name] = time.perf_counter() - start
    return value


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stages(model_file: Path, out: Path, profile: bool) -> tuple[dict[str, float],
                                                                 dict[str, float], int, int]:
    """Each stage's seconds and the RSS high-water after it; files and bytes."""
    t: dict[str, float] = {}
    rss: dict[str, float] = {}
    state_dir = out / "state"

    def step(name: str, fn):  # type: ignore[no-untyped-def]
        prof = cProfile.Profile() if profile else None
        value = lap(t, name, (lambda: prof.runcall(fn)) if prof else fn)
        rss[name] = _rss_mb()
        if prof:
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(8)
            body = text.getvalue()
            print(f"--- profile: {name}\n" + body[body.find("ncalls"):], flush=True)
        return value

    model = step("load+validate", lambda: load_model(model_file))
    stored = step("state load", lambda: load_state(state_dir))
    alloc = step("allocate", lambda: allocate(model, stored))
    state_text = step("state dump", lambda: dump_state(model, alloc.state))
    intent = step("intent", lambda: build_intent(model, alloc))
    files = step("render", lambda: render_all(intent))
    step("write", lambda: (write_state(state_dir, state_text),
                           output.write(out / "build", files)))
    return t, rss, len(files), sum(len(v) for v in files.values())


def floor(count: int, size: int, out: Path) -> float:
    """Plain Jinja2 and plain writes of `count` files of `size` characters."""
    template = jinja2.Environment().from_string(
        "{% for i in range(lines) %}line {{ i }} of {{ name }}\n{% endfor %}")
    lines = max(1, size // 24)
    start = time.perf_counter()
    for i in range(count):
        d = out / f"d{i // 1000}"
        if i % 1000 == 0:
            d.mkdir(parents=True)
        with open(d / f"f{i}", "w") as f:
            f.write(template.render(lines=lines, name=f"device{i:06d}"))
    return time.perf_counter() - start


def cli(*args: str, cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak memory MB, exit code) of one `fabric` command in a new process.

    The peak is the largest memory of the command and its render workers, read
    every 50 ms while it runs (PSS: a page forked workers share counts once); a
    child's ru_maxrss would start at this benchmark's own size."""
    start = time.perf_counter()
    proc = subprocess.Popen([*FABRIC, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_pss_mb(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"fabric {' '.join(args)} failed ({proc.returncode}):\n{err}")
    return seconds, peak, proc.returncode


def _tree_pss_mb(pid: int) -> float:
    """The PSS of `pid` and its children (render workers), in MB."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in rollup.splitlines()
                       if line.startswith("Pss:")), 0) / 1024
    return total


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def add_node(model_file: Path, racks: int) -> None:
    """One node more in the middle rack: the common change of a pull request."""
    text = model_file.read_text()
    width = max(2, len(str(racks)))
    rack = f"r{racks // 2 + 1:0{width}d}"
    at = text.index(f"  - name: {rack}\n")
    nodes = text.index("    nodes:\n", at) + len("    nodes:\n")
    line = f"      - {{name: {rack}-extra, ip: {SUBNETS + (racks // 2) * 256 + 250}}}\n"
    model_file.write_text(text[:nodes] + line + text[nodes:])


SCRATCH = Path(__file__).resolve().parent.parent / ".bench"


def run(racks: int, nodes: int, profile: bool) -> None:
    SCRATCH.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        root = Path(tmp)
        cold_dir, staged = root / "cold", root / "staged"
        cold_dir.mkdir()
        cli("init", "--racks", str(racks), "--nodes-per-rack", str(nodes), "--platform",
            "mixed", "--out", "fabric.yaml", cwd=cold_dir)
        staged.mkdir()
        shutil.copy(cold_dir / "fabric.yaml", staged / "fabric.yaml")
        t, rss, files, size = stages(staged / "fabric.yaml", staged, profile)
        shutil.rmtree(staged)
        print(f"\n{racks}×{nodes}: {racks * nodes + racks + 2:,} devices, {files:,} files, "
              f"{size / 1e6:.0f} MB")
        for name in STAGES:
            print(f"  {name:<14} {t[name]:7.2f} s   RSS high-water {rss[name]:6.0f} MB")
        print(f"  {'stages total':<14} {sum(t.values()):7.2f} s")
        base = floor(files, size // files, root / "floor")
        shutil.rmtree(root / "floor")
        cold, cold_rss, _ = cli("render", "fabric.yaml", "--out", "build", cwd=cold_dir)
        check, check_rss, code = cli("render", "fabric.yaml", "--check", "--out", "build",
                                     cwd=cold_dir)
        assert code == 0, "an unchanged tree must be current"
        validate, validate_rss, _ = cli("validate", "fabric.yaml", cwd=cold_dir)
        add_node(cold_dir / "fabric.yaml", racks)
        change, change_rss, _ = cli("render", "fabric.yaml", "--out", "build", cwd=cold_dir)
        shutil.rmtree(cold_dir / "build" / CACHE)     # a fresh clone of a committed tree
        uncached, uncached_rss, code = cli("render", "fabric.yaml", "--check", "--out", "build",
                                           cwd=cold_dir)
        assert code == 0, "the tree just rendered must be current"
        devices = racks * nodes + racks + 2
        print(f"  floor ({files:,} files)  {base:7.2f} s")
        print(f"  cold render    {cold:7.2f} s   peak memory {cold_rss:6.0f} MB   "
              f"{cold / base:.2f}× the floor   {cold / devices * 1e6:.0f} µs per device")
        print(f"  render --check {check:7.2f} s   peak memory {check_rss:6.0f} MB "
              "(nothing changed)")
        print(f"  validate       {validate:7.2f} s   peak memory {validate_rss:6.0f} MB")
        print(f"  one-rack change {change:6.2f} s   peak memory {change_rss:6.0f} MB "
              "(a node added, then `fabric render`)")
        print(f"  render --check {uncached:7.2f} s   peak memory {uncached_rss:6.0f} MB "
              "(nothing changed, no cache: a fresh clone)", flush=True)


def main(argv: list[str]) -> None:
    profile = "--profile" in argv
    sizes = [tuple(map(int, a.split("x"))) for a in argv if a != "--profile"]
    for racks, nodes in sizes or [(100, 40), (500, 40), (2000, 40)]:
        run(racks, nodes, profile)


if __name__ == "__main__":
    main(sys.argv[1:])
