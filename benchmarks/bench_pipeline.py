"""Benchmark: the whole pipeline on generated fabrics; prints seconds per stage.

    python benchmarks/bench_pipeline.py [RACKSxNODES ...]    (default 100x20 500x20 2000x20)

Stages: load+validate the model, allocate (empty state, then again from the
stored state), build the intent, render every file in memory, write build/
(first time), and check build/ (the common CI case: nothing changed).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fabric.intent.build import build_intent
from fabric.ipam.allocate import allocate
from fabric.ipam.state import dump_state, load_state, write_state
from fabric.model.load import load_model
from fabric.model.starter import starter_model
from fabric.render import write as output
from fabric.render.engine import render_all

T = TypeVar("T")


def lap(times: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    """fn(), its seconds recorded as times[name]."""
    start = time.perf_counter()
    value = fn()
    times[name] = time.perf_counter() - start
    return value


def run(racks: int, nodes: int) -> dict[str, float]:
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "fabric.yaml"
        model_file.write_text(starter_model(racks, nodes))
        state_dir = Path(tmp) / "state"
        model = lap(t, "load", lambda: load_model(model_file))
        alloc = lap(t, "allocate", lambda: allocate(model, load_state(state_dir)))
        write_state(state_dir, dump_state(model, alloc.state))
        alloc = lap(t, "reallocate", lambda: allocate(model, load_state(state_dir)))
        intent = lap(t, "intent", lambda: build_intent(model, alloc))
        files = lap(t, "render", lambda: render_all(intent))
        lap(t, "write", lambda: output.write(Path(tmp) / "build", files))
        lap(t, "check", lambda: output.check(Path(tmp) / "build", files))
        t["files"] = len(files)
    return t


def main(argv: list[str]) -> None:
    sizes = [tuple(map(int, a.split("x"))) for a in argv] or [(100, 20), (500, 20), (2000, 20)]
    cols = ("load", "allocate", "reallocate", "intent", "render", "write", "check")
    print(f"{'racks×nodes':>12} {'nodes':>6} {'files':>7} " + " ".join(f"{c:>10}" for c in cols)
          + f" {'total*':>8} {'maxrss MB':>10}")
    for racks, nodes in sizes:
        t = run(racks, nodes)
        total = sum(t[c] for c in cols if c not in ("write", "reallocate"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{racks:>7}×{nodes:<4} {racks * nodes:>6} {int(t['files']):>7} "
              + " ".join(f"{t[c]:>9.2f}s" for c in cols) + f" {total:>7.2f}s {rss:>10.0f}")
    print("* total = load + allocate + intent + render + check: a re-render with nothing to write")


if __name__ == "__main__":
    main(sys.argv[1:])
