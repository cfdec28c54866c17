"""A real FRR switch for the device tests (needs root), reached the way a real one is.

TEST-ONLY. The box is a network namespace of its own with zebra + bgpd (FRR
pathspace = the namespace's name), an SSH server on 127.0.0.1 (the test server of
`simulators.sshserver`) whose exec channel runs the driver's commands against that
FRR, and real BGP peers: one gobgpd per static peer of the device's intent (cores,
a rack's route reflectors), in a second namespace at the far end of a veth, so every
session the rollout waits for really comes up. The one liberty: the box's shell runs
`vtysh` and `frr-reload.py` with this box's pathspace added (`-N`, `--pathspace`),
as a switch running one FRR would run them without.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import uuid
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from simulators.sshserver import Served, SSHServer

from fabric.lab.netns import LabError, delete, exec_in
from fabric.lab.speakers import FrrInstance
from fabric.platforms.frr.driver import FRR_RELOAD

UPLOADS = "/tmp/fabric-frr-"


class BoxShell:
    """The box's shell on the SSH exec channel: vtysh, frr-reload.py and rm of the
    driver's own uploads; anything else is not found, as on a box without it."""

    closed = False

    def __init__(self, box: FrrBox):
        self.box = box

    def banner(self) -> str:
        return ""

    def prompt(self) -> str:
        return "$ "

    def execute(self, line: str) -> str:
        return self.run(line)[1]

    def run(self, command: str) -> tuple[int, str, str]:
        argv = shlex.split(command)
        if argv[:1] == ["vtysh"]:
            argv = ["vtysh", "-N", self.box.netns, *argv[1:]]
        elif argv[:1] == [FRR_RELOAD]:
            argv = [FRR_RELOAD, "--pathspace", self.box.netns, *argv[1:]]
        elif argv[:2] == ["rm", "-f"] and all(a.startswith(UPLOADS) for a in argv[2:]):
            pass
        else:
            return 127, "", f"sh: 1: {argv[0] if argv else ''}: not found\n"
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.box.commands.append(command)
        return run.returncode, run.stdout, run.stderr

    def receive_file(self, path: str, data: bytes) -> str | None:
        if not path.startswith(UPLOADS) or "/" in path[len(UPLOADS):]:
            return f"scp: {path}: Permission denied"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        self.box.uploads.append(path)
        return None


class FrrBox(Served):
    def __init__(self, name: str, peers: list[tuple[IPv4Interface, IPv4Address, int, int,
                                                    str | None, bool]],
                 username: str, password: str, run_dir: Path):
        """`peers`: (box interface, peer address, box AS, peer AS, MD5 key or None,
        GTSM)."""
        self.name = name
        tag = uuid.uuid4().hex[:6]
        self.netns = f"bfbox{tag}-{name}"[:32]
        self.peer_ns = f"bfpeer{tag}-{name}"[:32]     # bgpd refuses local addresses
        self.dir = run_dir / self.netns
        self.frr = FrrInstance(self.netns, self.dir)
        self.peers = peers
        self.server = SSHServer(lambda session: BoxShell(self), username, password)
        self.gobgpd: list[subprocess.Popen[bytes]] = []
        self.commands: list[str] = []
        self.uploads: list[str] = []

    def start(self) -> FrrBox:
        try:
            self._build()
            self.frr.start()
            for i, peer in enumerate(self.peers):
                self._start_peer(i, *peer)
            self.server.start()
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _ip(ns: str, *args: str) -> None:
        run = exec_in(ns, ["ip", *args])
        if run.returncode != 0:
            raise LabError(f"{ns}: ip {' '.join(args)}: {run.stderr.strip()}")

    def _build(self) -> None:
        for ns in (self.netns, self.peer_ns):
            run = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
            if run.returncode != 0:
                raise LabError(f"ip netns add {ns}: {run.stderr.strip()}")
            self._ip(ns, "link", "set", "lo", "up")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ip(self.netns, "link", "add", "box0", "type", "veth", "peer", "name", "peers0",
                 "netns", self.peer_ns)
        self._ip(self.netns, "link", "set", "box0", "up")
        self._ip(self.peer_ns, "link", "set", "peers0", "up")
        added = set()
        for mine, theirs, *_ in self.peers:
            # each side with the subnet's prefix (eBGP's connected check)
            for ns, addr, ifname in ((self.netns, mine.ip, "box0"),
                                     (self.peer_ns, theirs, "peers0")):
                if addr not in added:
                    added.add(addr)
                    self._ip(ns, "addr", "add", f"{addr}/{mine.network.prefixlen}", "dev",
                             ifname)

    def _start_peer(self, i: int, mine: IPv4Interface, theirs: IPv4Address, my_as: int,
                    their_as: int, key: str | None, gtsm: bool) -> None:
        config = self.dir / f"peer{i}.toml"
        auth = f'auth-password = "{key}"\n' if key else ""
        ttl = "[neighbors.ttl-security.config]\nenabled = true\nttl-min = 255\n" if gtsm else ""
        config.write_text(
            f'[global.config]\nas = {their_as}\nrouter-id = "{theirs}"\n'
            f'local-address-list = ["{theirs}"]\n\n'
            f'[[neighbors]]\n[neighbors.config]\nneighbor-address = "{mine.ip}"\n'
            f"peer-as = {my_as}\n{auth}"
            f"[neighbors.timers.config]\nconnect-retry = 2\n"
            f'[neighbors.transport.config]\nlocal-address = "{theirs}"\n{ttl}'
            f'[[neighbors.afi-safis]]\n[neighbors.afi-safis.config]\n'
            f'afi-safi-name = "ipv4-unicast"\n')
        log = open(self.dir / f"peer{i}.log", "ab")  # noqa: SIM115 - the process keeps it
        with log:
            self.gobgpd.append(subprocess.Popen(
                ["ip", "netns", "exec", self.peer_ns, "gobgpd", "-t", "toml", "-f", str(config),
                 "--api-hosts", f"unix://{self.dir / f'peer{i}.sock'}", "--pprof-disable"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True))

    def stop(self) -> None:
        self.server.stop()
        for proc in self.gobgpd:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.gobgpd:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.frr.stop()
        delete([self.netns, self.peer_ns])
        for path in self.uploads:
            Path(path).unlink(missing_ok=True)
