"""Load YAML into plain Python values plus a map from YAML path to (line, column).

PyYAML silently keeps the last of two equal keys; a fabric file with a rack
defined twice must be an error, so duplicates are reported here. Anything a
file can hold ends in a located problem, never an exception: bytes that are not
UTF-8, control characters, recursive aliases, bad merge keys, deep nesting and
alias expansion past a node budget.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path as FsPath
from typing import Any

import yaml

from fabric.errors import Diagnostics, InputError, Path, Problem
from fabric.model.rapid import Reader

# Nodes a document may expand to through aliases and merge keys. The 2,000-rack
# x 40-node model has about 600,000; only an expansion bomb comes near this.
NODE_BUDGET = 4_000_000
# Levels of nesting; the schema needs 6. libyaml stops at 1,000, past Python's
# recursion limit for the recursive walks here and in the schema validator.
MAX_DEPTH = 100

# YAML 1.1 printable characters (what libyaml and PyYAML's reader accept).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC",
                  0x7F: "DEL"}
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")


# The base is chosen at import time (libyaml's loader exists only where PyYAML was built
# with it), which no static type can say: hence the one ignore.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml (when present: ~10x faster, still marks every node), read the way
    YAML 1.2 and editors' language servers read it: `no`, `on`, `2024-01-01`
    and `=` are strings, only true/false are booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp",
                           "tag:yaml.org,2002:value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


_RAPID = Reader(_Loader.yaml_implicit_resolvers)
Position = tuple[int, int]


def reads_as_string(plain: str) -> bool:
    """Whether `plain`, written unquoted, loads as that string (not as a number,
    boolean or null)."""
    return not _RAPID.typed(plain)


class _Refused(Exception):
    """The document cannot be converted further; the reason is in the diagnostics."""


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(file: str | FsPath, text: str | None = None) -> tuple[Any, Diagnostics]:
    """Parse `file` and return (data, diagnostics bound to its positions).

    rapidyaml reads what it reads exactly as PyYAML does, and positions are then
    found only for the paths a problem is reported on (`_Sections`); anything
    else takes PyYAML's located path."""
    name = str(file)
    if text is None:
        text = decode(name, _read(name, FsPath(file)))
    _check_printable(name, text)
    data = _RAPID.load(text)
    if data is None:
        return located(name, text)
    sections = _Sections(name, text, data)
    return data, Diagnostics(name, sections.values, key_positions=sections.keys)


