"""Command line: `fabric validate | render | ipam show|rename | init | lab | plan | apply | verify`.

Exit codes: 0 ok; 1 a check failed (`render --check` found stale files,
`verify` a failed check, `apply` a failed device) or the lab/devices failed;
2 bad input (the model, the state file, a secret or the arguments, including a
--device/--rack/--canary that selects nothing); 3 `plan`: changes pending;
141 (128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe)
when whoever reads the output stops reading (`fabric ipam show | head -1`): the
rest of the output is dropped quietly, without a traceback.

-q/--quiet: nothing is printed when a command succeeds with exit 0 but the data
it was asked for (`ipam show`, `lab status`, `init` to stdout, `plan` diffs,
--json); no warnings; errors, failed devices and failed checks are printed
as without -q.

Paths printed are absolute: render's output directory (build/ under the
current directory unless --out) and the IPAM state file (state/ beside the
model unless --state).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path as FsPath
from typing import Any

from fabric import pipeline
from fabric.errors import InputError, OperationalError, Problem, group_problems
from fabric.ipam.state import STATE_FILE, write_state
from fabric.model.load import DEFAULT_MODEL
from fabric.platforms import SWITCH_PLATFORMS
from fabric.render import write as output

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13     # SIGPIPE
EPILOG = """\
exit codes: 0 ok, 1 a check or device failed, 2 bad input (model, state, secret,
  arguments), 3 plan: changes pending, 141 the output pipe was closed
-q/--quiet (every command): nothing on success but the data asked for (ipam show,
  lab status, plan diffs, init to stdout, --json); no warnings; errors and
  failures are printed as always
