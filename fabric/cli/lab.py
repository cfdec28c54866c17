"""`fabric lab up | down | status`: the fabric in network namespaces on this host."""

from __future__ import annotations

import argparse
import time

from fabric.cli.common import EXIT_OK, Parents, Subparsers, emit, lab_intent


def add(sub: Subparsers, parents: Parents) -> None:
    lab_p = sub.add_parser("lab", help="the local lab: the fabric in network namespaces")
    lab_sub = lab_p.add_subparsers(dest="lab_command", required=True)
    for name, text in (("up", "build the lab and start its switches"),
                       ("down", "remove every namespace, process and file of the lab"),
                       ("status", "devices, processes and session counts")):
        lab_sub.add_parser(name, parents=[parents.common, parents.model],
                           help=text).set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fabric.lab import lab

    intent = lab_intent(args)
    if args.lab_command == "up":
        t0 = time.monotonic()
        res = lab.up(intent)
        verb = "built" if res.created else "already up"
        emit(args, {"ok": True, "created": res.created, "started": res.started,
                    "namespaces": res.plan.namespaces},
             f"lab {intent.fabric}: {verb}: {len(res.plan.namespaces)} namespaces, "
             f"{len(res.plan.veths)} links, {len(res.started)} FRR instances started "
             f"({time.monotonic() - t0:.1f}s)")
    elif args.lab_command == "down":
        removed = lab.down(intent.fabric)
        emit(args, {"ok": True, "removed": removed},
             f"lab {intent.fabric}: removed {len(removed)} namespaces")
    else:
        rows = lab.status(intent)
        text = "\n".join(
            f"{r['device']:<16} {r['role']:<10} {r['speaker']:<6} "
            f"{'ns' if r['namespace'] else 'no-ns':<6} "
            f"{'running' if r['running'] else 'stopped':<8} "
            f"{r['established']}/{r['neighbors']} established"
            + (f"  ({r['error']})" if r.get("error") else "") for r in rows)
        emit(args, {"devices": rows}, text, chatter=False)
    return EXIT_OK
