"""FRR driver with the NAPALM driver contract, on vtysh and FRR's own frr-reload.py.

`compare_config` is `frr-reload.py --test` (the lines it would add and delete),
`commit_config` is `frr-reload.py --reload`, and the running config from before
the commit is kept so `rollback` can reload it. FRR has no commit-confirm: the
orchestration verifies after commit and rolls back itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import OperationalError
from ..observed import Neighbor, Route

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"
# Lines of the running config this tool does not own: a difference there is no
# reason to push (vtysh shows its own host's name, for one).
NOT_OURS = ("hostname", "no hostname", "frr version", "service ", "log ")


class FrrError(OperationalError):
    pass


class FrrDriver:
    def __init__(self, hostname: str, pathspace: str | None = None, timeout: float = 60):
        self.hostname = hostname
        self.pathspace = pathspace
        self.timeout = timeout
        self._candidate: Path | None = None
        self._rollback: str | None = None

    # --- plumbing --------------------------------------------------------
    def _ns_args(self) -> list[str]:
        return ["-N", self.pathspace] if self.pathspace else []

    def vtysh(self, *commands: str) -> str:
        argv = ["vtysh", *self._ns_args()]
        for c in commands:
            argv += ["-c", c]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout)
        if run.returncode != 0:
            raise FrrError(f"{self.hostname}: vtysh {' / '.join(commands)}: "
                           f"{(run.stdout + run.stderr).strip()}")
        return run.stdout

    def _reload(self, file: Path, test: bool) -> str:
        argv = [FRR_RELOAD, "--test" if test else "--reload", "--stdout"]
        if self.pathspace:
            argv += ["--pathspace", self.pathspace]
        run = subprocess.run([*argv, str(file)], capture_output=True, text=True,
                             timeout=self.timeout)
        log = run.stdout + run.stderr
        if run.returncode != 0 or "vtysh failed" in log:
            raise FrrError(f"{self.hostname}: frr-reload.py rejected the config:\n"
                           + _errors(log))
        return run.stdout

    @staticmethod
    def _write(text: str) -> Path:
        fd, name = tempfile.mkstemp(prefix="fabric-frr-", suffix=".conf")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        return Path(name)

    # --- NAPALM contract -------------------------------------------------
    def open(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.vtysh("show version")
                return
            except FrrError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.discard_config()

    def get_config(self, retrieve: str = "running") -> dict[str, str]:
        text = self.vtysh("show running-config")
        # vtysh prints "Building configuration..." / "Current configuration:" first:
        # not config, and frr-reload would reject them when rolling back.
        lines = text.splitlines(keepends=True)
        start = next((i for i, ln in enumerate(lines) if ln.startswith("!")), 0)
        return {"running": "".join(lines[start:]), "candidate": "", "startup": ""}

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self.discard_config()
        text = Path(filename).read_text() if filename else (config or "")
        self._candidate = self._write(text)

    def compare_config(self) -> str:
        """What frr-reload would delete ("- ") and add ("+ "), with the enclosing
        context lines ("  ") it prints; empty when nothing changes."""
        if self._candidate is None:
            return ""
        out = self._reload(self._candidate, test=True)
        lines: list[tuple[str, str]] = []
        section = ""
        for line in out.splitlines():
            if line.startswith(("Lines To Delete", "Lines To Add")):
                section = "-" if "Delete" in line else "+"
            elif section and line.strip() and not line.startswith("===") and \
                    not line.strip().startswith(NOT_OURS):
                lines.append((section, line))
        diff = []
        for i, (sign, line) in enumerate(lines):
            nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
            depth = len(line) - len(line.lstrip())
            if len(nxt) - len(nxt.lstrip()) > depth and lines[i + 1][0] == sign:
                diff.append(f"  {line}")          # a parent the next line sits in
            elif sign == "-":
                body = line.lstrip()
                diff.append(f"- {line[:depth]}{body.removeprefix('no ')}")
            else:
                diff.append(f"+ {line}")
        return "\n".join(diff) if any(d[0] in "+-" for d in diff) else ""

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise FrrError(f"{self.hostname}: no candidate loaded")
        self._rollback = self.get_config()["running"]
        self._reload(self._candidate, test=False)
        self.discard_config()
        self.save()

    def save(self) -> None:
        """Write the running config to the startup file, as a switch's `write memory`:
        a restarted bgpd comes back with it (and graceful restart works as on a box)."""
        self.vtysh("write memory")

    def confirm_commit(self) -> None:
        """Nothing to confirm: FRR has no commit timer (the orchestration verified)."""

    def discard_config(self) -> None:
        if self._candidate is not None:
            self._candidate.unlink(missing_ok=True)
            self._candidate = None

    def has_pending_commit(self) -> bool:
        return False

    def rollback(self) -> None:
        if self._rollback is None:
            raise FrrError(f"{self.hostname}: nothing to roll back to")
        file = self._write(self._rollback)
        try:
            self._reload(file, test=False)
        finally:
            file.unlink(missing_ok=True)
        self.save()

    # --- getters ---------------------------------------------------------
    def neighbors(self) -> list[Neighbor]:
        data = json.loads(self.vtysh("show bgp vrf default neighbors json") or "{}")
        out = []
        for addr, n in data.items():
            if not isinstance(n, dict) or "bgpState" not in n:
                continue
            gr = n.get("neighborCapabilities", {}).get("gracefulRestart", "")
            state = n["bgpState"]
            uptime = n.get("bgpTimerUpEstablishedEpoch")
            up = max(0.0, time.time() - uptime) if state == "Established" and uptime else 0.0
            rcvd = n.get("addressFamilyInfo", {}).get("ipv4Unicast", {})
            out.append(Neighbor(
                address=addr, local_as=int(n.get("localAs", 0)), remote_as=int(n["remoteAs"]),
                state=state, uptime=up,
                gr_advertised=gr in ("advertisedAndReceived", "advertised"),
                gr_received=gr in ("advertisedAndReceived", "received"),
                prefixes_received=int(rcvd.get("acceptedPrefixCounter", 0))))
        return out

    def get_bgp_neighbors(self) -> dict[str, Any]:
        """NAPALM's shape: {"global": {"router_id", "peers": {addr: {...}}}}."""
        summary = json.loads(self.vtysh("show bgp vrf default summary json") or "{}")
        rid = summary.get("ipv4Unicast", {}).get("routerId", "")
        peers = {n.address: {"local_as": n.local_as, "remote_as": n.remote_as,
                             "remote_id": "", "is_up": n.established, "is_enabled": True,
                             "description": "", "uptime": int(n.uptime),
                             "address_family": {"ipv4": {
                                 "received_prefixes": n.prefixes_received,
                                 "accepted_prefixes": n.prefixes_received,
                                 "sent_prefixes": -1}}}
                 for n in self.neighbors()}
        return {"global": {"router_id": rid, "peers": peers}}

    def routes(self) -> dict[str, Route]:
        data = json.loads(self.vtysh("show bgp vrf default ipv4 unicast json") or "{}")
        out = {}
        for prefix, paths in data.get("routes", {}).items():
            used = [p for p in paths if p.get("valid") and (p.get("bestpath") or
                                                           p.get("multipath"))]
            used.sort(key=lambda p: not p.get("bestpath"))
            hops = tuple(h["ip"] for p in used for h in p.get("nexthops", [])[:1])
            if used:
                out[prefix] = Route(prefix, hops, stale=any(p.get("stale") for p in used),
                                    local=any(p.get("peerId") == "(unspec)" for p in used))
        return out


def _errors(log: str) -> str:
    keep = [line for line in log.splitlines()
            if ("ERROR" in line or "% " in line or "failed" in line.lower())
            and "vtysh.conf" not in line]
    return "\n".join(keep[-20:]) or log.strip()[-2000:]
