"""FRR (white-box switches, SONiC, and every switch in the local lab)."""

from __future__ import annotations

from typing import Any

from ..intent import Device, Intent
from . import common

# Every feature; MD5 on listen ranges needs Linux 4.14+, BMP bgpd's `-M bmp`.
CAPABILITIES: dict[str, str] = {}
FILES = {"configs/{name}.cfg": "frr/frr.conf.j2"}

# FRR leaves default values out of its running config; rendering them would make
# every frr-reload see a change that is not one.
DEFAULT_RESTART_TIME = 120
DEFAULT_STALEPATH_TIME = 360


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    ctx = common.context(device, intent)
    ctx["restart_time_is_default"] = device.restart_time == DEFAULT_RESTART_TIME
    ctx["stalepath_time_is_default"] = device.stalepath_time == DEFAULT_STALEPATH_TIME
    return ctx