output: render writes build/ under the current directory (--out) and the IPAM
  state beside the model (--state); both absolute paths are printed"""


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str,
          chatter: bool = True) -> None:
    """--json data, else `text`; text that is `chatter` (a success summary, not data
    or a failure) is left out with --quiet."""
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text and not (chatter and getattr(args, "quiet", False)):
        print(text)


def _model_names(result: pipeline.Result) -> set[str]:
    """Names a warning may be about: devices (nodes among them) and racks."""
    return set(result.intent.devices) | set(result.intent.racks)


def _warning_groups(result: pipeline.Result):
    return group_problems(result.warnings, _model_names(result))


def _print_warnings(args: argparse.Namespace, result: pipeline.Result) -> None:
    """One line per kind of warning (the same one for 400 ToRs is one line)."""
    if args.json or args.quiet:
        return
    for group in _warning_groups(result):
        print(group, file=sys.stderr)


def _warnings_json(result: pipeline.Result) -> dict[str, Any]:
    return {"warnings": [w.as_dict() for w in result.warnings],
            "warning_groups": [g.as_dict() for g in _warning_groups(result)]}


def _abs(path: FsPath) -> FsPath:
    return FsPath(os.path.abspath(path))


def cmd_validate(args: argparse.Namespace) -> int:
    result = pipeline.build(args.model, args.state)
    _print_warnings(args, result)
    intent = result.intent
    _emit(args, {"ok": True, "errors": [], **_warnings_json(result),
                 "devices": len(intent.devices), "sessions": len(intent.sessions)},
          f"{args.model}: valid ({len(intent.devices)} devices, {len(intent.sessions)} "
          "sessions)")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    result = pipeline.build(args.model, args.state, prune=args.prune, renumber=args.renumber)
    files = pipeline.render(result)
    state_dir = args.state or pipeline.state_dir_for(args.model)
    state_file = _abs(state_dir / STATE_FILE)
    out = _abs(args.out)
    where = {"out": str(out), "state_file": str(state_file)}
    _print_warnings(args, result)
    if args.check:
        rep = output.check(out, files)
        state_stale = not state_file.exists() or state_file.read_text() != result.state_text
        ok = rep.current and not state_stale
        lines = [f"stale: {out / n}" for n in rep.stale]
        lines += [f"missing: {out / n}" for n in rep.missing]
        lines += [f"extra: {out / n}" for n in rep.extra]
        if state_stale:
            lines.append(f"stale: {state_file}")
        lines.append(f"{'up to date' if ok else 'out of date: run `fabric render`'} "
                     f"({len(files)} files in {out}; state {state_file})")
        _emit(args, {"ok": ok, "state_stale": state_stale, **where, **rep.as_dict()},
              "\n".join(lines), chatter=ok)
        return EXIT_OK if ok else EXIT_CHECK_FAILED
    state_changed = write_state(state_dir, result.state_text)
    rep = output.write(out, files)
    lines = [f"wrote {out / n}" for n in rep.written] if args.verbose else []
    lines += [f"removed {out / n}" for n in rep.removed]
    lines += result.changes if state_changed else []
    lines.append(f"{len(files)} files in {out}: {len(rep.written)} written, "
                 f"{len(rep.removed)} removed, {len(rep.unchanged)} unchanged; "
                 f"state {state_file} {'updated' if state_changed else 'unchanged'}")
    _emit(args, {"ok": True, "state_changed": state_changed, "changes": result.changes,
                 "renumbered": result.renumbered, **where,
                 "written": rep.written, "removed": rep.removed,
                 "unchanged": len(rep.unchanged)}, "\n".join(lines))
    return EXIT_OK


def cmd_ipam_rename(args: argparse.Namespace) -> int:
    from fabric.ipam.moves import rename_in_state
    from fabric.model.load import load_model

    state_dir = args.state or pipeline.state_dir_for(args.model)
    done = rename_in_state(state_dir, load_model(args.model), args.kind, args.old, args.new)
    done.state_file = _abs(done.state_file)
    _emit(args, done.as_dict(), done.text())
    return EXIT_OK


def cmd_ipam_show(args: argparse.Namespace) -> int:
    from fabric.ipam.allocate import allocate
    from fabric.ipam.report import ipam_rows, ipam_text
    from fabric.ipam.state import load_state
    from fabric.model.load import load_model

    model = load_model(args.model)
    alloc = allocate(model, load_state(args.state or pipeline.state_dir_for(args.model)))
    rows = ipam_rows(model, alloc)
    _emit(args, {"allocations": rows, "pending": alloc.changes,
                 "reserved": alloc.reserved}, ipam_text(rows, alloc), chatter=False)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from fabric.model.starter import starter_model

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
    out = _abs(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    _emit(args, {"ok": True, "model": str(out)}, f"wrote {out}")
    return EXIT_OK


def _lab_intent(args: argparse.Namespace):
    from fabric.lab.netns import LabError

    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces): run with sudo")
    return pipeline.build(args.model, args.state).intent


def cmd_lab(args: argparse.Namespace) -> int:
    from fabric.lab import lab

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
        _emit(args, {"devices": rows}, text, chatter=False)
    return EXIT_OK


def _progress(line: str) -> None:
    """A progress line of a push; a closed output pipe must not stop a rollout
    half-way, so the rest of the output is dropped and the push goes on."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        _drop_output()


def cmd_apply(args: argparse.Namespace) -> int:
    if args.target == "devices" or args.dry_run:
        return _apply_devices(args)
    from fabric.lab.deploy import apply_lab

    intent = _lab_intent(args)
    t0 = time.monotonic()

    def progress(done: int, total: int, r) -> None:
        if not args.json and not (args.quiet and r.ok):
            mark = "ok " if r.ok else "FAIL"
            extra = f" ({r.detail})" if r.detail else ""
            _progress(f"[{done:>{len(str(total))}}/{total}] {mark} {r.device}: "
                      f"{r.status}{extra}")

    results = apply_lab(intent, args.concurrency, progress)
    failed = [r for r in results if not r.ok]
    _emit(args, {"ok": not failed, "results": [r.as_dict() for r in results],
                 "seconds": round(time.monotonic() - t0, 2)},
          f"apply: {len(results) - len(failed)} ok, {len(failed)} failed "
          f"({time.monotonic() - t0:.1f}s)", chatter=not failed)
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def _apply_devices(args: argparse.Namespace) -> int:
    from fabric.deploy import rollout

    if args.dry_run:
        return cmd_plan(args)
    intent = pipeline.build(args.model, args.state).intent
    switches = _switches(intent, args)
    target = _target(intent, args, switches)
    lock = args.lock or args.model.parent / ".fabric-apply.lock"

    def progress(o) -> None:
        ok = o.status in ("applied", "unchanged")
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
    _emit(args, report.as_dict(), f"apply: {text}", chatter=report.ok)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_verify(args: argparse.Namespace) -> int:
    from fabric.lab import dataplane
    from fabric.lab.lab import require_up
    from fabric.lab.layout import plan_lab
    from fabric.lab.observe import collector
    from fabric.verify import check as verify

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
                 "seconds": round(time.monotonic() - t0, 2)}, text, chatter=ok)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


