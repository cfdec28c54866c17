"""What the netmiko-based switch drivers (H3C Comware, Huawei VRP) share.

`NetmikoCliDriver` is the NAPALM driver contract over one netmiko SSH session to a
CLI switch that configures with `undo` (on `session.SwitchSession`: host keys, login
errors, secrets, the owned candidate): `get_config`, the remediation hier_config
computes between the owned sections of the running config and the candidate, pushing
it line by line with every answer checked, and the BGP getters. A vendor module
subclasses it and sets what differs: its prompts and error markers, its config text
format, which sections it owns, its hier_config driver, its errors, how it commits,
confirms, saves and rolls back, and the layout of its peer tables. The class
attributes below list every such knob.

Getters (`get_bgp_neighbors`, `get_bgp_neighbors_detail`; a vendor adds `get_facts`)
are in the shapes of `getters`: the peer table by the vendor's ntc-templates template
(`_summary_rows`), the verbose display (GR, remote router ID, advertised routes; no
template exists) and the descriptions of the config by this module.

`ShortUndoMixin` and `hier_rules` are the hier_config side both vendors share: the
short `undo` forms, the commands that overwrite in place (no undo before them), and
an order that respects dependencies.

Secrets: the login password and every key of the candidate are masked in the
driver's exceptions and in the log records of the vendor module and the libraries
underneath while a connection is open (`session.SwitchSession`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from hier_config import HConfig
from hier_config.child import HConfigChild
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverBase, HConfigDriverRules
from netmiko import ConnectHandler

from fabric.deploy.drivers.errors import CommitError, DeviceConnectionError, DriverError
from fabric.deploy.drivers.getters import Peer, bgp_neighbors, bgp_neighbors_detail
from fabric.deploy.drivers.session import PW_MARK, Items, SwitchSession, TrackedCommit, redact
from fabric.observed import Neighbor

# ---------------------------------------------------------------------- peer tables


def seconds(updown: str) -> int:
    """`08:30:47`, `0286h47m`, `12d03h`, `00h09m54s` → seconds (the forms seen in
    captures)."""
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    if m := re.fullmatch(r"(\d+)h(\d+)m(?:(\d+)s)?", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    if m := re.fullmatch(r"(\d+)d(\d+)h", updown):
        return int(m[1]) * 86400 + int(m[2]) * 3600
    return 0


_UNIT = {"year": 31536000, "week": 604800, "day": 86400, "hour": 3600, "minute": 60,
         "second": 1}


def uptime_seconds(text: str) -> int:
    """`0 weeks, 1 day, 2 hours, 5 minutes` (a `display version` uptime) → seconds."""
    return sum(int(n) * _UNIT[unit] for n, unit in
               re.findall(r"(\d+)\s+(year|week|day|hour|minute|second)s?", text))


# ---------------------------------------------------------------------- hier_config


class ShortUndoMixin:
    """Put before a hier_config driver (which gives `negation_prefix`): `undo_forms` are
    (pattern on "undo <line>", replacement), the first match wins; `idempotent` are
    patterns whose groups say which earlier line a line overwrites in place."""

    undo_forms: ClassVar[list[tuple[re.Pattern[str], str]]] = []
    idempotent: ClassVar[list[re.Pattern[str]]] = []
    negation_prefix: str

    def swap_negation(self, child: HConfigChild) -> HConfigChild:
        if child.text.startswith(self.negation_prefix):
            child.text = child.text.removeprefix(self.negation_prefix)
            return child
        text = f"{self.negation_prefix}{child.text}"
        for pattern, repl in self.undo_forms:
            if pattern.match(text):
                text = pattern.sub(repl, text)
                break
        child.text = text
        return child

    def _idem_key(self, text: str) -> tuple[str, ...] | None:
        for pattern in self.idempotent:
            if m := pattern.match(text):
                return (pattern.pattern, *m.groups())
        return None

    def idempotent_for(self, config: HConfigChild,
                       other_children: Iterable[HConfigChild]) -> HConfigChild | None:
        key = self._idem_key(config.text)
        if key is None:
            return None
        for other in other_children:
            if other.text != config.text and self._idem_key(other.text) == key:
                return other
        return None


def hier_rules(*, comments: str, first: str | tuple[str, ...], last: tuple[str, ...],
               peer: str, af: str) -> HConfigDriverRules:
    """One space per level, comment lines (`comments`) and `return` dropped, and the push
    order: top-level lines starting with `first` (prefix lists...) before the BGP view,
    removals starting with `last` after it; in the BGP view deleted peers/groups first,
    then other undos, groups, peers (`peer` is the vendor's `peer X` pattern), their
    settings, and the address family (`af`) last."""
    def at(*rules: MatchRule, weight: int) -> OrderingRule:
        return OrderingRule(match_rules=rules, weight=weight)

    any_, bgp, family = (MatchRule(re_search="."), MatchRule(startswith="bgp "),
                         MatchRule(startswith=af))
    delete = rf"^undo (?:{peer}|group \S+)$"
    return HConfigDriverRules(
        indentation=1,
        per_line_sub=[PerLineSubRule(search=comments, replace=""),
                      PerLineSubRule(search=r"^return$", replace="")],
        # hier_config's default weight is 0 and the last matching rule wins:
        # everything starts at 500, then the rules below move lines earlier/later.
        ordering=[
            at(any_, weight=500), at(any_, any_, weight=500),
            at(any_, any_, any_, weight=500),
            at(MatchRule(startswith="undo bgp "), weight=100),
            at(MatchRule(startswith=first), weight=300),
            at(MatchRule(startswith=last), weight=700),
            at(bgp, MatchRule(re_search=delete), weight=100),
            at(bgp, MatchRule(startswith="undo "), weight=200),
            at(bgp, MatchRule(startswith="group "), weight=300),
            at(bgp, MatchRule(re_search=rf"^{peer} (?:as-number|group) "), weight=400),
            at(bgp, family, weight=600),
            at(bgp, family, MatchRule(startswith="undo "), weight=200),
        ],
    )


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


# ---------------------------------------------------------------------- the driver


class NetmikoCliDriver(TrackedCommit, SwitchSession):
    """The shared driver; a vendor subclass sets the attributes below (and those of
    `SwitchSession`) and the vendor-specific methods (`_errors`, `_leave`, `_apply`,
    `commit_config`, `_save`, `_device_pending`, `confirm_commit`, `rollback`,
    `_group_range`)."""

    # ----- per vendor: identity, errors
    device_type: ClassVar[str]                  # netmiko's
    hier_driver: ClassVar[type[HConfigDriverBase]]  # the hier_config driver class
    # ----- per vendor: device text
    PROMPT: ClassVar[str]                       # a prompt at the end of the output
    QUESTION: ClassVar[str]                     # a [Y/N] question at the end
    PROMPT_LINE: ClassVar[re.Pattern[str]]      # a line that is only a prompt
    error_join: ClassVar[str] = " "             # joins the error lines in a message
    PEER_ID: ClassVar[str]                      # pattern of X in `peer X ...`
    AF: ClassVar[str]                           # how the address-family view starts
    MEMBER_END: ClassVar[str]                   # what may follow `peer X group G`
    # ----- per vendor: peer tables
    PEERS: ClassVar[str]                        # the summary command
    ROUTER_ID: ClassVar[re.Pattern[str]]
    LOCAL_AS: ClassVar[re.Pattern[str]]
    PEERS_VERBOSE: ClassVar[str]                # the verbose command (GR, remote ID)
    VERBOSE_PEER: ClassVar[re.Pattern[str]]     # starts a peer's block: group 1 address
    REMOTE_ID: ClassVar[re.Pattern[str]]        # the remote router ID in it

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None):
        self._session_init(hostname, username, password, timeout, optional_args)
        self._conn: Any = None
        self._hdriver = self.hier_driver()
        self._candidate: Items | None = None
        self._candidate_text = ""
        self._merge = False
        self._names: set[str] = set()
        self._before: Items | None = None   # owned config before commit
        self._before_names: set[str] = set()

    # ----- plumbing
    def _require(self) -> Any:
        if self._conn is None:
            raise self._error(DeviceConnectionError, "not connected (call open() first)")
        return self._conn

    def _send(self, line: str, timeout: float | None = None) -> tuple[list[str], str]:
        """Send one line; returns (output lines without echo and prompt, the prompt)."""
        conn = self._require()
        stale = conn.read_channel()
        if stale.strip():
            self.log.info("%s: device said: %s", self.hostname, self._secret(stale.strip()))
        self.log.debug("%s: > %s", self.hostname, self._secret(line))
        try:
            out = conn.send_command(line, expect_string=f"{self.PROMPT}|{self.QUESTION}",
                                    read_timeout=timeout or self.timeout, strip_prompt=False,
                                    strip_command=False, cmd_verify=False)
        except Exception as exc:
            raise self._error(DriverError, f"no answer to {line!r}: "
                              f"{type(exc).__name__}") from None
        lines = str(out).replace("\r", "").split("\n")
        if lines and lines[0].strip().endswith(line.strip()[-20:]):
            lines = lines[1:]
        prompt = ""
        if lines and (self.PROMPT_LINE.match(lines[-1]) or re.search(self.QUESTION, lines[-1])):
            prompt = lines.pop().strip()
        return lines, prompt

    def _errors(self, lines: list[str]) -> list[str]:
        """The device's error lines in an answer (per vendor)."""
        raise NotImplementedError

    def _command(self, line: str, timeout: float | None = None) -> str:
        """A display or other command whose output we want; raises on an error marker."""
        lines, _ = self._send(line, timeout)
        if errs := self._errors(lines):
            raise self._error(DriverError, f"{line!r} refused: {' '.join(errs)}")
        return "\n".join(lines)

    # ----- NAPALM contract: session
    def open(self) -> None:
        with self._login():
            self._conn = ConnectHandler(device_type=self.device_type, host=self.hostname,
                                        username=self.username, password=self._password,
                                        **self.ssh_options())

    def _before_logout(self) -> None:
        """Called by close() while still connected (per vendor; nothing by default)."""

    def close(self) -> None:
        self._drop_candidate()
        if self._conn is not None:
            self._before_logout()
            with contextlib.suppress(Exception):
                self._conn.write_channel("quit\n")
            with contextlib.suppress(Exception):
                self._conn.paramiko_cleanup()       # netmiko's cleanup probes for 2+ s
            self._conn = None
        self._detach_filter()

    # ----- config retrieval
    def _running(self) -> str:
        return self._command("display current-configuration")

    def get_config(self, retrieve: str = "all", full: bool = False,
                   sanitized: bool = False) -> dict[str, str]:
        out = {"running": "", "candidate": "", "startup": ""}
        if retrieve in ("all", "running"):
            out["running"] = self._running()
        if retrieve in ("all", "startup"):
            out["startup"] = self._command("display saved-configuration")
        if retrieve in ("all", "candidate"):
            out["candidate"] = self._candidate_text
        if sanitized:
            out = {k: redact(v, self.SECRET) for k, v in out.items()}
        return out

    # ----- candidate
    def _load(self, filename: str | None, config: str | None, merge: bool) -> None:
        self._drop_candidate()
        text = Path(filename).read_text() if filename else (config or "")
        items, names = self._read_candidate(text)
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
        self._drop_candidate()

    # ----- remediation
    def _presence_only(self, line: str, path: list[str]) -> str | None:
        if m := re.match(rf"^(peer {self.PEER_ID}) password (?:simple|cipher) \S+$", line):
            return f"{m.group(1)} password {PW_MARK}"
        return None

    def _adjust(self, rem: HConfig, have: HConfig, want: HConfig, merge: bool) -> None:
        if merge:
            _drop_negations(rem)
        else:
            self._cascade(rem, have, want)

    def compare_config(self) -> str:
        """The remediation, in push order; empty when the device already matches."""
        if self._candidate is None:
            return ""
        running = self.config_items(self._running())
        return self._render(self._remediation(running, self._candidate, self._names,
                                              self._merge))

    # ----- post-processing of the remediation
    def _peer_of(self, text: str) -> str | None:
        m = re.match(rf"^(?:undo )?peer ({self.PEER_ID}) ", text)
        return m.group(1) if m else None

    def _af(self, bgp: HConfigChild | None) -> HConfigChild | None:
        if bgp is None:
            return None
        return next((c for c in bgp.children if c.text.startswith(self.AF)), None)

    def _cascade(self, rem: HConfig, have: HConfig, want: HConfig) -> None:
        """After `undo peer X` / `undo group G` the device has dropped everything of X (or
        of G and its members): remove the now-pointless `undo peer X ...` lines, and push
        every wanted line of a peer or group that is being re-created."""
        rbgp, hbgp, wbgp = _bgp(rem), _bgp(have), _bgp(want)
        if rbgp is None or hbgp is None or wbgp is None or rbgp.text != hbgp.text:
            return
        gone: set[str] = set()
        for c in rbgp.children:
            if m := re.match(rf"^undo peer ({self.PEER_ID})$", c.text):
                gone.add(m.group(1))
            elif m := re.match(r"^undo group (\S+)$", c.text):
                group = m.group(1)
                gone.add(group)
                member = rf"^peer {self.PEER_ID} group {re.escape(group)}{self.MEMBER_END}"
                for h in hbgp.children:
                    if re.match(member, h.text):
                        gone.add(self._peer_of(h.text) or "")
        if not gone:
            return
        raf = self._af(rbgp)
        for view in (rbgp, raf):
            if view is None:
                continue
            for c in list(view.children):
                if c.text.startswith("undo peer ") and self._peer_of(c.text) in gone and \
                        not re.match(rf"^undo peer {self.PEER_ID}$", c.text):
                    c.delete()
        waf = self._af(wbgp)
        for peer in sorted(gone):
            for c in wbgp.children:
                if (self._peer_of(c.text) == peer or c.text.split()[:2] == ["group", peer]) \
                        and rbgp.children.get(c.text) is None:
                    rbgp.add_child(c.text).new_in_config = True
            if waf is None:
                continue
            for c in waf.children:
                if self._peer_of(c.text) == peer:
                    if raf is None:
                        raf = rbgp.add_child(waf.text)
                    if raf.children.get(c.text) is None:
                        raf.add_child(c.text).new_in_config = True
        if raf is not None and not raf.children:
            raf.delete()

    # ----- push
    def _system_view(self) -> str:
        lines, prompt = self._send("system-view")
        if errs := self._errors(lines):
            raise self._error(DriverError, f"system-view refused: {' '.join(errs)}")
        if not prompt.startswith("["):
            raise self._error(DriverError, f"system-view did not enter system view ({prompt})")
        return prompt

    def _refused(self, line: str, errs: list[str]) -> Any:
        msg = self.error_join.join(e.strip() for e in errs)
        return self._error(CommitError, f"the device refused {line!r}: {msg}",
                           line=self._secret(line), device_message=self._secret(msg))

    @staticmethod
    def _same_view(a: str, b: str) -> bool:
        return a == b

    @staticmethod
    def _opened(new: str, prompt: str) -> bool:
        """Whether `new` is a view inside the view of `prompt`."""
        return new.startswith(prompt[:-1])

    def _push_line(self, line: str, prompt: str, opens_view: bool) -> str:
        lines, new = self._send(line)
        if re.search(self.QUESTION, new):
            # The device confirms destructive commands; only the remediation's own
            # `undo bgp ASN` may ask here.
            answer = "Y" if line.startswith("undo bgp ") else "N"
            more, new = self._send(answer)
            lines += more
            if answer == "N":
                raise self._error(CommitError, f"unexpected question after {line!r}",
                                  line=self._secret(line))
        if errs := self._errors(lines):
            raise self._refused(line, errs)
        if opens_view and (self._same_view(new, prompt) or not self._opened(new, prompt)):
            raise self._error(CommitError, f"{line!r} did not open a view (prompt {new})",
                              line=self._secret(line), device_message=new)
        if not opens_view and not self._same_view(new, prompt):
            raise self._error(CommitError, f"{line!r} left the view {prompt} for {new}",
                              line=self._secret(line), device_message=new)
        return new

    def _push(self, node: HConfig | HConfigChild, prompt: str) -> str:
        for child in sorted(node.children):
            if child.children:
                inner = self._push_line(child.text, prompt, opens_view=True)
                inner = self._push(child, inner)
                _lines, back = self._send("quit")
                if not self._same_view(back, prompt):
                    raise self._error(CommitError,
                                      f"quit from {inner} landed in {back}, not {prompt}")
                prompt = back
            else:
                prompt = self._push_line(child.text, prompt, opens_view=False)
        return prompt

    def _display(self, command: str) -> str | None:
        """The output of `command`, lowercased and on one line; None if refused."""
        try:
            lines, _ = self._send(command)
        except DriverError:
            return None
        if self._errors(lines):
            return None
        return " ".join(lines).lower()

    # ----- getters
    def _summary_rows(self, text: str) -> list[dict[str, Any]]:
        """The rows of the vendor's peer table (per vendor: its ntc-template), each
        with address, remote_as, prefixes, uptime, state, msgs_in, msgs_out, out_q,
        dynamic."""
        raise NotImplementedError

    def _sysname(self) -> str:
        """The device's name, as its prompt shows it (netmiko's base prompt)."""
        return str(self._require().base_prompt).strip("<>[]~*")

    def _peer_summary(self) -> tuple[str, int, list[dict[str, Any]]]:
        text = self._command(self.PEERS)
        rid = m.group(1) if (m := self.ROUTER_ID.search(text)) else ""
        local = int(m.group(1)) if (m := self.LOCAL_AS.search(text)) else 0
        return rid, local, self._summary_rows(text) if rid else []

    def _peer_details(self) -> dict[str, dict[str, Any]]:
        """GR capability, remote router ID and (where the device shows it) the count of
        advertised prefixes per peer, from the verbose display (no ntc-template parses
        it); {} if the device refuses it."""
        try:
            text = self._command(self.PEERS_VERBOSE)
        except DriverError:
            return {}
        out: dict[str, dict[str, Any]] = {}
        cur: dict[str, Any] | None = None
        for line in text.splitlines():
            if m := self.VERBOSE_PEER.search(line):
                cur = out.setdefault(m.group(1), {"gr_adv": False, "gr_rcv": False,
                                                  "remote_id": ""})
            elif cur is not None and (m := re.search(r"Graceful Restart Capability:\s*(.*)",
                                                     line, re.IGNORECASE)):
                how = m.group(1).lower()
                cur["gr_adv"] = "advertised" in how
                cur["gr_rcv"] = "received" in how
            elif cur is not None and (m := self.REMOTE_ID.search(line)):
                cur["remote_id"] = m.group(1)
            elif cur is not None and (m := re.search(r"Advertised total routes:\s*(\d+)", line)):
                cur["sent"] = int(m.group(1))
        return out

    def _sent(self, address: str) -> int:
        """Prefixes advertised to `address` when the verbose display does not say
        (per vendor); -1 if the device cannot say."""
        return -1

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

    def _peers(self) -> tuple[str, list[Peer]]:
        """The router ID and every peer, from the summary, the verbose display, the
        descriptions in the config and the advertised counts."""
        rid, local, rows = self._peer_summary()
        details = self._peer_details()
        descr = self._descriptions(r["address"] for r in rows)
        peers = []
        for r in rows:
            d = details.get(r["address"], {})
            up = r["state"] == "Established"
            sent = d["sent"] if "sent" in d else self._sent(r["address"]) if up else 0
            peers.append(Peer(
                address=r["address"], local_as=local, remote_as=r["remote_as"],
                state=r["state"], uptime=int(r["uptime"]), received=r["prefixes"],
                sent=sent, remote_id=d.get("remote_id", ""),
                description=descr.get(r["address"], ""), msgs_in=r["msgs_in"],
                msgs_out=r["msgs_out"], out_q=r["out_q"], dynamic=r["dynamic"]))
        return rid, peers

    def get_bgp_neighbors(self) -> dict[str, Any]:
        """NAPALM's shape and semantics (see `getters`)."""
        rid, peers = self._peers()
        return bgp_neighbors(rid, peers)

    def get_bgp_neighbors_detail(self, neighbor_address: str = "") -> dict[str, Any]:
        """NAPALM's shape and semantics (see `getters`)."""
        return bgp_neighbors_detail(self._peers()[1], neighbor_address)

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        """(addresses, group) if a BGP-view line puts peers into a group (per vendor)."""
        raise NotImplementedError

    def _descriptions(self, addresses: Iterable[str]) -> dict[str, str]:
        """peer address → description from the BGP view; a peer that is a member of a
        group (or came up inside a group's range) gets the group's."""
        try:
            items = self.config_items(
                self._command("display current-configuration configuration bgp"))
        except DriverError:
            items = self.config_items(self._running())
        text: dict[str, str] = {}
        ranges: list[tuple[ipaddress.IPv4Network, str]] = []
        for depth, line in items:
            if depth != 1:
                continue
            if m := re.match(r"^peer (\S+) description (.+)$", line):
                text[m.group(1)] = m.group(2)
            elif r := self._group_range(line):
                ranges.append(r)
        out = {}
        for addr in addresses:
            if addr in text:
                out[addr] = text[addr]
                continue
            ip = ipaddress.IPv4Address(addr)
            group = next((g for net, g in ranges if ip in net), None)
            out[addr] = text.get(group or "", "")
        return out


def _bgp(tree: HConfig | HConfigChild) -> HConfigChild | None:
    return next((c for c in tree.children if c.text.startswith("bgp ")), None)
