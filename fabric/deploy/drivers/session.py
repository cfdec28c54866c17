"""What every SSH switch driver shares, whoever speaks the CLI underneath (this
project's netmiko drivers for Comware and VRP8, NAPALM's drivers for IOS-XE and
NX-OS): the connection options (port, host-key policy), the login errors, secrets
masked in errors and in the log records of the libraries underneath, reading a
candidate of the sections the tool owns, and a private local copy of a file that
holds keys.

`Dialect` is the part without I/O: a CLI's config text, the sections the tool owns,
the settings the device never shows, and the remediation hier_config computes from
them. A platform's `dialect.py` subclasses it and its pure `remediation(running,
intended)` is what the driver's `compare_config` shows for that running config.

A driver class derives from `SwitchSession` (a `Dialect`), sets the class attributes
below, calls `_session_init` from its `__init__` (its hier_config driver `_hdriver`
is made from `hier_driver`, or set there), and opens its connection inside
`with self._login():`. `TrackedCommit` adds the bookkeeping of a commit that waits
for confirmation on the device's timer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from fabric.deploy.drivers.dialect import Dialect, Items, redact
from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    DeviceConnectionError,
    DriverError,
    HostKeyError,
)
from fabric.errors import OperationalError

# Logger filters see only the records of their own logger, not of its children: every
# logger that may print a line sent to or read from a device is named; a driver on a
# library of its own adds that library's (`LOGGERS`).
LIBRARY_LOGGERS = ("netmiko", "netmiko.base_connection", "netmiko.channel", "paramiko",
                   "paramiko.transport", "scp", "napalm", "napalm.base", "napalm.base.helpers")


# ---------------------------------------------------------------------- secrets


class Redactor(logging.Filter):
    """Masks secrets in the records of the loggers it is attached to."""

    def __init__(self, secret: re.Pattern[str]) -> None:
        super().__init__()
        self.secret = secret
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        red = redact(msg, self.secret, self.secrets)
        if red != msg:
            record.msg, record.args = red, None
        return True


@contextlib.contextmanager
def private_copy(text: str, name: str) -> Iterator[Path]:
    """`text` in a 0600 file in a fresh 0700 directory, removed on exit whatever
    happens (a replace file holds the BGP keys)."""
    folder = tempfile.mkdtemp(prefix="bgp-fabric-")
    try:
        path = Path(folder) / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SwitchSession(Dialect):
    """The vendor-neutral half of a switch driver (see the module doc)."""

    name: ClassVar[str]                         # "ComwareDriver", for repr
    log: ClassVar[logging.Logger]               # the vendor module's logger
    LOGGERS: ClassVar[tuple[str, ...]] = ()     # its own library's loggers

    hostname: str
    username: str
    timeout: int

    def _session_init(self, hostname: str, username: str, password: str, timeout: int,
                      optional_args: dict[str, Any] | None) -> dict[str, Any]:
        """Take this tool's options (port, known_hosts, accept_unknown_host_keys, rekey);
        returns the others."""
        args = dict(optional_args or {})
        self.hostname, self.username, self.timeout = hostname, username, timeout
        self._password = password
        self.port = int(args.pop("port", 22))
        self.known_hosts = args.pop("known_hosts", None)
        self.accept_unknown_host_keys = bool(args.pop("accept_unknown_host_keys", False))
        self.rekey = frozenset(args.pop("rekey", ()))
        self._redactor = Redactor(self.SECRET)
        self._redactor.secrets.add(password)
        self._redactor.secrets.update(self.rekey)
        return args

    def ssh_options(self) -> dict[str, Any]:
        """netmiko's connection options for this driver's port and host-key policy."""
        known = str(Path(self.known_hosts).expanduser()) if self.known_hosts else ""
        return {
            "port": self.port, "conn_timeout": self.timeout, "auth_timeout": self.timeout,
            "banner_timeout": self.timeout, "use_keys": False, "allow_agent": False,
            # Unknown host keys are refused (RejectPolicy) unless the flag is set; known
            # keys come from `known_hosts` (or the user's ~/.ssh/known_hosts). netmiko's
            # SCP opens its second connection with these same options.
            "ssh_strict": not self.accept_unknown_host_keys,
            "system_host_keys": not self.known_hosts,
            "alt_host_keys": bool(self.known_hosts), "alt_key_file": known,
        }

    def __repr__(self) -> str:
        return f"{self.name}({self.hostname!r}, port={self.port})"

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _secret(self, text: str) -> str:
        return redact(text, self.SECRET, self._redactor.secrets)

    def _error(self, cls: type[OperationalError], message: str, **kw: Any) -> Any:
        return cls(self._secret(f"{self.hostname}: {message}"), **kw)

    def _loggers(self) -> tuple[str, ...]:
        return (*LIBRARY_LOGGERS, *self.LOGGERS, self.log.name)

    def _attach_filter(self) -> None:
        for name in self._loggers():
            logging.getLogger(name).addFilter(self._redactor)

    def _detach_filter(self) -> None:
        for name in self._loggers():
            logging.getLogger(name).removeFilter(self._redactor)

    @contextlib.contextmanager
    def _login(self) -> Iterator[None]:
        """Around opening the connection: the redacting filter goes on, and what
        connecting raises (netmiko's, or NAPALM's wrapping of it) becomes this driver's
        authentication, host-key or connection error (and the filter comes off)."""
        self._attach_filter()
        try:
            yield
        except Exception as exc:
            self._detach_filter()
            if isinstance(exc, OperationalError):
                raise
            cause = exc.__context__ if type(exc).__name__ == "ConnectionException" and \
                exc.__context__ is not None else exc
            text = str(cause)
            if isinstance(cause, NetmikoAuthenticationException):
                raise self._error(AuthenticationError, "authentication failed for user "
                                  f"{self.username!r}") from None
            if "known_hosts" in text or "host key" in text.lower():
                where = self.known_hosts or "~/.ssh/known_hosts"
                raise self._error(
                    HostKeyError,
                    f"host key of {self.hostname}:{self.port} is not trusted (not in {where},"
                    " or different); add it there or set accept_unknown_host_keys") from None
            if isinstance(cause, NetmikoTimeoutException) and text.strip():
                reason = text.strip().splitlines()[0]
            else:
                reason = type(cause).__name__
            raise self._error(DeviceConnectionError,
                              f"cannot connect to port {self.port}: {reason}") from None

    # ----- the candidate
    def _read_candidate(self, text: str) -> tuple[Items, set[str]]:
        """The candidate's items and the prefix-list names it owns; its keys join the
        masked secrets. Refused as `Dialect._check_candidate` says, naming the device."""
        items = self.config_items(text)
        for _, line in items:
            for m in self.SECRET.finditer(line):
                self._redactor.secrets.add(m.group(2))
        try:
            return self._check_candidate(items)
        except CandidateError as exc:
            raise self._error(CandidateError, str(exc)) from None


class TrackedCommit:
    """For a `SwitchSession` whose driver tracks a commit that waits for confirmation
    (Comware, VRP8, NX-OS): `_pending` once committed with a timer, `_expired` once
    the device is seen to have rolled it back; `_device_pending` asks the device."""

    _pending = False
    _expired = False
    _error: Callable[..., Any]

    def _device_pending(self) -> bool | None:
        """What the device says of its pending commit; None if it cannot say."""
        raise NotImplementedError

    def _check_confirmable(self, timer: str) -> None:
        """Raise unless a commit waits for confirmation and its `timer` still runs."""
        if self._expired or (self._pending and self._device_pending() is False):
            self._pending, self._expired = False, False
            raise self._error(DriverError, f"the {timer} already expired: the device rolled "
                              "the change back")
        if not self._pending:
            raise self._error(DriverError, "no commit is waiting for confirmation")

    def has_pending_commit(self) -> bool:
        if not self._pending:
            return False
        if self._device_pending() is False:
            self._pending, self._expired = False, True
        return self._pending
