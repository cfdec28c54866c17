"""Write rendered files into an output directory, or check that it is current.

A file is rewritten only when its content changes; files this tool wrote
before (listed in `.fabric-manifest`) and no longer renders are removed. Other
files in the directory are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath

from fabric.files import atomic_write, write_new

MANIFEST = ".fabric-manifest"


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)     # --check: differs on disk
    missing: list[str] = field(default_factory=list)   # --check: not on disk
    extra: list[str] = field(default_factory=list)     # --check: would be removed

    @property
    def current(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in vars(self).items()}


def _previous(out: FsPath) -> set[str]:
    file = out / MANIFEST
    if not file.exists():
        return set()
    return {line for line in file.read_text().splitlines() if line and not line.startswith("#")}


def _manifest(files: dict[str, str]) -> str:
    return "# Files written by `fabric render`; others here are left alone.\n" + "".join(
        f"{name}\n" for name in sorted(files))


def check(out: FsPath, files: dict[str, str]) -> Report:
    rep = Report()
    for name, text in files.items():
        path = out / name
        if not path.exists():
            rep.missing.append(name)
        elif path.read_text(encoding="utf-8") != text:
            rep.stale.append(name)
        else:
            rep.unchanged.append(name)
    rep.extra = sorted(n for n in _previous(out) - set(files) if (out / n).exists())
    return rep


def write(out: FsPath, files: dict[str, str]) -> Report:
    rep = check(out, files)
    made: set[FsPath] = set()
    stale = set(rep.stale)
    for name in rep.missing + rep.stale:
        path = out / name
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if name in stale or path.is_symlink():
            atomic_write(path, files[name])     # a reader never sees half of a file
        else:
            # New: no reader has it yet, and a file a run cut short left half
            # written is stale to the next run. A temporary file and a rename
            # would double the file system's work in a cold build.
            write_new(path, files[name])
        rep.written.append(name)
    for name in rep.extra:
        (out / name).unlink()
        rep.removed.append(name)
        _prune_empty(out, (out / name).parent)
    manifest = _manifest(files)
    mfile = out / MANIFEST
    if not mfile.exists() or mfile.read_text() != manifest:
        atomic_write(mfile, manifest)
    rep.written.sort()
    rep.stale, rep.missing, rep.extra = [], [], []
    return rep


def _prune_empty(root: FsPath, d: FsPath) -> None:
    while d != root and d.is_dir() and not any(d.iterdir()):
        d.rmdir()
        d = d.parent
