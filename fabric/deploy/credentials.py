"""Device credentials: from the environment, or a file only its owner can read.

Values never reach logs, errors, JSON output or build/: `Credentials` hides the
password from repr, and every message names only where a value came from.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fabric.errors import InputError, Problem

ENV_USER, ENV_PASSWORD, ENV_FILE = "FABRIC_USERNAME", "FABRIC_PASSWORD", "FABRIC_CREDENTIALS"


class CredentialError(InputError):
    """Missing or unusable credentials: bad input (exit 2), located at the file (or the
    environment) they were looked for in."""

    def __init__(self, message: str, where: Path | str = "(environment)"):
        super().__init__([Problem(str(where), 1, 1, "credentials", message)])


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass
class CredentialStore:
    default: Credentials | None
    per_device: dict[str, Credentials] = field(default_factory=dict)

    def for_device(self, device: str) -> Credentials:
        found = self.per_device.get(device, self.default)
        if found is None:
            raise CredentialError(f"no credentials for {device}: set {ENV_USER} and "
                                  f"{ENV_PASSWORD}, or give a credentials file")
        return found


def load(file: Path | None = None) -> CredentialStore:
    """Environment first (FABRIC_USERNAME/FABRIC_PASSWORD), then a 0600 YAML file:
    `{username, password}` or `{default: {...}, devices: {name: {...}}}`."""
    user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
    env_default = Credentials(user, password) if user and password else None
    file = file or (Path(os.environ[ENV_FILE]) if os.environ.get(ENV_FILE) else None)
    if file is None:
        return CredentialStore(env_default)
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        raise CredentialError(f"cannot read the credentials file: {exc.strerror}",
                              file) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(f"the credentials file is open to others "
                              f"(mode {stat.S_IMODE(mode):o}); chmod 600 it", file)
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        raise CredentialError("the credentials file is not readable YAML", file) from None
    if not isinstance(data, dict):
        raise CredentialError("expected a mapping ({username, password} or {default, "
                              "devices}) in the credentials file", file)

    def one(d: object, where: str) -> Credentials:
        if not (isinstance(d, dict) and isinstance(d.get("username"), str)
                and isinstance(d.get("password"), str)):
            raise CredentialError(f"{where}: expected username and password strings", file)
        return Credentials(d["username"], d["password"])

    if "username" in data:
        return CredentialStore(env_default or one(data, "top level"))
    default = one(data["default"], "default") if "default" in data else env_default
    devices = data.get("devices") or {}
    if not isinstance(devices, dict):
        raise CredentialError("devices: expected a mapping of device name to credentials",
                              file)
    devices = {str(k): one(v, f"devices.{k}") for k, v in devices.items()}
    return CredentialStore(default, devices)
