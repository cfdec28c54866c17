"""FRR's structured config: the common one, plus which timers are FRR's defaults
(platform.yml), which the template leaves out as FRR's running config does."""

from __future__ import annotations

from typing import Any

from fabric.intent.types import Device, Intent
from fabric.platforms import get
from fabric.render.context import context


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    defaults = get("frr").defaults
    ctx = context(device, intent)
    ctx["restart_time_is_default"] = device.restart_time == defaults["restart_time"]
    ctx["stalepath_time_is_default"] = device.stalepath_time == defaults["stalepath_time"]
    ctx["bfd_interval_is_default"] = device.bfd_interval == defaults["bfd_interval"]
    ctx["bfd_multiplier_is_default"] = device.bfd_multiplier == defaults["bfd_multiplier"]
    return ctx
