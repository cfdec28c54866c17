"""Benchmark: `plan` and the staged `apply` against N simulated switches of one
platform (default H3C Comware V7).

    .venv/bin/python benchmarks/bench_switches.py [N ...] [--concurrency 1,8,32]
                                                  [--platform P]  (default 10 50 200)

For each N (2 cores + N-2 ToRs) and each concurrency 1, 8, 32: wall time to plan
every switch on empty devices, and to roll the config out to all of them
(canary, batches, cores; commit with a confirm timer, verify, confirm). The
simulators run in this process (paramiko server threads), so the numbers include
their CPU time on the same 2 cores.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from switch_kinds import SWITCH_KINDS, SwitchKind

from fabric import pipeline
from fabric.deploy import plan, rollout, targets
from fabric.deploy.credentials import Credentials, CredentialStore
from fabric.model.starter import starter_model


def run(kind: SwitchKind, n: int, concurrency: int, tmp: Path) -> tuple[float, float]:
    model = tmp / f"fabric-{n}.yaml"
    model.write_text(starter_model(n - 2, 1, platform=kind.platform, name=f"bench{n}"))
    intent = pipeline.build(model).intent
    switches = [d for d, dev in intent.devices.items() if dev.is_switch]
    sims = {d: kind.start(d, "bench", "bench-pw", real_time=True) for d in switches}
    try:
        known = tmp / f"known-{n}-{concurrency}"
        known.write_text("".join(s.known_hosts_line() + "\n" for s in sims.values()))
        target = targets.device_target(intent, CredentialStore(Credentials("bench", "bench-pw")),
                                       {d: (s.host, s.port) for d, s in sims.items()}, known)
        t0 = time.perf_counter()
        plans = plan.plan(target, switches, concurrency)
        t_plan = time.perf_counter() - t0
        assert all(p.ok and p.diff for p in plans), [p.error for p in plans if not p.ok][:3]
        t0 = time.perf_counter()
        report = rollout.rollout(intent, target, switches, tmp / f"lock-{n}-{concurrency}",
                                 concurrency=concurrency, confirm_timer=600, verify_wait=30)
        t_apply = time.perf_counter() - t0
        assert report.ok, report.as_dict()
    finally:
        for s in sims.values():
            s.stop()
    return t_plan, t_apply


def main(argv: list[str]) -> None:
    levels = (1, 8, 32)
    platform = "h3c_comware"
    if "--platform" in argv:
        i = argv.index("--platform")
        platform = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if "--concurrency" in argv:
        i = argv.index("--concurrency")
        levels = tuple(int(c) for c in argv[i + 1].split(","))
        argv = argv[:i] + argv[i + 2:]
    sizes = [int(a) for a in argv] or [10, 50, 200]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["FABRIC_BACKUP_DIR"] = str(tmp / "backups")
        rollout.BACKUP_ROOT = tmp / "backups"
        print("| platform | switches | concurrency | plan | apply (staged, confirmed) |")
        print("|---|---|---|---|---|")
        for n in sizes:
            for c in levels:
                t_plan, t_apply = run(SWITCH_KINDS[platform], n, c, tmp)
                print(f"| {platform} | {n} | {c} | {t_plan:.1f} s | {t_apply:.1f} s |",
                      flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
