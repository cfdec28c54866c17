"""`fabric apply --target devices`: a staged, confirmed rollout to the switches.

Stages: a canary (the first rack's ToR, or --canary), then the other rack
switches in batches of --concurrency, then the cores on their own. Per device:
back up the running config (outside git), load the candidate, compare (skip
when empty), commit with a confirm timer, verify the device's sessions against
the intent, then confirm. Any failure rolls that device back and stops the
rollout; a device whose confirm never arrives (the tool died, the link dropped)
rolls itself back when its timer expires.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fabric.deploy.drivers import SwitchDriver
from fabric.deploy.lock import ApplyLock
from fabric.deploy.outcome import DeviceOutcome, Status
from fabric.deploy.plan import remediation_as_diff
from fabric.deploy.targets import Target
from fabric.intent.types import Intent, Role

BACKUP_ROOT = Path(os.environ.get("FABRIC_BACKUP_DIR",
                                  Path.home() / ".local" / "state" / "bgp-fabric" / "backups"))


@dataclass
class RolloutReport:
    outcomes: list[DeviceOutcome] = field(default_factory=list)
    stopped_at: str = ""
    # After the last stage: changed devices whose sessions are still not all up.
    sessions_down: dict[str, str] = field(default_factory=dict)
    # Sessions to nodes a changed key took down: back once the nodes have it too.
    awaiting_nodes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.stopped_at and not self.sessions_down

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "stopped_at": self.stopped_at,
                "sessions_down": self.sessions_down, "awaiting_nodes": self.awaiting_nodes,
                "devices": [o.as_dict() for o in self.outcomes]}


def stages(intent: Intent, devices: list[str], canary: str | None) -> list[tuple[str, list[str]]]:
    racks = [n for n in devices if intent.devices[n].role != Role.CORE]
    cores = [n for n in devices if intent.devices[n].role == Role.CORE]
    first = canary or next((n for n in sorted(racks, key=lambda n: (intent.devices[n].rack or "",
                                                                     n))), None)
    out = []
    if first:
        out.append(("canary", [first]))
    rest = [n for n in racks if n != first]
    if rest:
        out.append(("racks", rest))
    if cores:
        out.append(("cores", [c for c in cores if c != first]))
    return [(name, group) for name, group in out if group]


def expected_peers(intent: Intent, device: str) -> dict[str, int]:
    """Static peers of `device` (address → AS) that must be Established after a change."""
    return {str(p.address): p.remote_as for p in intent.devices[device].peers if not p.dynamic}


@dataclass(frozen=True)
class Rekeyed:
    """The peers whose key a change sets anew. TCP MD5 has no overlap of keys: such a
    session is down from this end's commit until the other end has the new key too
    (a core in a later stage, a node after the switches), so it is not held against
    the change."""

    static: frozenset[str] = frozenset()     # peer addresses
    dynamic: bool = False                    # a listen group's key


def rekeyed(intent: Intent, device: str, masked_diff: str) -> Rekeyed:
    """The peers of `device` whose key placeholder is in a changed line of the diff
    (`remediation_as_diff`'s form, secrets masked): a new key value, or a key added.
    Platforms that show a key only as a cipher compare it on presence, so there a new
    value is a change only with `--rekey`."""
    changed = "\n".join(ln for ln in masked_diff.splitlines() if ln.startswith(("+", "-")))
    keyed = [p for p in intent.devices[device].peers if p.auth and p.auth in changed]
    return Rekeyed(frozenset(str(p.address) for p in keyed if not p.dynamic),
                   any(p.dynamic for p in keyed))


@dataclass(frozen=True)
class Baseline:
    """What was up before a change: the change must not take any of it down."""

    static_up: frozenset[str]
    dynamic_up: int
    rekeyed_up: int = 0     # sessions up now that the change re-keys (so takes down)


def baseline(drv: SwitchDriver, intent: Intent, device: str,
             keys: Rekeyed = Rekeyed()) -> Baseline:
    """What is up now and must be up after the change, but the re-keyed sessions."""
    static = expected_peers(intent, device)
    up = [n.address for n in drv.neighbors() if n.established]
    dynamic = sum(a not in static for a in up)
    return Baseline(frozenset(a for a in up if a in static and a not in keys.static),
                    0 if keys.dynamic else dynamic,
                    sum(a in keys.static for a in up) + (dynamic if keys.dynamic else 0))


def wait_sessions(drv: SwitchDriver, intent: Intent, device: str, must: Baseline | None,
                  wait: float, exempt: frozenset[str] = frozenset()) -> str:
    """"" when the device's sessions are as they must be, else what is missing.

    With a baseline (right after a commit): every static peer that was up is up
    again with its AS, and no fewer dynamic peers — a peer the rollout has not
    configured yet (a core, on a new rack) cannot be up. Without one (after the
    whole rollout): every static peer Established with its AS, but `exempt`."""
    static = expected_peers(intent, device)
    want = ({a: s for a, s in static.items() if a not in exempt} if must is None
            else {a: s for a, s in static.items() if a in must.static_up})
    deadline = time.monotonic() + wait
    while True:
        ns = {n.address: n for n in drv.neighbors()}
        missing = [f"{a} (AS {asn}): {ns[a].state if a in ns else 'absent'}"
                   for a, asn in want.items()
                   if not (a in ns and ns[a].established and ns[a].remote_as == asn)]
        dyn = sum(n.established for a, n in ns.items() if a not in static)
        floor = must.dynamic_up if must is not None else 0
        if not missing and dyn >= floor:
            return ""
        if time.monotonic() > deadline:
            parts = missing + ([f"dynamic peers {dyn} < {floor} before"] if dyn < floor
                               else [])
            return "sessions not up: " + "; ".join(parts)
        time.sleep(1)


def _backup(target: Target, fabric: str, device: str, running: str) -> Path:
    folder = target.backups or BACKUP_ROOT / fabric
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{device}-{time.strftime('%Y%m%dT%H%M%S')}.cfg"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(running)
    return path


def apply_device(intent: Intent, target: Target, device: str, stage: str,
                 confirm_timer: int, verify_wait: float,
                 rekeys: dict[str, Rekeyed] | None = None) -> DeviceOutcome:
    """One switch: back up, load, compare, commit, check, confirm or roll back.
    `rekeys` collects the re-keyed peers of each device changed (for the final check)."""
    drv = target.connect(device)
    committed = False
    backup = ""
    try:
        drv.open()
        drv.load_replace_candidate(config=target.configs[device])
        diff = drv.compare_config()
        if not diff:
            drv.discard_config()
            return DeviceOutcome(device, stage, Status.UNCHANGED)
        shown = remediation_as_diff(diff, drv.compare_is_diff)
        keys = rekeyed(intent, device, target.mask(shown))
        if rekeys is not None:
            rekeys[device] = keys
        before = baseline(drv, intent, device, keys)
        running = drv.get_config("running")["running"]
        backup = str(_backup(target, intent.fabric, device, running))
        drv.commit_config(revert_in=confirm_timer)
        committed = True
        problem = wait_sessions(drv, intent, device, before, verify_wait)
        if problem:
            raise RuntimeError(problem)
        drv.confirm_commit()
        lines = shown.splitlines()
        added = sum(ln.startswith("+") for ln in lines)
        removed = sum(ln.startswith("-") for ln in lines)
        detail = f"+{added} -{removed}"
        if before.rekeyed_up:
            detail += (f"; new key: {before.rekeyed_up} session(s) back once the other "
                       "ends have it")
        return DeviceOutcome(device, stage, Status.APPLIED, detail, backup)
    except Exception as exc:
        detail = target.mask(str(exc))
        if committed or drv.has_pending_commit():
            try:
                drv.rollback()
                return DeviceOutcome(device, stage, Status.ROLLED_BACK, detail, backup)
            except Exception as rb:
                detail += f"; rollback failed: {target.mask(str(rb))} (the device's timer " \
                          "reverts it)"
        return DeviceOutcome(device, stage, Status.FAILED, detail, backup)
    finally:
        with contextlib.suppress(Exception):
            drv.close()


def rollout(intent: Intent, target: Target, devices: list[str], lock_path: Path,
            canary: str | None = None, concurrency: int = 8, confirm_timer: int = 300,
            verify_wait: float = 60,
            progress: Callable[[DeviceOutcome], None] | None = None) -> RolloutReport:
    report = RolloutReport()
    rekeys: dict[str, Rekeyed] = {}
    with ApplyLock(lock_path):
        plan = stages(intent, devices, canary)
        for i, (stage, group) in enumerate(plan):
            with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
                outcomes = list(pool.map(
                    lambda d, s=stage: apply_device(intent, target, d, s, confirm_timer,
                                                    verify_wait, rekeys), group))
            for o in outcomes:
                report.outcomes.append(o)
                if progress:
                    progress(o)
            bad = [o for o in outcomes if not o.ok]
            if bad:
                report.stopped_at = stage
                for later_stage, later in plan[i + 1:]:
                    report.outcomes += [DeviceOutcome(d, later_stage, Status.SKIPPED,
                                                      f"rollout stopped at {stage}")
                                        for d in later]
                break
        if report.ok:
            _final_check(intent, target, report, verify_wait, rekeys)
    return report


def _final_check(intent: Intent, target: Target, report: RolloutReport, wait: float,
                 rekeys: dict[str, Rekeyed]) -> None:
    """Every static session of every changed device, now that every stage is done: the
    re-keyed ones too where the other end is a switch (changed in this rollout), not
    where it is a node (they wait for the nodes to have the key: `awaiting_nodes`)."""
    for o in report.outcomes:
        if o.status != Status.APPLIED:
            continue
        keys = rekeys.get(o.device, Rekeyed())
        nodes = {str(p.address) for p in intent.devices[o.device].peers
                 if p.name in intent.devices and intent.devices[p.name].is_node}
        to_nodes = keys.static & nodes
        if to_nodes or keys.dynamic:
            report.awaiting_nodes[o.device] = sorted(to_nodes) + (["dynamic peers"]
                                                                  if keys.dynamic else [])
        drv = target.connect(o.device)
        try:
            drv.open()
            problem = wait_sessions(drv, intent, o.device, None, wait, exempt=to_nodes)
        except Exception as exc:
            problem = target.mask(str(exc))
        finally:
            with contextlib.suppress(Exception):
                drv.close()
        if problem:
            report.sessions_down[o.device] = problem
