"""A digest of each part of the model's data, for the incremental render: equal
digests, equal data. A value JSON cannot spell exactly (a non-text key, a date
from the located path) gets a digest no later build can equal: never reused."""

from __future__ import annotations

import json
import os
from typing import Any

from fabric.digest import digest


def section_digests(data: dict[str, Any]) -> dict[str, str]:
    """By top-level key, and each rack's item by `racks/<name>`."""
    out = {key: _of(value) for key, value in data.items() if key != "racks"}
    out.update((f"racks/{r['name']}", _of(r)) for r in data["racks"])
    return out


def _of(value: Any) -> str:
    try:
        _text_keys(value)
        return digest(json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError):
        return os.urandom(16).hex()


def _text_keys(value: Any) -> None:
    # json.dumps writes the key 1 as "1": the two would share a digest.
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"a {type(k).__name__} key")
            _text_keys(v)
    elif isinstance(value, list):
        for v in value:
            _text_keys(v)