EXIT_CHANGES = 3   # plan: changes pending (2 is bad input everywhere in this CLI)


def _bad_argument(args: argparse.Namespace, option: str, message: str) -> InputError:
    return InputError([Problem(str(args.model), 1, 1, option, message)])


def _one_of(known: list[str]) -> str:
    shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
    return f"({shown})" if known else "(none)"


def _switches(intent, args: argparse.Namespace) -> list[str]:
    """The switches --device/--rack select (all without them); a selector naming
    nothing of the model, or a selection that is empty, is bad input."""
    every = [n for n, d in intent.devices.items() if d.is_switch]
    names = every
    if args.device:
        unknown = sorted(set(args.device) - set(every))
        if unknown:
            raise _bad_argument(args, "--device", f"expected a switch of the model "
                                f"{_one_of(every)}, found {', '.join(unknown)}")
        names = [n for n in names if n in args.device]
    if args.rack:
        racks = list(intent.racks)
        unknown = sorted(set(args.rack) - set(racks))
        if unknown:
            raise _bad_argument(args, "--rack", f"expected a rack of the model "
                                f"{_one_of(racks)}, found {', '.join(unknown)}")
        names = [n for n in names if intent.devices[n].rack in args.rack]
        if not names:
            chosen = " and ".join(f"--{o} {', '.join(getattr(args, o))}"
                                  for o in ("device", "rack") if getattr(args, o))
            raise _bad_argument(args, "--rack", f"expected a selection with at least one "
                                f"switch, found none in {chosen}")
    canary = getattr(args, "canary", None)
    if canary and canary not in names:
        known = "a switch of the model" if canary not in every else "one of the selected switches"
        raise _bad_argument(args, "--canary", f"expected {known} {_one_of(names)}, "
                            f"found {canary}")
    return names


def _target(intent, args: argparse.Namespace, switches: list[str]):
    from fabric.cli import targets

    if args.target == "lab":
        _lab_intent(args)
    return targets.open_target(intent, args.target, credentials_file=args.credentials,
                               hosts_file=args.hosts, known_hosts=args.known_hosts,
                               accept_unknown=args.accept_unknown_host_keys, devices=switches)


def cmd_plan(args: argparse.Namespace) -> int:
    from fabric.deploy import plan

    intent = pipeline.build(args.model, args.state).intent
    switches = _switches(intent, args)
    plans = plan.plan(_target(intent, args, switches), switches, args.concurrency)
    ok, changes = all(p.ok for p in plans), any(p.diff for p in plans)
    if args.markdown:
        sys.stdout.write(plan.markdown(plans, intent.fabric))
    else:
        _emit(args, {"ok": ok, "summary": plan.summary(plans),
                     "devices": [p.as_dict() for p in plans]},
              plan.text(plans, color=sys.stdout.isatty() and not args.no_color),
              chatter=ok and not changes)
    if not ok:
        return EXIT_CHECK_FAILED
    return EXIT_CHANGES if changes else EXIT_OK


def _model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", type=FsPath, default=DEFAULT_MODEL,
                   help=f"fabric model (default {DEFAULT_MODEL})")
    p.add_argument("--state", type=FsPath, default=None,
                   help="IPAM state directory (default: state/ beside the model)")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing on success but requested data (no warnings, "
                             "no summary); errors and failures still")
    model = argparse.ArgumentParser(add_help=False)
    _model_arguments(model)

    p = argparse.ArgumentParser(prog="fabric", description=__doc__.splitlines()[0],
                                epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
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
    _model_arguments(ren)           # after KIND OLD NEW, so not through `parents`
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


def _drop_output() -> int:
    """The reader of stdout went away: point stdout and stderr at /dev/null so
    nothing else (interpreter shutdown's flush included) fails on them."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):   # in-process captured streams
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _drop_output()


def _run(args: argparse.Namespace) -> int:
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

