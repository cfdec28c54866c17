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
* `compare_config()` is `dialect.remediation` of the running config of that moment
  and the candidate (hier_config's, between the owned sections, in push order; keys
  compared decoded from type 7; see fabric/platforms/cisco_ios/dialect.py); "" when
  nothing changes. It is what the replace will change in the owned sections, for
  review: the commit itself is the device's `configure replace`.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from napalm.base import exceptions as nx
from napalm.ios.ios import IOSDriver
from netmiko import BaseConnection, ConnectHandler

from fabric.deploy.drivers.dialect import Items, asn
from fabric.deploy.drivers.errors import (
    CandidateError,
    CommitError,
    DeviceConnectionError,
    DriverError,
)
from fabric.deploy.drivers.session import SwitchSession, private_copy
from fabric.observed import Neighbor
from fabric.platforms.cisco_ios.dialect import (
    LOCAL,
    NB_PW,
    PLATFORM,
    ROW,
    IosDialect,
    config_items,
    descriptions,
    graceful_restart,
    is_refusal,
    refused,
    replace_text,
    revert_minutes,
)

log = logging.getLogger(__name__)
_AF = {"ipv4 unicast": "ipv4", "ipv6 unicast": "ipv6"}     # NAPALM ios keys → documented


class CiscoIosDriver(IosDialect, SwitchSession, IOSDriver):
    """NAPALM's IOS driver with this tool's ownership, remediation (the dialect's),
    secrets handling, host-key policy and errors (see the module doc)."""

    LOGGERS = ("napalm.ios", "napalm.ios.ios")

    name = "CiscoIosDriver"
    log = log
    device_type = PLATFORM.netmiko         # cisco_ios; over telnet its `_telnet` variant
    PEERS = "show bgp ipv4 unicast summary"
    PEERS_VERBOSE = "show bgp ipv4 unicast neighbors"
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
        line, msg = refused(body)
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
        device_type = f"{self.device_type}_telnet" if self.transport == "telnet" else \
            self.device_type
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
            if m := NB_PW.match(line):          # a key with spaces in it, whole
                self._redactor.secrets.add(m.group(3))
        return items, names

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
        full = replace_text(self._running(), self._candidate_text, self._names)
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
    def compare_config(self) -> str:
        """The remediation in push order, indented by mode; "" when nothing changes."""
        if self._candidate is None:
            return ""
        return self.compare(self._running(), self._candidate, self._names)

    # ----- commit
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self._require()
        if self._candidate is None:
            raise self._error(DriverError, "no candidate loaded")
        if message:
            raise self._error(DriverError, "commit messages are not supported on IOS")
        minutes = revert_minutes(revert_in) if revert_in else None
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
            if is_refusal(out):
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
        descr = descriptions(config_items(self._running()))
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
        local = asn(m.group(2)) if (m := LOCAL.search(text)) else 0
        gr = graceful_restart(self._show(self.PEERS_VERBOSE))
        out = []
        for line in text.splitlines():
            if not (m := ROW.match(line)):
                continue
            state = m["state"]
            up = state.isdigit()
            uptime = self.bgp_time_conversion(m["updown"]) if up else 0
            adv, rcv = gr.get(m["addr"], (False, False))
            out.append(Neighbor(
                address=m["addr"], local_as=local, remote_as=asn(m["as"]),
                state="Established" if up else state, uptime=float(max(uptime, 0)),
                gr_advertised=adv, gr_received=rcv,
                prefixes_received=int(state) if up else 0))
        return out
