"""Command line: `fabric validate | render | ipam show | init`.

Exit codes: 0 ok; 1 a check failed (`render --check` found stale files,
`verify` a failed check, `apply` a failed device) or the lab/devices failed;
2 bad input (the model, the state file or the arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path as FsPath
from typing import Any

from . import output, pipeline
from .errors import InputError, OperationalError, Problem
from .ipam import STATE_FILE, write_state
from .model import DEFAULT_MODEL
from .platforms import SWITCH_PLATFORMS

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text:
        print(text)


def _warnings(result: pipeline.Result) -> list[Problem]:
    return result.model.diag.warnings


def cmd_validate(args: argparse.Namespace) -> int:
    result = pipeline.build(args.model, args.state)
    warns = _warnings(result)
    for w in warns if not args.json else ():
        print(w, file=sys.stderr)
    intent = result.intent
    _emit(args, {"ok": True, "errors": [], "warnings": [w.as_dict() for w in warns],
                 "devices": len(intent.devices), "sessions": len(intent.sessions)},
          f"{args.model}: valid ({len(intent.devices)} devices, {len(intent.sessions)} "
          "sessions)")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    result = pipeline.build(args.model, args.state, prune=args.prune, renumber=args.renumber)
    files = pipeline.render(result)
    state_dir = args.state or pipeline.state_dir_for(args.model)
    state_file = state_dir / STATE_FILE
    if not args.json:
        for w in _warnings(result):
            print(w, file=sys.stderr)
    if args.check:
        rep = output.check(args.out, files)
        state_stale = not state_file.exists() or state_file.read_text() != result.state_text
        ok = rep.current and not state_stale
        lines = [f"stale: {args.out / n}" for n in rep.stale]
        lines += [f"missing: {args.out / n}" for n in rep.missing]
        lines += [f"extra: {args.out / n}" for n in rep.extra]
        if state_stale:
            lines.append(f"stale: {state_file}")
        lines.append(f"{'up to date' if ok else 'out of date: run `fabric render`'} "
                     f"({len(files)} files)")
        _emit(args, {"ok": ok, "state_stale": state_stale, **rep.as_dict()}, "\n".join(lines))
        return EXIT_OK if ok else EXIT_CHECK_FAILED
    state_changed = write_state(state_dir, result.state_text)
    rep = output.write(args.out, files)
    lines = [f"wrote {args.out / n}" for n in rep.written] if args.verbose else []
    lines += [f"removed {args.out / n}" for n in rep.removed]
    lines += result.alloc.changes if state_changed else []
    lines.append(f"{len(files)} files in {args.out}: {len(rep.written)} written, "
                 f"{len(rep.removed)} removed, {len(rep.unchanged)} unchanged"
                 + (f"; {state_file} updated" if state_changed else ""))
    _emit(args, {"ok": True, "state_changed": state_changed, "changes": result.alloc.changes,
                 "renumbered": result.alloc.renumbered,
                 "written": rep.written, "removed": rep.removed,
                 "unchanged": len(rep.unchanged)}, "\n".join(lines))
    return EXIT_OK


def cmd_ipam_rename(args: argparse.Namespace) -> int:
    from .ipam_moves import rename_in_state
    from .model import load_model

    state_dir = args.state or pipeline.state_dir_for(args.model)
    done = rename_in_state(state_dir, load_model(args.model), args.kind, args.old, args.new)
    _emit(args, done.as_dict(), done.text())
    return EXIT_OK


def cmd_ipam_show(args: argparse.Namespace) -> int:
    from .ipam_report import ipam_rows, ipam_text

    result = pipeline.build(args.model, args.state)
    rows = ipam_rows(result)
    _emit(args, {"allocations": rows, "pending": result.alloc.changes,
                 "reserved": result.alloc.reserved}, ipam_text(rows, result.alloc))
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from .starter import starter_model

    try:
        text = starter_model(args.racks, args.nodes_per_rack, args.platform, args.name)
    except ValueError as exc:
        print(f"fabric init: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.out.exists() and not args.force:
        print(f"fabric init: {args.out} exists (use --force to replace it)", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    _emit(args, {"ok": True, "model": str(args.out)}, f"wrote {args.out}")
    return EXIT_OK


def _lab_intent(args: argparse.Namespace):
    from .lab.netns import LabError

    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces): run with sudo")
    return pipeline.build(args.model, args.state).intent


def cmd_lab(args: argparse.Namespace) -> int:
    from .lab import lab

    intent = _lab_intent(args)
    if args.lab_command == "up":
        t0 = time.monotonic()
        res = lab.up(intent)
        verb = "built" if res.created else "already up"
        _emit(args, {"ok": True, "created": res.created, "started": res.started,
                     "namespaces": res.plan.namespaces},
              f"lab {intent.fabric}: {verb}: {len(res.plan.namespaces)} namespaces, "
              f"{len(res.plan.veths)} links, {len(res.started)} FRR instances started "
              f"({time.monotonic() - t0:.1f}s)")
    elif args.lab_command == "down":
        removed = lab.down(intent.fabric)
        _emit(args, {"ok": True, "removed": removed},
              f"lab {intent.fabric}: removed {len(removed)} namespaces")
    else:
        rows = lab.status(intent)
        text = "\n".join(
            f"{r['device']:<16} {r['role']:<10} {r['speaker']:<6} "
            f"{'ns' if r['namespace'] else 'no-ns':<6} "
            f"{'running' if r['running'] else 'stopped':<8} "
            f"{r['established']}/{r['neighbors']} established"
            + (f"  ({r['error']})" if r.get("error") else "") for r in rows)
        _emit(args, {"devices": rows}, text)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    if args.target == "devices" or args.dry_run:
        return _apply_devices(args)
    from .lab.deploy import apply_lab

    intent = _lab_intent(args)
    t0 = time.monotonic()

    def progress(done: int, total: int, r) -> None:
        if not args.json:
            mark = "ok " if r.ok else "FAIL"
            extra = f" ({r.detail})" if r.detail else ""
            rb = " — rolled back" if r.rolled_back else ""
            print(f"[{done:>{len(str(total))}}/{total}] {mark} {r.device}: {r.action}{extra}{rb}",
                  flush=True)

    results = apply_lab(intent, args.concurrency, progress)
    failed = [r for r in results if not r.ok]
    _emit(args, {"ok": not failed, "results": [vars(r) for r in results],
                 "seconds": round(time.monotonic() - t0, 2)},
          f"apply: {len(results) - len(failed)} ok, {len(failed)} failed "
          f"({time.monotonic() - t0:.1f}s)")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def _apply_devices(args: argparse.Namespace) -> int:
    from . import rollout

    if args.dry_run:
        return cmd_plan(args)
    intent = pipeline.build(args.model, args.state).intent
    target = _target(intent, args)
    lock = args.lock or args.model.parent / ".fabric-apply.lock"

    def progress(o) -> None:
        if not args.json:
            print(f"[{o.stage}] {'ok ' if o.status in ('applied', 'unchanged') else 'FAIL'} "
                  f"{o.device}: {o.status}" + (f" ({o.detail})" if o.detail else ""),
                  flush=True)

    report = rollout.rollout(intent, target, _switches(intent, args), lock,
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
    _emit(args, report.as_dict(), f"apply: {text}")
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_verify(args: argparse.Namespace) -> int:
    from . import verify
    from .lab import dataplane
    from .lab.lab import require_up
    from .lab.observe import collector
    from .lab.plan import plan_lab

    intent = _lab_intent(args)
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
    _emit(args, {"ok": ok, "results": [r.as_dict() for r in results],
                 "seconds": round(time.monotonic() - t0, 2)}, text)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


EXIT_CHANGES = 3   # plan: changes pending (2 is bad input everywhere in this CLI)


def _switches(intent, args: argparse.Namespace) -> list[str]:
    from .errors import InputError, Problem

    names = [n for n, d in intent.devices.items() if d.is_switch]
    if args.device:
        unknown = sorted(set(args.device) - set(names))
        if unknown:
            found = ", ".join(unknown)
            raise InputError([Problem(str(args.model), 1, 1, "--device",
                                      f"expected a switch of the model, found {found}")])
        names = [n for n in names if n in args.device]
    if args.rack:
        names = [n for n in names if intent.devices[n].rack in args.rack]
    return names


def _target(intent, args: argparse.Namespace):
    from . import credentials, targets

    if args.target == "lab":
        _lab_intent(args)
        return targets.lab_target(intent)
    return targets.device_target(intent, credentials.load(args.credentials),
                                 targets.load_hosts(args.hosts), args.known_hosts,
                                 args.accept_unknown_host_keys)


def cmd_plan(args: argparse.Namespace) -> int:
    from . import plan

    intent = pipeline.build(args.model, args.state).intent
    plans = plan.plan(_target(intent, args), _switches(intent, args), args.concurrency)
    if args.markdown:
        sys.stdout.write(plan.markdown(plans, intent.fabric))
    else:
        _emit(args, {"ok": all(p.ok for p in plans), "summary": plan.summary(plans),
                     "devices": [p.as_dict() for p in plans]},
              plan.text(plans, color=sys.stdout.isatty() and not args.no_color))
    if not all(p.ok for p in plans):
        return EXIT_CHECK_FAILED
    return EXIT_CHANGES if any(p.diff for p in plans) else EXIT_OK


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("model", nargs="?", type=FsPath, default=DEFAULT_MODEL,
                       help=f"fabric model (default {DEFAULT_MODEL})")
    model.add_argument("--state", type=FsPath, default=None,
                       help="IPAM state directory (default: state/ beside the model)")

    p = argparse.ArgumentParser(prog="fabric", description=__doc__.splitlines()[0],
                                epilog="exit codes: 0 ok, 1 check failed, 2 bad input")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", parents=[common, model], help="check the model")
    v.set_defaults(func=cmd_validate)
    r = sub.add_parser("render", parents=[common, model], help="render every config")
    r.add_argument("--out", type=FsPath, default=FsPath("build"), help="output directory")
    r.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if files or the state are out of date")
    r.add_argument("--prune", action="store_true",
                   help="release allocations of racks and nodes gone from the model")
    r.add_argument("--renumber", action="store_true",
                   help="carry out changes that move stored allocations (renamed items, "
                        "changed pools or prefix lengths, explicit values), and list them")
    r.add_argument("-v", "--verbose", action="store_true", help="list every file written")
    r.set_defaults(func=cmd_render)
    ipam = sub.add_parser("ipam", help="IPAM allocations")
    ipam_sub = ipam.add_subparsers(dest="ipam_command", required=True)
    show = ipam_sub.add_parser("show", parents=[common, model], help="print the allocations")
    show.set_defaults(func=cmd_ipam_show)
    ren = ipam_sub.add_parser("rename", parents=[common],
                              help="carry a rack's, node's or switch's allocations to a new name")
    ren.add_argument("kind", choices=["rack", "node", "switch"])
    ren.add_argument("old", metavar="OLD")
    ren.add_argument("new", metavar="NEW")
    ren.add_argument("model", nargs="?", type=FsPath, default=DEFAULT_MODEL,
                     help=f"fabric model (default {DEFAULT_MODEL})")
    ren.add_argument("--state", type=FsPath, default=None,
                     help="IPAM state directory (default: state/ beside the model)")
    ren.set_defaults(func=cmd_ipam_rename)
    lab_p = sub.add_parser("lab", help="the local lab: the fabric in network namespaces")
    lab_sub = lab_p.add_subparsers(dest="lab_command", required=True)
    for name, text in (("up", "build the lab and start its switches"),
                       ("down", "remove every namespace, process and file of the lab"),
                       ("status", "devices, processes and session counts")):
        lab_sub.add_parser(name, parents=[common, model], help=text).set_defaults(func=cmd_lab)
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--target", choices=["lab"], default="lab",
                        help="where to apply/verify (the local lab)")
    devices = argparse.ArgumentParser(add_help=False)
    devices.add_argument("--device", action="append", help="only this switch (repeatable)")
    devices.add_argument("--rack", action="append", help="only this rack's switches")
    devices.add_argument("--hosts", type=FsPath,
                         help="YAML of device: host[:port] overriding management addresses")
    devices.add_argument("--credentials", type=FsPath,
                         help="YAML credentials file, mode 0600 (else FABRIC_USERNAME/_PASSWORD)")
    devices.add_argument("--known-hosts", type=FsPath,
                         help="SSH known_hosts to check host keys against (default ~/.ssh)")
    devices.add_argument("--accept-unknown-host-keys", action="store_true",
                         help="trust a host key seen for the first time (off by default)")
    a = sub.add_parser("apply", parents=[common, model, devices], help="push every device",
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
    a.add_argument("--markdown", action="store_true", help=argparse.SUPPRESS)
    a.add_argument("--no-color", action="store_true", help=argparse.SUPPRESS)
    a.set_defaults(func=cmd_apply)
    pl = sub.add_parser("plan", parents=[common, model, devices],
                        help="what apply would change on each switch",
                        epilog="exit codes: 0 no changes, 3 changes pending, 1 a device failed, "
                               "2 bad input")
    pl.add_argument("--target", choices=["lab", "devices"], default="devices")
    pl.add_argument("--concurrency", type=int, default=8)
    pl.add_argument("--markdown", action="store_true", help="a PR comment")
    pl.add_argument("--no-color", action="store_true")
    pl.set_defaults(func=cmd_plan)
    ver = sub.add_parser("verify", parents=[common, model, target],
                         help="prove every session and route from both ends")
    ver.add_argument("--wait", type=float, default=0,
                     help="retry for up to this many seconds until every check passes")
    ver.add_argument("--dataplane", action="store_true",
                     help="also ping pod to pod (same rack, other rack) and every VIP")
    ver.add_argument("--all", action="store_true", help="list passing checks too")
    ver.set_defaults(func=cmd_verify)
    i = sub.add_parser("init", parents=[common], help="write a starter model")
    i.add_argument("--racks", type=int, required=True)
    i.add_argument("--nodes-per-rack", type=int, required=True)
    i.add_argument("--platform", choices=[*SWITCH_PLATFORMS, "mixed"], default="frr",
                   help="platform of every switch, or 'mixed' to cycle through all")
    i.add_argument("--name", default="lab", help="fabric name")
    i.add_argument("--out", type=FsPath, default=None, help="file to write (default stdout)")
    i.add_argument("--force", action="store_true", help="replace an existing --out file")
    i.set_defaults(func=cmd_init)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "errors": [p.as_dict() for p in exc.problems]},
                             indent=2, sort_keys=True))
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(f"fabric: {n} error{'s' if n != 1 else ''}; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OperationalError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": str(exc)}, indent=2))
        print(f"fabric: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
