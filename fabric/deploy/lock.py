"""One apply at a time per fabric: a lock file that says who holds it and since when.

A lock whose process is gone is reported as stale with its owner; it is never
broken silently: the operator removes it after checking nobody is mid-apply.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from pathlib import Path

from fabric.errors import OperationalError


class LockHeld(OperationalError):
    pass


class ApplyLock:
    def __init__(self, path: Path):
        self.path = path
        self.held = False

    def __enter__(self) -> ApplyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"owner": f"{getpass.getuser()}@{socket.gethostname()}", "pid": os.getpid(),
              "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise LockHeld(self._describe()) from None
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        self.held = True
        return self

    def _describe(self) -> str:
        try:
            other = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return f"another apply holds {self.path} (unreadable); remove it if none runs"
        who = f"{other.get('owner')} (pid {other.get('pid')}) since {other.get('since')}"
        same_host = str(other.get("owner", "")).endswith("@" + socket.gethostname())
        if same_host and not _alive(int(other.get("pid", 0))):
            return (f"stale apply lock {self.path}: held by {who}, and that process is gone; "
                    "check no apply is running, then remove the file")
        return f"another apply is running: {who} holds {self.path}"

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
