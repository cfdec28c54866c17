"""`fabric lab up | down | status`: build, tear down and report the local lab."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from dataclasses import dataclass, replace
from typing import Any

from fabric.deploy import secrets
from fabric.intent.types import Device, Intent
from fabric.lab import netns
from fabric.lab.layout import RUN_ROOT, LabPlan, netns_prefix, plan_lab
from fabric.lab.netns import LabError
from fabric.lab.speakers import FrrInstance, GobgpService
from fabric.platforms.frr.driver import FrrDriver
from fabric.platforms.gobgp.client import GobgpClient
from fabric.render.engine import device_config

STATE = "lab.json"


def frr_instance(plan: LabPlan, device: str) -> FrrInstance:
    sp = plan.speaker(device)
    return FrrInstance(sp.netns, plan.run_dir / device)


def gobgp_service(plan: LabPlan, device: str) -> GobgpService:
    return GobgpService(plan.speaker(device).netns, plan.run_dir / device)


def lab_device(device: Device) -> Device:
    """The lab runs every switch as FRR; BMP is off until the lab has a collector."""
    return replace(device, platform="frr" if device.is_switch else device.platform, bmp=())


def lab_secret_values(intent: Intent, plan: LabPlan) -> dict[str, str]:
    """placeholder → value: from the secrets' sources, else random per-lab values."""
    return secrets.values(intent,
                          secrets.lab_fallback(intent, plan.run_dir / "secrets"))


def lab_configs(intent: Intent, plan: LabPlan) -> dict[str, str]:
    """device → the config the lab pushes (FRR for switches, gobgpd.toml for nodes),
    with secrets filled in."""
    values = lab_secret_values(intent, plan)
    return {d.name: secrets.substitute(device_config(lab_device(d), intent), values)
            for d in intent.devices.values()}


def _read_state(fabric: str) -> dict[str, Any] | None:
    f = RUN_ROOT / fabric / STATE
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return None


@dataclass
class UpResult:
    created: bool
    started: list[str]
    plan: LabPlan


def up(intent: Intent) -> UpResult:
    plan = plan_lab(intent)
    present = netns.existing(plan.prefix)
    if present:
        state = _read_state(plan.fabric)
        wanted = json.loads(json.dumps(plan.as_dict()))
        if state is None or state.get("plan") != wanted:
            raise LabError(f"a lab of fabric {plan.fabric} is already up with another "
                           f"topology ({_differences(state, wanted, present, plan.prefix)}); "
                           "run `fabric lab down` first")
        return UpResult(False, _start(plan), plan)
    try:
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        (plan.run_dir / STATE).write_text(json.dumps({"plan": plan.as_dict()}, indent=1))
        netns.build(plan)
        return UpResult(True, _start(plan), plan)
    except BaseException:
        down(intent.fabric)
        raise


def _differences(state: dict[str, Any] | None, wanted: dict[str, Any], present: list[str],
                 prefix: str) -> str:
    """What the running lab has that the model does not, and the other way round."""
    if state is None:
        return f"{len(present)} namespaces {prefix}* and no record of how they were built"
    have = state["plan"]
    parts = []
    for key, what in (("speakers", "devices"), ("veths", "links"), ("addresses", "addresses")):
        old = {json.dumps(x, sort_keys=True) for x in have.get(key, [])}
        new = {json.dumps(x, sort_keys=True) for x in wanted.get(key, [])}
        if old != new:
            parts.append(f"{what}: {len(new - old)} to add, {len(old - new)} to remove")
    return "; ".join(parts) or "pod addresses differ"


def _start(plan: LabPlan) -> list[str]:
    started = []
    for sp in plan.speakers:
        if sp.kind == "frr":
            inst = frr_instance(plan, sp.device)
            if not inst.running():
                inst.start()
                started.append(sp.device)
    return started


def down(fabric: str) -> list[str]:
    """Remove every namespace, process and file of the lab; safe to run twice."""
    prefix = netns_prefix(fabric)
    run_dir = RUN_ROOT / fabric
    state = _read_state(fabric)
    names = set(netns.existing(prefix))
    if state:
        names |= {s["netns"] for s in state["plan"]["speakers"]}
    for ns in sorted(names):
        device = ns.removeprefix(prefix)
        GobgpService(ns, run_dir / device).stop(kill=True)
        FrrInstance(ns, run_dir / device).stop()
        for pid in netns.pids(ns) if ns in netns.existing(prefix) else []:
            _kill_leftover(pid)
    netns.delete(sorted(set(netns.existing(prefix))))
    shutil.rmtree(run_dir, ignore_errors=True)
    return sorted(names)


def _kill_leftover(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)   # inside our own namespace: ours by construction


def status(intent: Intent) -> list[dict[str, Any]]:
    plan = plan_lab(intent)
    present = set(netns.existing(plan.prefix))
    rows = []
    for sp in plan.speakers:
        row: dict[str, Any] = {"device": sp.device, "role": sp.role, "netns": sp.netns,
                               "namespace": sp.netns in present, "speaker": sp.kind,
                               "running": False, "established": 0, "neighbors": 0}
        try:
            if sp.kind == "frr":
                inst = frr_instance(plan, sp.device)
                row["running"] = inst.running()
                if row["running"]:
                    ns = FrrDriver.lab(sp.device, sp.netns, timeout=10).neighbors()
                    row.update(established=sum(n.established for n in ns), neighbors=len(ns))
            else:
                svc = gobgp_service(plan, sp.device)
                row["running"] = svc.running()
                if row["running"]:
                    with GobgpClient(svc.socket, timeout=5) as c:
                        ns = c.neighbors()
                    row.update(established=sum(n.established for n in ns), neighbors=len(ns))
        except Exception as exc:  # status reports; it never fails on one device
            row["error"] = str(exc).splitlines()[0]
        rows.append(row)
    return rows


def require_up(plan: LabPlan) -> None:
    missing = set(plan.namespaces) - set(netns.existing(plan.prefix))
    if missing:
        raise LabError(f"the lab of fabric {plan.fabric} is not up ({len(missing)} of "
                       f"{len(plan.namespaces)} namespaces missing): run `fabric lab up`")