def located(name: str, text: str) -> tuple[Any, Diagnostics]:
    """PyYAML's reading of `text`, with the position of every value and key."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise InputError([_syntax_problem(name, text, exc)]) from None
    except RecursionError:  # the pure-Python composer, without libyaml's depth limit
        raise InputError([Problem(name, 1, 1, "(document)", f"invalid YAML: nested deeper "
                                  f"than {MAX_DEPTH} levels")]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error: it carries no mark
        reason = " ".join(str(exc).split())
        raise InputError([Problem(name, 1, 1, "(document)", f"invalid YAML: {reason}")]) from None
    finally:
        loader.dispose()
    positions: dict[Path, Position] = {}
    keys: dict[Path, Position] = {}
    diag = Diagnostics(name, positions, key_positions=keys)
    if root is None:
        return None, diag
    try:
        if "&" in text:  # without an anchor there is no alias to expand
            _Expansion(diag, text).check(root)
        data = _Converter(diag, loader, positions, keys).convert(root, (), 0)
    except _Refused:
        data = None
    diag.raise_if_errors()
    return data, diag


_SECTION = re.compile(r"^[^\s#-]", re.M)     # a top-level key of a block mapping
_ITEM = re.compile(r"^( *)-(?:[ \n]|$)", re.M)


class _Sections:
    """The positions of a document read without them, found when first asked for:
    by a located parse of only the top-level section, or the item of a top-level
    list, that holds the path. Each part's data must equal the document's, or the
    whole document is parsed instead; so the answers are the located path's."""

    def __init__(self, name: str, text: str, data: Any):
        self.name, self.text, self.data = name, text, data
        self.found: dict[Path, Position] = {}
        self.found_keys: dict[Path, Position] = {}
        self.parsed: set[Path] = set()         # parts (a section, an item) parsed so far
        self.whole = False
        self.values = _Positions(self, keys=False)
        self.keys = _Positions(self, keys=True)

    def lookup(self, path: Path, keys: bool) -> Position | None:
        if not self.whole and _exists(self.data, path):
            self._parse_part(path)
        return (self.found_keys if keys else self.found).get(path)

    def _parse_part(self, path: Path) -> None:
        part = self._part(path)
        if part in self.parsed:
            return
        self.parsed.add(part)
        try:
            if self._parse_piece(part):
                return
        except InputError:
            pass
        self._parse_whole()

    def _part(self, path: Path) -> Path:
        if not path:
            return ()
        if len(path) > 1 and isinstance(self.data, dict) and isinstance(
                self.data.get(path[0]), list):
            return path[:2]
        return path[:1]

    @functools.cached_property
    def _newlines(self) -> list[int]:
        return [m.start() for m in re.finditer("\n", self.text)]

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [m.start() for m in _SECTION.finditer(self.text)]

    def _parse_piece(self, part: Path) -> bool:
        """Parse the lines of `part` alone; False when they are not what it holds."""
        if not isinstance(self.data, dict) or not self.data:
            return False
        starts = self._starts
        keys = list(self.data)
        if len(starts) != len(keys):
            return False
        index = keys.index(part[0]) if part else 0
        begin = starts[index]
        end = starts[index + 1] if index + 1 < len(starts) else len(self.text)
        if len(part) < 2:
            key = keys[index]
            return self._adopt(self.text[begin:end], begin, (), {key: self.data[key]},
                               root=index == 0)
        items = self._items(begin, end)
        value = self.data[part[0]]
        if len(items) != len(value):
            return False
        i = part[1]
        assert isinstance(i, int)
        stop = items[i + 1] if i + 1 < len(items) else end
        return self._adopt(self.text[items[i]:stop], items[i], (part[0],), [value[i]],
                           index=i)

    @functools.cache  # noqa: B019 (one per document, and the document outlives nothing)
    def _items(self, begin: int, end: int) -> list[int]:
        """Offsets of the lines that start the items of the list in [begin, end)."""
        found = list(_ITEM.finditer(self.text, begin, end))
        if not found:
            return []
        indent = len(found[0].group(1))
        return [m.start() for m in found if len(m.group(1)) == indent]

    def _adopt(self, piece: str, offset: int, prefix: Path, expected: Any,
               index: int | None = None, root: bool = False) -> bool:
        """Take the positions of `piece` if it holds `expected`, moved to where it is."""
        loader = _Loader(piece)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            return False
        finally:
            loader.dispose()
        values: dict[Path, Position] = {}
        keys: dict[Path, Position] = {}
        if node is None or not _walk(node, expected, (), values, keys):
            return False
        lines = bisect.bisect_left(self._newlines, offset)

        def moved(path: Path) -> Path:
            if index is None:
                return (*prefix, *path)
            return (*prefix, index, *path[1:]) if path else prefix

        for found, given in ((self.found, values), (self.found_keys, keys)):
            for path, (line, col) in given.items():
                if not path and not root:
                    continue      # the part's own root is the document's only when it starts it
                found.setdefault(moved(path), (line + lines, col))
        return True

    def _parse_whole(self) -> None:
        _, diag = located(self.name, self.text)
        self.found, self.found_keys = dict(diag.positions), dict(diag.key_positions)
        self.whole = True


_NULLS = ("", "~", "null", "Null", "NULL")


