"""`fabric validate`: check the model."""

from __future__ import annotations

import argparse

from fabric.cli.common import EXIT_OK, Parents, Subparsers, emit, print_warnings, warnings_json


def add(sub: Subparsers, parents: Parents) -> None:
    v = sub.add_parser("validate", parents=[parents.common, parents.model],
                       help="check the model")
    v.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fabric import pipeline

    result = pipeline.build(args.model, args.state)
    print_warnings(args, result)
    intent = result.intent
    emit(args, {"ok": True, "errors": [], **warnings_json(result),
                "devices": len(intent.devices), "sessions": len(intent.sessions)},
         f"{args.model}: valid ({len(intent.devices)} devices, {len(intent.sessions)} "
         "sessions)")
    return EXIT_OK
