"""`fabric apply --target lab`: push every device of the lab, with bounded concurrency.

Switches go through the same per-device step as real switches
(`rollout.apply_device`: back up, load, compare, commit, check the device's
sessions, confirm, roll back on any failure), with the lab's FRR driver; nodes
through the node deployer. A device that fails never stops the others; each
outcome says what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from fabric.deploy import secrets
from fabric.deploy.nodes import deploy, plan_node
from fabric.deploy.outcome import DeviceOutcome, Status
from fabric.deploy.plan import DevicePlan
from fabric.deploy.rollout import apply_device
from fabric.intent.types import Intent
from fabric.lab.lab import (
    frr_instance,
    gobgp_service,
    lab_configs,
    lab_secret_values,
    require_up,
)
from fabric.lab.layout import LabPlan, plan_lab
from fabric.lab.target import lab_target

# FRR has no confirm timer; the step's session check waits this long for the peers a
# changed switch had up before.
VERIFY_WAIT = 60


def _node(intent: Intent, plan: LabPlan, device: str, config: str,
          values: dict[str, str]) -> DeviceOutcome:
    d = intent.devices[device]
    try:
        res = deploy(device, gobgp_service(plan, device), config,
                     [str(p) for p in d.originate], str(d.router_id))
    except Exception as exc:
        return DeviceOutcome(device, "nodes", Status.FAILED, secrets.mask(str(exc), values))
    return DeviceOutcome(device, "nodes", res.action,
                         f"+{len(res.added)} -{len(res.removed)} paths")


def plan_nodes(intent: Intent, nodes: list[str], concurrency: int = 8) -> list[DevicePlan]:
    """What the lab's apply would change on these nodes (`fabric plan --target lab`)."""
    plan = plan_lab(intent)
    require_up(plan)
    configs = lab_configs(intent, plan)
    values = lab_secret_values(intent, plan)

    def one(n: str) -> DevicePlan:
        return plan_node(n, gobgp_service(plan, n), configs[n],
                         [str(p) for p in intent.devices[n].originate],
                         lambda text: secrets.mask(text, values))
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, nodes))


def apply_lab(intent: Intent, concurrency: int = 8,
              progress: Callable[[int, int, DeviceOutcome], None] | None = None,
              configs: dict[str, str] | None = None) -> list[DeviceOutcome]:
    """`configs`: the lab's own by default (a test may hand in others)."""
    plan = plan_lab(intent)
    require_up(plan)
    configs = configs or lab_configs(intent, plan)
    target = lab_target(intent, configs)
    values = target.secret_values
    for name in target.configs:       # a switch whose bgpd stopped starts again first
        inst = frr_instance(plan, name)
        if not inst.running():
            inst.start()
    results: list[DeviceOutcome] = []
    total = len(intent.devices)
    # Nodes first: gobgpd makes its first connection attempt 5–10 s after it starts
    # (a fixed, randomised delay in GoBGP 3.10), so starting the nodes before the
    # switches overlaps that wait with the switch pushes, which take a few seconds.
    stages = [[n for n, d in intent.devices.items() if not d.is_switch],
              [n for n, d in intent.devices.items() if d.is_switch]]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for stage in stages:
            futures = [pool.submit(apply_device, intent, target, n, "switches", 0, VERIFY_WAIT)
                       if intent.devices[n].is_switch
                       else pool.submit(_node, intent, plan, n, configs[n], values)
                       for n in stage]
            for fut in as_completed(futures):
                results.append(fut.result())
                if progress:
                    progress(len(results), total, results[-1])
    return sorted(results, key=lambda r: r.device)
