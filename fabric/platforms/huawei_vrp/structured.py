"""Huawei VRP8's structured config: the common one, with peer descriptions in the
characters VRP accepts ("Letters, digits, and spaces are supported", CE6800
V300R023C00 command reference, `peer description (BGP view)(group)`)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from fabric.intent.types import Device, Intent, Peer
from fabric.render.context import context

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9 ]+")


def description(text: str) -> str:
    """`text` with every run of other characters as one space: `rack r02 nodes
    (dynamic)` → `rack r02 nodes dynamic`, `r03-n1` → `r03 n1`."""
    return " ".join(_NOT_ALLOWED.sub(" ", text).split())[:255]


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    ctx = context(device, intent)
    for key in ("groups", "neighbors"):
        peers: list[Peer] = ctx[key]
        ctx[key] = [replace(p, description=description(p.description)) for p in peers]
    return ctx
