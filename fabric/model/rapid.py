"""YAML through rapidyaml (C++): a 2,000-rack model in 0.4 s instead of 10 s.

Only for documents it reads exactly as `source.py`'s PyYAML loader does; for
anything else `Reader.load` answers None and the caller takes the located
path. It refuses, rather than guesses:
- a line of any shape but the few below (so no anchors, aliases, tags, merge
  keys, directives, document markers or multi-line flow and quoted scalars),
  tabs, a byte-order mark, and line breaks the two YAML versions disagree on:
  the located path reports on them;
- a string the loader's implicit resolvers would have typed (`~`, `True`,
  `0x1F`, `1_000`, `12:30`, an empty value), since JSON cannot say whether it
  was quoted;
- a number the loader would read as a string (`1e3`), and any float (the schema
  has none, so the located path reports it);
- a duplicate key, and anything rapidyaml itself rejects.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import string
import sys
from collections.abc import Iterator
from typing import Any

import ryml  # type: ignore[import-untyped]  # no stubs; two functions used

# The documents read here: lines of the shapes below (what people and this tool
# write), where the two parsers were found to agree by tests/test_rapid_yaml.py.
# Anything else (anchors, tags, multi-line flow or quoted scalars, odd flow
# content that rapidyaml forgives and PyYAML refuses) is the located path's.
_PLAIN = r"(?:[A-Za-z0-9_./~+=$()]|-(?=\S))(?:[^\s#:]|:(?=[^\s])|[ ]++(?=[^\s#]))*"
_QUOTED = r"""(?:"[^"\\]*"|'[^']*')"""
_KEY = rf"(?:[A-Za-z0-9_./~+()-](?:[A-Za-z0-9_./~+()-]|[ ](?=[A-Za-z0-9_./~+()-]))*|{_QUOTED})"
# Flow content: no `#`, `?`, `%`, `|`, `>` or indicators of anchors and tags, and a
# colon only between a key and a space. Runs of spaces are possessive (`++`, `*+`)
# throughout, so a line that fails is given up in linear time.
_FLOW_CHARS = r"""[A-Za-z0-9_./~+=$()\-\[\]{}, '"]*+"""
_FLOW_TOKEN = rf"""{_FLOW_CHARS}(?:(?<=[A-Za-z0-9_./~+=$()'"]):(?=[ ]){_FLOW_CHARS})*"""
# A block scalar's indicator (an explicit indentation digit is never a shape here:
# lines are matched with letters and digits made `a`), a flow collection, a scalar.
_VALUE = rf"(?:[|>][-+]?|[\[{{]{_FLOW_TOKEN}|{_PLAIN}|{_QUOTED})"
_COMMENT = r"(?:(?<=[ ])#.*)?"
# Blank, a comment, an item (`- `, several for nested lists), a key, or a flow
# collection at the root: never a bare scalar (a root scalar, or a continuation).
_LINE = (rf"[ ]*(?:#.*|(?:(?:-[ ]++|-(?=\n|\Z))+(?:{_KEY}:(?:[ ]++|(?=\n|\Z)))?|{_KEY}:"
         rf"(?:[ ]++|(?=\n|\Z))){_VALUE}?[ ]*+{_COMMENT}"
         rf"|[\[{{]{_FLOW_TOKEN}[ ]*+{_COMMENT})?")
# Matched on the UTF-8 bytes: every byte of a non-ASCII character is then a plain
# character, as YAML has it (for `re` on text, U+00A0 would be a space).
_ONE_LINE = re.compile(_LINE.encode())
# Tabs, a byte-order mark, and line breaks the two disagree on: U+0085, U+2028 and
# U+2029 break lines in YAML 1.1 (PyYAML), not in 1.2; a CR alone, only for PyYAML.
_REFUSED = (b"\t", b"\xef\xbb\xbf", b"\r", "\x85".encode(),
            "\u2028".encode(), "\u2029".encode())
# A block scalar's content is indented past its parent: its key, or past the dashes
# before it (stricter than YAML for `- |`: such content less indented is refused).
_BLOCK_START = re.compile(
    rf"(?P<lead>[ ]*(?:-[ ]+)*)(?:{_KEY}:[ ]+)?[|>][-+]?[ ]*{_COMMENT}\Z".encode())
_AFTER_CLOSE = re.compile(rb"[\]}][ ]*[^\s,\]}]")
_CLOSE_COMMA = re.compile(rb"[\]}][ ]*,")
# Every character class above holds all of [A-Za-z0-9] or none of it, so a line
# with each of them made `a` has the same shape: 88,000 lines of a large model
# are a few hundred shapes, each checked once.
_AS_A = bytes.maketrans((string.ascii_letters + string.digits).encode(), b"a" * 62)


