"""What the netmiko-based switch drivers (H3C Comware, Huawei VRP) share.

Their text side, `UndoDialect` (with `ShortUndoMixin` and `hier_rules`, the
hier_config side both vendors share), is in `dialect.py`, without I/O.

`NetmikoCliDriver` is the NAPALM driver contract over one netmiko SSH session to
such a switch (on `session.SwitchSession`: host keys, login errors, secrets, the
owned candidate): `get_config`, the remediation of its dialect pushed line by line
with every answer checked, and the BGP getters. A vendor's driver class derives from
its dialect class first, then from `NetmikoCliDriver`, and adds how it commits,
confirms, saves and rolls back.

Getters (`get_bgp_neighbors`, `get_bgp_neighbors_detail`; a vendor adds `get_facts`)
are in the shapes of `getters`: the peer table by the vendor's ntc-templates template
(`_summary_rows`), the verbose display (GR, remote router ID, advertised routes; no
template exists) and the descriptions of the config by this module.

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
from netmiko import ConnectHandler

from fabric.deploy.drivers.dialect import Items, UndoDialect, redact
from fabric.deploy.drivers.errors import CommitError, DeviceConnectionError, DriverError
from fabric.deploy.drivers.getters import Peer, bgp_neighbors, bgp_neighbors_detail
from fabric.deploy.drivers.session import SwitchSession, TrackedCommit
from fabric.observed import Neighbor


class NetmikoCliDriver(UndoDialect, TrackedCommit, SwitchSession):
    """The shared driver; a vendor's driver class derives from its dialect (an
    `UndoDialect`) and this, sets the attributes below (and those of `SwitchSession`)
    and the vendor-specific methods (`_leave`, `_apply`, `commit_config`, `_save`,
    `_device_pending`, `confirm_commit`, `rollback`)."""

    device_type: ClassVar[str | None]           # netmiko's (the descriptor's)
    error_join: ClassVar[str] = " "             # joins the error lines in a message
    PEERS: ClassVar[str]                        # the summary command
    PEERS_VERBOSE: ClassVar[str]                # the verbose command (GR, remote ID)

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None):
        self._session_init(hostname, username, password, timeout, optional_args)
        self._conn: Any = None
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
    def compare_config(self) -> str:
        """The remediation, in push order; empty when the device already matches."""
        if self._candidate is None:
            return ""
        return self.compare(self._running(), self._candidate, self._names, self._merge)

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
            if child.children or child.text in self.EMPTY_VIEWS:
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


