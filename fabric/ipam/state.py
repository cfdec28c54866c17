"""The stored allocations, `inventory/state/ipam.yaml` (kept in git): read with
every hand-edit mistake located, written only when its text changes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path as FsPath
from typing import Any

from fabric.files import atomic_write
from fabric.ipam import STATE_FILE
from fabric.model.schema import IPV4, describe
from fabric.model.source import load_yaml, reads_as_string
from fabric.model.types import Model

SECTIONS = ("rack_asns", "rack_pools", "node_blocks", "links", "router_ids")
IDENTITY = ("racks", "nodes", "switches")
# A held block's life as `fabric ipam rebalance` saw it: when it was last seen
# empty (since then continuously), when it was withdrawn (no longer announced nor
# offered to Cilium, not yet back in the rack pool). Written only when not empty.
LIFE = "block_states"
LIFE_KEYS = ("empty_since", "withdrawn")


# A prefix as this tool writes it (`a.b.c.d/n`, no leading zeros, no netmask form):
# allocation reads these from their bytes, and compares them as text.
_PREFIX = re.compile(rf"{IPV4}/(?:[12]?[0-9]|3[0-2])\Z")


def _is_network(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(_PREFIX.match(value)) and bool(IPv4Network(value))
    except ValueError:
        return False


def _is_address(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(IPv4Address(value))
    except ValueError:
        return False


def _is_time(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_life(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value) and set(value) <= set(LIFE_KEYS)
            and all(map(_is_time, value.values())))


def _is_record(value: Any, first: str, ok: Any) -> bool:
    return (isinstance(value, dict) and set(value) == {first, "rack" if first == "ip" else "tor"}
            and ok(value[first]) and all(isinstance(v, str) for v in value.values()))


# What each state section holds: (check, words for the error).
_ENTRY = {
    "rack_asns": (lambda v: type(v) is int and 1 <= v <= 4294967294, "an AS number"),
    "rack_pools": (_is_network, "a prefix such as 172.16.0.0/20"),
    "node_blocks": (lambda v: isinstance(v, list) and all(map(_is_network, v)),
                    "a list of prefixes"),
    "links": (_is_network, "a /31 prefix"),
    "router_ids": (_is_address, "an IPv4 address"),
    "racks": (lambda v: _is_record(v, "subnet", _is_network),
              "a mapping {subnet: PREFIX, tor: NAME}"),
    "nodes": (lambda v: _is_record(v, "ip", _is_address), "a mapping {ip: ADDRESS, rack: NAME}"),
    "switches": (_is_address, "a management address"),
    LIFE: (_is_life, "a mapping {empty_since: TIME, withdrawn: TIME} (either or both; "
                     "ISO 8601 times with a zone, quoted)"),
}


def load_state(state_dir: FsPath) -> dict[str, dict[str, Any]]:
    """The stored allocations; a hand-edited file that went wrong is bad input (exit 2)."""
    file = state_dir / STATE_FILE
    if not file.exists():
        return {s: {} for s in (*SECTIONS, LIFE)}
    data, diag = load_yaml(file)
    if not isinstance(data, dict) or data.get("version") != 1:
        diag.add(("version",), "expected an IPAM state file with version: 1")
        diag.raise_if_errors()
    out: dict[str, dict[str, Any]] = {}
    # Identity sections are read only when present: a state written before them has none.
    for section in (*SECTIONS, *(s for s in (*IDENTITY, LIFE) if s in data)):
        body = data.get(section) or {}
        if not isinstance(body, dict):
            diag.add((section,), f"expected a mapping of names to allocations, found "
                                 f"{describe(body)}")
            continue
        ok, words = _ENTRY[section]
        for key, value in body.items():
            if section == LIFE and not _is_network(key):
                diag.add((section, key), f"expected a block such as 172.16.0.64/26, found "
                                         f"{describe(key)}")
            elif not ok(value):
                diag.add((section, key), f"expected {words}, found {describe(value)}")
        out[section] = dict(body)
    out.setdefault(LIFE, {})
    diag.raise_if_errors()
    return out


def dump_state(model: Model, state: dict[str, dict[str, Any]]) -> str:
    """The state as YAML, one entry per line (a pull request's diff is the entries
    that changed), in the shapes `source.py` reads in C++."""
    lines = [f"# IPAM state of fabric {model.name}: written by `fabric render`, kept in git.",
             "# Allocations here never move; remove an entry only with `fabric render --prune`.",
             "# racks, nodes, switches: what they were made for; a renamed item is found by",
             "# these (`fabric ipam rename`; `fabric render --renumber` to allocate anew).",
             "version: 1"]
    for s in (*SECTIONS, *(s for s in IDENTITY if s in state)):
        body = state[s]
        lines.append(f"{s}:" if body else f"{s}: {{}}")
        lines += [f"  {_scalar(k)}: {_value(body[k])}" for k in sorted(body)]
    if state.get(LIFE):
        lines.append(f"{LIFE}:")
        for block in sorted(state[LIFE], key=IPv4Network):
            lines.append(f"  {_scalar(block)}:")
            lines += [f"    {k}: {_scalar(v)}" for k, v in state[LIFE][block].items()]
    return "\n".join(lines) + "\n"


# What may be written unquoted: names, prefixes, addresses (never a time: `:`).
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./~+-]*\Z")
_YAML11_BOOLS = {"y", "n", "yes", "no", "on", "off"}   # strings here, booleans elsewhere


def _scalar(value: object) -> str:
    if type(value) is int:
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and reads_as_string(text) and text.lower() not in _YAML11_BOOLS:
        return text
    # A JSON string is a YAML double-quoted scalar; non-ASCII kept as is, since
    # libyaml refuses the surrogate pairs JSON escapes it with.
    return json.dumps(text, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_scalar, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def write_state(state_dir: FsPath, text: str) -> bool:
    """Atomic write; returns False when the file already holds `text`."""
    file = state_dir / STATE_FILE
    if file.exists() and file.read_text() == text:
        return False
    state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(file, text)
    return True
