"""FRR driver with the NAPALM driver contract, on vtysh and FRR's own frr-reload.py.

`compare_config` is `frr-reload.py --test` (the lines it would add and delete),
`commit_config` is `frr-reload.py --reload`, and the running config from before
the commit is kept so `rollback` can reload it. FRR has no commit-confirm: the
orchestration verifies after commit and rolls back itself.

The same commands run in one of two places. A real FRR switch (NAPALM's
signature: host, username, password, optional_args port / known_hosts /
accept_unknown_host_keys) is reached over SSH: every command on an exec channel,
the candidate copied by scp into a 0600 file there and removed after. The login
user runs vtysh, so it must be in the `frrvty` group (Debian's FRR package gives
that group vtysh access). The lab's switches (`FrrDriver.lab`) run on this
machine, in their FRR pathspace (`vtysh -N`).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shlex
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, Protocol

import paramiko
from scp import SCPClient, SCPException

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    CommitError,
    DeviceConnectionError,
    DriverError,
    HostKeyError,
)
from fabric.deploy.drivers.getters import Peer, bgp_neighbors, bgp_neighbors_detail, facts
from fabric.observed import Neighbor, Route
from fabric.platforms.frr.dialect import VERSION, errors, reload_diff, reload_failed, running_text

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


class Shell(Protocol):
    """Where FRR's commands run: `run(argv) -> (status, stdout, stderr)`, and files put
    there."""

    def run(self, argv: list[str], timeout: float) -> tuple[int, str, str]: ...
    def put(self, text: str) -> str: ...
    def remove(self, path: str) -> None: ...
    def close(self) -> None: ...


class LocalShell:
    """This machine (the lab): candidates in private temp files."""

    def run(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return run.returncode, run.stdout, run.stderr

    def put(self, text: str) -> str:
        fd, name = tempfile.mkstemp(prefix="fabric-frr-", suffix=".conf")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        return name

    def remove(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        pass


class SshShell:
    """An FRR switch over SSH: exec channels, scp for files, host keys checked."""

    def __init__(self, host: str, port: int, username: str, password: str, timeout: float,
                 known_hosts: str | None, accept_unknown: bool):
        self.where = f"{host}:{port}"
        client = paramiko.SSHClient()
        if known_hosts:
            client.load_host_keys(str(Path(known_hosts).expanduser()))
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy() if accept_unknown
                                           else paramiko.RejectPolicy())
        try:
            try:
                client.connect(host, port=port, username=username, password=password,
                               timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                               look_for_keys=False, allow_agent=False)
            except BaseException:
                client.close()          # a refused login leaves paramiko's transport open
                raise
        except paramiko.BadHostKeyException:
            raise HostKeyError(f"{self.where}: the host key does not match known_hosts") from None
        except paramiko.AuthenticationException:
            raise AuthenticationError(f"{self.where}: login refused for user {username}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise HostKeyError(f"{self.where}: unknown host key (add it to known_hosts, or "
                               "--accept-unknown-host-keys)") from None
            raise DeviceConnectionError(f"{self.where}: SSH: {exc}") from None
        except paramiko.ssh_exception.NoValidConnectionsError as exc:
            why = next((e.strerror for e in exc.errors.values()
                        if isinstance(e, OSError) and e.strerror), "refused")
            raise DeviceConnectionError(f"{host}: cannot connect to port {port}: {why}") from None
        except OSError as exc:
            raise DeviceConnectionError(f"{host}: cannot connect to port {port}: "
                           f"{exc.strerror or exc}") from None
        self.client = client

    def run(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        try:
            _, out, err = self.client.exec_command(shlex.join(argv), timeout=timeout)
            stdout, stderr = (f.read().decode(errors="replace").replace("\r\n", "\n")
                              for f in (out, err))
            return out.channel.recv_exit_status(), stdout, stderr
        except (paramiko.SSHException, OSError) as exc:
            raise DriverError(f"{self.where}: SSH: {exc or 'timed out'}") from None

    def put(self, text: str) -> str:
        path = f"/tmp/fabric-frr-{secrets.token_hex(8)}.conf"
        transport = self.client.get_transport()
        if transport is None:
            raise DriverError(f"{self.where}: SSH: not connected")
        try:
            with SCPClient(transport) as scp:
                scp.putfo(io.BytesIO(text.encode()), path, mode="0600")
        except (SCPException, paramiko.SSHException, OSError) as exc:
            raise DriverError(f"{self.where}: copying the candidate: {exc}") from None
        return path

    def remove(self, path: str) -> None:
        self.run(["rm", "-f", path], timeout=30)

    def close(self) -> None:
        self.client.close()


class FrrDriver:
    compare_is_diff: ClassVar[bool] = True      # frr-reload's "+ "/"- " lines
    def __init__(self, hostname: str, username: str = "", password: str = "",
                 timeout: float = 60, optional_args: dict[str, Any] | None = None):
        args = dict(optional_args or {})
        self.hostname = hostname
        self.username, self._password = username, password
        self.timeout = timeout
        self.pathspace: str | None = args.pop("pathspace", None)
        self.port = int(args.pop("port", 22))
        self.known_hosts = args.pop("known_hosts", None)
        self.accept_unknown = bool(args.pop("accept_unknown_host_keys", False))
        args.pop("rekey", None)      # FRR shows keys in clear: a new value is a change
        self._shell: Shell | None = None
        self._local = False
        self._candidate: str | None = None
        self._rollback: str | None = None

    @classmethod
    def lab(cls, device: str, pathspace: str, timeout: float = 60) -> FrrDriver:
        """A lab switch: this machine's FRR, in the pathspace of `device`."""
        drv = cls(device, timeout=timeout, optional_args={"pathspace": pathspace})
        drv._shell, drv._local = LocalShell(), True
        return drv

    def __repr__(self) -> str:
        return f"FrrDriver({self.hostname!r}, port={self.port})"

    # --- plumbing --------------------------------------------------------
    def _sh(self) -> Shell:
        if self._shell is None:
            raise DriverError(f"{self.hostname}: not open")
        return self._shell

    def _mask(self, text: str) -> str:
        return text.replace(self._password, "******") if self._password else text

    def vtysh(self, *commands: str) -> str:
        argv = ["vtysh", *(["-N", self.pathspace] if self.pathspace else [])]
        for c in commands:
            argv += ["-c", c]
        status, out, err = self._sh().run(argv, self.timeout)
        if status != 0:
            raise DriverError(self._mask(f"{self.hostname}: vtysh {' / '.join(commands)}: "
                                      f"{(out + err).strip()}"))
        return out

    def _reload(self, file: str, test: bool) -> str:
        argv = [FRR_RELOAD, "--test" if test else "--reload", "--stdout"]
        if self.pathspace:
            argv += ["--pathspace", self.pathspace]
        status, out, err = self._sh().run([*argv, file], self.timeout)
        if reload_failed(status, out + err):
            refused = CandidateError if test else CommitError
            raise refused(f"{self.hostname}: frr-reload.py rejected the config:\n"
                          + errors(out + err))
        return out

    # --- NAPALM contract -------------------------------------------------
    def open(self) -> None:
        if not self._local:
            if self._shell is None:
                self._shell = SshShell(self.hostname, self.port, self.username,
                                       self._password, self.timeout, self.known_hosts,
                                       self.accept_unknown)
            self.vtysh("show version")
            return
        # A lab switch may still be starting: wait for its vtysh to answer.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.vtysh("show version")
                return
            except DriverError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        try:
            self.discard_config()
        finally:
            if self._shell is not None and not self._local:
                self._shell.close()
                self._shell = None

    def get_config(self, retrieve: str = "all") -> dict[str, str]:
        return {"running": running_text(self.vtysh("show running-config")),
                "candidate": "", "startup": ""}

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        self.discard_config()
        text = Path(filename).read_text() if filename else (config or "")
        self._candidate = self._sh().put(text)

    def compare_config(self) -> str:
        """What frr-reload would delete ("- ") and add ("+ "), with the enclosing
        context lines ("  ") it prints; empty when nothing changes."""
        if self._candidate is None:
            return ""
        return reload_diff(self._reload(self._candidate, test=True))

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise DriverError(f"{self.hostname}: no candidate loaded")
        self._rollback = self.get_config("running")["running"]
        try:
            self._reload(self._candidate, test=False)
        except DriverError as exc:
            # frr-reload applies line by line: what it applied before the refused line
            # is undone, so a refused commit leaves the switch as it was, as on a vendor
            # switch that refuses a commit whole.
            try:
                self.rollback()
            except DriverError as rb:
                raise CommitError(f"{exc}\nrestoring the previous config failed: {rb}") from None
            raise CommitError(f"{exc}\n(the previous running config was restored)") from None
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
            self._sh().remove(self._candidate)
            self._candidate = None

    def has_pending_commit(self) -> bool:
        return False

    def rollback(self) -> None:
        if self._rollback is None:
            raise DriverError(f"{self.hostname}: nothing to roll back to")
        file = self._sh().put(self._rollback)
        try:
            self._reload(file, test=False)
        finally:
            self._sh().remove(file)
        self.save()

    # --- getters ---------------------------------------------------------
    def _neighbor_json(self) -> dict[str, dict[str, Any]]:
        """`show bgp neighbors json`, the sessions only (FRR adds other keys)."""
        data = json.loads(self.vtysh("show bgp vrf default neighbors json") or "{}")
        return {a: n for a, n in data.items() if isinstance(n, dict) and "bgpState" in n}

    def neighbors(self) -> list[Neighbor]:
        out = []
        for addr, n in self._neighbor_json().items():
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
                prefixes_received=int(rcvd.get("acceptedPrefixCounter", 0)),
                bfd=n.get("peerBfdInfo", {}).get("status", "none")))
        return out

    def _peers(self) -> list[Peer]:
        out = []
        for addr, n in self._neighbor_json().items():
            af = n.get("addressFamilyInfo", {}).get("ipv4Unicast", {})
            msgs = n.get("messageStats", {})
            out.append(Peer(
                address=addr, local_as=int(n.get("localAs", 0)), remote_as=int(n["remoteAs"]),
                state=n["bgpState"], uptime=int(n.get("bgpTimerUpMsec", 0)) // 1000,
                received=int(af.get("acceptedPrefixCounter", 0)),
                sent=int(af.get("sentPrefixCounter", -1)),
                remote_id=n.get("remoteRouterId", ""), description=n.get("nbrDesc", ""),
                msgs_in=int(msgs.get("totalRecv", 0)), msgs_out=int(msgs.get("totalSent", 0)),
                dynamic="dynamicPeer" in n))
        return out

    def get_bgp_neighbors(self) -> dict[str, Any]:
        """NAPALM's shape, with the vendor drivers' semantics (deploy/drivers/getters.py)."""
        summary = json.loads(self.vtysh("show bgp vrf default summary json") or "{}")
        return bgp_neighbors(summary.get("ipv4Unicast", {}).get("routerId", ""), self._peers())

    def get_bgp_neighbors_detail(self, neighbor_address: str = "") -> dict[str, Any]:
        return bgp_neighbors_detail(self._peers(), neighbor_address)

    def get_facts(self) -> dict[str, Any]:
        """vendor FRRouting, the version from `show version`; FRR knows neither the
        box's uptime nor its serial number (-1 and "")."""
        version = self.vtysh("show version")
        m = VERSION.search(version)
        interfaces = json.loads(self.vtysh("show interface json") or "{}")
        return facts(uptime=-1.0, vendor="FRRouting", model="FRR", hostname=m.group(2) if m
                     else self.hostname, os_version=m.group(1) if m else "",
                     serial_number="", interface_list=sorted(interfaces))

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

