"""Diagnostics that point at the model: file:line:column, YAML path, expected vs found.

Every stage that reads user input collects `Problem`s instead of raising on the
first one, so one run reports everything that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`("racks", 2, "nodes", 0, "ip")` → `racks[2].nodes[0].ip`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {tag}{self.path}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


class OperationalError(RuntimeError):
    """The world did not cooperate (a device, a process, the lab): exit 1, no traceback."""


class InputError(Exception):
    """Bad input: the CLI prints the problems and exits 2."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = sorted(problems)


@dataclass
class Diagnostics:
    """Collects problems located through a document's position map."""

    file: str
    positions: Mapping[Path, tuple[int, int]]        # YAML path → its value's position
    problems: list[Problem] = field(default_factory=list)
    key_positions: Mapping[Path, tuple[int, int]] = field(default_factory=dict)

    def fresh(self) -> Diagnostics:
        """Another stage's diagnostics on the same document: its positions, no problems."""
        return Diagnostics(self.file, self.positions, key_positions=self.key_positions)

    def locate(self, path: Path) -> tuple[int, int]:
        # Fall back to the nearest ancestor that has a position (e.g. a missing key).
        for cut in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:cut]))
            if pos:
                return pos
        return (1, 1)

    def add(self, path: Path, message: str, severity: str = "error",
            at: tuple[int, int] | None = None) -> None:
        line, col = at or self.locate(path)
        self.problems.append(Problem(self.file, line, col, format_path(path), message, severity))

    def warn(self, path: Path, message: str) -> None:
        self.add(path, message, "warning")

    @property
    def errors(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity == "warning")

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError(self.errors)


_WORD = re.compile(r"[A-Za-z0-9_.-]+")
_INDEX = re.compile(r"\[\d+\]")
SHOWN_NAMES = 3     # names listed after a grouped problem's first instance


@dataclass
class ProblemGroup:
    """Problems that say the same thing about different things (devices, racks)."""

    first: Problem
    names: list[str]        # the name each problem is about, first's included

    def __str__(self) -> str:
        others = self.names[1:]
        if not others:
            return str(self.first)
        shown = ", ".join(others[:SHOWN_NAMES]) + (", …" if len(others) > SHOWN_NAMES else "")
        return f"{self.first} (and {len(others)} more like it: {shown})"

    def as_dict(self) -> dict[str, Any]:
        return {"first": self.first.as_dict(), "count": len(self.names), "names": self.names}


def group_problems(problems: list[Problem], names: set[str]) -> list[ProblemGroup]:
    """Group problems whose path and message are the same once list indexes and the
    model's names (`names`: devices, racks, nodes) are abstracted away; in the
    order of each group's first problem."""
    groups: dict[tuple[str, str, str], ProblemGroup] = {}
    for p in problems:
        named = [w for w in _WORD.findall(p.message) if w in names]
        shape = _WORD.sub(lambda m: "<name>" if m.group(0) in names else m.group(0), p.message)
        key = (p.severity, _INDEX.sub("[*]", p.path), shape)
        who = named[0] if named else f"{p.file}:{p.line}"
        if key in groups:
            groups[key].names.append(who)
        else:
            groups[key] = ProblemGroup(p, [who])
    return list(groups.values())
