"""`fabric ipam show | rename`: the allocations, and carrying them to a new name."""

from __future__ import annotations

import argparse

from fabric.cli.common import (
    EXIT_OK,
    Parents,
    Subparsers,
    absolute,
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
