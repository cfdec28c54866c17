"""A small SSH CLI simulator on paramiko's server API. TEST-ONLY: never run it
anywhere but in a test; it binds 127.0.0.1 on an ephemeral port only.

* password authentication against the one username/password given at start;
* a host key generated per run (ECDSA P-256; paramiko cannot generate Ed25519),
  exposed as `known_hosts_line()` so a test can trust it;
* one `Dialect` per connection (built by the factory given at start), driven line
  by line on the interactive shell channel, with the characters echoed as typed, as
  a device's terminal does (netmiko's `hp_comware` reads the echo back);
  exec requests are served too (each line of the command run in a fresh dialect, or
  the whole command by the dialect's `run(command) -> (status, stdout, stderr)` if it
  has one),
  and `scp -t PATH` exec requests are OpenSSH's scp sink: one file put, handed to
  the dialect's `receive_file(path, data) -> error | None` (what netmiko's SCP
  transfer, and so NAPALM's ios/nxos_ssh config loading, does);
* `start()` / `stop()`: everything this server started (its listener, every
  transport, every session thread) is tracked on the instance, and `stop()` closes
  and joins exactly those.

A dialect is any object with: `banner() -> str`, `prompt() -> str`,
`execute(line) -> str` (output, without echo or prompt), and `closed` (True once
the user logged out). `tests/simulators/configtree.CliDialect` is the generic base
for config CLIs; `tests/simulators/comware.py` is the H3C Comware V7 one.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import shlex
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, Self

import paramiko

log = logging.getLogger(__name__)
# What paramiko raises when the other side has already gone.
_GONE = (OSError, EOFError, paramiko.SSHException)


class Dialect(Protocol):
    closed: bool

    def banner(self) -> str: ...
    def prompt(self) -> str: ...
    def execute(self, line: str) -> str: ...


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: SSHServer):
        self.server = server
        # channel id → the exec command, or None for a shell; set once it is asked for
        self.requests: dict[int, bytes | None] = {}
        self.asked = threading.Condition()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = hmac.compare_digest(username.encode(), self.server.username.encode()) and \
            hmac.compare_digest(password.encode(), self.server.password.encode())
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: Any) -> bool:
        return True

    def check_channel_window_change_request(self, *args: Any) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return self._asked(channel, None)

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return self._asked(channel, command)

    def _asked(self, channel: paramiko.Channel, command: bytes | None) -> bool:
        with self.asked:
            self.requests[channel.get_id()] = command
            self.asked.notify_all()
        return True

    def wait_request(self, channel: paramiko.Channel, stop: Callable[[], bool]) -> \
            tuple[bool, bytes | None]:
        """(asked, command) for `channel`: False if it never asked for a shell or exec."""
        with self.asked:
            while channel.get_id() not in self.requests:
                if stop():
                    return False, None
                self.asked.wait(0.2)
            return True, self.requests[channel.get_id()]


class Session:
    """One interactive shell: echo, line discipline (CR, LF or CRLF ends a line),
    output with CRLF line ends, and the dialect's prompt after each command."""

    def __init__(self, server: SSHServer, chan: paramiko.Channel, dialect: Dialect):
        self.server = server
        self.chan = chan
        self.dialect = dialect
        self.lock = threading.Lock()

    def send(self, text: str) -> None:
        with self.lock, contextlib.suppress(*_GONE):
            self.chan.sendall(text.encode())

    def notify(self, text: str) -> None:
        """Asynchronous output (a device's log message), then the prompt again."""
        self.send("\r\n" + text.replace("\n", "\r\n") + "\r\n" + self.dialect.prompt())

    def run(self) -> None:
        self.send(self.dialect.banner() + self.dialect.prompt())
        buf = ""
        last_cr = False
        self.chan.settimeout(0.2)
        while not self.server.stopping.is_set() and not self.dialect.closed:
            try:
                data = self.chan.recv(4096)
            except TimeoutError:
                continue
            except _GONE:
                break
            if not data:
                break
            echo = ""
            for ch in data.decode(errors="replace"):
                if ch == "\n" and last_cr:
                    last_cr = False
                    continue
                last_cr = ch == "\r"
                if ch in "\r\n":
                    out = self.dialect.execute(buf)
                    buf = ""
                    text = "\r\n" + (out.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n"
                                     if out else "")
                    if self.dialect.closed:
                        self.send(echo + text)
                        break
                    self.send(echo + text + self.dialect.prompt())
                    echo = ""
                elif ch in "\x08\x7f":
                    if buf:
                        buf = buf[:-1]
                        echo += "\x08 \x08"
                else:
                    buf += ch
                    echo += ch       # the terminal echoes what is typed
            if echo and not self.dialect.closed:
                self.send(echo)
            if self.dialect.closed:
                break
        self.close()

    def run_exec(self, command: str) -> None:
        run = getattr(self.dialect, "run", None)
        if run is not None:              # a host's shell: its output and exit status
            status, out, err = run(command)
            with self.lock, contextlib.suppress(*_GONE):
                self.chan.sendall(out.encode())
                self.chan.sendall_stderr(err.encode())
            self.chan.send_exit_status(status)
            self.close()
            return
        out = []
        for line in command.splitlines():
            out.append(self.dialect.execute(line))
        self.send("\r\n".join(o for o in out if o) + "\r\n")
        self.chan.send_exit_status(0)
        self.close()

    def run_scp(self, command: str) -> None:
        """The sink side of OpenSSH's scp protocol for one file: ack, `C<mode> <size>
        <name>`, ack, the bytes and a NUL, ack (or \\x01 and the device's error)."""
        target = shlex.split(command)[-1]
        receive = getattr(self.dialect, "receive_file", None)
        self.chan.settimeout(10)
        with contextlib.suppress(*_GONE, TimeoutError):
            if receive is None:
                self.chan.sendall(b"\x01scp: not supported on this device\n")
                return
            self.chan.sendall(b"\0")
            header = self._recv_until(b"\n")
            fields = header.decode(errors="replace").split(" ", 2)
            if not header.startswith(b"C") or len(fields) != 3 or not fields[1].isdigit():
                self.chan.sendall(b"\x01scp: protocol error\n")
                return
            self.chan.sendall(b"\0")
            size = int(fields[1])
            data = self._recv_exactly(size + 1)[:size]     # the file, then a NUL
            error = receive(target, data)
            self.chan.sendall(b"\0" if error is None else b"\x01" + error.encode() + b"\n")
            self.chan.send_exit_status(0 if error is None else 1)
        self.close()

    def _recv_until(self, end: bytes) -> bytes:
        buf = b""
        while not buf.endswith(end):
            chunk = self.chan.recv(1)
            if not chunk:
                raise EOFError
            buf += chunk
        return buf[:-len(end)]

    def _recv_exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.chan.recv(min(65536, n - len(buf)))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def close(self) -> None:
        with contextlib.suppress(*_GONE):
            self.chan.close()


