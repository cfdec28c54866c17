"""Write rendered files into an output directory, or check that it is current.

A file is rewritten only when its content changes; files this tool wrote
before (listed in `.fabric-manifest`) and no longer renders are removed. Other
files in the directory are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from fabric.files import Stat, atomic_write, stat_of, write_new

MANIFEST = ".fabric-manifest"


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)     # --check: differs on disk
    missing: list[str] = field(default_factory=list)   # --check: not on disk
    extra: list[str] = field(default_factory=list)     # --check: would be removed
    # Each file compared or written, as it was then: what the render's cache records.
    stats: dict[str, Stat] = field(default_factory=dict, repr=False)

    @property
    def current(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in vars(self).items() if k != "stats"}


def _previous(out: FsPath) -> set[str]:
    file = out / MANIFEST
    if not file.exists():
        return set()
    return {line for line in file.read_text().splitlines() if line and not line.startswith("#")}


def _manifest(files: Iterable[str]) -> str:
    return "# Files written by `fabric render`; others here are left alone.\n" + "".join(
        f"{name}\n" for name in sorted(files))


def check(out: FsPath, files: dict[str, str], kept: Iterable[str] = ()) -> Report:
    """`files` compared with the tree; `kept`: files known current without them
    (the render's cache), unchanged."""
    rep = Report()
    base = str(out) + os.sep
    for name, text in files.items():
        try:
            st = os.stat(base + name)    # before reading: a later change fails it
        except FileNotFoundError:
            rep.missing.append(name)
            continue
        try:
            with open(base + name, encoding="utf-8", newline="") as fh:
                same = fh.read() == text
        except UnicodeDecodeError:
            same = False
        (rep.unchanged if same else rep.stale).append(name)
        rep.stats[name] = stat_of(st)
    kept = set(kept)
    rep.unchanged += sorted(kept)
    rep.extra = sorted(n for n in _previous(out) - set(files) - kept if (out / n).exists())
    return rep


def write(out: FsPath, files: dict[str, str], kept: Iterable[str] = ()) -> Report:
    kept = set(kept)
    rep = check(out, files, kept)
    made: set[FsPath] = set()
    stale = set(rep.stale)
    for name in rep.missing + rep.stale:
        path = out / name
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if name in stale or path.is_symlink():
            # a reader never sees half of a file
            rep.stats[name] = atomic_write(path, files[name])
        else:
            # New: no reader has it yet, and a file a run cut short left half
            # written is stale to the next run. A temporary file and a rename
            # would double the file system's work in a cold build.
            rep.stats[name] = write_new(path, files[name])
        rep.written.append(name)
    for name in rep.extra:
        (out / name).unlink()
        rep.removed.append(name)
        _prune_empty(out, (out / name).parent)
    manifest = _manifest([*files, *kept])
    mfile = out / MANIFEST
    if not mfile.exists() or mfile.read_text() != manifest:
        atomic_write(mfile, manifest)
    rep.stats[MANIFEST] = stat_of(mfile.stat())
    rep.written.sort()
    rep.stale, rep.missing, rep.extra = [], [], []
    return rep


def _prune_empty(root: FsPath, d: FsPath) -> None:
    while d != root and d.is_dir() and not any(d.iterdir()):
        d.rmdir()
        d = d.parent
