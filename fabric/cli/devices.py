"""What plan and apply share: the switches --device/--rack select, and the target
(the lab, or the real switches) they are reached through."""

from __future__ import annotations

import argparse
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from fabric.cli.common import bad_argument, lab_intent
from fabric.intent.types import Intent

if TYPE_CHECKING:   # the deploy stage is imported only by the commands that deploy
    from fabric.deploy.targets import Target


def arguments() -> argparse.ArgumentParser:
    """The selection and connection options, a parent of `plan` and `apply`."""
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
    devices.add_argument("--rekey", action="append", metavar="SECRET",
                         help="push this secret's key even where a switch shows keys only "
                              "as ciphers (a rotation; repeatable)")
    return devices


def _one_of(known: list[str]) -> str:
    shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
    return f"({shown})" if known else "(none)"


def switches(intent: Intent, args: argparse.Namespace) -> list[str]:
    """The switches --device/--rack select (all without them); a selector naming
    nothing of the model, or a selection that is empty, is bad input."""
    every = [n for n, d in intent.devices.items() if d.is_switch]
    names = every
    if args.device:
        unknown = sorted(set(args.device) - set(every))
        if unknown:
            raise bad_argument(args, "--device", f"expected a switch of the model "
                               f"{_one_of(every)}, found {', '.join(unknown)}")
        names = [n for n in names if n in args.device]
    if args.rack:
        racks = list(intent.racks)
        unknown = sorted(set(args.rack) - set(racks))
        if unknown:
            raise bad_argument(args, "--rack", f"expected a rack of the model "
                               f"{_one_of(racks)}, found {', '.join(unknown)}")
        names = [n for n in names if intent.devices[n].rack in args.rack]
        if not names:
            chosen = " and ".join(f"--{o} {', '.join(getattr(args, o))}"
                                  for o in ("device", "rack") if getattr(args, o))
            raise bad_argument(args, "--rack", f"expected a selection with at least one "
                               f"switch, found none in {chosen}")
    canary = getattr(args, "canary", None)     # apply only
    if canary and canary not in names:
        known = "a switch of the model" if canary not in every else "one of the selected switches"
        raise bad_argument(args, "--canary", f"expected {known} {_one_of(names)}, "
                           f"found {canary}")
    return names


def target(intent: Intent, args: argparse.Namespace, selected: list[str]) -> Target:
    from fabric.cli import targets

    if args.target == "lab":
        lab_intent(args)        # the lab needs root: say so before connecting
    unknown = sorted(set(args.rekey or ()) - set(intent.secrets))
    if unknown:
        raise bad_argument(args, "--rekey", f"expected a secret of the model "
                           f"{_one_of(sorted(intent.secrets))}, found {', '.join(unknown)}")
    return targets.open_target(intent, args.target, credentials_file=args.credentials,
                               hosts_file=args.hosts, known_hosts=args.known_hosts,
                               accept_unknown=args.accept_unknown_host_keys, devices=selected,
                               rekey=args.rekey)
