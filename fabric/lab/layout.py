"""What the lab builds for a fabric, derived from the intent: namespaces,
veth pairs, bridges, addresses. Pure data, so tests and `lab status` can print it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fabric.intent.types import Intent, Link, Role

RUN_ROOT = Path("/run/bgp-fabric")
IFNAME_MAX = 15   # Linux IFNAMSIZ - 1


@dataclass(frozen=True)
class Speaker:
    device: str
    netns: str
    kind: str          # "frr" | "gobgp"
    role: Role


@dataclass(frozen=True)
class Veth:
    a_ns: str
    a_if: str
    b_ns: str
    b_if: str
    a_bridge: str | None = None   # enslave the a end to this bridge in a_ns


@dataclass(frozen=True)
class Address:
    netns: str
    ifname: str
    cidr: str


@dataclass
class LabPlan:
    fabric: str
    prefix: str
    speakers: list[Speaker] = field(default_factory=list)
    bridges: list[tuple[str, str]] = field(default_factory=list)     # (netns, bridge)
    veths: list[Veth] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    pods: list[Address] = field(default_factory=list)                # node pod addresses

    @property
    def run_dir(self) -> Path:
        return RUN_ROOT / self.fabric

    @property
    def namespaces(self) -> list[str]:
        return [s.netns for s in self.speakers]

    def speaker(self, device: str) -> Speaker:
        return next(s for s in self.speakers if s.device == device)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def netns_prefix(fabric: str) -> str:
    """`bf<hash>-`: unique per fabric name, so one lab's prefix never matches another's."""
    return f"bf{hashlib.sha1(fabric.encode()).hexdigest()[:6]}-"


def plan_lab(intent: Intent) -> LabPlan:
    prefix = netns_prefix(intent.fabric)
    plan = LabPlan(intent.fabric, prefix)
    devs = intent.devices
    for d in devs.values():
        kind = "frr" if d.is_switch else "gobgp"
        plan.speakers.append(Speaker(d.name, prefix + d.name, kind, d.role))
        if d.is_switch:
            plan.addresses.append(Address(prefix + d.name, "lo", f"{d.router_id}/32"))
    # ToR–core links: one veth per /31; names by position, well under 15 characters.
    core_port: dict[str, int] = {}
    for d in devs.values():
        if d.role != Role.TOR:
            continue
        ns = prefix + d.name
        links = [i for i in d.interfaces if i.kind == Link.CORE_LINK]
        for j, i in enumerate(links):
            core = devs[i.peer]
            k = core_port[core.name] = core_port.get(core.name, -1) + 1
            core_if = next(c for c in core.interfaces if c.peer == d.name)
            plan.veths.append(Veth(ns, f"up{j}", prefix + core.name, f"down{k}"))
            plan.addresses.append(Address(ns, f"up{j}", str(i.address)))
            plan.addresses.append(Address(prefix + core.name, f"down{k}", str(core_if.address)))
        # The rack's L2: a bridge in the ToR's namespace holding the gateway address.
        rack_if = next(i for i in d.interfaces if i.kind == Link.RACK)
        plan.bridges.append((ns, "rack"))
        plan.addresses.append(Address(ns, "rack", str(rack_if.address)))
        members = sorted((m for m in devs.values() if m.rack == d.rack and m.name != d.name),
                         key=lambda m: m.name)
        for k, m in enumerate(members):
            plan.veths.append(Veth(ns, f"port{k}", prefix + m.name, "eth0", a_bridge="rack"))
            addr = next(i.address for i in m.interfaces if i.kind == Link.RACK)
            plan.addresses.append(Address(prefix + m.name, "eth0", str(addr)))
            for block in intent.node_blocks.get(m.name, ()):
                # On lo: this kernel may lack the dummy driver, and a /32 there is
                # just as local to the node as a pod interface would be.
                plan.pods.append(Address(prefix + m.name, "lo",
                                         f"{block.network_address + 1}/32"))
    for v in plan.veths:
        assert len(v.a_if) <= IFNAME_MAX and len(v.b_if) <= IFNAME_MAX
    return plan
