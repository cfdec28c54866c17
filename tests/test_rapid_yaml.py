"""rapidyaml's fast reading against PyYAML's located one: where the fast path
answers, it answers what PyYAML reads, and it never accepts what PyYAML refuses;
positions found on demand are the located path's, path by path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fabric.errors import InputError
from fabric.model import source
from fabric.model.starter import starter_model

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                       include_characters="\n ")
_TRICKY = st.sampled_from(["", "~", "null", "Null", "true", "True", "yes", "no", "on", "0x1F",
                           "012", "1_000", "12:30", "1e3", "1.5", ".inf", "-0", "+5", "0",
                           "65001", "10.0.0.0/24", "a: b", "- x", "#c", "a #b", "'q'", '"d"',
                           "x\\y", " lead", "trail ", "multi\nline", "é", "<<", "?", "[a]",
                           "{a: 1}", "2024-01-01", "=", "a\u2028b", "a\x85b"])
_SCALARS = st.one_of(st.integers(-10**20, 10**20), st.booleans(), st.none(), _TRICKY,
                     st.text(_CHARS, max_size=12))
_KEYS = st.one_of(_TRICKY, st.text(_CHARS, min_size=1, max_size=8))
_DATA = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=25)


def _located(text: str) -> object:
    """PyYAML's reading, or InputError's class when it refuses."""
    try:
        return source.located("t.yaml", text)[0]
    except InputError:
        return InputError


def _agrees(text: str) -> None:
    fast = source._RAPID.load(text)
    slow = _located(text)
    if fast is None:
        return
    assert slow is not InputError, f"rapidyaml accepted what PyYAML refuses: {text!r}"
    assert fast == slow, f"{text!r}: rapidyaml {fast!r}, PyYAML {slow!r}"
    assert [type(v) for v in _leaves(fast)] == [type(v) for v in _leaves(slow)]


def _leaves(data: object) -> list[object]:
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in (k, *_leaves(v))]
    if isinstance(data, list):
        return [x for v in data for x in _leaves(v)]
    return [data]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DATA, flow=st.sampled_from([None, True, False]),
       style=st.sampled_from([None, '"', "'", "|", ">"]), width=st.sampled_from([8, 40, 120]),
       indent=st.sampled_from([2, 4]))
def test_dumped_documents_read_the_same(data: object, flow: bool | None, style: str | None,
                                        width: int, indent: int) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style, width=width,
                          indent=indent, allow_unicode=True, sort_keys=False)
    _agrees(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DATA, edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    [":", "-", " ", "\n", "#", "'", '"', "[", "]", "{", "}", ",", "?", "|", ">", "\\", "\r",
     "\t", "  ", ""])), min_size=1, max_size=3))
def test_damaged_documents_are_refused_or_read_the_same(
        data: object, edits: list[tuple[int, str]]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    for at, piece in edits:
        at %= len(text) + 1
        text = text[:at] + piece + text[at + (piece == ""):]
    _agrees(text)


_EXAMPLE_HEAD = (ROOT / "inventory" / "fabric.yaml").read_text()[:3000]
_FLOW_EXAMPLES = ["a: [1, 2, {b: c}]\nd:\n- e\n- f: g\n", "[a, b, {c: d}]\n",
                  "{a: 1, b: [2, 3]}\n", "k: |\n  one\n  two\nl: 'x y'\nm: \"z\\tw\"\n"]


@settings(max_examples=600, deadline=None)
@given(text=st.sampled_from([_EXAMPLE_HEAD, *_FLOW_EXAMPLES]),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
           [":", "-", " ", "\n", "#", "'", '"', "[", "]", "{", "}", ",", "?", "|", ">", "\\",
            "  ", "", "a", "1", "%", "~"])), min_size=1, max_size=3))
def test_damaged_models_are_refused_or_read_the_same(text: str,
                                                     edits: list[tuple[int, str]]) -> None:
    """The edits that found rapidyaml's leniencies (`[a, :b]`, `[x:]`, a comment or
    more text after a flow collection) when this path was written."""
    for at, piece in edits:
        at %= len(text) + 1
        text = text[:at] + piece + text[at + (piece == ""):]
    _agrees(text)


CORPUS = [
    "a: 1\nb: '2'\nc: \"x\\ty\"\n",
    "k: |\n  one\n  two\nl: >-\n  folded\n  text\n\nm: |+\n  keep\n\n",
    "plain: multi\n  line\n  scalar\n",
    "q: 'it''s'\nd: \"\\u00e9\\x41\\N\"\n",
    "x:\n- 1\n- - 2\n  - 3\n- {a: [b, c]}\n",
    "? complex\n: value\n",
    "a: 1\na: 2\n",
    "a: b: c\n",
    "- a\nb: c\n",
    "a: [1, 2\n",
    "a: 'unterminated\n",
    "e:\nf: ~\n",
    "a: 1 # comment\n# only\n",
    "\"quoted key\": 1\n'single': 2\n",
    "list:\n  - a\n  -\n  - c\n",
    "a: {b: 1, c: [x, {d: e}]}\n",
    "a: -1\nb: +1\nc: 0o17\nd: 0b101\n",
    "a:   spaced   \n",
    "a: x\n b: y\n",
    "a:\n  b: 1\n c: 2\n",
    "a: @x\n",
    "a: `x\n",
    "key with spaces: v\n",
    "a: \"line\n  folded\"\n",
    "a: 'x\n\n  y'\n",
    "",
    "# nothing\n",
    "[1, 2]\n",
    "scalar\n",
    "a: \"\\/\"\n",
    "[a, :b, {c: d}]\n",
    "{a: 1, b: [2, 3:]}\n",
    "[a, b, {c #d}]\n",
    "- {a: 1}  - {b: 2}\n",
    "- {a: 1}, {b: 2}\n",
    "[a, b, {?c: d}]\n",
    "[-:]\n",
    "- a: |\n   x\n  b: !foo x\n",
    "- a: >\n   x\n  b: &q y\n  c: *q\n",
    "- a: |\n   x\n  b: !!float 1\n",
    "- - |\n   x\n  - !!timestamp 2001-01-01\n",
    "- a: |\n    x\n  b: 2\n",
    "a: |\n\n  x\n\nb: 1\n",
    "a: |\n    x\n  y\nb: 1\n",
]


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_reads_the_same(text: str) -> None:
    _agrees(text)


def _documents() -> list[str]:
    return [(ROOT / "inventory" / "fabric.yaml").read_text(),
            (ROOT / "inventory" / "state" / "ipam.yaml").read_text(),
            starter_model(12, 5, "mixed")]


@pytest.mark.parametrize("index", range(3))
def test_positions_on_demand_are_the_located_ones(index: int) -> None:
    text = _documents()[index]
    data, lazy = source.load_yaml("t.yaml", text)
    assert data is not None and not isinstance(lazy.positions, dict), "the fast path was taken"
    full_data, full = source.located("t.yaml", text)
    assert data == full_data
    assert dict(full.positions) and dict(full.key_positions)
    for path, pos in full.positions.items():
        assert lazy.positions.get(path) == pos, path
    for path, pos in full.key_positions.items():
        assert lazy.key_positions.get(path) == pos, path
    assert lazy.positions.get(("no such key",)) is None


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.sampled_from(["a", "b", "racks", "d"]), _DATA, min_size=1),
       paths=st.data())
def test_positions_of_any_document_are_the_located_ones(data: dict[str, object],
                                                        paths: st.DataObject) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False,
                          default_flow_style=paths.draw(st.sampled_from([None, False])))
    _, lazy = source.load_yaml("t.yaml", text)
    assume(not isinstance(lazy.positions, dict))
    _, full = source.located("t.yaml", text)
    # Asked in a random order: each answer must not depend on what was parsed before.
    for path in paths.draw(st.permutations(list(full.positions))):
        assert lazy.positions.get(path) == full.positions[path], path
    for path, pos in full.key_positions.items():
        assert lazy.key_positions.get(path) == pos, path


@pytest.mark.parametrize("text", ["a:" + " " * 8000 + "@\n", "-" + " " * 8000 + "@\n",
                                  "[" + " " * 8000 + "@\n"])
def test_long_runs_of_spaces_are_refused_at_once(text: str) -> None:
    """Each run of spaces is matched possessively: a failing line costs linear time
    (it took seconds, quadratic, before)."""
    import time
    start = time.process_time()
    assert source._RAPID.load(text) is None
    assert time.process_time() - start < 0.5
