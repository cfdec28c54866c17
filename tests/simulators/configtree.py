"""Generic, vendor-neutral pieces of a CLI config simulator (TEST-ONLY).

* a tiny command grammar (`Grammar`) written in the notation vendors use in their
  command references (`peer <p:peer> route-limit <n:int:1-4294967295>`, `[ ... ]`
  optional, `{ a | b }` alternatives), which matches a typed line and, when it does
  not match, says where and why (unrecognised keyword, wrong parameter, incomplete,
  too many parameters), as a device's `^` marker does;
* a config tree (`Node`) of lines in nested views, where a line's *key* says which
  earlier line it replaces (`peer X route-limit 100` replaces `... 200`) and which
  lines an undo removes;
* `CliDialect`: the per-connection interpreter (view stack, apply, negate, render)
  parameterised by a `Syntax` (indentation, negation keyword, section separator,
  trailer) and by the vendor's grammar tables. A vendor module (comware.py; later
  Huawei VRP8, IOS-XE, NX-OS) supplies the tables, prompts and messages only.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- grammar


@dataclass(frozen=True)
class Kw:
    word: str


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    spec: str = ""


@dataclass(frozen=True)
class Opt:
    seq: tuple


@dataclass(frozen=True)
class Alt:
    seqs: tuple


def _parse_dsl(text: str) -> tuple:
    """`peer <p:peer> prefix-list <n:name> { import | export }` → a tuple of items."""
    toks = text.replace("[", " [ ").replace("]", " ] ").replace("{", " { ") \
        .replace("}", " } ").replace("|", " | ").split()
    pos = 0

    def seq(stop: set[str]) -> tuple:
        nonlocal pos
        out: list = []
        while pos < len(toks) and toks[pos] not in stop:
            t = toks[pos]
            pos += 1
            if t == "[":
                out.append(Opt(seq({"]"})))
                pos += 1
            elif t == "{":
                alts = [seq({"|", "}"})]
                while toks[pos] == "|":
                    pos += 1
                    alts.append(seq({"|", "}"}))
                pos += 1
                out.append(Alt(tuple(alts)))
            elif t.startswith("<"):
                name, _, rest = t[1:-1].partition(":")
                kind, _, spec = rest.partition(":")
                out.append(Arg(name, kind or "word", spec))
            else:
                out.append(Kw(t))
        return tuple(out)

    return seq(set())


IFNAME = re.compile(r"^[A-Za-z][A-Za-z-]*\d+(?:/\d+)*(?:\.\d+)?$")


def _is_ip(tok: str) -> bool:
    try:
        ipaddress.IPv4Address(tok)
    except ValueError:
        return False
    return tok.count(".") == 3


def _int_in(tok: str, spec: str) -> bool:
    if not tok.isdigit():
        return False
    lo, _, hi = (spec or "0-4294967295").partition("-")
    return int(lo) <= int(tok) <= int(hi)


def _is_mask(tok: str) -> bool:
    if _int_in(tok, "0-32"):
        return True
    if not _is_ip(tok):
        return False
    bits = int(ipaddress.IPv4Address(tok))
    inverted = (~bits) & 0xFFFFFFFF
    return (inverted & (inverted + 1)) == 0


def _is_name(tok: str, spec: str) -> bool:
    limit = int(spec) if spec.isdigit() else 63
    return 1 <= len(tok) <= limit and not tok.startswith(("<", "[", "%"))


# An argument matcher: (tokens, position) → list of (tokens consumed).
def _arg_lengths(arg: Arg, toks: list[str], i: int) -> list[int]:
    tok = toks[i]
    k = arg.kind
    if k == "word":
        return [1]
    if k == "name":
        return [1] if _is_name(tok, arg.spec) else []
    if k == "ip":
        return [1] if _is_ip(tok) else []
    if k == "int":
        return [1] if _int_in(tok, arg.spec) else []
    if k == "masklen":
        return [1] if _int_in(tok, "0-32") else []
    if k == "mask":
        return [1] if _is_mask(tok) else []
    if k == "ifname":
        return [1] if IFNAME.match(tok) else []
    if k == "text":
        return [len(toks) - i]
    if k == "peer":
        # A peer group name, a peer address, or a subnet (address + mask length) for
        # dynamic peers. A name may not look like an address.
        if _is_ip(tok):
            opts = [1]
            if i + 1 < len(toks) and _int_in(toks[i + 1], "0-32"):
                opts.insert(0, 2)
            return opts
        if tok[:1].isdigit():
            return []
        return [1] if _is_name(tok, "47") else []
    raise ValueError(f"unknown argument kind {k!r}")


@dataclass
class Failure:
    """Where a line stopped matching, and why (the device's `^` marker)."""

    pos: int = -1
    kind: str = ""          # unrecognized | wrong | incomplete | toomany

    def note(self, pos: int, kind: str) -> None:
        rank = {"unrecognized": 0, "wrong": 1, "toomany": 2, "incomplete": 3}
        if pos > self.pos or (pos == self.pos and rank[kind] > rank.get(self.kind, -1)):
            self.pos, self.kind = pos, kind


def _match_seq(items: tuple, toks: list[str], i: int,
               fail: Failure) -> list[tuple[int, list, dict]]:
    """All ways `items` can match toks[i:]: (end, item strings, captures)."""
    results: list[tuple[int, list, dict]] = [(i, [], {})]
    for item in items:
        nxt: list[tuple[int, list, dict]] = []
        for pos, strs, caps in results:
            for end, caps2 in _match_item(item, toks, pos, fail):
                s = " ".join(toks[pos:end]) if end > pos else None
                nxt.append((end, [*strs, s], {**caps, **caps2}))
        results = nxt
        if not results:
            break
    return results


def _match_item(item: Any, toks: list[str], i: int, fail: Failure) -> list[tuple[int, dict]]:
    if isinstance(item, Kw):
        if i >= len(toks):
            fail.note(i, "incomplete")
            return []
        if toks[i] == item.word:
            return [(i + 1, {})]
        fail.note(i, "unrecognized")
        return []
    if isinstance(item, Arg):
        if i >= len(toks):
            fail.note(i, "incomplete")
            return []
        lens = _arg_lengths(item, toks, i)
        if not lens:
            fail.note(i, "wrong")
        return [(i + n, {item.name: " ".join(toks[i:i + n])}) for n in lens]
    if isinstance(item, Opt):
        out = [(end, caps) for end, _, caps in _match_seq(item.seq, toks, i, fail)]
        return [*out, (i, {})]
    if isinstance(item, Alt):
        out = []
        for seq in item.seqs:
            out += [(end, caps) for end, _, caps in _match_seq(seq, toks, i, fail)]
        return out
    raise TypeError(item)


@dataclass
class Match:
    spec: Spec
    toks: list[str]
    items: list[str | None]
    caps: dict[str, str]

    def key(self, indices: tuple[int, ...] | None = None) -> tuple:
        idx = self.spec.key if indices is None else indices
        if idx is None:
            idx = tuple(range(len(self.items)))
        return tuple(self.items[n] if n < len(self.items) else None for n in idx)

    @property
    def line(self) -> str:
        return " ".join(self.toks)


@dataclass
class Spec:
    """One command form in one view.

    `key`: indices of the top-level items naming what the line configures (a line
    with the same key replaces it). `view`: the view this command enters.
    `prefix`: an undo whose key ends in absent items removes every line under it.
    `run`: for commands that do something rather than configure (display, save).
    """

    pattern: str
    key: tuple[int, ...] | None = None
    view: str | None = None
    prefix: bool = False
    run: Callable[..., str | None] | None = None
    transform: Callable[[Any, Match], str] | None = None
    check: Callable[..., str | None] | None = None
    items: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.items = _parse_dsl(self.pattern)


class Grammar:
    """Match a line against the command forms of a view."""

    @staticmethod
    def match(specs: Iterable[Spec], toks: list[str], offset: int = 0) -> Match | Failure:
        fail = Failure()
        for spec in specs:
            for end, strs, caps in _match_seq(spec.items, toks, offset, fail):
                if end == len(toks):
                    return Match(spec, toks[offset:], strs, caps)
                fail.note(end, "toomany")
        if fail.pos < 0:
            fail.note(offset, "unrecognized")
        return fail


# --------------------------------------------------------------------------- config tree


@dataclass
class Node:
    text: str
    key: tuple = ()
    view: str | None = None                 # the view this line opens, if any
    children: list[Node] = field(default_factory=list)

    def find(self, key: tuple) -> Node | None:
        return next((c for c in self.children if c.key == key), None)

    def walk(self, depth: int = 0) -> Iterable[tuple[int, Node]]:
        for c in self.children:
            yield depth, c
            yield from c.walk(depth + 1)


@dataclass(frozen=True)
class Syntax:
    """How a vendor prints and negates config. Comware: one-space indent, `undo`,
    `#` between sections, `return` at the end."""

    indent: int = 1
    negation: str = "undo"
    separator: str | None = "#"
    trailer: str | None = "return"
    leaves_before_views: bool = True      # a view prints its own lines, then sub-views
    separator_before_subviews: bool = True


class CliError(Exception):
    """A command the device refuses: `pos` is the character offset for the `^` marker."""

    def __init__(self, message: str, pos: int | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass
class View:
    name: str
    node: Node
    caps: dict[str, str]


class CliDialect:
    """The generic part of a config CLI session: views, apply, undo, render.

    A vendor subclass provides `syntax`, `specs` (view → [Spec] of config lines),
    `undo_specs` (view → [Spec] of negations), `exec_specs(view)` (commands that act),
    `prompt_for(view)`, `error_text(kind, ...)`, and may override the hooks below.
    The config itself lives in `self.device.root`, shared by every session.
    """

    syntax = Syntax()
    specs: dict[str, list[Spec]] = {}
    undo_specs: dict[str, list[Spec]] = {}
    # Per view, the lines that set a value to its default: devices do not show those,
    # so typing one removes the explicit setting it replaces and stores nothing.
    defaults: dict[str, frozenset[str]] = {}
    user_view = "user"
    system_view = "system"

    def __init__(self, device: Any):
        self.device = device
        self.stack: list[View] = [View(self.user_view, device.root, {})]
        self.closed = False
        self.question: tuple[str, Callable[[str], str]] | None = None

    # ----- view stack
    @property
    def view(self) -> View:
        return self.stack[-1]

    def enter_system(self) -> None:
        self.stack = [self.stack[0], View(self.system_view, self.device.root, {})]

    def to_user(self) -> None:
        self.stack = self.stack[:1]

    def up(self) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
        else:
            self.closed = True

    def revalidate(self) -> None:
        """After the config was replaced under us (a rollback), leave views that vanished."""
        self.stack = self.descend(self.device.root, self.stack[:2])

    def descend(self, root: Node, keep: list[View]) -> list[View]:
        """`keep` plus the nested views of the stack that still exist under `root`."""
        node = root
        for v in self.stack[2:]:
            found = node.find(v.node.key)
            if found is None or found.view != v.name:
                break
            keep.append(View(v.name, found, v.caps))
            node = found
        return keep

    # ----- one line
    def execute(self, line: str) -> str:
        """Run one typed line; returns the device's output (no echo, no prompt)."""
        if self.question:
            _, answer = self.question
            self.question = None
            return answer(line.strip())
        toks = line.split()
        if not toks:
            return ""
        with self.device.lock:
            self.revalidate()
            try:
                return self._execute(line, toks) or ""
            except CliError as err:
                return self.format_error(line, err)

    def _execute(self, line: str, toks: list[str]) -> str | None:
        view = self.view.name
        actions = self.exec_specs(view)
        negating = toks[0] == self.syntax.negation and view != self.user_view
        if negating:
            m = Grammar.match(self.undo_specs.get(view, []), toks, offset=1)
            if isinstance(m, Failure):
                # Also accept `undo <the configured line>` when it names a line exactly.
                full = Grammar.match(self.specs.get(view, []), toks, offset=1)
                if isinstance(full, Match):
                    return self.negate_exact(full)
                raise self.failure_error(toks, line, m)
            if m.spec.run is not None:
                return m.spec.run(self, m)
            return self.negate(m)
        m = Grammar.match([*actions, *self.specs.get(view, [])], toks)
        if isinstance(m, Failure):
            raise self.failure_error(toks, line, m)
        if m.spec.run is not None:
            return m.spec.run(self, m)
        return self.apply(m)

    def failure_error(self, toks: list[str], line: str, f: Failure) -> CliError:
        offsets = [mo.start() for mo in re.finditer(r"\S+", line)]
        pos = offsets[f.pos] if f.pos < len(offsets) else len(line.rstrip())
        return CliError(self.error_text(f.kind), pos)

    # ----- config changes
    def canonical(self, m: Match) -> Match:
        if m.spec.transform is None:
            return m
        text = m.spec.transform(self, m)
        again = Grammar.match([m.spec], text.split())
        assert isinstance(again, Match), text
        return again

    def apply(self, m: Match) -> str | None:
        if m.spec.check is not None and (msg := m.spec.check(self, m)):
            raise CliError(msg)
        m = self.canonical(m)
        parent = self.view.node
        key = m.key()
        if m.spec.view is None and m.line in self.defaults.get(self.view.name, ()):
            self.device.before_change()
            parent.children = [c for c in parent.children if c.key != key]
            self.device.after_change(self, m)
            return None
        node = parent.find(key)
        if node is not None and node.text != m.line and m.spec.view is not None:
            raise CliError(self.view_conflict_text(node, m))
        self.device.before_change()
        if node is None:
            node = Node(m.line, key, m.spec.view)
            parent.children.append(node)
        else:
            node.text = m.line
        if m.spec.view is not None:
            self.stack.append(View(m.spec.view, node, m.caps))
        self.device.after_change(self, m)
        return None

    def negate(self, m: Match) -> str | None:
        if m.spec.check is not None and (msg := m.spec.check(self, m)):
            raise CliError(msg)
        key = m.key()
        parent = self.view.node
        self.device.before_change()
        if m.spec.prefix and None in key:
            stem = key[:key.index(None)]
            parent.children = [c for c in parent.children if c.key[:len(stem)] != stem]
        elif m.spec.prefix:
            parent.children = [c for c in parent.children if c.key[:len(key)] != key]
        else:
            parent.children = [c for c in parent.children if c.key != key]
        self.device.after_negate(self, m)
        return None

    def negate_exact(self, m: Match) -> str | None:
        m = self.canonical(m)
        node = self.view.node.find(m.key())
        if node is not None and self.same_line(node.text, m.line):
            self.device.before_change()
            self.view.node.children.remove(node)
            self.device.after_negate(self, m)
            return None
        if node is None:
            return None
        raise CliError(self.error_text("toomany"), None)

    def same_line(self, configured: str, typed: str) -> bool:
        return configured == typed

    # ----- rendering
    def render_view(self, node: Node, depth: int) -> list[str]:
        pad = " " * (self.syntax.indent * depth)
        out = [pad + node.text]
        kids = node.children
        if self.syntax.leaves_before_views:
            kids = [c for c in kids if c.view is None] + [c for c in kids if c.view is not None]
        inner = " " * (self.syntax.indent * (depth + 1))
        for c in kids:
            if c.view is not None:
                if self.syntax.separator and self.syntax.separator_before_subviews:
                    out.append(inner + self.syntax.separator)
                out += self.render_view(c, depth + 1)
            else:
                out.append(inner + c.text)
        return out

    def render(self, blocks: list[list[str]]) -> str:
        sep = self.syntax.separator
        out: list[str] = []
        for block in blocks:
            if sep:
                out.append(sep)
            out += block
        if sep:
            out.append(sep)
        if self.syntax.trailer:
            out.append(self.syntax.trailer)
        return "\r\n".join(out)

    # ----- vendor hooks
    def exec_specs(self, view: str) -> list[Spec]:
        return []

    def prompt(self) -> str:
        if self.question:
            return self.question[0]
        return self.prompt_for(self.view)

    def prompt_for(self, view: View) -> str:
        raise NotImplementedError

    # A vendor's error messages by kind, and what separates the `^` line from the
    # message (Comware indents it by one space, VRP does not).
    errors: dict[str, str] = {}
    caret_gap = ""

    def error_text(self, kind: str) -> str:
        return self.errors[kind]

    def format_error(self, line: str, err: CliError) -> str:
        """The `^` under the failing word, then the message, as the CLIs print it."""
        if err.pos is None:
            return err.message
        return " " * (len(self.prompt()) + err.pos) + "^\n" + self.caret_gap + err.message

    def view_conflict_text(self, node: Node, m: Match) -> str:
        return self.error_text("wrong")

    def banner(self) -> str:
        return ""


def snapshot(root: Node) -> Node:
    return copy.deepcopy(root)
