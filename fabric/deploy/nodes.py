"""Node deployer: install a node's gobgpd.toml, reload or restart gobgpd as the
change needs, then reconcile the prefixes it announces over the gRPC API.

The same code deploys the lab's nodes and real ones; only the `Service` (how
gobgpd is started, signalled and reached) differs.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fabric.deploy.outcome import Status
from fabric.deploy.plan import DevicePlan
from fabric.platforms.gobgp.client import GobgpClient


class Service(Protocol):
    config_path: Path
    socket: Path

    def running(self) -> bool: ...
    def start(self, graceful_restart: bool = False) -> None: ...
    def reload(self) -> None: ...
    def stop(self, kill: bool = False) -> None: ...


@dataclass
class NodeResult:
    node: str
    action: Status                   # installed | restarted | reloaded | unchanged
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


# The sections a SIGHUP reload applies (GoBGP 3.10's UpdateConfig, pkg/config/
# config.go): neighbors and peer groups. `global`, `dynamic-neighbors` (only ever
# added) and `bmp-servers` are not reloaded; a policy change is, but the soft reset
# out re-sends what the new policy accepts without withdrawing what it now rejects,
# so peers would keep those routes. Any other change restarts gobgpd with -r, so
# every peer refreshes from a clean start while it keeps our routes.
RELOADED_SECTIONS = ("neighbors", "peer-groups")


def _changed(before: dict, after: dict, section: str, key: tuple[str, str]) -> int:
    """How many entries of `section` present in both configs differ."""
    def by_name(cfg: dict) -> dict[str, object]:
        return {e.get(key[0], {}).get(key[1]): e for e in cfg.get(section, [])}
    old, new = by_name(before), by_name(after)
    return sum(1 for name in old.keys() & new.keys() if old[name] != new[name])


def _reload_applies(before: dict, after: dict) -> bool:
    """Whether a SIGHUP applies the whole change. GoBGP 3.10 updates only the first
    changed neighbor, and the first changed peer group, of a reload: its
    updateNeighbors / updatePeerGroups return inside the loop (pkg/config/config.go).
    Added and deleted ones are all applied."""
    if any(before.get(k) != after.get(k) for k in before.keys() | after.keys()
           if k not in RELOADED_SECTIONS):
        return False
    return (_changed(before, after, "neighbors", ("config", "neighbor-address")) <= 1 and
            _changed(before, after, "peer-groups", ("config", "peer-group-name")) <= 1)


def _write_private(path: Path, text: str) -> None:
    """Atomic 0600 write: the file may hold secrets."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def install(service: Service, config: str) -> Status:
    """Write the config and bring gobgpd in line with it; returns what was done.

    Neighbor and peer-group changes are reloaded with SIGHUP where a reload applies
    all of them; any other change, or one to more than one existing neighbor or peer
    group, restarts gobgpd with `-r`, so peers keep our routes (graceful restart)
    while we come back.
    """
    path = service.config_path
    old = path.read_text() if path.exists() else None
    if old != config:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, config)
    if not service.running():
        service.start(graceful_restart=old is not None)
        return Status.INSTALLED if old is None else Status.RESTARTED
    if old == config:
        return Status.UNCHANGED
    if not _reload_applies(tomllib.loads(old or ""), tomllib.loads(config)):
        service.stop()
        service.start(graceful_restart=True)
        return Status.RESTARTED
    service.reload()
    return Status.RELOADED


def reconcile(client: GobgpClient, prefixes: list[str], next_hop: str) -> tuple[list, list]:
    """AddPath what is missing, DeletePath what is no longer wanted, nothing else."""
    have = client.local_prefixes()
    want = set(prefixes)
    added = sorted(p for p in want if have.get(p) != next_hop)
    removed = sorted(p for p in have if p not in want)
    for p in removed:
        client.delete_path(p, have[p])
    for p in added:
        if p in have:
            client.delete_path(p, have[p])
        client.add_path(p, next_hop)
    return added, removed


def plan_node(node: str, service: Service, config: str, prefixes: list[str],
              mask: Callable[[str], str]) -> DevicePlan:
    """What `deploy` would change on a node: the config lines it rewrites (secrets
    masked) and the announcements it would add or delete; nothing is touched."""
    try:
        path = service.config_path
        old = path.read_text() if path.exists() else ""
        diff = [("+ " if ln[0] == "+" else "- ") + ln[1:]
                for ln in difflib.unified_diff(mask(old).splitlines(),
                                               mask(config).splitlines(), n=0, lineterm="")
                if ln[:1] in "+-" and not ln.startswith(("+++", "---")) and ln[1:].strip()]
        have: set[str] = set()
        if service.running():
            with GobgpClient(service.socket) as client:
                have = set(client.local_prefixes())
        want = set(prefixes)
        diff += [f"+ announce {p}" for p in sorted(want - have)]
        diff += [f"- announce {p}" for p in sorted(have - want)]
        return DevicePlan(node, True, "\n".join(diff))
    except Exception as exc:
        return DevicePlan(node, False, error=mask(str(exc)))


def deploy(node: str, service: Service, config: str, prefixes: list[str], next_hop: str,
           api_timeout: float = 15) -> NodeResult:
    import time

    action = install(service, config)
    with GobgpClient(service.socket) as client:
        client.wait_ready(time.monotonic() + api_timeout)
        added, removed = reconcile(client, prefixes, next_hop)
    return NodeResult(node, action, added, removed)