def _simple(text: bytes) -> bool:
    """Every line is one of the shapes above, and each flow collection ends on the
    line it starts on; a block scalar's content is anything."""
    shapes = text.translate(_AS_A)
    if _AFTER_CLOSE.search(shapes):
        return False            # more after a flow collection closed
    if b"|" not in shapes and b">" not in shapes:   # no block scalar: lines in any order
        return all(map(_simple_line, set(shapes.split(b"\n"))))
    known: dict[bytes, bool] = {}
    parent = content = -1       # in a block scalar: its parent's column, its content's
    for line in shapes.split(b"\n"):
        stripped = line.lstrip(b" ")
        indent = len(line) - len(stripped)
        if parent >= 0:
            if not stripped:
                continue
            if content < 0 and indent > parent:
                content = indent
                continue
            if content >= 0 and indent >= content:
                continue
            if indent > parent:
                return False    # between the parent and the content: PyYAML's error
            parent = content = -1
        ok = known.get(line)
        if ok is None:
            ok = known[line] = _simple_line(line)
        if not ok:
            return False
        start = _BLOCK_START.match(line) if b"|" in line or b">" in line else None
        if start:
            parent = len(start.group("lead"))     # the key's column, or past the dashes
    return True


def _simple_line(line: bytes) -> bool:
    """One line of the shapes above. If it holds a flow collection: its brackets and
    quotes pair up, no comment follows, and the collection is the last thing on the
    line (none runs on to the next line, into a comment, or is followed by more)."""
    if _ONE_LINE.fullmatch(line) is None:
        return False
    if not any(c in line for c in b"[]{}"):
        return True
    return (line.count(b"[") == line.count(b"]") and line.count(b"{") == line.count(b"}")
            and line.count(b"'") % 2 == 0 and line.count(b'"') % 2 == 0 and b"#" not in line
            and (not _CLOSE_COMMA.search(line) or _one_collection(line)))


def _one_collection(line: bytes) -> bool:
    """The line's first flow collection closes at its last bracket, not before."""
    depth, last = 0, line.rstrip()
    for i, c in enumerate(last):
        if c in b"[{":
            depth += 1
        elif c in b"]}":
            depth -= 1
            if depth == 0 and i != len(last) - 1:
                return False
    return True


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """rapidyaml's C++ prints each parse error to fd 2 before raising; the located
    loader reports the error in its own words, so fd 2 is closed for the call."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


Resolvers = dict[str | None, list[tuple[str, re.Pattern[str]]]]


class _Unsure(Exception):
    """rapidyaml's reading may differ from the loader's here."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Unsure("duplicate key")
    return out


def _float(token: str) -> float:
    raise _Unsure(f"a float: {token}")


def _body(rx: re.Pattern[str]) -> str:
    """A resolver's pattern without its anchors (each is `^(?:...)$`)."""
    return rx.pattern.removeprefix("^").removesuffix("$")


class Reader:
    """rapidyaml, checked against a PyYAML loader's implicit resolvers (its typing)."""

    def __init__(self, resolvers: Resolvers):
        typed = {_body(rx) for rs in resolvers.values() for tag, rx in rs
                 if tag != "tag:yaml.org,2002:str"}
        ints = {_body(rx) for rs in resolvers.values() for tag, rx in rs
                if tag == "tag:yaml.org,2002:int"}
        # A JSON string token whose text the loader would have typed. A match across
        # two tokens (`", "`) can only be a false alarm, never a miss.
        # The lookahead is every first character those patterns can start with: it
        # turns most of the tokens away before the alternation is tried.
        self._typed = re.compile('"(?=[-+0-9.~nNtTfF<!&*"])(?:' + "|".join(sorted(typed))
                                 + ')"', re.X)
        self._int = re.compile("(?:" + "|".join(sorted(ints)) + r")\Z", re.X)

    def typed(self, plain: str) -> bool:
        """Whether the loader reads `plain`, written unquoted, as something else than
        that string (`123`, `true`, `1.5`, `~`, an empty value)."""
        return self._typed.fullmatch(f'"{plain}"') is not None

    def _integer(self, token: str) -> int:
        if not self._int.match(token):
            raise _Unsure(f"not an int to the loader: {token}")
        return int(token)

    def load(self, text: str) -> Any | None:
        """The document's data, or None when only the located loader can be sure of it."""
        raw = text.replace("\r\n", "\n").encode()
        if not raw.strip() or any(c in raw for c in _REFUSED) or not _simple(raw):
            return None
        try:
            with _quiet_stderr():
                emitted = ryml.emit_json(ryml.parse_in_arena(raw))
        except Exception:  # rapidyaml's parse errors: the located loader words them
            return None
        if not isinstance(emitted, str) or self._typed.search(emitted):
            return None
        try:
            return json.loads(emitted, object_pairs_hook=_unique, parse_int=self._integer,
                              parse_float=_float, parse_constant=_float)
        except (_Unsure, ValueError):
            return None
