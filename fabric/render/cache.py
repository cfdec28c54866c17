"""The incremental render's cache, beside the output (`<out>/.fabric-cache/`).

For each unit (engine.units) it keeps the digest the unit was rendered from, the
files it wrote and a digest of their size, mtime, ctime and inode as written. A unit
is reused only when its digest and its files' stat are both unchanged: an input,
a template, a platform descriptor or this code changing (the code version below)
renders it again, and so does a file edited, touched or removed by hand.

A file whose ctime is not older than the cache file could have been changed in
the same clock tick after it was recorded (git's "racily clean" entries): its
unit is rendered again. The cache is safe to delete; without it every unit is
rendered and compared with the tree, as in a first render.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from array import array
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

from fabric.digest import digest
from fabric.files import Stat, atomic_write, stat_of
from fabric.render import PACKAGE, TEMPLATES
from fabric.render.write import MANIFEST

DIR = ".fabric-cache"
_FILE = "units.json"
_FORMAT = 1
# What else turns the same inputs into other output.
_LIBRARIES = ("jinja2", "markupsafe", "pyyaml", "rapidyaml", "jsonschema", "fastjsonschema")


@cache
def code_version() -> str:
    """A digest of this package's files (templates and platform descriptors among
    them), the libraries it reads and renders with, and Python's version."""
    files = sorted({p for root in (PACKAGE, TEMPLATES) for p in root.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts})
    parts = [sys.version, *(f"{lib} {metadata.version(lib)}" for lib in _LIBRARIES)]
    parts += [f"{p}\0{digest(p.read_bytes())}" for p in files]
    return digest(*parts)


def inputs_digest(model: Path, model_bytes: bytes, state: str | None, *flags: object) -> str:
    """What a whole render is made from: the model file (its name too: problems
    quote it), the stored state, the command's flags and this code."""
    return digest(code_version(), str(model), model_bytes,
                  "no state" if state is None else f"state {state}", repr(flags))


@dataclass
class Unit:
    digest: str
    files: list[str]
    stat: str           # digest of the files' `Stat` when recorded
    newest: int         # the newest of their ctimes, in ns


def _unit(data: object) -> Unit:
    """A unit as saved; TypeError or ValueError if it is not one."""
    if not isinstance(data, list):
        raise TypeError("a unit")
    unit_digest, files, stat, newest = data
    if not (isinstance(unit_digest, str) and isinstance(files, list)
            and all(isinstance(f, str) for f in files) and isinstance(stat, str)
            and isinstance(newest, int)):
        raise TypeError("a unit")
    return Unit(unit_digest, files, stat, newest)


