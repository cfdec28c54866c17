"""Drivers: how this tool talks to each kind of speaker. Switch drivers keep
NAPALM's driver contract (`SwitchDriver`: open, load_replace_candidate,
compare_config, commit_config(revert_in), confirm_commit, rollback, the getters)."""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any, ClassVar, Protocol

from fabric import platforms
from fabric.observed import Neighbor


class SwitchDriver(Protocol):
    """What plan, apply and verify use of a switch driver: NAPALM's contract (its
    signature: `cls(hostname, username, password, timeout, optional_args)`), plus
    `neighbors()` in this tool's vendor-neutral shape and `has_pending_commit()`,
    whether a commit waits for confirmation on the device's timer."""

    hostname: str
    # compare_config's form: "+ line"/"- line" (a diff, FRR's frr-reload) or the
    # commands a push sends (the vendor CLIs), which plan shows as a diff.
    compare_is_diff: ClassVar[bool]

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None: ...
    def open(self) -> None: ...
    def close(self) -> None: ...
    def get_config(self, retrieve: str = "all") -> dict[str, str]: ...
    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None: ...
    def compare_config(self) -> str: ...
    def discard_config(self) -> None: ...
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None: ...
    def confirm_commit(self) -> None: ...
    def has_pending_commit(self) -> bool: ...
    def rollback(self) -> None: ...
    def neighbors(self) -> list[Neighbor]: ...
    def get_facts(self) -> dict[str, Any]: ...
    def get_bgp_neighbors(self) -> dict[str, Any]: ...
    def get_bgp_neighbors_detail(self, neighbor_address: str = "") -> dict[str, Any]: ...


# platform → (module, class) of its switch driver, from the platform descriptors
SWITCH_DRIVERS = {p.name: (f"{p.module}.driver", p.driver)
                  for p in platforms.registry().values() if p.kind == "switch" and p.driver}


_IMPORT = threading.Lock()


def driver_class(platform: str) -> type[SwitchDriver]:
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
