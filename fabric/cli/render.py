"""`fabric render`: every config into build/ and the IPAM state beside the model."""

from __future__ import annotations

import argparse
from pathlib import Path as FsPath

from fabric import pipeline
from fabric.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Parents,
    Subparsers,
    absolute,
    emit,
    print_warnings,
    state_dir,
)
from fabric.ipam.state import STATE_FILE, write_state
from fabric.render import write as output


def add(sub: Subparsers, parents: Parents) -> None:
    r = sub.add_parser("render", parents=[parents.common, parents.model],
                       help="render every config")
    r.add_argument("--out", type=FsPath, default=FsPath("build"), help="output directory")
    r.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if files or the state are out of date")
    r.add_argument("--prune", action="store_true",
                   help="release allocations of racks and nodes gone from the model")
    r.add_argument("--renumber", action="store_true",
                   help="carry out changes that move stored allocations (renamed items, "
                        "changed pools or prefix lengths, explicit values), and list them")
    r.add_argument("-v", "--verbose", action="store_true", help="list every file written")
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = pipeline.build(args.model, args.state, prune=args.prune, renumber=args.renumber)
    files = pipeline.render(result)
    state = state_dir(args)
    state_file = absolute(state / STATE_FILE)
    out = absolute(args.out)
    where = {"out": str(out), "state_file": str(state_file)}
    print_warnings(args, result)
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
        emit(args, {"ok": ok, "state_stale": state_stale, **where, **rep.as_dict()},
             "\n".join(lines), chatter=ok)
        return EXIT_OK if ok else EXIT_CHECK_FAILED
    state_changed = write_state(state, result.state_text)
    rep = output.write(out, files)
    lines = [f"wrote {out / n}" for n in rep.written] if args.verbose else []
    lines += [f"removed {out / n}" for n in rep.removed]
    lines += result.changes if state_changed else []
    lines.append(f"{len(files)} files in {out}: {len(rep.written)} written, "
                 f"{len(rep.removed)} removed, {len(rep.unchanged)} unchanged; "
                 f"state {state_file} {'updated' if state_changed else 'unchanged'}")
    emit(args, {"ok": True, "state_changed": state_changed, "changes": result.changes,
                "renumbered": result.renumbered, **where,
                "written": rep.written, "removed": rep.removed,
                "unchanged": len(rep.unchanged)}, "\n".join(lines))
    return EXIT_OK
