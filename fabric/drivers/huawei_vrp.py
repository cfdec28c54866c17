"""Huawei VRP8 (CloudEngine) driver with the NAPALM driver contract, on netmiko
`huawei_vrpv8`.

What this tool owns on a switch, and so what replace touches: the `bgp` view, the
`bmp` view, and the `ip ip-prefix` lists whose names the candidate contains.
Everything else (interfaces, aaa, other prefix lists) is left alone; a candidate line
outside those sections is refused at load.

VRP8 configures in two stages: lines typed in system view go to the session's
candidate (the prompt turns from `[~sysname]` to `[*sysname]`) and nothing takes
effect until `commit`. `commit_config` pushes the remediation (hier_config,
Platform.HUAWEI_VRP adjusted below) into the candidate, checking every line's answer
for VRP's `Error:` marker; then `commit trial <revert_in>` (VRP's range is 60–65535 s,
so a shorter revert_in is raised to 60) or `commit` + `save`. On any error in a line
or in the commit (VRP validates some things only at commit, e.g. a peer that does not
exist) the candidate is cleared with `clear configuration candidate` before raising,
so the running config is untouched. `confirm_commit` is a plain `commit` (it ends the
trial) + `save`; `rollback` aborts a pending trial (`abort trial`), else pushes the
inverse remediation to the owned config from before the last commit, commits and saves.

netmiko's `huawei_vrpv8` does not answer VRP's `Uncommitted configurations found ...
[Y(yes)/N(no)/C(cancel)]:` question (its exit_config_mode waits for `>` and times out);
this driver never leaves system view with a candidate, and answers `N` if asked.

Secrets: the login password and every key of the candidate are masked in this
module's exceptions and in the log records of this module, netmiko and paramiko while
a connection is open.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hier_config import HConfig, get_hconfig
from hier_config.child import HConfigChild
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.huawei_vrp.driver import HConfigDriverHuaweiVrp

from ..errors import OperationalError
from ..observed import Neighbor

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- errors


class VrpError(OperationalError):
    pass


class VrpConnectionError(VrpError):
    pass


class VrpAuthenticationError(VrpConnectionError):
    pass


class VrpHostKeyError(VrpConnectionError):
    pass


class VrpCandidateError(VrpError):
    pass


class VrpCommitError(VrpError):
    """The device refused a pushed line or the commit: `line` and `device_message`
    (both masked)."""

    def __init__(self, message: str, line: str = "", device_message: str = ""):
        super().__init__(message)
        self.line = line
        self.device_message = device_message


# ---------------------------------------------------------------------- device text

# `<sysname>` in user view; `[~sysname-view]` / `[*sysname-view]` in the others.
PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[~*]?[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"(?:\[Y/N\]|\[Y\(yes\)/N\(no\)/C\(cancel\)\]|\[Y/N/C\]):?[ \t]*$"
_PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[~*]?[^\[\]]+\])\s*$")
_ERROR = re.compile(r"^\s*Error\s*:")
_SECRET = re.compile(r"(\b(?:simple|cipher|irreversible-cipher)\s+)\S+", re.IGNORECASE)
_PEER_REF = re.compile(r"^(?:undo )?peer (\S+) ")
_PEER_PW = re.compile(r"^(peer \S+) password (?:simple|cipher) (\S+)$")
PW_MARK = "(configured)"
MIN_TRIAL = 60              # [doc] commit trial time: 60–65535 seconds


def _redact(text: str, secrets: Iterable[str] = ()) -> str:
    text = _SECRET.sub(r"\1******", text)
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "******")
    return text


class _Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        red = _redact(msg, self.secrets)
        if red != msg:
            record.msg, record.args = red, None
        return True


_FILTERED_LOGGERS = ("netmiko", "netmiko.base_connection", "netmiko.channel", "paramiko",
                     "paramiko.transport", __name__)


def config_items(text: str) -> list[tuple[int, str]]:
    """(depth, line) for every config line of a VRP text (display format or our
    templates): `#` and `!` lines and `return` skipped; one space per level."""
    out: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped == "return" or stripped.startswith(("#", "!")):
            continue
        out.append((len(line) - len(line.lstrip(" ")), " ".join(stripped.split())))
    return out


def _sections(items: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    out: list[list[tuple[int, str]]] = []
    for depth, line in items:
        if depth == 0 or not out:
            out.append([(depth, line)])
        else:
            out[-1].append((depth, line))
    return out


def _owned_kind(head: str) -> str | None:
    if re.match(r"^bgp \d+$", head):
        return "bgp"
    if head == "bmp":
        return "bmp"
    if m := re.match(r"^ip ip-prefix (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


# ---------------------------------------------------------------------- hier_config

_IDEMPOTENT = [re.compile(p) for p in (
    r"^(ip ip-prefix \S+ index \d+) ",
    r"^(tcp connect port) ",
    r"^(router-id) ",
    r"^(timer) keepalive ",
    r"^(graceful-restart timer \S+) ",
    r"^(bgp dynamic-session-limit) ",
    r"^(peer \S+) (description|password|listen-as|valid-ttl-hops|connect-interface"
    r"|route-limit) ",
    r"^(peer \S+) ip-prefix \S+ (import|export)$",
    r"^(maximum load-balancing(?: ebgp| ibgp)?) \d+$",
    r"^(reflector cluster-id) ",
)]

# (pattern on "undo <line>", replacement): where VRP's undo must differ from the line.
_UNDO = [(re.compile(p), r) for p, r in (
    # [doc] `undo peer X` deletes the peer and every setting of it.
    (r"^undo (peer \d+\.\d+\.\d+\.\d+) (?:as-number \d+|group \S+)$", r"undo \1"),
    (r"^undo (group \S+)(?: .*)?$", r"undo \1"),
    # The device shows only a cipher: the key is never repeated in an undo.
    (r"^undo (peer \S+ password)(?: .*)?$", r"undo \1"),
    (r"^undo (ip ip-prefix \S+ index \d+) .*$", r"undo \1"),
)]

_ANY = MatchRule(re_search=".")
_BGP = MatchRule(startswith="bgp ")
_AF = MatchRule(startswith="ipv4-family ")
_DELETE = r"^undo (?:peer \S+|group \S+)$"


class VrpHierDriver(HConfigDriverHuaweiVrp):
    """Platform.HUAWEI_VRP with VRP8 undo forms, overwrite-in-place commands and an
    order that respects dependencies (groups, then peers, then their settings)."""

    def swap_negation(self, child: HConfigChild) -> HConfigChild:
        if child.text.startswith(self.negation_prefix):
            child.text = child.text.removeprefix(self.negation_prefix)
            return child
        text = f"{self.negation_prefix}{child.text}"
        for pattern, repl in _UNDO:
            if pattern.match(text):
                text = pattern.sub(repl, text)
                break
        child.text = text
        return child

    def idempotent_for(self, config: HConfigChild,
                       other_children: Iterable[HConfigChild]) -> HConfigChild | None:
        key = _idem_key(config.text)
        if key is None:
            return None
        for other in other_children:
            if other.text != config.text and _idem_key(other.text) == key:
                return other
        return None

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        def at(*rules: MatchRule, weight: int) -> OrderingRule:
            return OrderingRule(match_rules=rules, weight=weight)

        return HConfigDriverRules(
            indentation=1,
            per_line_sub=[PerLineSubRule(search=r"^\s*[#!].*", replace=""),
                          PerLineSubRule(search=r"^return$", replace="")],
            ordering=[
                at(_ANY, weight=500), at(_ANY, _ANY, weight=500),
                at(_ANY, _ANY, _ANY, weight=500),
                at(MatchRule(startswith="undo bgp "), weight=100),
                at(MatchRule(startswith="ip ip-prefix "), weight=300),
                at(MatchRule(startswith=("undo ip ip-prefix ", "undo bmp")), weight=700),
                at(_BGP, MatchRule(re_search=_DELETE), weight=100),
                at(_BGP, MatchRule(startswith="undo "), weight=200),
                at(_BGP, MatchRule(startswith="group "), weight=300),
                at(_BGP, MatchRule(re_search=r"^peer \S+ (?:as-number|group) "), weight=400),
                at(_BGP, _AF, weight=600),
                at(_BGP, _AF, MatchRule(startswith="undo "), weight=200),
            ],
        )


def _idem_key(text: str) -> tuple[str, ...] | None:
    for pattern in _IDEMPOTENT:
        if m := pattern.match(text):
            return (pattern.pattern, *m.groups())
    return None


# ---------------------------------------------------------------------- the driver


class VrpDriver:
    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None):
        args = optional_args or {}
        self.hostname = hostname
        self.username = username
        self._password = password
        self.timeout = timeout
        self.port = int(args.get("port", 22))
        self.known_hosts = args.get("known_hosts")
        self.accept_unknown_host_keys = bool(args.get("accept_unknown_host_keys", False))
        self._conn: Any = None
        self._hdriver = VrpHierDriver()
        self._candidate: list[tuple[int, str]] | None = None
        self._candidate_text = ""
        self._merge = False
        self._names: set[str] = set()
        self._before: list[tuple[int, str]] | None = None
        self._before_names: set[str] = set()
        self._pending = False
        self._expired = False
        self._in_system = False
        self._redactor = _Redactor()
        self._redactor.secrets.add(password)

    # ----- plumbing
    def __repr__(self) -> str:
        return f"VrpDriver({self.hostname!r}, port={self.port})"

    def _secret(self, text: str) -> str:
        return _redact(text, self._redactor.secrets)

    def _error(self, cls: type[VrpError], message: str, **kw: Any) -> VrpError:
        return cls(self._secret(f"{self.hostname}: {message}"), **kw)

    def _attach_filter(self) -> None:
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(self._redactor)

    def _detach_filter(self) -> None:
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).removeFilter(self._redactor)

    def _require(self) -> Any:
        if self._conn is None:
            raise self._error(VrpConnectionError, "not connected (call open() first)")
        return self._conn

    def _send(self, line: str, timeout: float | None = None) -> tuple[list[str], str]:
        """Send one line; returns (output lines without echo and prompt, the prompt)."""
        conn = self._require()
        stale = conn.read_channel()
        if stale.strip():
            log.info("%s: device said: %s", self.hostname, self._secret(stale.strip()))
        log.debug("%s: > %s", self.hostname, self._secret(line))
        try:
            out = conn.send_command(line, expect_string=f"{PROMPT}|{QUESTION}",
                                    read_timeout=timeout or self.timeout, strip_prompt=False,
                                    strip_command=False, cmd_verify=False)
        except Exception as exc:
            raise self._error(VrpError, f"no answer to {line!r}: "
                              f"{type(exc).__name__}") from None
        lines = str(out).replace("\r", "").split("\n")
        if lines and lines[0].strip().endswith(line.strip()[-20:]):
            lines = lines[1:]
        prompt = ""
        if lines and (_PROMPT_LINE.match(lines[-1]) or re.search(QUESTION, lines[-1])):
            prompt = lines.pop().strip()
        return lines, prompt

    @staticmethod
    def _errors(lines: list[str]) -> list[str]:
        """Every `Error:` line and the context lines the device prints after one."""
        out: list[str] = []
        for i, ln in enumerate(lines):
            if _ERROR.match(ln):
                out.append(ln.strip())
                for more in lines[i + 1:]:
                    if not more.strip() or _ERROR.match(more) or \
                            more.lstrip().startswith(("Info:", "Warning:")):
                        break
                    out.append(more.rstrip())
        return out

    def _command(self, line: str, timeout: float | None = None) -> str:
        lines, _ = self._send(line, timeout)
        if errs := self._errors(lines):
            raise self._error(VrpError, f"{line!r} refused: {' '.join(errs)}")
        return "\n".join(lines)

    # ----- session
    def open(self) -> None:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        params: dict[str, Any] = {
            "device_type": "huawei_vrpv8", "host": self.hostname, "port": self.port,
            "username": self.username, "password": self._password,
            "conn_timeout": self.timeout, "auth_timeout": self.timeout,
            "banner_timeout": self.timeout, "use_keys": False, "allow_agent": False,
            "ssh_strict": not self.accept_unknown_host_keys,
            "system_host_keys": not self.known_hosts,
            "alt_host_keys": bool(self.known_hosts),
            "alt_key_file": str(Path(self.known_hosts).expanduser()) if self.known_hosts else "",
        }
        self._attach_filter()
        try:
            self._conn = ConnectHandler(**params)
        except NetmikoAuthenticationException:
            self._detach_filter()
            raise self._error(VrpAuthenticationError,
                              f"authentication failed for user {self.username!r}") from None
        except NetmikoTimeoutException as exc:
            self._detach_filter()
            text = str(exc)
            if "known_hosts" in text or "Host key" in text or "host key" in text:
                where = self.known_hosts or "~/.ssh/known_hosts"
                raise self._error(
                    VrpHostKeyError,
                    f"host key of {self.hostname}:{self.port} is not trusted (not in {where},"
                    " or different); add it there or set accept_unknown_host_keys") from None
            first = text.strip().splitlines()[0] if text.strip() else "timeout"
            raise self._error(VrpConnectionError,
                              f"cannot connect to port {self.port}: {first}") from None
        except Exception as exc:
            self._detach_filter()
            raise self._error(VrpConnectionError,
                              f"cannot connect to port {self.port}: {type(exc).__name__}"
                              ) from None

    def close(self) -> None:
        """Log out from user view (never leaving a candidate behind) and disconnect."""
        self._drop_candidate()
        if self._conn is not None:
            if self._in_system:
                self._abandon()                      # discard, never commit on exit
            with contextlib.suppress(Exception):
                self._conn.write_channel("quit\n")
            with contextlib.suppress(Exception):
                self._conn.paramiko_cleanup()       # netmiko's cleanup probes for 2+ s
            self._conn = None
        self._detach_filter()

    def __enter__(self) -> VrpDriver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- config retrieval
    def _running(self) -> str:
        return self._command("display current-configuration")

    def get_config(self, retrieve: str = "running", full: bool = False,
                   sanitized: bool = False) -> dict[str, str]:
        out = {"running": "", "candidate": "", "startup": ""}
        if retrieve in ("all", "running"):
            out["running"] = self._running()
        if retrieve in ("all", "startup"):
            out["startup"] = self._command("display saved-configuration")
        if retrieve in ("all", "candidate"):
            out["candidate"] = self._candidate_text
        if sanitized:
            out = {k: _redact(v) for k, v in out.items()}
        return out

    # ----- candidate
    def _load(self, filename: str | None, config: str | None, merge: bool) -> None:
        self._drop_candidate()
        text = Path(filename).read_text() if filename else (config or "")
        items = config_items(text)
        for _, line in items:
            for m in re.finditer(r"\b(?:simple|cipher|irreversible-cipher)\s+(\S+)", line,
                                 re.IGNORECASE):
                self._redactor.secrets.add(m.group(1))
        names: set[str] = set()
        foreign = []
        for section in _sections(items):
            kind = _owned_kind(section[0][1])
            if kind is None:
                foreign.append(section[0][1])
            elif kind.startswith("pl:"):
                names.add(kind[3:])
        if foreign:
            raise self._error(VrpCandidateError,
                              "the candidate has lines outside what this tool owns (the bgp "
                              "view, the bmp view, ip ip-prefix): "
                              + "; ".join(repr(f) for f in foreign[:5]))
        try:
            self._tree(items)
        except Exception as exc:
            raise self._error(VrpCandidateError,
                              f"the candidate cannot be read: {exc}") from None
        self._candidate, self._candidate_text = items, text
        self._names, self._merge = names, merge

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self._load(filename, config, merge=False)

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        self._load(filename, config, merge=True)

    def _drop_candidate(self) -> None:
        self._candidate, self._candidate_text, self._names = None, "", set()

    def discard_config(self) -> None:
        """Drop the loaded candidate; if this session left lines in the device's
        candidate, `clear configuration candidate`. A commit waiting for confirmation
        is not touched (that is `rollback`)."""
        self._drop_candidate()
        if self._conn is not None and self._in_system:
            self._abandon()

    # ----- remediation
    def _owned(self, items: list[tuple[int, str]], names: set[str]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for section in _sections(items):
            kind = _owned_kind(section[0][1])
            if kind in ("bgp", "bmp") or (kind and kind[3:] in names):
                out += section
        return out

    def _tree(self, items: list[tuple[int, str]],
              originals: dict[tuple[str, ...], str] | None = None) -> HConfig:
        """hier_config tree; peer password lines become `peer X password (configured)`
        (the device shows only a cipher), their original kept in `originals`."""
        lines = []
        path: list[str] = []
        for depth, line in items:
            text = line
            if m := _PEER_PW.match(line):
                text = f"{m.group(1)} password {PW_MARK}"
            del path[depth:]
            path.append(text)
            if originals is not None and text != line:
                originals[tuple(path)] = line
            lines.append(" " * depth + text)
        return get_hconfig(self._hdriver, "\n".join(lines))

    def _remediation(self, running: list[tuple[int, str]], target: list[tuple[int, str]],
                     names: set[str], merge: bool = False) -> HConfig:
        originals: dict[tuple[str, ...], str] = {}
        have = self._tree(self._owned(running, names))
        want = self._tree(target, originals)
        rem = have.config_to_get_to(want)
        if merge:
            _drop_negations(rem)
        else:
            _cascade(rem, have, want)
        for child in rem.all_children():
            if (orig := originals.get(tuple(child.path()))) is not None:
                child.text = orig
        return rem.set_order_weight()

    @staticmethod
    def _render(rem: HConfig) -> str:
        return "\n".join(c.cisco_style_text() for c in rem.all_children_sorted())

    def compare_config(self) -> str:
        """The remediation, in push order; empty when the device already matches."""
        if self._candidate is None:
            return ""
        running = config_items(self._running())
        return self._render(self._remediation(running, self._candidate, self._names,
                                              self._merge))

    # ----- commit
    def _system_view(self) -> str:
        lines, prompt = self._send("system-view")
        if errs := self._errors(lines):
            raise self._error(VrpError, f"system-view refused: {' '.join(errs)}")
        if not prompt.startswith("["):
            raise self._error(VrpError, f"system-view did not enter system view ({prompt})")
        self._in_system = True
        if prompt.startswith("[*"):         # a candidate left over in this session
            self._send("clear configuration candidate")
            prompt = "[~" + prompt[2:]
        return prompt

    def _leave(self) -> None:
        """Back to user view; a candidate still there is discarded (answer N)."""
        with contextlib.suppress(VrpError):
            _, prompt = self._send("return")
            if re.search(QUESTION, prompt):
                self._send("N")
            self._in_system = False

    def _abandon(self) -> None:
        """After an error: clear the candidate and leave system view."""
        with contextlib.suppress(VrpError):
            self._send("clear configuration candidate")
        self._leave()

    def _refused(self, line: str, errs: list[str]) -> VrpCommitError:
        msg = " | ".join(e.strip() for e in errs)
        return self._error(VrpCommitError, f"the device refused {line!r}: {msg}",
                           line=self._secret(line), device_message=self._secret(msg))

    @staticmethod
    def _same_view(a: str, b: str) -> bool:
        return a[2:] == b[2:] and a[:1] == b[:1]       # `[~x]` and `[*x]` are one view

    def _push_line(self, line: str, prompt: str, opens_view: bool) -> str:
        lines, new = self._send(line)
        if re.search(QUESTION, new):
            # Only the remediation's own `undo bgp ASN` may ask here.
            answer = "Y" if line.startswith("undo bgp ") else "N"
            more, new = self._send(answer)
            lines += more
            if answer == "N":
                raise self._error(VrpCommitError, f"unexpected question after {line!r}",
                                  line=self._secret(line))
        if errs := self._errors(lines):
            raise self._refused(line, errs)
        if opens_view and (self._same_view(new, prompt) or not new[2:].startswith(prompt[2:-1])):
            raise self._error(VrpCommitError, f"{line!r} did not open a view (prompt {new})",
                              line=self._secret(line), device_message=new)
        if not opens_view and not self._same_view(new, prompt):
            raise self._error(VrpCommitError, f"{line!r} left the view {prompt} for {new}",
                              line=self._secret(line), device_message=new)
        return new

    def _push(self, node: HConfig | HConfigChild, prompt: str) -> str:
        for child in sorted(node.children):
            if child.children:
                inner = self._push_line(child.text, prompt, opens_view=True)
                inner = self._push(child, inner)
                _lines, back = self._send("quit")
                if not self._same_view(back, prompt):
                    raise self._error(VrpCommitError,
                                      f"quit from {inner} landed in {back}, not {prompt}")
                prompt = back
            else:
                prompt = self._push_line(child.text, prompt, opens_view=False)
        return prompt

    def _commit(self, command: str) -> None:
        lines, prompt = self._send(command, timeout=max(self.timeout, 120))
        if errs := self._errors(lines):
            raise self._refused(command, errs)
        if prompt.startswith("[*") and command == "commit":
            raise self._error(VrpCommitError, f"{command!r} left the candidate uncommitted",
                              line=command, device_message=prompt)

    def _apply(self, rem: HConfig | None, commit: str) -> None:
        """Push `rem` into the candidate and commit it; on any error clear the candidate
        (nothing took effect) and raise."""
        prompt = self._system_view()
        try:
            if rem is not None:
                self._push(rem, prompt)
            self._commit(commit)
        except VrpError:
            self._abandon()
            raise
        self._leave()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise self._error(VrpError, "no candidate loaded")
        running = config_items(self._running())
        rem = self._remediation(running, self._candidate, self._names, self._merge)
        before, before_names = self._owned(running, self._names), set(self._names)
        self._expired = False
        count = sum(1 for _ in rem.all_children())
        trial = max(MIN_TRIAL, int(revert_in)) if revert_in else None
        log.info("%s: pushing %d lines%s", self.hostname, count,
                 f" (rolled back in {trial}s unless confirmed)" if trial else "")
        if count:
            self._apply(rem, f"commit trial {trial}" if trial else "commit")
            self._before, self._before_names = before, before_names
            self._pending = bool(trial)
        if not trial:
            self._save()
        self._drop_candidate()

    def _save(self) -> None:
        lines, prompt = self._send("save", timeout=max(self.timeout, 120))
        if re.search(QUESTION, prompt):
            more, prompt = self._send("y", timeout=max(self.timeout, 120))
            lines += more
        text = "\n".join(lines)
        if errs := self._errors(lines):
            raise self._error(VrpError, f"save refused: {' '.join(errs)}")
        if "success" not in text.lower():
            log.warning("%s: save said: %s", self.hostname, text.strip()[-200:])

    def _device_pending(self) -> bool | None:
        """What the device says of its trial; None if it cannot say."""
        try:
            lines, _ = self._send("display configuration trial status")
        except VrpError:
            return None
        if self._errors(lines):
            return None
        text = " ".join(lines).lower()
        if "no trial" in text:
            return False
        return "running" in text or None

    def has_pending_commit(self) -> bool:
        if not self._pending:
            return False
        if self._device_pending() is False:
            self._pending, self._expired = False, True
        return self._pending

    def confirm_commit(self) -> None:
        if self._expired or (self._pending and self._device_pending() is False):
            self._pending, self._expired = False, False
            raise self._error(VrpError, "the trial timer already expired: the device rolled "
                              "the change back")
        if not self._pending:
            raise self._error(VrpError, "no commit is waiting for confirmation")
        self._apply(None, "commit")
        self._pending = False
        self._save()

    def _abort_trial(self) -> None:
        self._system_view()
        try:
            lines, new = self._send("abort trial")
            if re.search(QUESTION, new):
                more, new = self._send("Y")
                lines += more
            if errs := self._errors(lines):
                raise self._refused("abort trial", errs)
        finally:
            self._leave()

    def rollback(self) -> None:
        """Back to the owned config from before the last commit (and saved)."""
        if self._before is None:
            raise self._error(VrpError, "nothing to roll back to")
        if self._pending and self._device_pending() is not False:
            self._abort_trial()
        self._pending = False
        running = config_items(self._running())
        rem = self._remediation(running, self._before, self._before_names)
        if any(True for _ in rem.all_children()):
            self._apply(rem, "commit")
        self._save()

    # ----- getters
    def _peer_summary(self) -> tuple[str, int, list[dict[str, Any]]]:
        text = self._command("display bgp peer")
        rid = m.group(1) if (m := re.search(r"BGP local router ID\s*:\s*(\S+)", text)) else ""
        local = int(m.group(1)) if (m := re.search(r"Local AS number\s*:\s*(\d+)", text)) else 0
        rows = []
        for line in text.splitlines():
            if m := _ROW.match(line):
                rows.append({"address": m["addr"], "remote_as": int(m["as"]),
                             "received": int(m["rcvd"]), "sent": int(m["sent"]),
                             "prefixes": int(m["pref"]), "uptime": _seconds(m["updown"]),
                             "state": m["state"]})
        return rid, local, rows

    def _peer_details(self) -> dict[str, dict[str, Any]]:
        try:
            text = self._command("display bgp peer verbose")
        except VrpError:
            return {}
        out: dict[str, dict[str, Any]] = {}
        cur: dict[str, Any] | None = None
        for line in text.splitlines():
            if m := re.search(r"BGP Peer is (\d+\.\d+\.\d+\.\d+)", line):
                cur = out.setdefault(m.group(1), {"gr_adv": False, "gr_rcv": False,
                                                  "remote_id": ""})
            elif cur is not None and (m := re.search(r"Graceful Restart Capability:\s*(.*)",
                                                     line, re.IGNORECASE)):
                how = m.group(1).lower()
                cur["gr_adv"] = "advertised" in how
                cur["gr_rcv"] = "received" in how
            elif cur is not None and (m := re.search(r"Remote router ID\s+(\S+)", line,
                                                     re.IGNORECASE)):
                cur["remote_id"] = m.group(1)
        return out

    def neighbors(self) -> list[Neighbor]:
        _, local, rows = self._peer_summary()
        details = self._peer_details()
        out = []
        for r in rows:
            d = details.get(r["address"], {})
            up = r["state"] == "Established"
            out.append(Neighbor(
                address=r["address"], local_as=local, remote_as=r["remote_as"],
                state=r["state"], uptime=float(r["uptime"]) if up else 0.0,
                gr_advertised=bool(d.get("gr_adv")), gr_received=bool(d.get("gr_rcv")),
                prefixes_received=r["prefixes"] if up else 0))
        return out

    def get_bgp_neighbors(self) -> dict[str, Any]:
        """NAPALM's shape: {"global": {"router_id", "peers": {addr: {...}}}}."""
        rid, local, rows = self._peer_summary()
        details = self._peer_details()
        descr = self._descriptions(r["address"] for r in rows)
        peers = {}
        for r in rows:
            up = r["state"] == "Established"
            peers[r["address"]] = {
                "local_as": local, "remote_as": r["remote_as"],
                "remote_id": details.get(r["address"], {}).get("remote_id", ""),
                "is_up": up, "is_enabled": True,
                "description": descr.get(r["address"], ""),
                "uptime": int(r["uptime"]) if up else -1,
                "address_family": {"ipv4": {
                    "received_prefixes": r["prefixes"] if up else -1,
                    "accepted_prefixes": r["prefixes"] if up else -1,
                    "sent_prefixes": -1}}}
        return {"global": {"router_id": rid, "peers": peers}}

    def _descriptions(self, addresses: Iterable[str]) -> dict[str, str]:
        """peer → description; a dynamic peer (inside a group's listen-net) or a group
        member gets the group's."""
        try:
            items = config_items(self._command("display current-configuration configuration bgp"))
        except VrpError:
            items = config_items(self._running())
        text: dict[str, str] = {}
        ranges: list[tuple[ipaddress.IPv4Network, str]] = []
        for depth, line in items:
            if depth != 1:
                continue
            if m := re.match(r"^peer (\S+) description (.+)$", line):
                text[m.group(1)] = m.group(2)
            elif m := re.match(r"^peer (\S+) listen-net (\S+) (\d+)$", line):
                ranges.append((ipaddress.IPv4Network(f"{m.group(2)}/{m.group(3)}",
                                                     strict=False), m.group(1)))
            elif m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+) group (\S+)$", line):
                ranges.append((ipaddress.IPv4Network(f"{m.group(1)}/32"), m.group(2)))
        out = {}
        for addr in addresses:
            if addr in text:
                out[addr] = text[addr]
                continue
            ip = ipaddress.IPv4Address(addr)
            group = next((g for net, g in ranges if ip in net), None)
            out[addr] = text.get(group or "", "")
        return out


