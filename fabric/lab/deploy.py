"""`fabric apply --target lab`: push every device of the lab, with bounded concurrency.

Switches go through the FRR driver (NAPALM contract): load, compare, commit,
and roll back on any failure; nodes through the node deployer. A device that
fails never stops the others; each result says what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from .. import secrets
from ..drivers.frr import FrrDriver
from ..intent import Intent
from ..nodes import deploy
from .lab import frr_instance, gobgp_service, lab_configs, lab_secret_values, require_up
from .plan import LabPlan, plan_lab


@dataclass
class DeviceResult:
    device: str
    ok: bool
    action: str                 # applied | unchanged | installed | reloaded | restarted | failed
    detail: str = ""
    rolled_back: bool = False


def _switch(plan: LabPlan, device: str, config: str) -> DeviceResult:
    sp = plan.speaker(device)
    inst = frr_instance(plan, device)
    if not inst.running():
        inst.start()
    drv = FrrDriver.lab(device, sp.netns)
    committed = False
    try:
        drv.open()
        drv.load_replace_candidate(config=config)
        diff = drv.compare_config()
        if not diff:
            return DeviceResult(device, True, "unchanged")
        committed = True
        drv.commit_config()
        added = sum(line.startswith("+") for line in diff.splitlines())
        removed = sum(line.startswith("-") for line in diff.splitlines())
        return DeviceResult(device, True, "applied", f"+{added} -{removed}")
    except Exception as exc:
        rolled = False
        if committed:
            try:
                drv.rollback()
                rolled = True
            except Exception as rb:
                exc = RuntimeError(f"{exc}; rollback failed too: {rb}")
        return DeviceResult(device, False, "failed", str(exc), rolled)
    finally:
        drv.close()


def _node(intent: Intent, plan: LabPlan, device: str, config: str) -> DeviceResult:
    d = intent.devices[device]
    try:
        res = deploy(device, gobgp_service(plan, device), config,
                     [str(p) for p in d.originate], str(d.router_id))
    except Exception as exc:
        return DeviceResult(device, False, "failed", str(exc))
    detail = f"+{len(res.added)} -{len(res.removed)} paths"
    return DeviceResult(device, True, res.action, detail)


def apply_lab(intent: Intent, concurrency: int = 8,
              progress: Callable[[int, int, DeviceResult], None] | None = None,
              configs: dict[str, str] | None = None) -> list[DeviceResult]:
    plan = plan_lab(intent)
    require_up(plan)
    configs = configs or lab_configs(intent, plan)
    values = lab_secret_values(intent, plan)
    results: list[DeviceResult] = []
    total = len(intent.devices)
    # Nodes first: gobgpd makes its first connection attempt 5–10 s after it starts
    # (a fixed, randomised delay in GoBGP 3.10), so starting the nodes before the
    # switches overlaps that wait with the switch pushes, which take a few seconds.
    stages = [[n for n, d in intent.devices.items() if not d.is_switch],
              [n for n, d in intent.devices.items() if d.is_switch]]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for stage in stages:
            futures = [pool.submit(_switch, plan, n, configs[n]) if intent.devices[n].is_switch
                       else pool.submit(_node, intent, plan, n, configs[n]) for n in stage]
            for fut in as_completed(futures):
                r = fut.result()
                r.detail = secrets.mask(r.detail, values)   # errors may quote config lines
                results.append(r)
                if progress:
                    progress(len(results), total, results[-1])
    return sorted(results, key=lambda r: r.device)
