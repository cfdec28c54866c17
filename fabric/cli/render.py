"""`fabric render`: every config into build/ and the IPAM state beside the model."""

from __future__ import annotations

import argparse
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from fabric.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Parents,
    Subparsers,
    absolute,
    emit,
    print_lines,
    print_warnings,
    state_dir,
    warning_lines,
)
from fabric.ipam import STATE_FILE
from fabric.render.cache import Cache, inputs_digest

if TYPE_CHECKING:
    from fabric.render.incremental import Rendered


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
    state = state_dir(args)
    state_file = absolute(state / STATE_FILE)
    out = absolute(args.out)
    where = {"out": str(out), "state_file": str(state_file)}
    flags = (args.prune, args.renumber)
    cache = Cache.load(out)
    # The model is read once: what the cache records is what was built from.
    data = _bytes(args.model)
    # Unchanged inputs and a tree as the last render left it: nothing to build.
    if data is not None and cache.fresh(inputs_digest(args.model, data, _text(state_file),
                                                      *flags)):
        return _unchanged(args, cache, where)
    # Imported here: an unchanged tree needs none of it.
    from fabric import pipeline
    from fabric.ipam.state import write_state
    from fabric.render.incremental import render_tree

    result = pipeline.build(args.model, args.state, prune=args.prune, renumber=args.renumber,
                            data=data)
    print_warnings(args, result)
    if args.check:
        done = render_tree(out, result.intent, check=True, cache=cache)
        rep = done.report
        state_stale = _text(state_file) != result.state_text
        ok = rep.current and not state_stale
        lines = [f"stale: {out / n}" for n in rep.stale]
        lines += [f"missing: {out / n}" for n in rep.missing]
        lines += [f"extra: {out / n}" for n in rep.extra]
        if state_stale:
            lines.append(f"stale: {state_file}")
        lines.append(f"{'up to date' if ok else 'out of date: run `fabric render`'} "
                     f"({done.files} files in {out}; state {state_file})")
        emit(args, {"ok": ok, "state_stale": state_stale, **where, **rep.as_dict(),
                    **_units(done)}, "\n".join(lines), chatter=ok)
        return EXIT_OK if ok else EXIT_CHECK_FAILED
    state_changed = write_state(state, result.state_text)
    after = None if data is None else inputs_digest(args.model, data, result.state_text, *flags)
    done = render_tree(out, result.intent, inputs=after, cache=cache,
                       said={"warnings": warning_lines(result)})
    rep = done.report
    lines = [f"wrote {out / n}" for n in rep.written] if args.verbose else []
    lines += [f"removed {out / n}" for n in rep.removed]
    lines += result.changes if state_changed else []
    lines.append(_summary(out, done.files, len(rep.written), len(rep.removed),
                          len(rep.unchanged), state_file, state_changed))
    emit(args, {"ok": True, "state_changed": state_changed, "changes": result.changes,
                "renumbered": result.renumbered, **where,
                "written": rep.written, "removed": rep.removed,
                "unchanged": len(rep.unchanged), **_units(done)}, "\n".join(lines))
    return EXIT_OK


def _unchanged(args: argparse.Namespace, cache: Cache, where: dict[str, str]) -> int:
    """What the last render said, for a tree and inputs it left as they are."""
    warnings = cache.said.get("warnings")
    print_lines(args, [str(w) for w in warnings] if isinstance(warnings, list) else [])
    names = cache.files()
    units = {"units_rendered": 0, "units_reused": len(cache.units) - 1}
    out, state_file = where["out"], where["state_file"]
    if args.check:
        emit(args, {"ok": True, "state_stale": False, **where, "written": [], "removed": [],
                    "unchanged": names, "stale": [], "missing": [], "extra": [], **units},
             f"up to date ({len(names)} files in {out}; state {state_file})", chatter=True)
        return EXIT_OK
    emit(args, {"ok": True, "state_changed": False, "changes": [], "renumbered": [], **where,
                "written": [], "removed": [], "unchanged": len(names), **units},
         _summary(FsPath(out), len(names), 0, 0, len(names), FsPath(state_file), False))
    return EXIT_OK


def _summary(out: FsPath, files: int, written: int, removed: int, unchanged: int,
             state_file: FsPath, state_changed: bool) -> str:
    return (f"{files} files in {out}: {written} written, {removed} removed, "
            f"{unchanged} unchanged; state {state_file} "
            f"{'updated' if state_changed else 'unchanged'}")


def _units(done: Rendered) -> dict[str, int]:
    return {"units_rendered": done.units_rendered, "units_reused": done.units_reused}


def _text(file: FsPath) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _bytes(model: FsPath) -> bytes | None:
    """The model file; None if it cannot be read (the build then says why)."""
    try:
        return model.read_bytes()
    except OSError:
        return None