@dataclass
class Cache:
    out: Path
    units: dict[str, Unit] = field(default_factory=dict)
    inputs: str | None = None       # what the whole tree was last rendered from
    said: dict[str, object] = field(default_factory=dict)   # the warnings of `inputs`
    _saved_ns: int = 0

    @classmethod
    def load(cls, out: Path) -> Cache:
        """The cache of `out`; empty if there is none, or it is damaged or was
        written by other code."""
        file = out / DIR / _FILE
        try:
            saved_ns = file.stat().st_mtime_ns
            data = json.loads(file.read_text(encoding="utf-8"))
            if data["format"] != _FORMAT or data["code"] != code_version():
                return cls(out)
            units = {name: _unit(u) for name, u in data["units"].items()}
            inputs, said = data["inputs"], data["said"]
            if not isinstance(inputs, str | None) or not isinstance(said, dict):
                raise TypeError("inputs or said")
            return cls(out, units, inputs, said, saved_ns)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(out)

    def current(self, wanted: Mapping[str, str]) -> dict[str, list[str]]:
        """The files of each unit of `wanted` (its name and digest) whose files are
        what that digest renders, by unit."""
        maybe = {n: u for n, d in wanted.items() if (u := self.units.get(n)) is not None
                 and u.digest == d and u.newest < self._saved_ns}
        found = _stats(self.out, [u.files for u in maybe.values()])
        return {n: u.files for (n, u), now in zip(maybe.items(), found, strict=True)
                if now == (u.stat, u.newest)}

    def fresh(self, inputs: str) -> bool:
        """Whether the whole tree, its manifest too, is what `inputs` rendered, every
        file as written."""
        return (inputs == self.inputs and MANIFEST in self.units
                and len(self.current({n: u.digest for n, u in self.units.items()}))
                == len(self.units))

    def files(self) -> list[str]:
        """Every file its units hold, the manifest aside."""
        return sorted(f for n, u in self.units.items() if n != MANIFEST for f in u.files)

    def record(self, rendered: dict[str, tuple[str, list[str]]], reused: set[str],
               stats: dict[str, Stat]) -> None:
        """The units this render wrote or compared (their digest and files, each
        file's stat as `output` saw it) and those it `reused`; no other."""
        units = {n: u for n, u in self.units.items() if n in reused}
        for name, (unit_digest, files) in rendered.items():
            units[name] = Unit(unit_digest, files, *_digest_of(files, stats))
        self.units = units

    def save(self, inputs: str | None = None, said: dict[str, object] | None = None) -> None:
        """Written last, after the tree: an interrupted render leaves
        the cache it read, whose units fail their stat where files changed."""
        (self.out / DIR).mkdir(exist_ok=True)
        ignore = self.out / DIR / ".gitignore"
        if not ignore.exists():
            atomic_write(ignore, "# The render's cache (safe to delete): never committed.\n*\n")
        data = {"format": _FORMAT, "code": code_version(), "inputs": inputs,
                "said": said or {},
                "units": {n: [u.digest, u.files, u.stat, u.newest]
                          for n, u in sorted(self.units.items())}}
        atomic_write(self.out / DIR / _FILE, json.dumps(data, separators=(",", ":")))


# Files from which their stat is spread over two processes: at 244,000 files,
# 0.7 s instead of 1.2 s on this project's 2-core machine.
_PARALLEL_FROM = 50_000
_forked: tuple[Path, list[list[str]]] | None = None    # what a forked worker stats


def _stats(out: Path, units: list[list[str]]) -> list[tuple[str, int]]:
    """`_stat` of each unit's files."""
    total = sum(map(len, units))
    if total < _PARALLEL_FROM or (os.cpu_count() or 1) < 2 \
            or "fork" not in mp.get_all_start_methods():
        return [_stat(out, files) for files in units]
    global _forked
    _forked = out, units
    try:
        half, count = 0, 0
        while half < len(units) and count < total // 2:
            count += len(units[half])
            half += 1
        with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
            first = pool.submit(_stat_range, 0, half)
            second = _stat_range(half, len(units))
            return first.result() + second
    finally:
        _forked = None


def _stat_range(start: int, stop: int) -> list[tuple[str, int]]:
    if _forked is None:
        raise RuntimeError("a stat worker started without its files")
    out, units = _forked
    return [_stat(out, files) for files in units[start:stop]]


def _stat(out: Path, files: list[str]) -> tuple[str, int]:
    """`_summed` stat of the files as they are now (one tight loop: 244,000 files at
    2,000 racks); a file missing gives a digest no record holds."""
    base = str(out) + os.sep
    seen: list[int] = []
    try:
        for name in files:
            st = os.stat(base + name)
            seen += stat_of(st)
    except OSError:
        return "missing", 0
    return _summed(seen)


def _digest_of(files: list[str], stats: dict[str, Stat]) -> tuple[str, int]:
    return _summed([v for n in files for v in stats[n]])


def _summed(seen: list[int]) -> tuple[str, int]:
    """(a digest of the files' `Stat`, the newest ctime)."""
    try:
        packed = array("q", seen)
    except OverflowError:       # an inode past 2**63: recorded as nothing will match
        return "unrecordable", 0
    return digest(packed.tobytes()), max(seen[2::4], default=0)
