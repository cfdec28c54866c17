"""Fuzz `fabric validate` with structural mutations of the example model.

Each example takes the example model as data, applies a few mutations (delete,
duplicate, retype, nest, graft one subtree over another, rename a key, inject an
odd scalar), dumps it as YAML, sometimes damages the text (bytes, YAML snippets,
lines duplicated or dropped), and validates it beside a copy of the example's
IPAM state, so allocation and intent run too. Whatever the input, validate ends
with exit 0, or exit 2 with every line located; never another exit code, never
an exception.

FABRIC_FUZZ_EXAMPLES sets the number of examples (2,000 by default, the CI run).
"""

from __future__ import annotations

import contextlib
import copy
import io
import ipaddress
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fabric.cli.main import main

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory" / "fabric.yaml"
BASE = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

settings.register_profile(
    "fabric-fuzz",
    max_examples=int(os.environ.get("FABRIC_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values a model author could plausibly get wrong, plus the classic fuzz values.
NAMES = ["r01", "r06", "r01-n1", "r06-n1", "core1", "core2", "collector1", "bgp_core", "no"]
ODD = st.one_of(
    st.sampled_from([0, 1, -1, 8.0, 26.0, 65001.0, 0.5, 23456, 65535, 4294967295, 2**32,
                     10**40, -(2**63), math.nan, math.inf, -math.inf, True, False, None, "",
                     " ", "0", "8", "true", "null", "~", "é", "\u202e", "\x00", "\x1b", "\x7f",
                     "\ud7ff", "😀" * 3, "a" * 300, "0.0.0.0", "255.255.255.255",
                     "224.0.0.1", "10.2.1.0/24", "10.2.1.1/24", "1.2.3.4/33", "300.1.1.1",
                     "172.16.0.0/12", "0.0.0.0/0", "10.2.6.0/31", "255.255.255.255/32",
                     "65101-65199", "1-4294967295", "23000-24000", "9-1", "0-0",
                     "65535-65535", [], {}, [[]], {"env": "X"}, {"file": ""}]),
    st.sampled_from(NAMES),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
PREFIX = st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=4), st.integers(0, 32))
NETWORK = st.builds(lambda a, n: str(ipaddress.ip_network(f"{a}/{n}", strict=False)),
                    st.ip_addresses(v=4), st.integers(8, 32))


def _plausible(value: Any) -> st.SearchStrategy:
    """A value of the same kind, often valid: it gets past the schema to the checks,
    the IPAM and the intent."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(0, 70), st.integers(0, 70000), st.just(value + 1),
                         st.integers(4294967200, 4294967296))
    if isinstance(value, str) and "/" in value:
        return st.one_of(NETWORK, PREFIX)
    if isinstance(value, str) and value.count(".") == 3:
        return st.one_of(st.ip_addresses(v=4).map(str),
                         st.sampled_from(["0.0.0.0", "255.255.255.255", "224.0.0.5",
                                          "10.2.1.1", "10.2.6.11", "10.0.0.9"]))
    if isinstance(value, str) and "-" in value and value.replace("-", "").isdigit():
        return st.builds(lambda a, b: f"{a}-{b}", st.integers(0, 2**32 + 5),
                         st.integers(0, 2**32 + 5))
    if isinstance(value, str):
        return st.sampled_from([*NAMES, "frr", "cisco_ios", "dynamic", "route_reflector"])
    return ODD


# Text that YAML reads in special ways, inserted anywhere in the dumped model.
SNIPPETS = ["<<: 3\n", "<<: [1]\n", "<<: *a\n", "x: &a [*a]\n", "&a ", "*a", "? [1]\n: 2\n",
            "!!binary ", "!!python/object:os.system ", "!!int ", "!!float x", "\t", "---\n",
            "...\n", "%YAML 1.1\n", "[" * 200, "{", "'", '"', "#", "- ", ": ", "\r", "\r\n",
            "\ufeff", "\x85", "\u2028", "9" * 5000, "&b [&c [*b]]\n"]


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*here, i))
    return out


def _get(node: Any, path: tuple) -> Any:
    for step in path:
        node = node[step]
    return node


def _retype(value: Any) -> Any:
    """The same content in another YAML type."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def _mutate(data: Any, draw: Any) -> Any:
    """Apply one structural mutation; returns the (possibly new) root."""
    paths = _paths(data)
    path = paths[draw(st.integers(0, len(paths) - 1))]
    op = draw(st.sampled_from(["delete", "duplicate", "retype", "nest", "odd", "graft",
                               "rename", "plausible", "plausible"]))
    event(f"op {op}")
    value = _get(data, path)
    if not path:  # the root itself
        return [data] if op == "nest" else draw(ODD) if op == "odd" else _retype(data)
    parent, step = _get(data, path[:-1]), path[-1]
    if op == "delete":
        del parent[step]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(step, copy.deepcopy(value))
        else:  # the same value under another key of the mapping
            parent[draw(st.sampled_from(sorted(map(str, parent))))] = copy.deepcopy(value)
    elif op == "retype":
        parent[step] = _retype(value)
    elif op == "nest":
        parent[step] = draw(st.sampled_from([[value], {"value": value}, {step: value}]))
    elif op == "odd":
        parent[step] = draw(ODD)
    elif op == "plausible":
        parent[step] = draw(_plausible(value))
    elif op == "graft":
        parent[step] = copy.deepcopy(_get(data, paths[draw(st.integers(0, len(paths) - 1))]))
    elif isinstance(parent, dict):  # rename a key: a typo, another key's name, a case change
        new = draw(st.sampled_from([step.upper(), step[:-1] or "x", f"{step}s", *NAMES,
                                    *map(str, parent)]))
        parent[new] = parent.pop(step)
    return data


def _damage(text: str, draw: Any) -> bytes:
    """Text-level damage YAML dumping cannot produce."""
    raw = text.encode("utf-8")
    op = draw(st.sampled_from(["none", "none", "bytes", "snippet", "dup-line", "drop-line",
                               "truncate"]))
    event(f"text {op}")
    at = draw(st.integers(0, len(raw)))
    if op == "bytes":
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
    elif op == "snippet":
        lines = raw.split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        indent = draw(st.sampled_from([0, 2, 4, 6]))
        col = draw(st.sampled_from([0, len(lines[i])]))
        snippet = draw(st.sampled_from(SNIPPETS)).encode("utf-8")
        lines[i] = lines[i][:col] + b" " * indent + snippet + lines[i][col:]
        raw = b"\n".join(lines)
    elif op in ("dup-line", "drop-line"):
        lines = raw.split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        lines[i:i + 1] = [lines[i]] * (2 if op == "dup-line" else 0)
        raw = b"\n".join(lines)
    elif op == "truncate":
        raw = raw[:at]
    return raw


@st.composite
def models(draw: Any) -> bytes:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        data = _mutate(data, draw)
    text = yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=draw(st.booleans()),
                     default_flow_style=draw(st.sampled_from([False, None])))
    return _damage(text, draw)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder with the example's IPAM state beside it."""
    work = tmp_path_factory.mktemp("fuzz")
    (work / "state").mkdir()
    shutil.copy(EXAMPLE.parent / "state" / "ipam.yaml", work / "state" / "ipam.yaml")
    return work


def validate(model: Path) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(model)])
    return code, err.getvalue().splitlines()


def test_example_validates(workdir: Path) -> None:
    """The unmutated example passes, so the fuzz starts from a valid model."""
    model = workdir / "fabric.yaml"
    model.write_bytes(EXAMPLE.read_bytes())
    code, lines = validate(model)
    assert code == 0, lines


@settings(settings.get_profile("fabric-fuzz"))
@given(raw=models())
def test_validate_never_crashes(workdir: Path, raw: bytes) -> None:
    model = workdir / "fabric.yaml"
    model.write_bytes(raw)
    code, lines = validate(model)
    event(f"exit {code}")
    assert code in (0, 2), lines
    located = re.compile(re.escape(str(model)) + r":\d+:\d+: (warning: )?\S.*: \S")
    if code == 2:
        *problems, summary = lines
        assert re.fullmatch(r"fabric: \d+ errors?; nothing written", summary), lines
        assert problems, lines
        assert all(located.match(line) for line in problems), lines
    assert "Traceback" not in "\n".join(lines)
    assert sorted(p.name for p in workdir.iterdir()) == ["fabric.yaml", "state"]
