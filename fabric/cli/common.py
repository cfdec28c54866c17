"""What the commands share: exit codes, output (--json, -q, warnings), the argument
groups every command takes, and the helpers more than one command calls.

A command module defines `add(subparsers, parents)`, which declares its subparser
and sets `func` to its command, and the command itself, `run(args) -> exit code`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, TypeAlias

from fabric.errors import InputError, Problem, ProblemGroup, group_problems
from fabric.model import DEFAULT_MODEL

if TYPE_CHECKING:
    from fabric import pipeline
    from fabric.intent.types import Intent

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_CHANGES = 3   # plan: changes pending (2 is bad input everywhere in this CLI)
EXIT_BROKEN_PIPE = 128 + 13     # SIGPIPE

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class Parents:
    """The argument groups commands take through `parents=`."""

    common: argparse.ArgumentParser     # --json, -q/--quiet: every command
    model: argparse.ArgumentParser      # the model file and --state


def model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", type=FsPath, default=DEFAULT_MODEL,
                   help=f"fabric model (default {DEFAULT_MODEL})")
    p.add_argument("--state", type=FsPath, default=None,
                   help="IPAM state directory (default: state/ beside the model)")


def parents() -> Parents:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing on success but requested data (no warnings, "
                             "no summary); errors and failures still")
    model = argparse.ArgumentParser(add_help=False)
    model_arguments(model)
    return Parents(common, model)


def emit(args: argparse.Namespace, data: dict[str, Any], text: str,
         chatter: bool = True) -> None:
    """--json data, else `text`; text that is `chatter` (a success summary, not data
    or a failure) is left out with --quiet."""
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text and not (chatter and getattr(args, "quiet", False)):
        print(text)


def _warning_groups(result: pipeline.Result) -> list[ProblemGroup]:
    # Names a warning may be about: devices (nodes among them) and racks.
    return group_problems(result.warnings, set(result.intent.devices) | set(result.intent.racks))


def warning_lines(result: pipeline.Result) -> list[str]:
    """One line per kind of warning (the same one for 400 ToRs is one line)."""
    return [str(group) for group in _warning_groups(result)]


def print_warnings(args: argparse.Namespace, result: pipeline.Result) -> None:
    print_lines(args, warning_lines(result))


def print_lines(args: argparse.Namespace, warnings: list[str]) -> None:
    """Warning lines on stderr, unless the output is --json or --quiet."""
    if args.json or args.quiet:
        return
    for line in warnings:
        print(line, file=sys.stderr)


def warnings_json(result: pipeline.Result) -> dict[str, Any]:
    return {"warnings": [w.as_dict() for w in result.warnings],
            "warning_groups": [g.as_dict() for g in _warning_groups(result)]}


def absolute(path: FsPath) -> FsPath:
    """Printed paths are absolute (not resolved: a link stays the path it was given)."""
    return FsPath(os.path.abspath(path))


def state_dir(args: argparse.Namespace) -> FsPath:
    """--state, else state/ beside the model."""
    from fabric import pipeline

    return args.state or pipeline.state_dir_for(args.model)


def bad_argument(args: argparse.Namespace, option: str, message: str) -> InputError:
    return InputError([Problem(str(args.model), 1, 1, option, message)])


def lab_intent(args: argparse.Namespace) -> Intent:
    from fabric import pipeline
    from fabric.lab.netns import LabError

    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces): run with sudo")
    return pipeline.build(args.model, args.state).intent


def drop_output() -> int:
    """The reader of stdout went away: point stdout and stderr at /dev/null so
    nothing else (interpreter shutdown's flush included) fails on them."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):   # in-process captured streams
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE
