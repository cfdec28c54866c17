"""Huawei VRP8 (CloudEngine) driver with the NAPALM driver contract, on netmiko
`huawei_vrpv8`: the I/O and the commit state machine. What it owns on a switch, how
the text reads and what a push sends are in `dialect` (`VrpDialect`, which this
driver derives from: `compare_config` is `dialect.remediation` of the switch's
running config).

VRP8 configures in two stages: lines typed in system view go to the session's
candidate (the prompt turns from `[~sysname]` to `[*sysname]`) and nothing takes
effect until `commit`. `commit_config` pushes the remediation into the candidate,
checking every line's answer for VRP's `Error:` marker; then `commit trial
<revert_in>` (VRP's range is 60–65535 s, so a shorter revert_in is raised to 60) or
`commit` + `save`. On any error in a line or in the commit (VRP validates some things
only at commit, e.g. a peer that does not exist) the candidate is cleared with `clear
configuration candidate` before raising, so the running config is untouched.
`confirm_commit` is a plain `commit` (it ends the trial) + `save`; `rollback` aborts a
pending trial (`abort trial`), else pushes the inverse remediation to the owned config
from before the last commit, commits and saves.

netmiko's `huawei_vrpv8` does not answer VRP's `Uncommitted configurations found ...
[Y(yes)/N(no)/C(cancel)]:` question (its exit_config_mode waits for `>` and times out);
this driver never leaves system view with a candidate, and answers `N` if asked.

Secrets: the login password and every key of the candidate are masked in this
module's exceptions and in the log records of this module, netmiko and paramiko while
a connection is open.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from hier_config import HConfig

from fabric.deploy.drivers.dialect import uptime_seconds
from fabric.deploy.drivers.errors import CommitError, DriverError
from fabric.deploy.drivers.getters import facts, ntc
from fabric.deploy.drivers.netmiko_cli import NetmikoCliDriver
from fabric.platforms.huawei_vrp.dialect import PLATFORM, QUESTION, VrpDialect, config_items

log = logging.getLogger(__name__)

MIN_TRIAL = 60              # [doc] commit trial time: 60–65535 seconds


class VrpDriver(VrpDialect, NetmikoCliDriver):
    """VRP8 over netmiko; its text (prompts, `hier_driver`, `DEFAULTS` from the
    descriptor...) is `VrpDialect`'s."""

    name = "VrpDriver"
    device_type = PLATFORM.netmiko
    log = log
    error_join = " | "
    PEERS = "display bgp peer"
    PEERS_VERBOSE = "display bgp peer verbose"

    _in_system = False          # this session is in system view (maybe with a candidate)

    # ----- getters
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
