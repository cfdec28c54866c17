"""`fabric plan`: what apply would change on each switch."""

from __future__ import annotations

import argparse
import sys

from fabric.cli import devices
from fabric.cli.common import EXIT_CHANGES, EXIT_CHECK_FAILED, EXIT_OK, Parents, Subparsers, emit


def add(sub: Subparsers, parents: Parents) -> None:
    pl = sub.add_parser("plan", parents=[parents.common, parents.model, devices.arguments()],
                        help="what apply would change on each switch (and, on the lab, node)",
                        epilog="exit codes: 0 no changes, 3 changes pending, 1 a device failed, "
                               "2 bad input")
    pl.add_argument("--target", choices=["lab", "devices"], default="devices")
    pl.add_argument("--concurrency", type=int, default=8)
    pl.add_argument("--markdown", action="store_true", help="a PR comment")
    pl.add_argument("--no-color", action="store_true")
    pl.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Also `apply --dry-run`."""
    from fabric import pipeline
    from fabric.deploy import plan

    intent = pipeline.build(args.model, args.state).intent
    switches = devices.switches(intent, args)
    plans = plan.plan(devices.target(intent, args, switches), switches, args.concurrency)
    if args.target == "lab" and not args.device:
        # The lab's nodes too (on devices they come with the node rollout).
        from fabric.lab.deploy import plan_nodes
        nodes = [n for n, d in intent.devices.items() if d.is_node
                 and (not args.rack or d.rack in args.rack)]
        plans = sorted(plans + plan_nodes(intent, nodes, args.concurrency),
                       key=lambda p: p.device)
    ok, changes = all(p.ok for p in plans), any(p.diff for p in plans)
    if args.markdown:
        sys.stdout.write(plan.markdown(plans, intent.fabric))
    else:
        emit(args, {"ok": ok, "summary": plan.summary(plans),
                    "devices": [p.as_dict() for p in plans]},
             plan.text(plans, color=sys.stdout.isatty() and not args.no_color),
             chatter=ok and not changes)
    if not ok:
        return EXIT_CHECK_FAILED
    return EXIT_CHANGES if changes else EXIT_OK