def _walk(node: yaml.Node, expected: Any, path: Path, values: dict[Path, Position],
          keys: dict[Path, Position]) -> bool:
    """Record the positions `_Converter` would, for a document rapidyaml read (no
    aliases, merges or tags, so each node is one value); False where the nodes do
    not spell `expected`."""
    values.setdefault(path, _pos(node))
    if isinstance(node, yaml.MappingNode):
        if type(expected) is not dict or len(node.value) != len(expected):
            return False
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value not in expected:
                return False
            child = (*path, key.value)
            values[child], keys[child] = _pos(value), _pos(key)
            if not _walk(value, expected[key.value], child, values, keys):
                return False
        return True
    if isinstance(node, yaml.SequenceNode):
        return (type(expected) is list and len(node.value) == len(expected)
                and all(_walk(item, want, (*path, i), values, keys)
                        for i, (item, want) in enumerate(zip(node.value, expected, strict=True))))
    text = node.value
    if expected is None:
        return text in _NULLS
    if type(expected) is bool:
        return text.lower() == str(expected).lower()
    return type(expected) in (str, int) and text == str(expected)


def _exists(data: Any, path: Path) -> bool:
    for step in path:
        inside = (step in data if isinstance(data, dict) else isinstance(data, list)
                  and isinstance(step, int) and 0 <= step < len(data))
        if inside:
            data = data[step]
        else:
            return False
    return True


class _Positions(Mapping[Path, Position]):
    """A read-only map of YAML path → position, computed by `_Sections` on demand."""

    def __init__(self, sections: _Sections, keys: bool):
        self._sections, self._keys = sections, keys

    def __getitem__(self, path: Path) -> Position:
        pos = self._sections.lookup(tuple(path), self._keys)
        if pos is None:
            raise KeyError(path)
        return pos

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self._sections.lookup(path, self._keys) is not None

    def _all(self) -> dict[Path, Position]:
        s = self._sections
        if not s.whole:
            s._parse_whole()
        return s.found_keys if self._keys else s.found

    def __iter__(self) -> Iterator[Path]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _read(name: str, file: FsPath) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        problem = Problem(name, 1, 1, "(document)", f"cannot read: {exc.strerror}")
        raise InputError([problem]) from None


def decode(name: str, data: bytes) -> str:
    """UTF-8 text, or a problem at the line and column of the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[start:exc.start].decode("utf-8", errors="replace")) + 1
        hint = ("; the file looks like UTF-16: save it as UTF-8"
                if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "")
        message = (f"expected UTF-8 text, found the byte 0x{data[exc.start]:02X} "
                   f"({exc.reason}){hint}")
        raise InputError([Problem(name, line, col, "(document)", message)]) from None


def _check_printable(name: str, text: str) -> None:
    """YAML allows no control characters but tab and line breaks: report the first."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is None:
        return
    i = bad.start()
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    code = ord(bad.group())
    label = f"U+{code:04X}" + (f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else "")
    kind = "control character" if code < 0xA0 else "character"
    raise InputError([Problem(name, line, col, "(document)", f"expected printable text (YAML "
                              f"allows no control characters but tab and line breaks), found "
                              f"the {kind} {label}")])


def _syntax_problem(name: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = f"invalid YAML: {exc.problem or exc.context}"
    if mark and text[mark.index:mark.index + 1] == "\t":
        reason += " (a tab: YAML indents with spaces only)"
    ctx = exc.context_mark
    if exc.context and ctx and (ctx.line, ctx.column) != (line - 1, col - 1):
        reason += f" ({exc.context} at line {ctx.line + 1}, column {ctx.column + 1})"
    return Problem(name, line, col, "(document)", reason)


def _anchor(node: yaml.Node, text: str) -> str:
    """`*name` for a node defined with an anchor (its mark starts at the `&`)."""
    found = _ANCHOR.match(text, node.start_mark.index)
    return f"alias *{found.group(1)}" if found else "alias"


def _children(node: yaml.Node) -> list[tuple[yaml.Node, Path, yaml.Node | None]]:
    """(child, path step, key node) for a collection: keys and values, or items."""
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[yaml.Node, Path, yaml.Node | None]] = []
        for key, value in node.value:
            step = (str(key.value),) if isinstance(key, yaml.ScalarNode) else ("?",)
            out += [(key, step, key), (value, step, key)]
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(item, (i,), None) for i, item in enumerate(node.value)]
    return []


