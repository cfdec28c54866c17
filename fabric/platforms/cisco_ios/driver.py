"""Cisco IOS / IOS-XE driver with the NAPALM driver contract: NAPALM's own `ios`
driver (`napalm.ios.ios.IOSDriver`, netmiko `cisco_ios`, SCP, `configure replace`),
wrapped where this tool needs something else.

What this tool owns on a switch, and so what a commit changes: the `router bgp`
section (the BMP servers live inside it) and the `ip prefix-list` entries whose names
the candidate contains. A candidate line outside those is refused at load.

* `load_replace_candidate(config=...)` only reads and checks the candidate: nothing
  is written to the switch, so `fabric plan` leaves it as it was.
* `commit_config` builds the full replace file from the running config of that
  moment: the running config with the owned sections swapped for the candidate's,
  everything else verbatim (so `configure replace` never touches interfaces, users
  or other prefix lists). The file is written 0600 in a private temporary directory
  (NAPALM's own `_create_tmp_file` writes a world-readable file in /tmp), handed to
  NAPALM's `load_replace_candidate(filename=...)` (SCP to
  `flash:/candidate_config.txt` by default, as NAPALM; `dest_file_system`,
  `inline_transfer`, `candidate_cfg`... pass through), and deleted with its
  directory; on flash it is deleted once the replace has run.
* `compare_config()` is the remediation hier_config computes (its CISCO_IOS driver
  with one-space indentation, IOS's short `no` forms, lines that overwrite in place,
  and a dependency order: prefix lists, peer groups, neighbors, their settings, the
  address family) between the owned sections of the running config and the candidate,
  in push order; "" when nothing changes. It is what the replace will change in the
  owned sections, for review: the commit itself is the device's `configure replace`.
  Peer keys: a device with `service password-encryption` shows `password 7 <cipher>`;
  type 7 is a published reversible encoding, so keys are compared decoded (a changed
  key is detected). A key the driver cannot decode compares on presence only.
* `commit_config(revert_in=seconds)`: IOS revert timers are whole minutes 1-120, so
  the seconds are rounded up and clamped to that range, then NAPALM's commit runs
  `configure replace flash:candidate_config.txt force revert trigger error timer M`
  (without `revert_in`: `... force revert trigger error`, then `write memory`). A line
  the device refuses makes it keep the original config; the error names the line.
* `confirm_commit` (`configure confirm`, `write memory`), `has_pending_commit` (`show
  archive config rollback timer`), `rollback` (`configure revert now` while a timer
  runs, else `configure replace flash:rollback_config.txt force`, the running config
  NAPALM saved at the last commit), `get_config`, `get_facts`, `get_bgp_neighbors`,
  `get_bgp_neighbors_detail`: NAPALM's, and NAPALM's other getters as they are. Where
  its output differs from its documented shape it is corrected: the address family
  "ipv4 unicast" is keyed "ipv4", descriptions come from the config (its parser carries
  one neighbor's on to the next), fqdn is the hostname when no domain is set.
  `neighbors()` reads `show bgp ipv4 unicast summary` and `... neighbors` (state, AS,
  uptime, prefixes, and GR from the "Graceful Restart Capability" line).
* Host keys: unknown keys are refused unless `accept_unknown_host_keys`; known keys
  come from `known_hosts` (else ~/.ssh/known_hosts). SCP uses the same policy.

Secrets: the login password and every BGP key of the candidate (and any key word's
argument) are masked in this module's exceptions and in the log records of this
module, netmiko, paramiko, scp and NAPALM while a connection is open.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from hier_config import HConfig, get_hconfig
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.cisco_ios.driver import HConfigDriverCiscoIOS
from hier_config.platforms.driver_base import HConfigDriverRules
from napalm.base import exceptions as nx
from napalm.ios.ios import IOSDriver
from netmiko import BaseConnection, ConnectHandler

from fabric.deploy.drivers.errors import (
    CandidateError,
    CommitError,
    DeviceConnectionError,
    DriverError,
)
from fabric.deploy.drivers.netmiko_cli import ShortUndoMixin
from fabric.deploy.drivers.session import Items, SwitchSession, private_copy
from fabric.observed import Neighbor

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- device text

# `neighbor X password [0|7] K`, `username U secret 9 H`, `enable secret ...`.
SECRET = re.compile(r"(\b(?:password|secret)\s+(?:\d{1,2}\s+)?)(\S+)", re.IGNORECASE)
_NB_PW = re.compile(r"^(neighbor \S+) password(?: ([07]))? (.+)$")
_XLAT = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_AF = {"ipv4 unicast": "ipv4", "ipv6 unicast": "ipv6"}
_SKIP = ("exit-address-family", "exit-bmp-server-mode", "exit-peer-policy",
         "exit-peer-session", "end")


def untype7(cipher: str) -> str | None:
    """Decode Cisco's (reversible, published) type 7 encoding; None if it is not one."""
    try:
        seed = int(cipher[:2])
        data = bytes.fromhex(cipher[2:])
    except ValueError:
        return None
    if not data or seed > 15:
        return None
    return "".join(chr(b ^ ord(_XLAT[(seed + i) % len(_XLAT)])) for i, b in enumerate(data))


