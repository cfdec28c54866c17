"""The intent as plain data (dicts, lists, strings, numbers), for golden snapshots:
a reviewer of a change sees in which stage, intent or structured config, the
rendered output changed.

The conversion is generic, so a field added to an intent type shows up in the
snapshot without touching this module; a value of a type it does not know is an
error rather than a silent `str()`, so the snapshot stays deterministic.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

import yaml

from fabric.intent.types import Intent

# An interface (IPv4Interface) is an address subclass: it prints as address/length.
_IP = (IPv4Address, IPv4Network, IPv6Address, IPv6Network)


def plain(value: Any) -> Any:
    """`value` as YAML-printable data: dataclasses as dicts in field order, IP
    objects as strings, enums as their values, tuples as lists, sets sorted."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):             # before str: a StrEnum is a str
        return plain(value.value)
    if isinstance(value, str):
        return str(value)                   # a str subclass would not safe_dump
    if isinstance(value, _IP):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    raise TypeError(f"no plain form for {type(value).__name__}: {value!r}")


def as_data(intent: Intent) -> dict[str, Any]:
    """The whole intent but its diagnostics (`source`: positions in the model file,
    not intent) and its digests. Secrets appear as where they are read from and
    their placeholder; the intent never holds their values."""
    data = {f.name: plain(getattr(intent, f.name)) for f in fields(intent)
            if f.name not in ("source", "rack_digests", "digest")}
    data["secrets"] = {name: {**plain(ref), "placeholder": ref.placeholder}
                       for name, ref in intent.secrets.items()}
    return data


def to_yaml(data: Any) -> str:
    """Snapshot text: keys in their given order, one value a line however long, so
    a change never re-wraps its neighbours."""
    return yaml.safe_dump(data, sort_keys=False, width=1 << 20, allow_unicode=True,
                          default_flow_style=False)
