"""`fabric apply`: push the lab's devices, or roll out to the real switches."""

from __future__ import annotations

import argparse
import time
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from fabric.cli import devices, plan
from fabric.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Parents,
    Subparsers,
    drop_output,
    emit,
    lab_intent,
)

if TYPE_CHECKING:
    from fabric.deploy.outcome import DeviceOutcome


def add(sub: Subparsers, parents: Parents) -> None:
    a = sub.add_parser("apply", parents=[parents.common, parents.model, devices.arguments()],
                       help="push every device",
                       epilog="exit codes: 0 ok, 1 a device failed (rolled back, rollout "
                              "stopped), 2 bad input")
    a.add_argument("--target", choices=["lab", "devices"], default="lab",
                   help="the local lab, or the real switches (staged, confirmed)")
    a.add_argument("--concurrency", type=int, default=8, help="devices pushed at once")
    a.add_argument("--canary", help="the first switch to change (default: first rack's ToR)")
    a.add_argument("--confirm-timer", type=int, default=300,
                   help="seconds a device waits for confirmation before it rolls back")
    a.add_argument("--verify-wait", type=float, default=60,
                   help="seconds to wait for a changed device's sessions")
    a.add_argument("--lock", type=FsPath, help="apply lock (default beside the model)")
    a.add_argument("--dry-run", action="store_true", help="plan only")
    # --dry-run runs `plan`, which reads these.
    a.add_argument("--markdown", action="store_true", help=argparse.SUPPRESS)
    a.add_argument("--no-color", action="store_true", help=argparse.SUPPRESS)
    a.set_defaults(func=run)


def _progress(line: str) -> None:
    """A progress line of a push; a closed output pipe must not stop a rollout
    half-way, so the rest of the output is dropped and the push goes on."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        drop_output()


def run(args: argparse.Namespace) -> int:
    if args.dry_run:
        return plan.run(args)
    if args.target == "devices":
        return _apply_devices(args)
    from fabric.lab.deploy import apply_lab

    intent = lab_intent(args)
    t0 = time.monotonic()

    def progress(done: int, total: int, r: DeviceOutcome) -> None:
        if not args.json and not (args.quiet and r.ok):
            mark = "ok " if r.ok else "FAIL"
            extra = f" ({r.detail})" if r.detail else ""
            _progress(f"[{done:>{len(str(total))}}/{total}] {mark} {r.device}: "
                      f"{r.status}{extra}")

    results = apply_lab(intent, args.concurrency, progress)
    failed = [r for r in results if not r.ok]
    emit(args, {"ok": not failed, "results": [r.as_dict() for r in results],
                "seconds": round(time.monotonic() - t0, 2)},
         f"apply: {len(results) - len(failed)} ok, {len(failed)} failed "
         f"({time.monotonic() - t0:.1f}s)", chatter=not failed)
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def _apply_devices(args: argparse.Namespace) -> int:
    from fabric import pipeline
    from fabric.deploy import rollout
    from fabric.deploy.outcome import Status

    intent = pipeline.build(args.model, args.state).intent
    switches = devices.switches(intent, args)
    target = devices.target(intent, args, switches)
    lock = args.lock or args.model.parent / ".fabric-apply.lock"

    def progress(o: DeviceOutcome) -> None:
        ok = o.status in (Status.APPLIED, Status.UNCHANGED)
        if not args.json and not (args.quiet and ok):
            _progress(f"[{o.stage}] {'ok ' if ok else 'FAIL'} {o.device}: {o.status}"
                      + (f" ({o.detail})" if o.detail else ""))

    report = rollout.rollout(intent, target, switches, lock,
                             canary=args.canary, concurrency=args.concurrency,
                             confirm_timer=args.confirm_timer, verify_wait=args.verify_wait,
                             progress=progress)
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if report.stopped_at:
        text += f"; rollout stopped at stage {report.stopped_at}"
    for device, problem in sorted(report.sessions_down.items()):
        text += f"\n{device}: applied, but {problem}"
    for device, peers in sorted(report.awaiting_nodes.items()):
        text += (f"\n{device}: new node key; {', '.join(peers)} come back once the nodes "
                 "have it (apply them next)")
    emit(args, report.as_dict(), f"apply: {text}", chatter=report.ok and not report.awaiting_nodes)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED
