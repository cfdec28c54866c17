"""H3C Comware V7 driver with the NAPALM driver contract, on netmiko `hp_comware`.

What this tool owns on a switch, and so what replace touches: the `bgp` view, the
`bmp server` views, and the `ip prefix-list` entries whose names the candidate
contains. Everything else on the switch (interfaces, users, other prefix lists) is
left alone; a candidate line outside those sections is refused at load.

`compare_config` is the remediation hier_config computes between the owned
sections of the running config and the candidate (empty when nothing changes);
`commit_config` pushes exactly those lines in system-view, checking every line's
answer for Comware's error markers and the prompt it lands on. With `revert_in`
the push is preceded by `configuration commit delay <minutes>`: unless
`confirm_commit` (`configuration commit`, `save force`) comes first, the switch
rolls itself back to the config from before the delay command (Release 1121+).
`rollback` pushes the inverse remediation back to the owned config from before the
last commit, and saves.

hier_config has no Comware V7 driver; `ComwareV7HierDriver` starts from
`Platform.HP_COMWARE5` (`undo` as the negation) and adds what V7 needs:
  * one space of indentation per level, `#` separators and `return` dropped;
  * the display quirk that global one-line commands sit indented in their own
    `#` block (` sysname X`) is handled before hier_config sees the text;
  * the documented short `undo` forms (`undo peer X description`, `undo peer X
    route-limit`, `undo peer X prefix-list import`, `undo timer`, `undo ip
    prefix-list N index I`; `undo peer X` deletes a peer with all its settings);
  * commands that overwrite the previous value (route-limit, description, timers,
    router-id, a prefix-list index...) are idempotent: no undo before them;
  * an order that respects dependencies: prefix lists and BMP servers before the
    BGP view; in it, deleted peers/groups first, then groups, then peers, then
    their settings, then the address family; removals of prefix lists and BMP
    servers last;
  * a peer or group removed with `undo peer X` / `undo group G` takes its other
    lines with it (no further `undo peer X ...`), and if it is re-created with a
    new identity (another AS, another group) every candidate line for it is pushed.
The device stores `password simple K` encrypted (`cipher $c$3$...`), so password
lines compare on presence only: a changed key is not detected (see README note in
the report); a new or removed key is.

Secrets: the login password and every BGP key of the candidate are masked in this
module's exceptions and in the log records of this module, netmiko and paramiko
while a connection is open.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hier_config import HConfig, get_hconfig
from hier_config.child import HConfigChild
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.hp_comware5.driver import HConfigDriverHPComware5

from ..errors import OperationalError
from ..observed import Neighbor

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- errors


class ComwareError(OperationalError):
    pass


class ComwareConnectionError(ComwareError):
    pass


class ComwareAuthenticationError(ComwareConnectionError):
    pass


class ComwareHostKeyError(ComwareConnectionError):
    pass


class ComwareCandidateError(ComwareError):
    pass


class ComwareCommitError(ComwareError):
    """The device refused a pushed line: `line` and `device_message` (both masked)."""

    def __init__(self, message: str, line: str = "", device_message: str = ""):
        super().__init__(message)
        self.line = line
        self.device_message = device_message


# ---------------------------------------------------------------------- device text

PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"\[Y/N\]:?[ \t]*$"
_PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[^\[\]]+\])\s*$")
# `% Unrecognized command found at '^' position.` and kin; a log line pushed to the
# terminal starts `%Jan  1 12:00:00:000 2024 sysname MOD/5/DIGEST:` and is not one.
_ERROR = re.compile(r"^\s*%")
_SYSLOG = re.compile(r"^\s*%[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d")
# A key follows `simple`, `cipher` or `hash` in every Comware command that takes one
# (`peer X password simple K`, `password hash H`), typo'd or not.
_SECRET = re.compile(r"(\b(?:simple|cipher|hash)\s+)\S+", re.IGNORECASE)
_PEER = r"peer \S+(?: \d{1,2})?"
_PEER_REF = re.compile(r"^(?:undo )?peer (\S+(?: \d{1,2})?) ")
_PEER_PW = re.compile(rf"^({_PEER}) password (?:simple|cipher) (\S+)$")
PW_MARK = "(configured)"


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
    """(depth, line) for every config line of a Comware text (display format or our
    templates): `#` lines separate sections and return to the top level; `return`
    ends; a section whose first line is indented (` sysname X`, ` version ...`)
    holds top-level one-line commands."""
    out: list[tuple[int, str]] = []
    shift, first = 0, True
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped == "return":
            continue
        if stripped.startswith("#"):
            if not raw.startswith((" ", "\t")):
                first = True
            continue
        indent = len(line) - len(line.lstrip(" "))
        if first:
            shift, first = indent, False
        out.append((max(0, indent - shift), " ".join(stripped.split())))
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
    if re.match(r"^bgp \d+(?: |$)", head):
        return "bgp"
    if re.match(r"^bmp server \d+$", head):
        return "bmp"
    if m := re.match(r"^ip prefix-list (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


# ---------------------------------------------------------------------- hier_config


_IDEMPOTENT = [re.compile(p) for p in (
    r"^(ip prefix-list \S+ index \d+) ",
    r"^(server address) ",
    r"^(router-id) ",
    r"^(timer) keepalive ",
    r"^(graceful-restart timer \S+) ",
    rf"^({_PEER}) (description|password|ttl-security|timer|connect-interface|route-limit) ",
    rf"^({_PEER}) prefix-list \S+ (import|export)$",
    r"^(balance(?: ebgp| ibgp| eibgp)?) \d+$",
    r"^(reflector cluster-id) ",
    r"^(peer [^\d\s]\S*) (as-number) ",
)]

# (pattern on "undo <line>", replacement): Comware V7's short undo forms.
_UNDO = [(re.compile(p), r) for p, r in (
    (r"^undo (peer \d+\.\d+\.\d+\.\d+(?: \d{1,2})?) (?:as-number \d+|group \S+.*)$", r"undo \1"),
    (r"^undo (peer \S+) as-number \d+$", r"undo \1 as-number"),
    (r"^undo (group \S+)(?: .*)?$", r"undo \1"),
    (rf"^undo ({_PEER}) (description|password|ttl-security|timer|connect-interface"
     r"|route-limit) .*$", r"undo \1 \2"),
    (rf"^undo ({_PEER}) prefix-list \S+ (import|export)$", r"undo \1 prefix-list \2"),
    (r"^undo (ip prefix-list \S+ index \d+) .*$", r"undo \1"),
    (r"^undo (server address) .*$", r"undo \1"),
    (r"^undo (router-id) .*$", r"undo \1"),
    (r"^undo (timer) keepalive .*$", r"undo \1"),
    (r"^undo (graceful-restart timer \S+) .*$", r"undo \1"),
    (r"^undo (balance(?: ebgp| ibgp| eibgp)?) \d+$", r"undo \1"),
    (r"^undo (reflector cluster-id) .*$", r"undo \1"),
    (r"^undo (aggregate \S+ \S+) .*$", r"undo \1"),
)]

_ANY = MatchRule(re_search=".")
_BGP = MatchRule(startswith="bgp ")
_AF = MatchRule(startswith="address-family ")
_DELETE = rf"^undo (?:{_PEER}|group \S+)$"


class ComwareV7HierDriver(HConfigDriverHPComware5):
    """HP_COMWARE5 (`undo`) extended for Comware V7 as described in the module doc."""

    def swap_negation(self, child: HConfigChild) -> HConfigChild:
        if child.text.startswith(self.negation_prefix):
            child.text = child.text_without_negation
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
            per_line_sub=[PerLineSubRule(search=r"^\s*#.*", replace=""),
                          PerLineSubRule(search=r"^return$", replace="")],
            # hier_config's default weight is 0 and the last matching rule wins:
            # everything starts at 500, then the rules below move lines earlier/later.
            ordering=[
                at(_ANY, weight=500), at(_ANY, _ANY, weight=500),
                at(_ANY, _ANY, _ANY, weight=500),
                at(MatchRule(startswith="undo bgp "), weight=100),
                at(MatchRule(startswith=("ip prefix-list ", "bmp server ")), weight=300),
                at(MatchRule(startswith=("undo ip prefix-list ", "undo bmp server ")),
                   weight=700),
                at(_BGP, MatchRule(re_search=_DELETE), weight=100),
                at(_BGP, MatchRule(startswith="undo "), weight=200),
                at(_BGP, MatchRule(startswith="group "), weight=300),
                at(_BGP, MatchRule(re_search=rf"^{_PEER} (?:as-number|group) "), weight=400),
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


class ComwareDriver:
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
        self._hdriver = ComwareV7HierDriver()
        self._candidate: list[tuple[int, str]] | None = None
        self._candidate_text = ""
        self._merge = False
        self._names: set[str] = set()
        self._before: list[tuple[int, str]] | None = None   # owned config before commit
        self._before_names: set[str] = set()
        self._pending = False
        self._expired = False
        self._redactor = _Redactor()
        self._redactor.secrets.add(password)

    # ----- plumbing
    def __repr__(self) -> str:
        return f"ComwareDriver({self.hostname!r}, port={self.port})"

    def _secret(self, text: str) -> str:
        return _redact(text, self._redactor.secrets)

    def _error(self, cls: type[ComwareError], message: str, **kw: Any) -> ComwareError:
        return cls(self._secret(f"{self.hostname}: {message}"), **kw)

    def _attach_filter(self) -> None:
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(self._redactor)

    def _detach_filter(self) -> None:
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).removeFilter(self._redactor)

    def _require(self) -> Any:
        if self._conn is None:
            raise self._error(ComwareConnectionError, "not connected (call open() first)")
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
            raise self._error(ComwareError, f"no answer to {line!r}: "
                              f"{type(exc).__name__}") from None
        lines = str(out).replace("\r", "").split("\n")
        if lines and lines[0].strip().endswith(line.strip()[-20:]):
            lines = lines[1:]
        prompt = ""
        if lines and (_PROMPT_LINE.match(lines[-1]) or re.search(QUESTION, lines[-1])):
            prompt = lines.pop().strip()
        return lines, prompt

    def _errors(self, lines: list[str]) -> list[str]:
        return [ln.strip() for ln in lines if _ERROR.match(ln) and not _SYSLOG.match(ln)]

    def _command(self, line: str, timeout: float | None = None) -> str:
        """A display or other command whose output we want; raises on an error marker."""
        lines, _ = self._send(line, timeout)
        if errs := self._errors(lines):
            raise self._error(ComwareError, f"{line!r} refused: {' '.join(errs)}")
        return "\n".join(lines)

    # ----- NAPALM contract: session
    def open(self) -> None:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        params: dict[str, Any] = {
            "device_type": "hp_comware", "host": self.hostname, "port": self.port,
            "username": self.username, "password": self._password,
            "conn_timeout": self.timeout, "auth_timeout": self.timeout,
            "banner_timeout": self.timeout, "use_keys": False, "allow_agent": False,
            # Unknown host keys are refused (RejectPolicy) unless the flag is set;
            # known keys come from `known_hosts` (or the user's ~/.ssh/known_hosts).
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
            raise self._error(ComwareAuthenticationError,
                              f"authentication failed for user {self.username!r}") from None
        except NetmikoTimeoutException as exc:
            self._detach_filter()
            text = str(exc)
            if "known_hosts" in text or "Host key" in text or "host key" in text:
                where = self.known_hosts or "~/.ssh/known_hosts"
                raise self._error(
                    ComwareHostKeyError,
                    f"host key of {self.hostname}:{self.port} is not trusted (not in {where},"
                    " or different); add it there or set accept_unknown_host_keys") from None
            raise self._error(ComwareConnectionError,
                              f"cannot connect to port {self.port}: "
                              f"{text.strip().splitlines()[0] if text.strip() else 'timeout'}"
                              ) from None
        except Exception as exc:
            self._detach_filter()
            raise self._error(ComwareConnectionError,
                              f"cannot connect to port {self.port}: {type(exc).__name__}"
                              ) from None

    def close(self) -> None:
        self.discard_config()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.write_channel("quit\n")
            with contextlib.suppress(Exception):
                self._conn.paramiko_cleanup()       # netmiko's cleanup probes for 2+ s
            self._conn = None
        self._detach_filter()

    def __enter__(self) -> ComwareDriver:
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
        self.discard_config()
        text = Path(filename).read_text() if filename else (config or "")
        items = config_items(text)
        for _, line in items:
            for m in re.finditer(r"\b(?:simple|cipher|hash)\s+(\S+)", line, re.IGNORECASE):
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
            raise self._error(ComwareCandidateError,
                              "the candidate has lines outside what this tool owns (the bgp "
                              "view, bmp server views, ip prefix-list): "
                              + "; ".join(repr(f) for f in foreign[:5]))
        try:
            self._tree(items)
        except Exception as exc:    # a duplicate line, a section hier_config cannot read
            raise self._error(ComwareCandidateError,
                              f"the candidate cannot be read: {exc}") from None
        self._candidate, self._candidate_text = items, text
        self._names, self._merge = names, merge

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self._load(filename, config, merge=False)

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        self._load(filename, config, merge=True)

    def discard_config(self) -> None:
        self._candidate, self._candidate_text, self._names = None, "", set()

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

    def _render(self, rem: HConfig) -> str:
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
            raise self._error(ComwareError, f"system-view refused: {' '.join(errs)}")
        if not prompt.startswith("["):
            raise self._error(ComwareError, f"system-view did not enter system view ({prompt})")
        return prompt

    def _leave(self) -> None:
        with contextlib.suppress(ComwareError):
            self._send("return")

    def _push_line(self, line: str, prompt: str, opens_view: bool) -> str:
        lines, new = self._send(line)
        if re.search(QUESTION, new):
            # Comware confirms destructive commands; only the remediation's own
            # `undo bgp ASN` can ask here.
            answer = "Y" if line.startswith("undo bgp ") else "N"
            more, new = self._send(answer)
            lines += more
            if answer == "N":
                raise self._error(ComwareCommitError, f"unexpected question after {line!r}",
                                  line=self._secret(line))
        if errs := self._errors(lines):
            msg = " ".join(errs)
            raise self._error(ComwareCommitError,
                              f"the device refused {line!r}: {msg}",
                              line=self._secret(line), device_message=self._secret(msg))
        if opens_view and (new == prompt or not new.startswith(prompt[:-1])):
            raise self._error(ComwareCommitError,
                              f"{line!r} did not open a view (prompt {new})",
                              line=self._secret(line), device_message=new)
        if not opens_view and new != prompt:
            raise self._error(ComwareCommitError,
                              f"{line!r} left the view {prompt} for {new}",
                              line=self._secret(line), device_message=new)
        return new

    def _push(self, node: HConfig | HConfigChild, prompt: str) -> None:
        for child in sorted(node.children):
            if child.children:
                inner = self._push_line(child.text, prompt, opens_view=True)
                self._push(child, inner)
                _lines, back = self._send("quit")
                if back != prompt:
                    raise self._error(ComwareCommitError,
                                      f"quit from {inner} landed in {back}, not {prompt}")
            else:
                self._push_line(child.text, prompt, opens_view=False)

    def _apply(self, rem: HConfig, revert_in: int | None) -> None:
        prompt = self._system_view()
        try:
            if revert_in:
                minutes = max(1, math.ceil(revert_in / 60))
                self._push_line(f"configuration commit delay {minutes}", prompt, False)
                self._pending = True
            self._push(rem, prompt)
        finally:
            self._leave()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise self._error(ComwareError, "no candidate loaded")
        running = config_items(self._running())
        rem = self._remediation(running, self._candidate, self._names, self._merge)
        self._before = self._owned(running, self._names)
        self._before_names = set(self._names)
        self._expired = False
        count = sum(1 for _ in rem.all_children())
        log.info("%s: pushing %d lines%s", self.hostname, count,
                 f" (rollback in {revert_in}s unless confirmed)" if revert_in else "")
        if count:
            self._apply(rem, revert_in)
        if not revert_in:
            self._save()
        self.discard_config()

    def _save(self) -> None:
        out = self._command("save force", timeout=max(self.timeout, 120))
        if "success" not in out.lower() and "saved" not in out.lower():
            log.warning("%s: save force said: %s", self.hostname, out.strip()[-200:])

    def has_pending_commit(self) -> bool:
        if not self._pending:
            return False
        if self._device_pending() is False:
            self._pending, self._expired = False, True
        return self._pending

    def _device_pending(self) -> bool | None:
        """What the device says of its commit-delay timer; None if it cannot say."""
        try:
            lines, _ = self._send("display configuration commit delay")
        except ComwareError:
            return None
        if self._errors(lines):
            return None
        text = " ".join(lines).lower()
        return not ("no configuration commit delay" in text or "not set" in text)

    def confirm_commit(self) -> None:
        if self._expired or (self._pending and self._device_pending() is False):
            self._pending, self._expired = False, False
            raise self._error(ComwareError, "the commit-delay timer already expired: the "
                              "device rolled the change back")
        if not self._pending:
            raise self._error(ComwareError, "no commit is waiting for confirmation")
        prompt = self._system_view()
        try:
            self._push_line("configuration commit", prompt, False)
        finally:
            self._leave()
        self._pending = False
        self._save()

    def rollback(self) -> None:
        """Back to the owned config from before the last commit (and saved)."""
        if self._before is None:
            raise self._error(ComwareError, "nothing to roll back to")
        running = config_items(self._running())
        rem = self._remediation(running, self._before, self._before_names)
        prompt = self._system_view()
        try:
            self._push(rem, prompt)
            if self._pending:
                self._push_line("configuration commit", prompt, False)
                self._pending = False
        finally:
            self._leave()
        self._save()

    # ----- getters
    def _peer_summary(self) -> tuple[str, int, list[dict[str, Any]]]:
        text = self._command("display bgp peer ipv4")
        rid = m.group(1) if (m := re.search(r"BGP local router ID:\s*(\S+)", text)) else ""
        local = int(m.group(1)) if (m := re.search(r"Local AS number:\s*(\d+)", text)) else 0
        rows = []
        for line in text.splitlines():
            if m := _ROW.match(line):
                rows.append({"address": m["addr"], "remote_as": int(m["as"]),
                             "received": int(m["rcvd"]), "sent": int(m["sent"]),
                             "prefixes": int(m["pref"]), "uptime": _seconds(m["updown"]),
                             "state": m["state"], "dynamic": bool(m["dyn"])})
        return rid, local, rows

    def _peer_details(self) -> dict[str, dict[str, Any]]:
        """GR capability and remote router ID per peer from the verbose display; {} if the
        device refuses it. (Which line shows GR is an assumption; see the report.)"""
        try:
            text = self._command("display bgp peer ipv4 verbose")
        except ComwareError:
            return {}
        out: dict[str, dict[str, Any]] = {}
        cur: dict[str, Any] | None = None
        for line in text.splitlines():
            if m := re.search(r"\bPeer:\s*(\d+\.\d+\.\d+\.\d+)", line):
                cur = out.setdefault(m.group(1), {"gr_adv": False, "gr_rcv": False,
                                                  "remote_id": ""})
            elif cur is not None and (m := re.search(r"Graceful Restart Capability:\s*(.*)",
                                                     line, re.IGNORECASE)):
                how = m.group(1).lower()
                cur["gr_adv"] = "advertised" in how
                cur["gr_rcv"] = "received" in how
            elif cur is not None and (m := re.search(r"remote router ID\s+(\S+)", line)):
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
        """peer address → description from the BGP view; a peer that is a member of a
        group (or came up inside a group's range) gets the group's."""
        try:
            items = config_items(self._command("display current-configuration configuration bgp"))
        except ComwareError:
            items = config_items(self._running())
        text: dict[str, str] = {}
        ranges: list[tuple[ipaddress.IPv4Network, str]] = []
        for depth, line in items:
            if depth != 1:
                continue
            if m := re.match(r"^peer (\S+) description (.+)$", line):
                text[m.group(1)] = m.group(2)
            elif m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+)(?: (\d{1,2}))? group (\S+)", line):
                net = ipaddress.IPv4Network(f"{m.group(1)}/{m.group(2) or 32}", strict=False)
                ranges.append((net, m.group(3)))
        out = {}
        for addr in addresses:
            if addr in text:
                out[addr] = text[addr]
                continue
            ip = ipaddress.IPv4Address(addr)
            group = next((g for net, g in ranges if ip in net), None)
            out[addr] = text.get(group or "", "")
        return out


_ROW = re.compile(r"^\s*(?P<dyn>\*)?\s*(?P<addr>\d{1,3}(?:\.\d{1,3}){3})\s+(?P<as>\d+)\s+"
                  r"(?P<rcvd>\d+)\s+(?P<sent>\d+)\s+(?P<outq>\d+)\s+(?P<pref>\d+)\s+"
                  r"(?P<updown>\S+)\s+(?P<state>\S+)\s*$")


def _seconds(updown: str) -> int:
    """`08:30:47`, `0286h47m`, `12d03h` → seconds (the forms seen in captures)."""
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
    return next((c for c in bgp.children if c.text.startswith("address-family ")), None)


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
    """After `undo peer X` / `undo group G` the device has dropped everything of X (or of
    G and its members): remove the now-pointless `undo peer X ...` lines, and push every
    wanted line of a peer or group that is being re-created."""
    rbgp, hbgp, wbgp = _bgp(rem), _bgp(have), _bgp(want)
    if rbgp is None or hbgp is None or wbgp is None or rbgp.text != hbgp.text:
        return
    gone: set[str] = set()
    for c in rbgp.children:
        if m := re.match(r"^undo peer (\S+(?: \d{1,2})?)$", c.text):
            gone.add(m.group(1))
        elif m := re.match(r"^undo group (\S+)$", c.text):
            group = m.group(1)
            gone.add(group)
            for h in hbgp.children:
                if re.match(rf"^{_PEER} group {re.escape(group)}(?: |$)", h.text):
                    gone.add(_peer_of(h.text) or "")
    if not gone:
        return
    raf = _af(rbgp)
    for view in (rbgp, raf):
        if view is None:
            continue
        for c in list(view.children):
            if c.text.startswith("undo peer ") and _peer_of(c.text) in gone and \
                    not re.match(rf"^undo {_PEER}$", c.text):
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
