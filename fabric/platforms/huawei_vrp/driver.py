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
from typing import Any

from hier_config import HConfig
from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.huawei_vrp.driver import HConfigDriverHuaweiVrp

from fabric.deploy.drivers.errors import (
    CommitError,
    DriverError,
)
from fabric.deploy.drivers.getters import facts, ntc
from fabric.deploy.drivers.netmiko_cli import (
    NetmikoCliDriver,
    ShortUndoMixin,
    hier_rules,
    seconds,
    uptime_seconds,
)
from fabric.deploy.drivers.session import PW_MARK as PW_MARK

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- device text

# `<sysname>` in user view; `[~sysname-view]` / `[*sysname-view]` in the others.
PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[~*]?[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"(?:\[Y/N\]|\[Y\(yes\)/N\(no\)/C\(cancel\)\]|\[Y/N/C\]):?[ \t]*$"
_PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[~*]?[^\[\]]+\])\s*$")
_ERROR = re.compile(r"^\s*Error\s*:")
_SECRET = re.compile(r"(\b(?:simple|cipher|irreversible-cipher)\s+)(\S+)", re.IGNORECASE)
MIN_TRIAL = 60              # [doc] commit trial time: 60–65535 seconds


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


def _asn(text: str) -> int:
    """`65001` or the dotted form `1.10` → the AS number."""
    hi, _, lo = text.partition(".")
    return int(hi) * 65536 + int(lo) if lo else int(hi)


