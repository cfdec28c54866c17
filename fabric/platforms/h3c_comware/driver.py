"""H3C Comware V7 driver with the NAPALM driver contract, on netmiko `hp_comware`:
the I/O and the commit state machine. What it owns on a switch, how the text reads
and what a push sends are in `dialect` (`ComwareDialect`, which this driver derives
from: `compare_config` is `dialect.remediation` of the switch's running config).

`commit_config` pushes the remediation in system-view, checking every line's answer
for Comware's error markers and the prompt it lands on. With `revert_in` the push is
preceded by `configuration commit delay <minutes>`: unless `confirm_commit`
(`configuration commit`, `save force`) comes first, the switch rolls itself back to
the config from before the delay command (Release 1121+). `rollback` pushes the
inverse remediation back to the owned config from before the last commit, and saves.

Secrets: the login password and every BGP key of the candidate are masked in this
module's exceptions and in the log records of this module, netmiko and paramiko
while a connection is open.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any

from hier_config import HConfig

from fabric.deploy.drivers.dialect import uptime_seconds
from fabric.deploy.drivers.errors import DriverError
from fabric.deploy.drivers.getters import facts, ntc
from fabric.deploy.drivers.netmiko_cli import NetmikoCliDriver
from fabric.platforms.h3c_comware.dialect import PLATFORM, ComwareDialect, config_items

log = logging.getLogger(__name__)


class ComwareDriver(ComwareDialect, NetmikoCliDriver):
    """Comware V7 over netmiko; its text (prompts, `hier_driver`, `DEFAULTS` from the
    descriptor...) is `ComwareDialect`'s."""

    name = "ComwareDriver"
    device_type = PLATFORM.netmiko
    log = log
    PEERS = "display bgp peer ipv4"
    PEERS_VERBOSE = "display bgp peer ipv4 verbose"

    # ----- getters
    def _sent(self, address: str) -> int:
        """`display bgp routing-table ipv4 peer X advertised-routes statistics`."""
        try:
            text = self._command(f"display bgp routing-table ipv4 peer {address} "
                                 "advertised-routes statistics")
        except DriverError:
            return -1
        return int(m.group(1)) if (m := self.ADVERTISED.search(text)) else -1

    def get_facts(self) -> dict[str, Any]:
        """`display version` (no ntc-template: parsed here), `display device manuinfo`
        and `display interface brief` (ntc-templates)."""
        version = self._command("display version")
        model, uptime = "", 0.0
        if m := self.MODEL_UPTIME.search(version):
            model, uptime = m.group(1), float(uptime_seconds(m.group(2)))
        manu = ntc("hp_comware", "display device manuinfo",
                   self._command("display device manuinfo"))
        serial = next((r["device_serial_number"] for r in manu if r["device_serial_number"]), "")
        brief = ntc("hp_comware", "display interface brief",
                    self._command("display interface brief"))
        return facts(uptime=uptime, vendor="H3C", model=model, hostname=self._sysname(),
                     os_version=m.group(1) if (m := self.VERSION.search(version)) else "",
                     serial_number=serial, interface_list=[r["interface"] for r in brief])

    # ----- commit
    def _leave(self) -> None:
        with contextlib.suppress(DriverError):
            self._send("return")

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
            raise self._error(DriverError, "no candidate loaded")
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

    def _device_pending(self) -> bool | None:
        """What the device says of its commit-delay timer; None if it cannot say."""
        text = self._display("display configuration commit delay")
        if text is None:
            return None
        return not ("no configuration commit delay" in text or "not set" in text)

    def confirm_commit(self) -> None:
        self._check_confirmable("commit-delay timer")
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
            raise self._error(DriverError, "nothing to roll back to")
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
