"""Files this tool writes: whole or not at all, except a new file (`write_new`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODE = 0o644       # plain shared files, whatever the umask


def write_new(file: Path, text: str) -> None:
    """A file that does not exist yet, written in place (no temporary and rename)."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    os.fchmod(fd, MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def atomic_write(file: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        os.fchmod(fd, MODE)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
