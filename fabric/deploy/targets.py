"""Where the switches are and how to open a driver on each: the real devices
(management address or `--hosts`, SSH). The lab's target is `lab/target.py`, and
`cli/targets.py` is the one factory that opens either.

The configs a target receives carry real secrets; `mask` turns every secret
value back into its placeholder before anything is shown or logged."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from fabric.deploy import secrets
from fabric.deploy.credentials import CredentialStore
from fabric.deploy.drivers import SwitchDriver, driver_class
from fabric.errors import InputError, Problem
from fabric.intent.types import Intent
from fabric.render.engine import device_config


@dataclass
class Target:
    name: str                                   # "lab" | "devices"
    configs: dict[str, str]                     # switch → config with secrets filled in
    connect: Callable[[str], SwitchDriver]      # switch → driver, not yet opened
    secret_values: dict[str, str]               # placeholder → value
    backups: Path | None = None                 # where running configs are kept (None:
                                                # the user's state directory)

    def mask(self, text: str) -> str:
        return secrets.mask(text, self.secret_values)


def load_hosts(file: Path | None) -> dict[str, tuple[str, int]]:
    """Optional `device: host[:port]` overrides of the management addresses."""
    if file is None:
        return {}
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except OSError as exc:
        raise _hosts_error(file, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _hosts_error(file, "invalid YAML", mark.line + 1 if mark else 1) from None
    if not isinstance(data, dict):
        raise _hosts_error(file, "expected a mapping of device: host[:port]")
    out = {}
    for name, where in data.items():
        host, sep, port = str(where).rpartition(":")
        if not sep:
            host, port = str(where), "22"
        if not isinstance(where, str | int) or not re.fullmatch(r"[A-Za-z0-9._-]+", host) \
                or not port.isdigit() or not 0 < int(port) < 65536:
            raise _hosts_error(file, f"{name}: expected host[:port], found {where!r}")
        out[str(name)] = (host, int(port))
    return out


def _hosts_error(file: Path, message: str, line: int = 1) -> InputError:
    return InputError([Problem(str(file), line, 1, "(hosts)", message)])


def device_target(intent: Intent, creds: CredentialStore, hosts: dict[str, tuple[str, int]],
                  known_hosts: Path | None = None, accept_unknown: bool = False,
                  timeout: int = 60, devices: list[str] | None = None,
                  rekey: list[str] | None = None) -> Target:
    """`devices`: the switches that will be reached (default every one): each must have
    credentials. `rekey`: secrets whose keys are pushed even where a switch shows a
    key only as a cipher, which its driver otherwise compares on presence."""
    values = secrets.values(intent)
    forced = [values[intent.secrets[name].placeholder] for name in rekey or ()]
    switches = [d for d in intent.devices.values() if d.is_switch]
    configs = {d.name: secrets.substitute(device_config(d, intent), values) for d in switches}
    # Every driver is imported here, before any worker thread opens one.
    classes = {p: driver_class(p) for p in sorted({d.platform for d in switches})}
    for name in devices if devices is not None else [d.name for d in switches]:
        creds.for_device(name)   # missing credentials are bad input, found before any push

    def connect(name: str) -> SwitchDriver:
        d = intent.devices[name]
        host, port = hosts.get(name, (str(d.mgmt), 22))
        c = creds.for_device(name)
        return classes[d.platform](host, c.username, c.password, timeout=timeout,
                                        optional_args={"port": port,
                                                       "known_hosts": known_hosts,
                                                       "accept_unknown_host_keys":
                                                           accept_unknown,
                                                       "rekey": forced})
    return Target("devices", configs, connect, values)
