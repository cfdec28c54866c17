"""Read the lab's speakers for `verify`: FRR through vtysh, GoBGP through gRPC."""

from __future__ import annotations

from fabric.lab.lab import gobgp_service
from fabric.lab.layout import LabPlan
from fabric.observed import Neighbor, Route
from fabric.platforms.frr.driver import FrrDriver
from fabric.platforms.gobgp.client import GobgpClient
from fabric.verify.check import Collector


def collector(plan: LabPlan) -> Collector:
    def collect(device: str) -> tuple[list[Neighbor], dict[str, Route]]:
        sp = plan.speaker(device)
        if sp.kind == "frr":
            drv = FrrDriver.lab(device, sp.netns, timeout=15)
            return drv.neighbors(), drv.routes()
        svc = gobgp_service(plan, device)
        if not svc.running():
            raise RuntimeError("gobgpd is not running")
        with GobgpClient(svc.socket, timeout=10) as c:
            return c.neighbors(), c.routes()
    return collect
