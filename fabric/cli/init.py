"""`fabric init`: a starter model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path as FsPath

from fabric.cli.common import EXIT_BAD_INPUT, EXIT_OK, Parents, Subparsers, absolute, emit
from fabric.platforms import SWITCH_PLATFORMS


def add(sub: Subparsers, parents: Parents) -> None:
    i = sub.add_parser("init", parents=[parents.common], help="write a starter model")
    i.add_argument("--racks", type=int, required=True)
    i.add_argument("--nodes-per-rack", type=int, required=True)
    i.add_argument("--platform", choices=[*SWITCH_PLATFORMS, "mixed"], default="frr",
                   help="platform of every switch, or 'mixed' to cycle through all")
    i.add_argument("--name", default="lab", help="fabric name")
    i.add_argument("--out", type=FsPath, default=None, help="file to write (default stdout)")
    i.add_argument("--force", action="store_true", help="replace an existing --out file")
    i.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
    out = absolute(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    emit(args, {"ok": True, "model": str(out)}, f"wrote {out}")
    return EXIT_OK
