"""What the simulated devices of every vendor share (TEST-ONLY): the BGP peer state a
test sets, the uptime format of peer tables, and `SimulatedDevice`, the base of a
vendor's device model (`ComwareDevice`, `VrpDevice`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .configtree import Node


@dataclass
class PeerState:
    state: str = "Established"
    prefixes: int = 0
    since: float = 0.0
    gr: bool = True                 # the peer sends the graceful-restart capability
    remote_id: str = "0.0.0.0"
    msgs: int = 0
    sent: int = 0                   # prefixes advertised to the peer (while Established)


def updown(seconds: float) -> str:
    """A peer table's Up/Down column: `08:30:47` under a day, `0286h47m` after."""
    s = int(seconds)
    if s < 86400:
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 3600:04d}h{s % 3600 // 60:02d}m"


class SimulatedDevice:
    """The vendor-neutral part of a device model. A subclass sets, in its `__init__`,
    `sysname`, `auto_establish`, `root`, `lock`, `peers`, `dynamic` and `_timer` (its
    rollback timer), and defines `static_peers()`."""

    sysname: str
    auto_establish: bool
    root: Node
    lock: threading.RLock
    peers: dict[str, PeerState]
    dynamic: dict[str, tuple[int, PeerState]]
    _timer: threading.Timer | None
    booted: float = 0.0             # when the device came up (set by the subclass)
    MODEL: str = ""                 # the chassis model its displays name
    SERIAL: str = ""                # its serial number [guess: a made-up one]

    def uptime_parts(self) -> tuple[int, int, int, int, int]:
        """(weeks, days, hours, minutes, seconds) since `booted`."""
        s = int(time.time() - self.booted)
        return s // 604800, s % 604800 // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60

    def interfaces(self) -> list[tuple[str, str, str]]:
        """(name, primary address, description) of every `interface` section."""
        out = []
        for node in self.root.children:
            w = node.text.split()
            if w[0] != "interface":
                continue
            addr, descr = "", ""
            for c in node.children:
                cw = c.text.split()
                if cw[:2] == ["ip", "address"] and len(cw) > 2 and not addr:
                    addr = cw[2]
                elif cw[0] == "description":
                    descr = c.text.split(" ", 1)[1]
            out.append((" ".join(w[1:]), addr, descr))
        return out

    def static_peers(self) -> list[tuple[str, int]]:
        raise NotImplementedError

    def lines(self) -> list[str]:
        """Every configured line with its view path, for tests: ["bgp 1/router-id 1.1.1.1"]."""
        with self.lock:
            out: list[str] = []

            def walk(node: Node, path: str) -> None:
                for c in node.children:
                    out.append(f"{path}{c.text}")
                    walk(c, f"{path}{c.text}/")
            walk(self.root, "")
            return out

    @property
    def pending(self) -> bool:
        return self._timer is not None

    def shutdown(self) -> None:
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None

    # ----- BGP state
    def set_peer(self, address: str, state: str = "Established", prefixes: int = 0,
                 gr: bool = True, remote_id: str = "0.0.0.0", sent: int = 0) -> None:
        """A peer's state; one not Established has never been up (`since` 0: IOS and
        NX-OS show `never`)."""
        with self.lock:
            since = time.time() if state == "Established" else 0.0
            self.peers[address] = PeerState(state, prefixes, since, gr, remote_id, sent=sent)

    def add_dynamic_peer(self, address: str, asn: int | None = None, prefixes: int = 0,
                         state: str = "Established", gr: bool = True) -> None:
        """A peer that connected inside a group's range (listen range)."""
        with self.lock:
            self.dynamic[address] = (asn or 0, PeerState(state, prefixes, time.time(), gr))

    def _establish(self) -> None:
        for addr, _asn in self.static_peers():
            if addr not in self.peers:
                self.peers[addr] = PeerState("Established", 0, time.time())

