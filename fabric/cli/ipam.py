"""`fabric ipam show | rename | rebalance`: the allocations, carrying them to a new
name, and node blocks that follow Cilium's usage."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path as FsPath

from fabric.cli.common import (
    EXIT_OK,
    Parents,
    Subparsers,
    absolute,
    bad_argument,
    emit,
    model_arguments,
    state_dir,
)


def add(sub: Subparsers, parents: Parents) -> None:
    ipam = sub.add_parser("ipam", help="IPAM allocations")
    ipam_sub = ipam.add_subparsers(dest="ipam_command", required=True)
    show_p = ipam_sub.add_parser("show", parents=[parents.common, parents.model],
                                 help="print the allocations")
    show_p.set_defaults(func=show)
    ren = ipam_sub.add_parser("rename", parents=[parents.common],
                              help="carry a rack's, node's or switch's allocations to a new name")
    ren.add_argument("kind", choices=["rack", "node", "switch"])
    ren.add_argument("old", metavar="OLD")
    ren.add_argument("new", metavar="NEW")
    model_arguments(ren)            # after KIND OLD NEW, so not through `parents`
    ren.set_defaults(func=rename)
    reb = ipam_sub.add_parser(
        "rebalance", parents=[parents.common, parents.model],
        help="grow and release node blocks from Cilium's usage (pools.pod.rebalance)")
    reb.add_argument("--usage", type=FsPath, required=True, metavar="FILE",
                     help="`kubectl get ciliumnodes -o json`")
    reb.add_argument("--now", metavar="TIME",
                     help="the time to decide at, ISO 8601 with a zone (default: now)")
    reb.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    reb.add_argument("--out", type=FsPath, default=FsPath("build"),
                     help="output directory to re-render (default build)")
    reb.set_defaults(func=rebalance)
    ctl = ipam_sub.add_parser(
        "controller", parents=[parents.common, parents.model],
        help="rebalance in a loop against a live cluster (watch CiliumNodes, patch pools)")
    ctl.add_argument("--out", type=FsPath, default=FsPath("build"),
                     help="output directory kept rendered (default build)")
    ctl.add_argument("--kubeconfig", type=FsPath, default=None,
                     help="kubeconfig file (default: in-cluster, else ~/.kube/config)")
    ctl.add_argument("--context", default=None, help="kubeconfig context")
    ctl.add_argument("--on-change", metavar="CMD", default=None,
                     help="shell command run after the state and build change, before any "
                          "pool does (say `fabric apply`); pools wait while it fails")
    ctl.add_argument("--resync", type=int, default=60, metavar="SECONDS",
                     help="decide again at least this often (default 60)")
    ctl.set_defaults(func=controller)


def rename(args: argparse.Namespace) -> int:
    from fabric.ipam.moves import rename_in_state
    from fabric.model.load import load_model

    done = rename_in_state(state_dir(args), load_model(args.model), args.kind, args.old,
                           args.new)
    done.state_file = absolute(done.state_file)
    emit(args, done.as_dict(), done.text())
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    from fabric.ipam.allocate import allocate
    from fabric.ipam.report import ipam_rows, ipam_text
    from fabric.ipam.state import load_state
    from fabric.model.load import load_model

    model = load_model(args.model)
    alloc = allocate(model, load_state(state_dir(args)))
    rows = ipam_rows(model, alloc)
    emit(args, {"allocations": rows, "pending": alloc.changes,
                "reserved": alloc.reserved}, ipam_text(rows, alloc), chatter=False)
    return EXIT_OK


def _now(args: argparse.Namespace) -> datetime:
    if args.now is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(args.now)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise bad_argument(args, "--now", f"expected an ISO 8601 time with a zone, such as "
                                          f"2026-12-01T12:00:00Z, found {args.now!r}")
    return when


def rebalance(args: argparse.Namespace) -> int:
    from fabric import pipeline
    from fabric.ipam.state import STATE_FILE, write_state
    from fabric.ipam.usage import read_usage
    from fabric.render.incremental import render_tree

    now = _now(args)
    plan, result = pipeline.rebalance(args.model, state_dir(args), read_usage(args.usage), now)
    state_file = absolute(state_dir(args) / STATE_FILE)
    changed = not state_file.exists() or state_file.read_text() != result.state_text
    lines = [s.line() for s in plan.steps] or ["no block to grow or release"]
    lines += [f"note: {n}" for n in plan.notes]
    data = {"now": now.isoformat(), "steps": [s.as_dict() for s in plan.steps],
            "notes": plan.notes, "state_file": str(state_file), "dry_run": args.dry_run,
            "state_changed": changed and not args.dry_run}
    if args.dry_run or not changed:
        lines.append(f"state {state_file} {'would change' if changed else 'unchanged'}"
                     f"{' (dry run)' if args.dry_run else ''}")
        emit(args, data, "\n".join(lines))
        return EXIT_OK
    # The build first, the state last: a build that cannot be written leaves the
    # state as it was, so the next run makes the same decision and writes both.
    rep = render_tree(absolute(args.out), result.intent).report
    write_state(state_dir(args), result.state_text)
    lines.append(f"state {state_file} updated; {absolute(args.out)}: {len(rep.written)} "
                 f"written, {len(rep.removed)} removed")
    data |= {"written": rep.written, "removed": rep.removed, "out": str(absolute(args.out))}
    emit(args, data, "\n".join(lines))
    return EXIT_OK


def controller(args: argparse.Namespace) -> int:
    import logging
    import threading

    from kubernetes import client, config

    from fabric.controller import Controller

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")
    if args.kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()
    else:
        config.load_kube_config(config_file=str(args.kubeconfig) if args.kubeconfig else None,
                                context=args.context)
    if not args.on_change:
        logging.getLogger("fabric.controller").warning(
            "no --on-change: a grown block is offered to Cilium before anything announces "
            "it; its pods are unreachable until the build is applied")
    ctl = Controller(client.ApiClient(), args.model, state_dir(args), absolute(args.out),
                     on_change=args.on_change, resync=args.resync)
    ctl.run(threading.Event())       # until interrupted (exit 130, as every command)
    return EXIT_OK
