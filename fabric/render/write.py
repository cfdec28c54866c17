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


class Tree:
    """One pass over an output tree: files compared (and, unless `check`, written)
    as they are handed over, so a render need not hold them all; then `finish`
    removes what the manifest lists and this pass did not see, and writes it."""

    def __init__(self, out: FsPath, check: bool = False) -> None:
        self.out, self.check, self.report = out, check, Report()
        self._base = str(out) + os.sep
        self._seen: set[str] = set()
        self._made: set[FsPath] = set()

    def add(self, files: dict[str, str]) -> None:
        rep = self.report
        for name, text in files.items():
            self._seen.add(name)
            try:
                st = os.stat(self._base + name)    # before reading: a later change fails it
            except FileNotFoundError:
                rep.missing.append(name)
                if not self.check:
                    self._write(name, text, new=True)
                continue
            try:
                with open(self._base + name, encoding="utf-8", newline="") as fh:
                    same = fh.read() == text
            except UnicodeDecodeError:
                same = False
            if same:
                rep.unchanged.append(name)
                rep.stats[name] = stat_of(st)
            else:
                rep.stale.append(name)
                if not self.check:
                    self._write(name, text, new=False)

    def keep(self, names: Iterable[str]) -> None:
        """Files known current without their text (the render's cache): unchanged."""
        names = list(names)
        self._seen.update(names)
        self.report.unchanged += names

    def finish(self) -> Report:
        rep, out = self.report, self.out
        rep.unchanged.sort()
        rep.extra = sorted(n for n in _previous(out) - self._seen if (out / n).exists())
        if self.check:
            return rep
        for name in rep.extra:
            (out / name).unlink()
            rep.removed.append(name)
            _prune_empty(out, (out / name).parent)
        manifest = _manifest(self._seen)
        mfile = out / MANIFEST
        if not mfile.exists() or mfile.read_text() != manifest:
            atomic_write(mfile, manifest)
        rep.stats[MANIFEST] = stat_of(mfile.stat())
        rep.written.sort()
        rep.stale, rep.missing, rep.extra = [], [], []
        return rep

    def _write(self, name: str, text: str, new: bool) -> None:
        path = self.out / name
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        if new and not path.is_symlink():
            # No reader has it yet, and a file a run cut short left half written
            # is stale to the next run. A temporary file and a rename would
            # double the file system's work in a cold build.
            self.report.stats[name] = write_new(path, text)
        else:
            # a reader never sees half of a file
            self.report.stats[name] = atomic_write(path, text)
        self.report.written.append(name)


def write(out: FsPath, files: dict[str, str]) -> Report:
    tree = Tree(out)
    tree.add(files)
    return tree.finish()


def _prune_empty(root: FsPath, d: FsPath) -> None:
    while d != root and d.is_dir() and not any(d.iterdir()):
        d.rmdir()
        d = d.parent
