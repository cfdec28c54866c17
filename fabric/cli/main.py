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
import json
import sys

from fabric.cli import apply, init, ipam, lab, plan, render, validate, verify
from fabric.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, drop_output, parents
from fabric.errors import InputError, OperationalError

# A command is a module with `add(subparsers, parents)`; this order is the help's.
COMMANDS = (validate, render, ipam, lab, apply, plan, verify, init)
EPILOG = """\
exit codes: 0 ok, 1 a check or device failed, 2 bad input (model, state, secret,
  arguments), 3 plan: changes pending, 141 the output pipe was closed
-q/--quiet (every command): nothing on success but the data asked for (ipam show,
  lab status, plan diffs, init to stdout, --json); no warnings; errors and
  failures are printed as always
output: render writes build/ under the current directory (--out) and the IPAM
  state beside the model (--state); both absolute paths are printed"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fabric", description=__doc__.splitlines()[0],
                                epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    shared = parents()
    for command in COMMANDS:
        command.add(sub, shared)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return drop_output()


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
