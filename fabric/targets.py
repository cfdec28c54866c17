"""Where the switches are and how to open a driver on each: the lab (FRR in
network namespaces) or the real devices (management address, SSH).

The configs a target receives carry real secrets; `mask` turns every secret
value back into its placeholder before anything is shown or logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import secrets
from .credentials import CredentialStore
from .drivers import driver_class
from .errors import OperationalError
from .intent import Intent
from .render import device_config


@dataclass
class Target:
    name: str                                   # "lab" | "devices"
    configs: dict[str, str]                     # switch → config with secrets filled in
    connect: Callable[[str], Any]               # switch → driver, not yet opened
    secret_values: dict[str, str]               # placeholder → value

    def mask(self, text: str) -> str:
        return secrets.mask(text, self.secret_values)


def lab_target(intent: Intent) -> Target:
    from .drivers.frr import FrrDriver
    from .lab.lab import lab_configs, lab_secret_values, require_up
    from .lab.plan import plan_lab

    plan = plan_lab(intent)
    require_up(plan)
    values = lab_secret_values(intent, plan)
    configs = {n: c for n, c in lab_configs(intent, plan).items()
               if intent.devices[n].is_switch}
    return Target("lab", configs, lambda n: FrrDriver.lab(n, plan.speaker(n).netns), values)


def load_hosts(file: Path | None) -> dict[str, tuple[str, int]]:
    """Optional `device: host[:port]` overrides of the management addresses."""
    if file is None:
        return {}
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise OperationalError(f"hosts file {file}: {exc}") from None
    out = {}
    for name, where in data.items():
        host, _, port = str(where).rpartition(":") if ":" in str(where) else (where, "", "22")
        out[name] = (host, int(port))
    return out


def device_target(intent: Intent, creds: CredentialStore, hosts: dict[str, tuple[str, int]],
                  known_hosts: Path | None = None, accept_unknown: bool = False,
                  timeout: float = 60) -> Target:
    values = secrets.values(intent.model)
    switches = [d for d in intent.devices.values() if d.is_switch]
    configs = {d.name: secrets.substitute(device_config(d, intent), values) for d in switches}
    # Every driver is imported here, before any worker thread opens one.
    classes = {p: driver_class(p) for p in sorted({d.platform for d in switches})}

    def connect(name: str) -> Any:
        d = intent.devices[name]
        host, port = hosts.get(name, (str(d.mgmt), 22))
        c = creds.for_device(name)
        return classes[d.platform](host, c.username, c.password, timeout=timeout,
                                        optional_args={"port": port,
                                                       "known_hosts": known_hosts,
                                                       "accept_unknown_host_keys":
                                                           accept_unknown})
    return Target("devices", configs, connect, values)