class SSHServer:
    """`SSHServer(lambda session: MyDialect(...), "admin", "pw").start()` → (host, port)."""

    def __init__(self, dialect_factory: Callable[[Session], Dialect], username: str,
                 password: str, host_key: paramiko.PKey | None = None):
        self.id = uuid.uuid4().hex[:8]
        self.dialect_factory = dialect_factory
        self.username = username
        self.password = password
        self.host_key = host_key or paramiko.ECDSAKey.generate(bits=256)
        self.host = "127.0.0.1"
        self.port = 0
        self.stopping = threading.Event()
        self.sessions: list[Session] = []
        self.failed_logins = 0
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()

    # ----- lifecycle
    def start(self) -> tuple[str, int]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._spawn(self._accept_loop, "accept")
        return self.host, self.port

    def stop(self) -> None:
        self.stopping.set()
        if self._sock is not None:
            self._sock.close()
        with self._lock:
            sessions, transports = list(self.sessions), list(self._transports)
        for s in sessions:
            s.close()
        for t in transports:
            with contextlib.suppress(*_GONE):
                t.close()
        for th in list(self._threads):
            if th is not threading.current_thread():
                th.join(timeout=5)

    def __enter__(self) -> SSHServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def known_hosts_line(self) -> str:
        """The line an OpenSSH known_hosts file holds for this server (non-22 port form)."""
        return f"[{self.host}]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}"

    def broadcast(self, text: str) -> None:
        with self._lock:
            sessions = list(self.sessions)
        for s in sessions:
            s.notify(text)

    # ----- internals
    def _spawn(self, target: Callable[..., None], what: str, *args: Any) -> None:
        th = threading.Thread(target=target, args=args, name=f"sshsim-{self.id}-{what}",
                              daemon=True)
        with self._lock:
            self._threads.append(th)
        th.start()

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self._spawn(self._serve, "conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        with self._lock:
            self._transports.append(transport)
        auth = _Auth(self)
        try:
            transport.start_server(server=auth)
        except (paramiko.SSHException, EOFError, OSError):
            transport.close()
            return
        # Every channel the client opens (a shell, exec requests, scp) is served on
        # its own thread, as sshd does, until the client closes the connection.
        served = 0
        while transport.is_active() and not self.stopping.is_set():
            chan = transport.accept(timeout=0.2)
            if chan is not None:
                served += 1
                self._spawn(self._serve_channel, "chan", transport, auth, chan)
        if not served and not transport.is_authenticated():
            self.failed_logins += 1
        transport.close()

    def _serve_channel(self, transport: paramiko.Transport, auth: _Auth,
                       chan: paramiko.Channel) -> None:
        asked, request = auth.wait_request(
            chan, lambda: self.stopping.is_set() or not transport.is_active())
        if not asked:
            return
        session = Session(self, chan, None)  # type: ignore[arg-type]
        session.dialect = self.dialect_factory(session)
        with self._lock:
            self.sessions.append(session)
        try:
            command = (request or b"").decode(errors="replace")
            if command.startswith("scp ") and " -t " in f" {command} ":
                session.run_scp(command)
            elif request is not None:
                session.run_exec(command)
            else:
                session.run()
        except Exception:  # a simulator bug must not hang the client: log and drop
            log.exception("simulator session failed")
        finally:
            with self._lock:
                if session in self.sessions:
                    self.sessions.remove(session)
            session.close()
        if request is None:
            # A shell that ended (the device's logout) ends the connection. Let the
            # client close its side first, so it does not see a reset; stop() closes
            # whatever is left.
            deadline = time.monotonic() + 1.0
            while transport.is_active() and time.monotonic() < deadline and \
                    not self.stopping.is_set():
                time.sleep(0.02)
            transport.close()


class Served:
    """What a test reaches through its SSH server (`self.server`): where it listens
    and the host key line a known_hosts file needs."""

    server: SSHServer

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def known_hosts_line(self) -> str:
        return self.server.known_hosts_line()


class SimulatedSwitch(Served):
    """A simulated switch and its SSH server: `sim.start()`, `sim.device`, `sim.port`,
    `sim.known_hosts_line()`, `sim.stop()`. A vendor module subclasses it to build its
    device (`ComwareSimulator`, `VrpSimulator`)."""

    def __init__(self, device: Any, username: str, password: str):
        self.device = device
        self.server = SSHServer(self._dialect, username, password)
        self.device.notify = self.server.broadcast

    def _dialect(self, session: Session) -> Dialect:
        return self.device.dialect()

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.device.shutdown()
        self.server.stop()
