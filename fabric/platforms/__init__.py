"""Platform registry. A platform is one folder here, described by data:

- `platform.yml`: capabilities (every feature, allow-listed), the device's own
  defaults and how its running config would show them, the file → template map,
  the driver class, the netmiko device type, the hier_config platform, the
  NAPALM name and Ansible's network OS;
- `structured.py` (optional): the platform's structured-config step, on top of
  `fabric.render.context`;
- `dialect.py`: pure text knowledge of the device's CLI (parsing, owned
  sections, secret forms, remediation rules), testable from files;
- `driver.py`: only the I/O and the commit state machine;

and its templates under the top-level `templates/<p>/`. The schema's platform
enum, the driver registry, the CLI choices and the NAPALM shims are derived from
or checked against the descriptors (tests/test_platform_lists.py).

This module reads the descriptors only; it imports no platform code, so the model
stage can ask for capabilities without reaching the render or deploy stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module, resources
from typing import Any

import yaml

# Features the model may ask of a platform, with the words used in errors.
FEATURES = {
    "dynamic_neighbors": "dynamic BGP neighbors (listen range)",
    "listen_limit": "a limit on the number of dynamic peers",
    "md5_dynamic": "MD5 authentication on dynamic neighbors",
    "bmp": "BMP (RFC 7854)",
    "route_reflector": "route reflection",
    "gtsm": "GTSM (TTL security, RFC 5082) on eBGP sessions",
    "gtsm_ibgp": "GTSM (TTL security, RFC 5082) on iBGP sessions",
    "bfd": "BFD (RFC 5880) on BGP sessions",
    "bfd_timers": "BFD timers outside interface config (the model names no ports)",
    "add_paths": "ADD-PATH (RFC 7911): a route reflector passing on every path, not only its best",
    "select_defer_time": "a select_defer_time setting (a restarting speaker's wait for "
                         "End-of-RIB: the device's own applies)",
}
SUPPORT = ("yes", "warn", "no")
KINDS = ("switch", "node")
_OPTIONAL = (str, type(None))
_KEYS: dict[str, type | tuple[type, ...]] = {
    "description": str, "kind": str, "capabilities": dict, "defaults": dict,
    "notes": dict, "default_lines": list, "files": dict, "driver": _OPTIONAL, "netmiko": _OPTIONAL,
    "hier_config": _OPTIONAL, "napalm": _OPTIONAL, "ansible_network_os": str}


@dataclass(frozen=True)
class Platform:
    name: str
    description: str
    kind: str                        # switch | node
    capabilities: dict[str, str]     # feature → yes | warn | no
    notes: dict[str, str]            # feature → why it is not "yes", for validate to say
    defaults: dict[str, int]         # keepalive, hold, restart_time, ... where known
    default_lines: tuple[str, ...]   # the defaults as the running config would show them
    files: dict[str, str]            # build/ path pattern → template
    driver: str | None               # class in platforms/<name>/driver.py
    netmiko: str | None
    hier_config: str | None          # hier_config platform the remediation builds on
    napalm: str | None               # name for napalm.get_network_driver
    ansible_network_os: str          # the inventory's ansible_network_os

    @property
    def module(self) -> str:
        return f"{__name__}.{self.name}"

    def shown_defaults(self) -> frozenset[str]:
        """The running-config lines that only restate a default (never shown)."""
        return frozenset(line.format(**self.defaults) for line in self.default_lines)


class DescriptorError(Exception):
    """A platform.yml that does not describe a platform: a defect of this package."""


def _names() -> list[str]:
    root = resources.files(__name__)
    return sorted(d.name for d in root.iterdir()
                  if d.is_dir() and d.joinpath("platform.yml").is_file())


def _read(name: str) -> Platform:
    where = f"fabric/platforms/{name}/platform.yml"
    data = yaml.safe_load(resources.files(__name__).joinpath(name, "platform.yml").read_text())
    if not isinstance(data, dict) or set(data) != set(_KEYS):
        raise DescriptorError(f"{where}: expected exactly the keys {sorted(_KEYS)}")
    for key, kind in _KEYS.items():
        if not isinstance(data[key], kind):
            raise DescriptorError(f"{where}: {key}: wrong type {type(data[key]).__name__}")
    caps = data["capabilities"]
    if set(caps) != set(FEATURES) or not all(v in SUPPORT for v in caps.values()):
        raise DescriptorError(f"{where}: capabilities: expected each of {sorted(FEATURES)} "
                              f"as one of {SUPPORT} (quoted: YAML reads yes/no as booleans)")
    if data["kind"] not in KINDS:
        raise DescriptorError(f"{where}: kind: expected one of {KINDS}")
    if data["kind"] == "switch" and not data["driver"]:
        raise DescriptorError(f"{where}: a switch platform needs a driver")
    if not set(data["notes"]) <= set(FEATURES):
        raise DescriptorError(f"{where}: notes: expected features of {sorted(FEATURES)}")
    return Platform(name, data["description"], data["kind"], dict(caps), dict(data["notes"]),
                    dict(data["defaults"]),
                    tuple(data["default_lines"]), dict(data["files"]), data["driver"],
                    data["netmiko"], data["hier_config"], data["napalm"],
                    data["ansible_network_os"])


@cache
def registry() -> dict[str, Platform]:
    return {name: _read(name) for name in _names()}


def get(name: str) -> Platform:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r}") from None


def capabilities(platform: str) -> dict[str, str]:
    """feature → "yes" | "warn" (rendered without it) | "no" (an error)."""
    return get(platform).capabilities


def structured_step(platform: str) -> Any | None:
    """The platform's own structured-config function, or None for the common one."""
    try:
        return import_module(f"{get(platform).module}.structured").structured
    except ModuleNotFoundError as exc:
        if exc.name != f"{get(platform).module}.structured":
            raise
        return None


PLATFORMS = tuple(registry())
SWITCH_PLATFORMS = tuple(n for n, p in registry().items() if p.kind == "switch")
