"""Files this tool writes: whole or not at all, except a new file (`write_new`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODE = 0o644       # plain shared files, whatever the umask
# A file as last seen: size, mtime and ctime in ns (a restored mtime still moves
# the ctime), inode.
Stat = tuple[int, int, int, int]


def stat_of(st: os.stat_result) -> Stat:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def write_new(file: Path, text: str) -> Stat:
    """A file that does not exist yet, written in place (no temporary and rename);
    its stat right after the write."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    os.fchmod(fd, MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        return stat_of(os.fstat(fd))


def atomic_write(file: Path, text: str) -> Stat:
    """`file` replaced whole; its stat right after (the rename moves its ctime)."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        os.fchmod(fd, MODE)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, file)
        return stat_of(os.stat(file))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
