"""The one way to a deploy target, for the CLI and the Ansible modules alike: it
sits above the lab and the deploy stage, which know nothing of each other."""

from __future__ import annotations

from pathlib import Path

from fabric.deploy.credentials import CredentialStore, load
from fabric.deploy.targets import Target, device_target, load_hosts
from fabric.intent.types import Intent
from fabric.lab.target import lab_target


def open_target(intent: Intent, where: str, *, creds: CredentialStore | None = None,
                credentials_file: Path | None = None, hosts_file: Path | None = None,
                known_hosts: Path | None = None, accept_unknown: bool = False,
                devices: list[str] | None = None, rekey: list[str] | None = None) -> Target:
    """The one way to a Target, for the CLI and the Ansible modules alike: the lab, or
    the devices with credentials (given, or from the environment / `credentials_file`)
    and the `--hosts` overrides."""
    if where == "lab":
        return lab_target(intent)
    return device_target(intent, creds or load(credentials_file), load_hosts(hosts_file),
                         known_hosts, accept_unknown, devices=devices, rekey=rekey)
