"""Benchmark: the lab on generated fabrics; prints one row per size.

    sudo .venv/bin/python benchmarks/bench_lab.py [RACKSxNODES ...]   (default 2x4 4x8 8x8)

Columns: speakers (switches + nodes), seconds for `lab up`, for `apply`, from
the end of apply until every session is Established on both ends, for one full
`verify` (control plane), and the mean resident memory of a GoBGP node speaker
and of an FRR switch (zebra + bgpd).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from fabric import pipeline
from fabric.lab import lab
from fabric.lab.deploy import apply_lab
from fabric.lab.lab import frr_instance, gobgp_service
from fabric.lab.layout import plan_lab
from fabric.lab.observe import collector
from fabric.model.starter import starter_model
from fabric.verify import check as verify


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(racks: int, nodes: int) -> dict[str, float]:
    name = f"bench{racks}x{nodes}"
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "fabric.yaml"
        model.write_text(starter_model(racks, nodes, name=name))
        intent = pipeline.build(model).intent
        plan = plan_lab(intent)
        lab.down(name)
        try:
            t0 = time.perf_counter()
            lab.up(intent)
            t_up = time.perf_counter() - t0
            t0 = time.perf_counter()
            failed = [r for r in apply_lab(intent) if not r.ok]
            t_apply = time.perf_counter() - t0
            assert not failed, failed
            t0 = time.perf_counter()
            coll = collector(plan)
            while True:
                sessions = [r for r in verify.evaluate(intent, verify.collect(intent, coll))
                            if r.check == "session"]
                if all(r.ok for r in sessions):
                    break
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError("sessions not Established after 120 s")
                time.sleep(0.2)
            t_est = time.perf_counter() - t0
            t0 = time.perf_counter()
            results = verify.verify(intent, coll, wait=60)
            t_verify = time.perf_counter() - t0
            assert all(r.ok for r in results), [r for r in results if not r.ok][:5]
            nodes_rss = [rss_mb(gobgp_service(plan, s.device).pid())
                         for s in plan.speakers if s.kind == "gobgp"]
            sw_rss = [rss_mb(frr_instance(plan, s.device).pid("bgpd")) +
                      rss_mb(frr_instance(plan, s.device).pid("zebra"))
                      for s in plan.speakers if s.kind == "frr"]
        finally:
            lab.down(name)
    return {"speakers": len(plan.speakers), "up": t_up, "apply": t_apply,
            "established": t_est, "verify": t_verify,
            "node_mb": sum(nodes_rss) / len(nodes_rss), "switch_mb": sum(sw_rss) / len(sw_rss)}


def main(argv: list[str]) -> None:
    sizes = [tuple(map(int, a.split("x"))) for a in argv] or [(2, 4), (4, 8), (8, 8)]
    print("| racks×nodes | speakers | lab up | apply | all Established after apply "
          "| verify | up+apply+verify | GoBGP node RSS | FRR switch RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for racks, nodes in sizes:
        r = run(racks, nodes)
        total = r["up"] + r["apply"] + r["established"] + r["verify"]
        print(f"| {racks}×{nodes} | {r['speakers']} | {r['up']:.1f} s | {r['apply']:.1f} s "
              f"| {r['established']:.1f} s | {r['verify']:.1f} s | {total:.1f} s "
              f"| {r['node_mb']:.0f} MB | {r['switch_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
