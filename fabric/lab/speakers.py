"""Start and stop the lab's speakers: FRR (zebra, bfdd and bgpd, one pathspace per switch)
and gobgpd (one per node, gRPC on a Unix socket under the lab's run directory)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from fabric.lab.netns import LabError

FRR_BIN = Path("/usr/lib/frr")
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")


def _frr_ids() -> tuple[int, int]:
    import grp
    import pwd

    return pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid


def _alive(pid: int, marker: str) -> bool:
    """True if `pid` runs and its command line names `marker` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


def _kill(pid: int, marker: str, sig: int = signal.SIGTERM, wait: float = 5) -> None:
    if not _alive(pid, marker):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + wait
    while _alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid, marker):
        os.kill(pid, signal.SIGKILL)


class FrrInstance:
    """zebra + bgpd of one switch, in its namespace, under FRR pathspace `netns`."""

    daemons = ("zebra", "bfdd", "bgpd")

    def __init__(self, netns: str, run_dir: Path):
        self.netns = netns
        self.dir = run_dir
        self.etc = FRR_ETC / netns
        self.run = FRR_RUN / netns

    def pidfile(self, daemon: str) -> Path:
        return self.run / f"{daemon}.pid"

    def pid(self, daemon: str) -> int | None:
        try:
            return int(self.pidfile(daemon).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self, daemon: str = "bgpd") -> bool:
        pid = self.pid(daemon)
        return pid is not None and _alive(pid, self.netns)

    def start(self) -> None:
        uid, gid = _frr_ids()
        for d in (self.etc, self.run, self.dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chown(d, uid, gid)
        (self.etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        # A restart starts from the saved config, like a switch; a new one from nothing.
        startup = self.etc / "frr.conf"
        if not startup.exists():
            startup = self.dir / "empty.conf"
            startup.write_text("")
        for daemon in self.daemons:
            if self.running(daemon):
                continue
            extra = ["-M", "bmp"] if daemon == "bgpd" else []
            argv = ["ip", "netns", "exec", self.netns, str(FRR_BIN / daemon), "-d",
                    "-N", self.netns, "-P", "0", "-f", str(startup), "-i",
                    str(self.pidfile(daemon)), "--log", f"file:{self.dir / daemon}.log",
                    *extra]
            run = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            if run.returncode != 0:
                raise LabError(f"{self.netns}: {daemon} did not start: {run.stderr.strip()}")
            if daemon == "zebra":
                self._wait(lambda: (self.run / "zserv.api").exists(), "zebra's socket")
        self._wait(lambda: self.running("bgpd"), "bgpd")

    def _wait(self, ready, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise LabError(f"{self.netns}: {what} not ready after {timeout:.0f}s")
            time.sleep(0.05)

    def stop_daemon(self, daemon: str, sig: int = signal.SIGTERM) -> None:
        pid = self.pid(daemon)
        if pid is not None:
            _kill(pid, self.netns, sig)

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            self.stop_daemon(daemon)
        shutil.rmtree(self.etc, ignore_errors=True)
        shutil.rmtree(self.run, ignore_errors=True)


class GobgpService:
    """gobgpd of one lab node; the node deployer drives it through this interface."""

    def __init__(self, netns: str, run_dir: Path):
        self.netns = netns
        self.dir = run_dir
        self.config_path = run_dir / "gobgpd.toml"
        self.socket = run_dir / "api.sock"
        self.pidfile = run_dir / "gobgpd.pid"
        self.log = run_dir / "gobgpd.log"

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid, str(self.config_path))

    def start(self, graceful_restart: bool = False) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        argv = ["ip", "netns", "exec", self.netns, "gobgpd", "-t", "toml",
                "-f", str(self.config_path), "--api-hosts", f"unix://{self.socket}",
                "--pprof-disable", "-l", "info"]
        if graceful_restart:
            argv.append("-r")
        with open(self.log, "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if proc.poll() is not None:
                raise LabError(f"{self.netns}: gobgpd exited ({proc.returncode}); see {self.log}")
            if time.monotonic() > deadline:
                raise LabError(f"{self.netns}: gobgpd API socket missing after 15s")
            time.sleep(0.05)

    def reload(self) -> None:
        pid = self.pid()
        if pid is None or not self.running():
            raise LabError(f"{self.netns}: gobgpd is not running")
        os.kill(pid, signal.SIGHUP)

    def stop(self, kill: bool = False) -> None:
        pid = self.pid()
        if pid is not None:
            _kill(pid, str(self.config_path), signal.SIGKILL if kill else signal.SIGTERM)
        self.socket.unlink(missing_ok=True)