def _owned_kind(head: str) -> str | None:
    if re.match(r"^bgp \d+$", head):
        return "bgp"
    if head == "bmp":
        return "bmp"
    if m := re.match(r"^ip ip-prefix (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


# ---------------------------------------------------------------------- hier_config


class VrpHierDriver(ShortUndoMixin, HConfigDriverHuaweiVrp):
    """Platform.HUAWEI_VRP with VRP8 undo forms, overwrite-in-place commands and an
    order that respects dependencies (groups, then peers, then their settings)."""

    idempotent = [re.compile(p) for p in (
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
    undo_forms = [(re.compile(p), r) for p, r in (
        # [doc] `undo peer X` deletes the peer and every setting of it.
        (r"^undo (peer \d+\.\d+\.\d+\.\d+) (?:as-number \d+|group \S+)$", r"undo \1"),
        (r"^undo (group \S+)(?: .*)?$", r"undo \1"),
        # The device shows only a cipher: the key is never repeated in an undo.
        (r"^undo (peer \S+ password)(?: .*)?$", r"undo \1"),
        (r"^undo (ip ip-prefix \S+ index \d+) .*$", r"undo \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        return hier_rules(comments=r"^\s*[#!].*", first="ip ip-prefix ",
                          last=("undo ip ip-prefix ", "undo bmp"), peer=r"peer \S+",
                          af="ipv4-family ")


# ---------------------------------------------------------------------- the driver


class VrpDriver(NetmikoCliDriver):
    name = "VrpDriver"
    device_type = "huawei_vrpv8"
    hier_driver = VrpHierDriver
    log = log
    PROMPT, QUESTION, PROMPT_LINE, SECRET = PROMPT, QUESTION, _PROMPT_LINE, _SECRET
    error_join = " | "
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(_owned_kind)
    owned_text = "the bgp view, the bmp view, ip ip-prefix"
    # Shown only when not the default [doc: the CE command reference's defaults].
    DEFAULTS = frozenset({"graceful-restart timer restart 150",
                          "graceful-restart timer wait-for-rib 600",
                          "bgp dynamic-session-limit 100", "timer keepalive 60 hold 180"})
    PEER_ID = r"\S+"
    AF = "ipv4-family "
    MEMBER_END = "$"
    PEERS = "display bgp peer"
    ROUTER_ID = re.compile(r"BGP local router ID\s*:\s*(\S+)")
    LOCAL_AS = re.compile(r"Local AS number\s*:\s*(\d+)")
    PEERS_VERBOSE = "display bgp peer verbose"
    VERBOSE_PEER = re.compile(r"BGP Peer is (\d+\.\d+\.\d+\.\d+)")
    REMOTE_ID = re.compile(r"Remote router ID\s+(\S+)", re.IGNORECASE)

    ESN = re.compile(r"ESN of (?:slot|device)\s*\S*\s*:\s*(\S+)", re.IGNORECASE)

    _in_system = False          # this session is in system view (maybe with a candidate)

    # ----- getters
    def _summary_rows(self, text: str) -> list[dict[str, Any]]:
        """`display bgp peer` by ntc-templates' huawei_vrp template (which leaves the
        router ID and local AS of the header to `ROUTER_ID` / `LOCAL_AS`)."""
        return [{"address": r["peer"].lstrip("*"), "remote_as": _asn(r["asn"]),
                 "prefixes": int(r["pref_rcvd"] or 0), "uptime": seconds(r["up_down"]),
                 "state": r["state"], "msgs_in": int(r["msg_rcvd"] or 0),
                 "msgs_out": int(r["msg_sent"] or 0), "out_q": int(r["out_q"] or 0),
                 "dynamic": r["peer"].startswith("*")}
                for r in ntc("huawei_vrp", "display bgp peer", text)]

    def get_facts(self) -> dict[str, Any]:
        """`display version` and `display interface brief` (ntc-templates), `display
        esn` (no template: parsed here)."""
        ver = ntc("huawei_vrp", "display version", self._command("display version"))
        v = ver[0] if ver else {}
        esn = m.group(1) if (m := self.ESN.search(self._command("display esn"))) else ""
        brief = ntc("huawei_vrp", "display interface brief",
                    self._command("display interface brief"))
        version = f"{v.get('vrp_version', '')} ({v.get('product_version', '')})" if v else ""
        return facts(uptime=float(uptime_seconds(v.get("uptime", ""))), vendor="Huawei",
                     model=v.get("model", ""), hostname=self._sysname(), os_version=version,
                     serial_number=esn, interface_list=[r["interface"] for r in brief])

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

    def _before_logout(self) -> None:
        """Log out from user view, never leaving a candidate behind."""
        if self._in_system:
            self._abandon()                      # discard, never commit on exit

    def discard_config(self) -> None:
        """Drop the loaded candidate; if this session left lines in the device's
        candidate, `clear configuration candidate`. A commit waiting for confirmation
        is not touched (that is `rollback`)."""
        self._drop_candidate()
        if self._conn is not None and self._in_system:
            self._abandon()

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        """A group's listen-net (its dynamic peers) or a static member of a group."""
        if m := re.match(r"^peer (\S+) listen-net (\S+) (\d+)$", line):
            return ipaddress.IPv4Network(f"{m.group(2)}/{m.group(3)}", strict=False), m.group(1)
        if m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+) group (\S+)$", line):
            return ipaddress.IPv4Network(f"{m.group(1)}/32"), m.group(2)
        return None

    # ----- commit
    def _system_view(self) -> str:
        prompt = super()._system_view()
        self._in_system = True
        if prompt.startswith("[*"):         # a candidate left over in this session
            self._send("clear configuration candidate")
            prompt = "[~" + prompt[2:]
        return prompt

    def _leave(self) -> None:
        """Back to user view; a candidate still there is discarded (answer N)."""
        with contextlib.suppress(DriverError):
            _, prompt = self._send("return")
            if re.search(QUESTION, prompt):
                self._send("N")
            self._in_system = False

    def _abandon(self) -> None:
        """After an error: clear the candidate and leave system view."""
        with contextlib.suppress(DriverError):
            self._send("clear configuration candidate")
        self._leave()

    @staticmethod
    def _same_view(a: str, b: str) -> bool:
        return a[2:] == b[2:] and a[:1] == b[:1]       # `[~x]` and `[*x]` are one view

    @staticmethod
    def _opened(new: str, prompt: str) -> bool:
        return new[2:].startswith(prompt[2:-1])

    def _commit(self, command: str) -> None:
        lines, prompt = self._send(command, timeout=max(self.timeout, 120))
        if errs := self._errors(lines):
            raise self._refused(command, errs)
        if prompt.startswith("[*") and command == "commit":
            raise self._error(CommitError, f"{command!r} left the candidate uncommitted",
                              line=command, device_message=prompt)

    def _apply(self, rem: HConfig | None, commit: str) -> None:
        """Push `rem` into the candidate and commit it; on any error clear the candidate
        (nothing took effect) and raise."""
        prompt = self._system_view()
        try:
            if rem is not None:
                self._push(rem, prompt)
            self._commit(commit)
        except DriverError:
            self._abandon()
            raise
        self._leave()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise self._error(DriverError, "no candidate loaded")
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
            raise self._error(DriverError, f"save refused: {' '.join(errs)}")
        if "success" not in text.lower():
            log.warning("%s: save said: %s", self.hostname, text.strip()[-200:])

    def _device_pending(self) -> bool | None:
        """What the device says of its trial; None if it cannot say."""
        text = self._display("display configuration trial status")
        if text is None:
            return None
        if "no trial" in text:
            return False
        return "running" in text or None

    def confirm_commit(self) -> None:
        self._check_confirmable("trial timer")
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
            raise self._error(DriverError, "nothing to roll back to")
        if self._pending and self._device_pending() is not False:
            self._abort_trial()
        self._pending = False
        running = config_items(self._running())
        rem = self._remediation(running, self._before, self._before_names)
        if any(True for _ in rem.all_children()):
            self._apply(rem, "commit")
        self._save()
