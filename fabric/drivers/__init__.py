"""Drivers: how this tool talks to each kind of speaker. Switch drivers keep
NAPALM's driver contract (open, load_replace_candidate, compare_config,
commit_config(revert_in), confirm_commit, rollback, get_bgp_neighbors)."""

from __future__ import annotations

import threading
from importlib import import_module

# platform → (module, class) of its switch driver
SWITCH_DRIVERS = {
    "h3c_comware": ("fabric.drivers.h3c_comware", "ComwareDriver"),
    "huawei_vrp": ("fabric.drivers.huawei_vrp", "VrpDriver"),
    "cisco_ios": ("fabric.drivers.cisco_ios", "CiscoIosDriver"),
    "cisco_nxos": ("fabric.drivers.cisco_nxos", "CiscoNxosDriver"),
    "frr": ("fabric.drivers.frr", "FrrDriver"),
}


_IMPORT = threading.Lock()


def driver_class(platform: str) -> type:
    """The driver class of `platform`, its module imported under one lock: worker
    threads importing two drivers at once deadlock inside the libraries beneath them
    (hier_config's platform modules import each other). Targets load every class they
    need before their threads start."""
    try:
        module, cls = SWITCH_DRIVERS[platform]
    except KeyError:
        raise NotImplementedError(f"no switch driver for platform {platform} yet") from None
    with _IMPORT:
        return getattr(import_module(module), cls)
