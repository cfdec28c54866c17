"""Benchmark: `fabric ipam rebalance` on a `fabric init` fabric with a usage file
(`kubectl get ciliumnodes -o json`) for every node; prints seconds per stage.

    python benchmarks/bench_rebalance.py [RACKSxNODES ...]    (default 2000x40)

Usage is random but fixed (seed 1): a node uses 0–64 addresses of its block, so
some are short (they grow) and some blocks are empty. Stages: read the usage
file, load and validate the model, load the state, decide, allocate from the
decided state and dump it. `decision` is their sum: what `fabric ipam rebalance
--dry-run` does, and what happens before the re-render (the re-render of a
changed fabric costs what `fabric render` does, see bench_scale.py).
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
from datetime import UTC, datetime
from ipaddress import IPv4Network
from pathlib import Path

from bench_scale import lap

from fabric.ipam.allocate import allocate
from fabric.ipam.rebalance import rebalance
from fabric.ipam.state import dump_state, load_state, write_state
from fabric.ipam.usage import read_usage
from fabric.model.load import load_model
from fabric.model.starter import starter_model

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def usage_file(path: Path, blocks: dict[str, list[str]]) -> int:
    rng = random.Random(1)
    items = []
    for node, held in blocks.items():
        hosts = _hosts(held[0])
        used = {a: {"owner": f"default/{node}-pod-{i}"}
                for i, a in enumerate(hosts[:rng.randint(0, len(hosts))])}
        items.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
                      "metadata": {"name": node, "resourceVersion": "1"},
                      "spec": {"ipam": {"pool": {a: {} for b in held for a in _hosts(b)}}},
                      "status": {"ipam": {"used": used}}})
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return sum(len(i["status"]["ipam"]["used"]) for i in items)


def _hosts(block: str) -> list[str]:
    return [str(a) for a in IPv4Network(block)]


def run(racks: int, nodes: int) -> dict[str, float]:
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "fabric.yaml"
        model_file.write_text(starter_model(racks, nodes))
        state_dir = Path(tmp) / "state"
        model = load_model(model_file)
        alloc = allocate(model, load_state(state_dir))
        write_state(state_dir, dump_state(model, alloc.state))
        usage = Path(tmp) / "usage.json"
        t["addresses"] = usage_file(usage, alloc.state["node_blocks"])
        t["MB"] = usage.stat().st_size / 1e6
        used = lap(t, "usage", lambda: read_usage(usage))
        model = lap(t, "load", lambda: load_model(model_file))
        stored = lap(t, "state", lambda: load_state(state_dir))
        plan = lap(t, "decide", lambda: rebalance(model, stored, used, NOW))
        lap(t, "allocate+dump", lambda: dump_state(model, allocate(model, plan.stored).state))
        t["steps"] = len(plan.steps)
    return t


def main(argv: list[str]) -> None:
    sizes = [tuple(map(int, a.split("x"))) for a in argv] or [(2000, 40)]
    cols = ("usage", "load", "state", "decide", "allocate+dump")
    print(f"{'racks×nodes':>12} {'nodes':>6} {'usage MB':>8} {'in use':>8} {'steps':>6} "
          + " ".join(f"{c:>13}" for c in cols) + f" {'decision':>9} {'maxrss MB':>10}")
    for racks, nodes in sizes:
        t = run(racks, nodes)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{racks:>7}×{nodes:<4} {racks * nodes:>6} {t['MB']:>8.0f} "
              f"{int(t['addresses']):>8} {int(t['steps']):>6} "
              + " ".join(f"{t[c]:>12.2f}s" for c in cols)
              + f" {sum(t[c] for c in cols):>8.2f}s {rss:>10.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