def config_items(text: str) -> Items:
    """(depth, line) for every config line of an IOS text (show running-config or our
    template): one space per level; `!` comments, `end`, the display header and the
    `exit-...` lines that close sub-modes are dropped."""
    out: Items = []
    for raw in text.splitlines():
        line = raw.rstrip()
        s = line.strip()
        if not s or s.startswith("!") or s in _SKIP or \
                s.startswith(("Building configuration", "Current configuration")):
            continue
        out.append((len(line) - len(line.lstrip(" ")), " ".join(s.split())))
    return out


def owned_kind(head: str) -> str | None:
    """"bgp" for `router bgp N`, "pl:NAME" for `ip prefix-list NAME ...`, else None."""
    if re.match(r"^router bgp \S+$", head):
        return "bgp"
    if m := re.match(r"^ip prefix-list (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


def _asn(text: str) -> int:
    if "." in text:
        hi, lo = text.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return int(text)


# ---------------------------------------------------------------------- hier_config

_NB = r"neighbor \S+"


def _rule(*rules: MatchRule, weight: int) -> OrderingRule:
    return OrderingRule(match_rules=rules, weight=weight)


class IosHierDriver(ShortUndoMixin, HConfigDriverCiscoIOS):
    """hier_config's CISCO_IOS driver with one-space indentation, IOS's short `no`
    forms, the BGP lines that overwrite in place, and a dependency order."""

    idempotent = [re.compile(p) for p in (
        r"^(bgp router-id) ",
        r"^(bgp cluster-id) ",
        r"^(timers bgp) ",
        r"^(bgp graceful-restart (?:restart-time|stalepath-time)) ",
        r"^(bgp listen limit) ",
        rf"^({_NB}) (remote-as|description|password|ttl-security|update-source|timers"
        r"|bmp-activate|maximum-prefix|ebgp-multihop) ",
        rf"^({_NB}) prefix-list \S+ (in|out)$",
        r"^(maximum-paths(?: ibgp)?) \d+$",
        r"^(address|description|initial-delay|failure-retry-delay|flapping-delay"
        r"|stats-reporting-period) ",
    )]

    undo_forms = [(re.compile(p), r) for p, r in (
        (r"^no (neighbor \d+\.\d+\.\d+\.\d+) remote-as \S+$", r"no \1"),
        (rf"^no ({_NB}) (description|password|ttl-security|update-source|timers"
         r"|bmp-activate|maximum-prefix|ebgp-multihop) .*$", r"no \1 \2"),
        (r"^no (ip prefix-list \S+ seq \d+) .*$", r"no \1"),
        (r"^no (bgp router-id|bgp cluster-id|timers bgp|bgp listen limit"
         r"|bgp graceful-restart restart-time|bgp graceful-restart stalepath-time) .*$",
         r"no \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        base = HConfigDriverCiscoIOS._instantiate_rules()
        any_, bgp = MatchRule(re_search="."), MatchRule(startswith="router bgp ")
        ordering = [
            _rule(any_, weight=500), _rule(any_, any_, weight=500),
            _rule(any_, any_, any_, weight=500),
            _rule(MatchRule(startswith="no router bgp "), weight=100),
            _rule(MatchRule(startswith="ip prefix-list "), weight=300),
            _rule(MatchRule(startswith="no ip prefix-list "), weight=700),
            _rule(bgp, MatchRule(re_search=r"^no neighbor \S+(?: peer-group)?$"), weight=100),
            _rule(bgp, MatchRule(startswith="no "), weight=200),
            _rule(bgp, MatchRule(re_search=rf"^{_NB} peer-group$"), weight=300),
            _rule(bgp, MatchRule(re_search=rf"^{_NB} (?:remote-as|peer-group) \S+$"),
                  weight=400),
            _rule(bgp, MatchRule(startswith="bgp listen range "), weight=450),
            _rule(bgp, MatchRule(startswith="bmp server "), weight=550),
            _rule(bgp, MatchRule(startswith="address-family "), weight=600),
            _rule(bgp, MatchRule(startswith="address-family "), MatchRule(startswith="no "),
                  weight=200),
        ]
        return base.model_copy(update={
            "indentation": 1,
            "idempotent_commands": [],          # `idempotent_for` above decides
            "per_line_sub": [*base.per_line_sub,
                             PerLineSubRule(search=r"^\s*exit-bmp-server-mode", replace="")],
            "ordering": ordering,
        })


# ---------------------------------------------------------------------- the driver


class CiscoIosDriver(SwitchSession, IOSDriver):
    """NAPALM's IOS driver with this tool's ownership, remediation, secrets handling,
    host-key policy and errors (see the module doc)."""

    name = "CiscoIosDriver"
    log = log
    SECRET = SECRET
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(owned_kind)
    owned_text = "router bgp, ip prefix-list"
    # Not written into the running config when default (IOS's NVGEN) [2nd: Cisco IOS
    # BGP configuration guides].
    DEFAULTS = frozenset({"bgp graceful-restart restart-time 120",
                          "bgp graceful-restart stalepath-time 360",
                          "bgp listen limit 100", "timers bgp 60 180"})
    PEERS = "show bgp ipv4 unicast summary"
    PEERS_VERBOSE = "show bgp ipv4 unicast neighbors"
    ROW = re.compile(r"^(?P<dyn>\*)?(?P<addr>\d{1,3}(?:\.\d{1,3}){3})\s+\d+\s+(?P<as>[\d.]+)"
                     r"(?:\s+\S+){5}\s+(?P<updown>never|\d\S*)\s+(?P<state>\S.*?)\s*$")
    LOCAL = re.compile(r"router identifier (\S+), local AS number ([\d.]+)")
    # Attributes of NAPALM's IOSDriver (which has no types) that this class sets.
    device: BaseConnection | None
    _netmiko_device: BaseConnection | None
    prompt_quiet_changed: bool
    prompt_quiet_configured: bool
    _commit_handler: Callable[[str], str]

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None):
        args = self._session_init(hostname, username, password, timeout, optional_args)
        IOSDriver.__init__(self, hostname, username, password, timeout=timeout,
                           optional_args={**args, **self.ssh_options()})
        self._hdriver = IosHierDriver()
        self._candidate: Items | None = None
        self._candidate_text = ""
        self._names: set[str] = set()

    def _require(self) -> Any:
        if self.device is None:
            raise self._error(DeviceConnectionError, "not connected (call open() first)")
        return self.device

    @contextlib.contextmanager
    def _mapped(self, what: str, applies: bool = False) -> Iterator[None]:
        """NAPALM's, netmiko's and the OS's exceptions as this module's, masked; with
        `applies`, NAPALM's ReplaceConfigException is the device refusing the change."""
        try:
            yield
        except DriverError:
            raise
        except (nx.ReplaceConfigException, nx.MergeConfigException) as exc:
            if applies:
                raise self._refused(what, str(exc)) from None
            raise self._error(DriverError, f"{what}: {exc}") from None
        except nx.CommitConfirmException as exc:
            raise self._error(DriverError, f"{what}: {exc}") from None
        except nx.CommandErrorException as exc:
            raise self._error(DriverError, f"{what}: {exc}") from None
        except (nx.ConnectionClosedException, OSError, EOFError) as exc:
            raise self._error(DeviceConnectionError,
                              f"{what}: connection lost ({type(exc).__name__}: {exc})") from None
        except Exception as exc:      # netmiko's ReadTimeout, ValueError from parsers...
            raise self._error(DriverError, f"{what}: {type(exc).__name__}: {exc}") from None

    def _refused(self, what: str, text: str) -> CommitError:
        """The device's answer to a failed replace: the refused lines it lists between
        `********` markers (a `%` line is the message for the line before it)."""
        body = text.replace("\r", "")
        line, msg = "", ""
        if m := re.search(r"\*{4,}\n(.*?)\n\*{4,}", body, re.S):
            rows = [r for r in m.group(1).splitlines() if r.strip()]
            for i, row in enumerate(rows):
                if not row.lstrip().startswith("%"):
                    line = row.strip()
                    msg = next((r.strip() for r in rows[i + 1:i + 2]
                                if r.lstrip().startswith("%")), "")
                    break
        if not line:
            errs = [r.strip() for r in body.splitlines() if r.strip().startswith("%")]
            msg = (" ".join(errs) or body.strip().splitlines()[-1]) if body.strip() else ""
            return self._error(CommitError, f"{what} failed: {msg or body.strip()}",
                               device_message=self._secret(body))
        return self._error(CommitError, f"{what}: the device refused {line!r}: {msg}; "
                           "it kept its original configuration"
                           if "restored" in body else
                           f"{what}: the device refused {line!r}: {msg}",
                           line=self._secret(line), device_message=self._secret(body))

    # ----- session
    def open(self) -> None:
        """netmiko's session opened here rather than by NAPALM, which turns every
        failure into a bare "Cannot connect"."""
        device_type = "cisco_ios_telnet" if self.transport == "telnet" else "cisco_ios"
        with self._login():
            conn = ConnectHandler(device_type=device_type, host=self.hostname,
                                  username=self.username, password=self.password,
                                  timeout=self.timeout, **self.netmiko_optional_args)
            if not self.force_no_enable:
                conn.enable()
        self.device = self._netmiko_device = conn

    def close(self) -> None:
        self._drop_candidate()
        if self.device is not None:
            if self.auto_file_prompt and self.prompt_quiet_changed:
                with contextlib.suppress(Exception):
                    self.device.send_config_set(["no file prompt quiet"])
                self.prompt_quiet_changed = False
                self.prompt_quiet_configured = False
            with contextlib.suppress(Exception):
                self.device.write_channel("exit\n")
            with contextlib.suppress(Exception):
                self.device.paramiko_cleanup()      # netmiko's disconnect probes for 2+ s
        self.device = self._netmiko_device = None
        self._detach_filter()

    # ----- config
    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict[str, str]:
        self._require()
        with self._mapped("get_config"):
            return super().get_config(retrieve=retrieve, full=full, sanitized=sanitized,
                                      format=format)

    def _running(self) -> str:
        return self.get_config(retrieve="running")["running"]

    def _drop_candidate(self) -> None:
        self._candidate, self._candidate_text, self._names = None, "", set()

    def discard_config(self) -> None:
        """Forget the candidate (the file stays on flash, as NAPALM leaves it)."""
        self._drop_candidate()

    def _read_candidate(self, text: str) -> tuple[Items, set[str]]:
        items, names = super()._read_candidate(text)
        for _, line in items:
            if m := _NB_PW.match(line):         # a key with spaces in it, whole
                self._redactor.secrets.add(m.group(3))
        if sum(1 for _, line in items if owned_kind(line) == "bgp") > 1:
            raise self._error(CandidateError, "the candidate has more than one router bgp")
        return items, names

    def replace_text(self, running: str, candidate: str, names: set[str]) -> str:
        """The full replace file: `running` with its owned sections (router bgp, the
        prefix lists named in `names`) swapped for the candidate's owned lines."""
        cand = [ln.rstrip() for ln in candidate.splitlines()
                if ln.strip() and ln.strip() != "end" and not
                (ln[:1] == "!" and not ln.strip("! "))]
        out: list[str] = []
        inserted, skip = False, False
        for raw in running.replace("\r", "").splitlines():
            s = raw.strip()
            top = bool(s) and raw[:1] not in (" ", "\t")
            if top and s == "end":
                break
            if top and not s.startswith("!"):
                kind = owned_kind(" ".join(s.split()))
                skip = kind == "bgp" or (kind is not None and kind[3:] in names)
                if skip and not inserted:
                    out += cand
                    inserted = True
            elif top:
                skip = False
            if not skip:
                out.append(raw.rstrip())
        if not inserted:
            out += ["!", *cand]
        return "\n".join([*out, "!", "end", ""])

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self._require()
        self._drop_candidate()
        text = Path(filename).read_text() if filename else (config or "")
        items, names = self._read_candidate(text)
        self._candidate, self._candidate_text, self._names = items, text, names

    def _send_replace_file(self) -> None:
        """The replace file, built from the running config of this moment, onto the
        switch by NAPALM's transfer."""
        full = self.replace_text(self._running(), self._candidate_text, self._names)
        log.info("%s: sending the replace file (%d lines) to %s", self.hostname,
                 full.count("\n"), self.dest_file_system)
        with private_copy(full, self.candidate_cfg) as path, \
                self._mapped("sending the replace file"):
            IOSDriver.load_replace_candidate(self, filename=str(path))

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        raise self._error(CandidateError, "merge is not supported: load a replace "
                          "candidate of the owned sections")

    # ----- remediation
    @staticmethod
    def _opaque(items: Items) -> set[str]:
        """The neighbors whose key the device shows in a form the driver cannot decode."""
        return {m.group(1) for _, line in items
                if (m := _NB_PW.match(line)) and m.group(2) == "7"
                and untype7(m.group(3)) is None}

    def _tree(self, items: Items, originals: dict[tuple[str, ...], str] | None = None
              ) -> HConfig:
        """The tree SwitchSession._read_candidate checks the candidate with; keys are
        compared decoded, not by `originals` (unused: `_remediation` below keeps none)."""
        return self._keyed_tree(items, frozenset())

    def _keyed_tree(self, items: Items, opaque: Collection[str]) -> HConfig:
        """hier_config tree; a peer key shown as `password 7 C` (or `password 0 K`) is
        compared decoded (`password K`); the key of a neighbor in `opaque` (one the
        device shows undecodable) as `password (configured)`: presence only."""
        lines = []
        for depth, line in items:
            text = line
            if m := _NB_PW.match(line):
                plain = m.group(3)
                if m.group(2) == "7":
                    plain = untype7(plain) or ""
                if m.group(1) in opaque or not plain:
                    plain = "(configured)"
                text = f"{m.group(1)} password {plain}"
            lines.append(" " * depth + text)
        return get_hconfig(self._hdriver, "\n".join(lines))

    def _remediation(self, running: Items, target: Items, names: set[str],
                     merge: bool = False) -> HConfig:
        if merge:       # load_merge_candidate refuses: no merge candidate reaches here
            raise self._error(CandidateError, "merge is not supported")
        owned = self._without_defaults(self._owned(running, names))
        opaque = self._opaque(owned)
        have = self._keyed_tree(owned, opaque)
        rem = have.config_to_get_to(self._keyed_tree(self._without_defaults(target), opaque))
        self._cascade(rem)
        return rem.set_order_weight()

    @staticmethod
    def _cascade(rem: HConfig) -> None:
        """`no neighbor X` / `no neighbor G peer-group` remove everything of X (or G):
        drop the other `no neighbor X ...` lines."""
        bgp = next((c for c in rem.children if c.text.startswith("router bgp ")), None)
        if bgp is None:
            return
        gone = {m.group(1) for c in bgp.children
                if (m := re.match(r"^no neighbor (\S+)(?: peer-group)?$", c.text))}
        if not gone:
            return
        views = [bgp, *(c for c in bgp.children if c.text.startswith("address-family "))]
        for view in views:
            for c in list(view.children):
                m = re.match(r"^no neighbor (\S+) ", c.text)
                if m and m.group(1) in gone and c.text != f"no neighbor {m.group(1)} peer-group":
                    c.delete()
        for view in views[1:]:
            if not view.children:
                view.delete()

    def compare_config(self) -> str:
        """The remediation in push order, indented by mode; "" when nothing changes."""
        if self._candidate is None:
            return ""
        running = config_items(self._running())
        return self._render(self._remediation(running, self._candidate, self._names))

    # ----- commit
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self._require()
        if self._candidate is None:
            raise self._error(DriverError, "no candidate loaded")
        if message:
            raise self._error(DriverError, "commit messages are not supported on IOS")
        minutes = None
        if revert_in:
            minutes = min(120, max(1, math.ceil(revert_in / 60)))
        self._send_replace_file()
        log.info("%s: configure replace%s", self.hostname,
                 f" (reverted in {minutes} min unless confirmed)" if minutes else "")
        try:
            with self._mapped("commit", applies=True):
                super().commit_config(revert_in=minutes * 60 if minutes else None)
        finally:
            # It holds the keys; the rollback file NAPALM saved stays, for rollback().
            with contextlib.suppress(Exception):
                self._require().send_command(
                    f"delete /force {self._gen_full_path(self.candidate_cfg)}")
        self._drop_candidate()

    def confirm_commit(self) -> None:
        self._require()
        with self._mapped("confirm"):
            super().confirm_commit()

    def has_pending_commit(self) -> bool:
        self._require()
        with self._mapped("pending commit"):
            return super().has_pending_commit()

    def rollback(self) -> None:
        """NAPALM's rollback, with the device's answer to its `configure replace` /
        `configure revert now` checked (NAPALM does not look at it)."""
        self._require()
        answers: list[str] = []
        handler = self._commit_handler

        def checked(cmd: str) -> str:
            out = handler(cmd)
            answers.append(str(out))
            return out
        self._commit_handler = checked
        try:
            with self._mapped("rollback", applies=True):
                super().rollback()
        finally:
            del self._commit_handler
        for out in answers:
            low = out.lower()
            if "error" in low or "failed" in low or "invalid input" in low or \
                    "not a valid config file" in low:
                raise self._refused("rollback", out)

    def get_bgp_neighbors(self) -> dict[str, Any]:
        """NAPALM's (`show bgp all summary`, `show bgp ipv4 unicast neighbors`)."""
        self._require()
        with self._mapped("get_bgp_neighbors"):
            out = super().get_bgp_neighbors()
        # NAPALM ios keys the unicast families "ipv4 unicast" / "ipv6 unicast"; its
        # documented shape (and nxos_ssh, and the other drivers here) say "ipv4"/"ipv6".
        # Its parser also carries one neighbor's description on to the next neighbors
        # without one: the descriptions are taken from the config instead.
        descr = {m.group(1): m.group(2) for _, line in config_items(self._running())
                 if (m := re.match(r"^neighbor (\S+) description (.+)$", line))}
        for vrf in out.values():
            for addr, peer in vrf["peers"].items():
                peer["address_family"] = {_AF.get(k, k): v
                                          for k, v in peer["address_family"].items()}
                peer["description"] = descr.get(addr, "")
        return out

    def get_bgp_neighbors_detail(self, neighbor_address: str = "") -> dict[str, Any]:
        """NAPALM's (`show ip bgp all summary`, `show ip bgp ipv4 unicast neighbors X`,
        its own TextFSM templates)."""
        self._require()
        with self._mapped("get_bgp_neighbors_detail"):
            return super().get_bgp_neighbors_detail(neighbor_address)

    def get_facts(self) -> dict[str, Any]:
        """NAPALM's (`show version`, `show hosts`, `show ip interface brief`); with no
        domain set, fqdn is the hostname (NAPALM says "Unknown", or appends the words of
        "Default domain is not set")."""
        self._require()
        with self._mapped("get_facts"):
            out = dict(super().get_facts())
        if out["fqdn"] == "Unknown" or out["fqdn"].endswith(".not set"):
            out["fqdn"] = out["hostname"]
        return out

    # ----- getters
    def _show(self, command: str) -> str:
        with self._mapped(command):
            out = str(self._require().send_command(command))
        if "% Invalid" in out:
            raise self._error(DriverError, f"{command!r} refused: {out.strip()}")
        return out

    def neighbors(self) -> list[Neighbor]:
        text = self._show(self.PEERS)
        if "BGP not active" in text:
            return []
        local = _asn(m.group(2)) if (m := self.LOCAL.search(text)) else 0
        gr: dict[str, tuple[bool, bool]] = {}
        cur = ""
        for line in self._show(self.PEERS_VERBOSE).splitlines():
            if m := re.match(r"^BGP neighbor is \*?(\d+\.\d+\.\d+\.\d+),", line):
                cur = m.group(1)
                gr[cur] = (False, False)
            elif cur and (m := re.search(r"Graceful Restart Capability:\s*(.*)", line)):
                how = m.group(1).lower()
                gr[cur] = ("advertised" in how, "received" in how)
        out = []
        for line in text.splitlines():
            if not (m := self.ROW.match(line)):
                continue
            state = m["state"]
            up = state.isdigit()
            uptime = self.bgp_time_conversion(m["updown"]) if up else 0
            adv, rcv = gr.get(m["addr"], (False, False))
            out.append(Neighbor(
                address=m["addr"], local_as=local, remote_as=_asn(m["as"]),
                state="Established" if up else state, uptime=float(max(uptime, 0)),
                gr_advertised=adv, gr_received=rcv,
                prefixes_received=int(state) if up else 0))
        return out
