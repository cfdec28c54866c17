"""What every SSH switch driver shares, whoever speaks the CLI underneath (this
project's netmiko drivers for Comware and VRP8, NAPALM's drivers for IOS-XE and
NX-OS): the connection options (port, host-key policy), the login errors, secrets
masked in errors and in the log records of the libraries underneath, reading a
candidate of the sections the tool owns, and a private local copy of a file that
holds keys.

A driver class derives from `SwitchSession`, sets the class attributes below, calls
`_session_init` from its `__init__` (and sets `_hdriver`, its hier_config driver),
and opens its connection inside `with self._login():`. `TrackedCommit` adds the
bookkeeping of a commit that waits for confirmation on the device's timer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

from hier_config import HConfig, get_hconfig
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    DeviceConnectionError,
    DriverError,
    HostKeyError,
)
from fabric.deploy.secrets import replace_tokens
from fabric.errors import OperationalError

Items = list[tuple[int, str]]
PW_MARK = "(configured)"       # a key the device shows only as a cipher: compared on presence

# Logger filters see only the records of their own logger, not of its children: every
# logger that may print a line sent to or read from a device is named.
LIBRARY_LOGGERS = ("netmiko", "netmiko.base_connection", "netmiko.channel", "paramiko",
                   "paramiko.transport", "scp", "napalm", "napalm.base", "napalm.base.helpers",
                   "napalm.ios", "napalm.ios.ios", "napalm.nxos", "napalm.nxos.nxos",
                   "napalm.nxos_ssh", "napalm.nxos_ssh.nxos_ssh")


# ---------------------------------------------------------------------- secrets


def redact(text: str, secret: re.Pattern[str], secrets: Iterable[str] = ()) -> str:
    """Mask what follows a key word (`secret`'s group 1 is kept) and every known
    secret."""
    text = secret.sub(r"\1******", text)
    return replace_tokens(text, dict.fromkeys((s for s in secrets if s), "******"))


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


# ---------------------------------------------------------------------- config text


def sections(items: Items) -> list[Items]:
    """The items grouped by top-level line (each with the lines under it)."""
    out: list[Items] = []
    for depth, line in items:
        if depth == 0 or not out:
            out.append([(depth, line)])
        else:
            out[-1].append((depth, line))
    return out


# ---------------------------------------------------------------------- the session


class SwitchSession:
    """The vendor-neutral half of a switch driver (see the module doc)."""

    name: ClassVar[str]                         # "ComwareDriver", for repr
    log: ClassVar[logging.Logger]               # the vendor module's logger
    SECRET: ClassVar[re.Pattern[str]]           # (key word + space)(the secret)
    owned_text: ClassVar[str]                   # what is owned, for the refusal message
    # Lines in the BGP section that set the device's default: the device does not show
    # them, so a comparison drops them on both sides (else a plan never ends).
    DEFAULTS: ClassVar[frozenset[str]] = frozenset()

    # Per vendor, the module's functions as `staticmethod(config_items)`.
    @staticmethod
    def config_items(text: str) -> Items:
        """A config text as (depth, line) items."""
        raise NotImplementedError

    @staticmethod
    def owned_kind(head: str) -> str | None:
        """The kind of an owned top-level line: "pl:NAME", another kind, or None."""
        raise NotImplementedError

    hostname: str
    username: str
    timeout: int

    def _session_init(self, hostname: str, username: str, password: str, timeout: int,
                      optional_args: dict[str, Any] | None) -> dict[str, Any]:
        """Take this tool's options (port, known_hosts, accept_unknown_host_keys);
        returns the others."""
        args = dict(optional_args or {})
        self.hostname, self.username, self.timeout = hostname, username, timeout
        self._password = password
        self.port = int(args.pop("port", 22))
        self.known_hosts = args.pop("known_hosts", None)
        self.accept_unknown_host_keys = bool(args.pop("accept_unknown_host_keys", False))
        self._redactor = Redactor(self.SECRET)
        self._redactor.secrets.add(password)
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
        return (*LIBRARY_LOGGERS, self.log.name)

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
    INDENT: ClassVar[int] = 1                   # spaces per level in hier_config's text
    _hdriver: Any

    def _presence_only(self, line: str, path: list[str]) -> str | None:
        """A key line the device shows only as a cipher, in the form compared on
        presence (`... password (configured)`); None for any other line. `path` holds
        the lines of the views above it (per vendor; none by default)."""
        return None

    def _tree(self, items: Items, originals: dict[tuple[str, ...], str] | None = None
              ) -> HConfig:
        """hier_config tree of a config; key lines in their presence-only form, the
        original line kept in `originals` (by path) for the remediation to push."""
        lines = []
        path: list[str] = []
        for depth, line in items:
            del path[depth:]
            text = self._presence_only(line, path) or line
            path.append(text)
            if originals is not None and text != line:
                originals[tuple(path)] = line
            lines.append(" " * (self.INDENT * depth) + text)
        return get_hconfig(self._hdriver, "\n".join(lines))

    def _adjust(self, rem: HConfig, have: HConfig, want: HConfig, merge: bool) -> None:
        """Per vendor: what the device does that hier_config does not know (what a
        removal takes with it; a merge keeps only additions)."""

    def _remediation(self, running: Items, target: Items, names: set[str],
                     merge: bool = False) -> HConfig:
        """The lines that turn the owned sections of `running` into `target`, settings
        at the device's defaults left out of both, keys pushed as the candidate has them."""
        originals: dict[tuple[str, ...], str] = {}
        have = self._tree(self._without_defaults(self._owned(running, names)))
        want = self._tree(self._without_defaults(target), originals)
        rem = have.config_to_get_to(want)
        self._adjust(rem, have, want, merge)
        for child in rem.all_children():
            if (orig := originals.get(tuple(child.path()))) is not None:
                child.text = orig
        return rem.set_order_weight()

    @staticmethod
    def _render(rem: HConfig) -> str:
        """A remediation as the lines to push, in order, indented by view."""
        return "\n".join(c.cisco_style_text() for c in rem.all_children_sorted())

    def _read_candidate(self, text: str) -> tuple[Items, set[str]]:
        """The candidate's items and the prefix-list names it owns; its keys join the
        masked secrets. Refused: a line outside what this tool owns, or a text
        hier_config cannot read."""
        items = self.config_items(text)
        for _, line in items:
            for m in self.SECRET.finditer(line):
                self._redactor.secrets.add(m.group(2))
        names: set[str] = set()
        foreign = []
        for section in sections(items):
            kind = self.owned_kind(section[0][1]) if section[0][0] == 0 else None
            if kind is None:
                foreign.append(section[0][1])
            elif kind.startswith("pl:"):
                names.add(kind[3:])
        if foreign:
            raise self._error(CandidateError,
                              "the candidate has lines outside what this tool owns "
                              f"({self.owned_text}): "
                              + "; ".join(repr(f) for f in foreign[:5]))
        try:
            self._tree(items)
        except Exception as exc:    # a duplicate line, a section hier_config cannot read
            raise self._error(CandidateError,
                              f"the candidate cannot be read: {exc}") from None
        return items, names

    def _without_defaults(self, items: Items) -> Items:
        """`items` less the leaf lines of the BGP section that are in `DEFAULTS`."""
        out: Items = []
        in_bgp = False
        for i, (depth, line) in enumerate(items):
            if depth == 0:
                in_bgp = self.owned_kind(line) == "bgp"
            leaf = i + 1 == len(items) or items[i + 1][0] <= depth
            if not (in_bgp and depth and leaf and line in self.DEFAULTS):
                out.append((depth, line))
        return out

    def _owned(self, items: Items, names: set[str]) -> Items:
        """The owned sections of a config: every owned kind but prefix lists, and the
        prefix lists named in `names`."""
        out: Items = []
        for section in sections(items):
            kind = self.owned_kind(section[0][1])
            if kind is not None and (not kind.startswith("pl:") or kind[3:] in names):
                out += section
        return out


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