_ROW = re.compile(r"^\s*(?P<addr>\d{1,3}(?:\.\d{1,3}){3})\s+(?P<v>\d)\s+(?P<as>\d+)\s+"
                  r"(?P<rcvd>\d+)\s+(?P<sent>\d+)\s+(?P<outq>\d+)\s+(?P<updown>\S+)\s+"
                  r"(?P<state>[A-Za-z]+)\s+(?P<pref>\d+)\s*$")


def _seconds(updown: str) -> int:
    """`08:30:47`, `0286h47m`, `12d03h`, `00h09m54s` → seconds."""
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    if m := re.fullmatch(r"(\d+)h(\d+)m(?:(\d+)s)?", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    if m := re.fullmatch(r"(\d+)d(\d+)h", updown):
        return int(m[1]) * 86400 + int(m[2]) * 3600
    return 0


# ---------------------------------------------------------------------- post-processing


def _bgp(tree: HConfig) -> HConfigChild | None:
    return next((c for c in tree.children if c.text.startswith("bgp ")), None)


def _af(bgp: HConfigChild | None) -> HConfigChild | None:
    if bgp is None:
        return None
    return next((c for c in bgp.children if c.text.startswith("ipv4-family ")), None)


def _drop_negations(node: HConfig | HConfigChild) -> None:
    """Merge: keep only additions and overwrites; drop the views left empty."""
    for child in list(node.children):
        if child.text.startswith("undo "):
            child.delete()
            continue
        had = bool(child.children)
        _drop_negations(child)
        if had and not child.children and not child.new_in_config:
            child.delete()


def _peer_of(text: str) -> str | None:
    m = _PEER_REF.match(text)
    return m.group(1) if m else None


def _cascade(rem: HConfig, have: HConfig, want: HConfig) -> None:
    """After `undo peer X` / `undo group G` the device drops everything of X (or of G and
    its members): remove the pointless `undo peer X ...` lines, and push every wanted
    line of a peer or group that is re-created."""
    rbgp, hbgp, wbgp = _bgp(rem), _bgp(have), _bgp(want)
    if rbgp is None or hbgp is None or wbgp is None or rbgp.text != hbgp.text:
        return
    gone: set[str] = set()
    for c in rbgp.children:
        if m := re.match(r"^undo peer (\S+)$", c.text):
            gone.add(m.group(1))
        elif m := re.match(r"^undo group (\S+)$", c.text):
            group = m.group(1)
            gone.add(group)
            for h in hbgp.children:
                if re.match(rf"^peer \S+ group {re.escape(group)}$", h.text):
                    gone.add(_peer_of(h.text) or "")
    if not gone:
        return
    raf = _af(rbgp)
    for view in (rbgp, raf):
        if view is None:
            continue
        for c in list(view.children):
            if c.text.startswith("undo peer ") and _peer_of(c.text) in gone and \
                    not re.match(r"^undo peer \S+$", c.text):
                c.delete()
    waf = _af(wbgp)
    for peer in sorted(gone):
        for c in wbgp.children:
            if (_peer_of(c.text) == peer or c.text.split()[:2] == ["group", peer]) and \
                    rbgp.children.get(c.text) is None:
                rbgp.add_child(c.text).new_in_config = True
        if waf is None:
            continue
        for c in waf.children:
            if _peer_of(c.text) == peer:
                if raf is None:
                    raf = rbgp.add_child(waf.text)
                if raf.children.get(c.text) is None:
                    raf.add_child(c.text).new_in_config = True
    if raf is not None and not raf.children:
        raf.delete()
