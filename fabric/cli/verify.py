"""`fabric verify`: every session and route proven from both ends, in the lab."""

from __future__ import annotations

import argparse
import time

from fabric.cli.common import EXIT_CHECK_FAILED, EXIT_OK, Parents, Subparsers, emit, lab_intent


def add(sub: Subparsers, parents: Parents) -> None:
    ver = sub.add_parser("verify", parents=[parents.common, parents.model],
                         help="prove every session and route from both ends")
    ver.add_argument("--target", choices=["lab"], default="lab",
                     help="where to apply/verify (the local lab)")
    ver.add_argument("--wait", type=float, default=0,
                     help="retry for up to this many seconds until every check passes")
    ver.add_argument("--dataplane", action="store_true",
                     help="also ping pod to pod (same rack, other rack) and every VIP")
    ver.add_argument("--all", action="store_true", help="list passing checks too")
    ver.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fabric.lab import dataplane
    from fabric.lab.lab import require_up
    from fabric.lab.layout import plan_lab
    from fabric.lab.observe import collector
    from fabric.verify import check as verify

    intent = lab_intent(args)
    plan = plan_lab(intent)
    require_up(plan)
    t0 = time.monotonic()
    results = verify.verify(intent, collector(plan), wait=args.wait)
    if args.dataplane and all(r.ok for r in results):
        deadline = time.monotonic() + max(args.wait - (time.monotonic() - t0), 0)
        while True:
            probes = dataplane.check(intent, plan)
            if all(r.ok for r in probes) or time.monotonic() >= deadline:
                break
            time.sleep(1)
        results += probes
    ok = all(r.ok for r in results)
    text = verify.table(results, failures_only=not args.all) if not ok or args.all else ""
    text += ("\n" if text else "") + verify.summary(results) + \
        f" ({time.monotonic() - t0:.1f}s)"
    emit(args, {"ok": ok, "results": [r.as_dict() for r in results],
                "seconds": round(time.monotonic() - t0, 2)}, text, chatter=ok)
    return EXIT_OK if ok else EXIT_CHECK_FAILED