class _Expansion:
    """Walk the node graph once, each node once: refuse a recursive alias and a
    document whose aliases expand past NODE_BUDGET, before anything is expanded."""

    def __init__(self, diag: Diagnostics, text: str):
        self.diag = diag
        self.text = text
        self.sizes: dict[int, int] = {}   # expanded size of each node walked
        self.active: set[int] = set()     # collections being walked (a cycle comes back here)
        self.total = 0                    # nodes the conversion will have made so far

    def check(self, root: yaml.Node) -> None:
        self._walk(root, (), None, 0)

    def _refuse(self, path: Path, key: yaml.Node | None, parent: yaml.Node | None,
                message: str) -> None:
        at = _pos(key) if key is not None else _pos(parent) if parent is not None else (1, 1)
        self.diag.add(path, message, at=at)
        raise _Refused

    def _walk(self, node: yaml.Node, path: Path, parent: yaml.Node | None, depth: int,
              key: yaml.Node | None = None) -> int:
        ident = id(node)
        if ident in self.active:
            self._refuse(path, key, parent, f"expected a value, found the recursive "
                         f"{_anchor(node, self.text)} (the node it names, at line "
                         f"{_pos(node)[0]}, contains it)")
        if ident in self.sizes:  # an alias (or a merge) of a node walked before
            self.total += self.sizes[ident]
            if self.total > NODE_BUDGET:
                self._refuse(path, key, parent, f"expected at most {NODE_BUDGET:,} nodes after "
                             f"expanding aliases, found more: {_anchor(node, self.text)} "
                             f"(line {_pos(node)[0]}) expands to {self.sizes[ident]:,} nodes "
                             "here")
            return self.sizes[ident]
        if depth > MAX_DEPTH:
            self._refuse(path, None, node, f"expected at most {MAX_DEPTH} levels of nesting, "
                         "found more")
        self.total += 1
        self.active.add(ident)
        size = 1 + sum(self._walk(child, (*path, *step), node, depth + 1, k)
                       for child, step, k in _children(node))
        self.active.discard(ident)
        self.sizes[ident] = size
        return size


class _Converter:
    def __init__(self, diag: Diagnostics, loader: Any, positions: dict[Path, Position],
                 keys: dict[Path, Position]):
        self.diag = diag
        self.loader = loader
        self.positions, self.keys = positions, keys

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.positions.setdefault(path, _pos(node))
        if depth > MAX_DEPTH:
            self.diag.add(path, f"expected at most {MAX_DEPTH} levels of nesting, found more",
                          at=_pos(node))
            raise _Refused
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        diag = self.diag
        out: dict[str, Any] = {}
        self._flatten(node, path)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                diag.add(path, f"expected a name as key, found {kind}", at=_pos(key_node))
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                first = self.positions[child][0]
                diag.add(child, f"duplicate key '{key}' (first defined at line {first})",
                         at=_pos(key_node))
                continue
            self.positions[child] = _pos(value_node)
            self.keys[child] = _pos(key_node)
            out[key] = self.convert(value_node, child, depth + 1)
        return out

    def _flatten(self, node: yaml.MappingNode, path: Path) -> None:
        """Resolve merge keys (`<<: *base`) in place; a wrong kind of value is a problem."""
        if not any(k.tag == _MERGE_TAG for k, _ in node.value):
            return
        try:
            self.loader.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            at = (mark.line + 1, mark.column + 1) if mark else _pos(node)
            found = (exc.problem or "").rpartition("found ")[2] or "something else"
            self.diag.add((*path, "<<"), "expected a mapping or a list of mappings to merge, "
                          f"found a {found}", at=at)
            raise _Refused from None

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self.diag.add(path, f"expected a plain value, found the YAML tag '{node.tag}' "
                          "(tags are not supported)", at=_pos(node))
        except Exception as exc:  # a tag's constructor failing on the text it was given
            tag = node.tag.rpartition(":")[2]
            # Python's own words only where they add to ours: the 4,300-digit limit on ints.
            why = f" ({str(exc).split(';')[0]})" if tag == "int" else ""
            self.diag.add(path, f"expected a value YAML can read as {tag}, found "
                          f"{_short(node.value)}{why}", at=_pos(node))
        return None


def _short(text: str, limit: int = 40) -> str:
    """`text` quoted, cut to `limit` characters with its length when longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"
