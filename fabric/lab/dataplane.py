"""A packet crosses the lab fabric.

Pods get an address in their node's namespace (the first address of each
block, on lo; VIP announcers hold the VIP there too), and node routes
are installed the way Cilium native routing would: a default via the ToR, and
same-rack peers' blocks directly via the peer, taken from the node's BGP table.
Then pings go from a pod to a pod in the same rack, in another rack, and to
every VIP.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from fabric.intent.types import Intent
from fabric.lab import netns
from fabric.lab.lab import gobgp_service
from fabric.lab.layout import LabPlan
from fabric.platforms.gobgp.client import GobgpClient
from fabric.verify.check import Result


def pod_ip(intent: Intent, node: str) -> IPv4Address:
    """The first address of the node's first pod block (the schema gives each node one)."""
    blocks = intent.node_blocks.get(node)
    if not blocks:
        raise ValueError(f"node {node} has no pod block")
    return blocks[0].network_address + 1


def install_routes(intent: Intent, plan: LabPlan) -> None:
    """Node kernel routes from each node's BGP table; VIPs on their announcers."""
    for rack in intent.racks.values():
        subnet = rack.subnet
        for n in rack.nodes:
            ns = plan.speaker(n).netns
            with GobgpClient(gobgp_service(plan, n).socket, timeout=10) as c:
                routes = c.routes()
            lines = []
            for prefix, r in sorted(routes.items()):
                hop = r.nexthops[0] if r.nexthops else ""
                if r.local or not hop:
                    continue
                if prefix == "0.0.0.0/0" or (IPv4Address(hop) in subnet and
                                             IPv4Address(hop) != rack.gateway):
                    lines.append(f"route replace {prefix} via {hop}")
            for v in intent.vips:
                if n in v.announcers:
                    lines.append(f"addr replace {v.address}/32 dev lo")
            if lines:
                netns._ip(["-n", ns, "-batch", "-"], lines)


@dataclass(frozen=True)
class Probe:
    src: str
    src_ip: IPv4Address
    dst: IPv4Address
    what: str


def probes(intent: Intent) -> list[Probe]:
    firsts = [(r, sorted(r.nodes)) for r in intent.racks.values() if r.nodes]
    out = []
    for i, (rack, nodes) in enumerate(firsts):
        a = nodes[0]
        src = pod_ip(intent, a)
        if len(nodes) > 1:
            out.append(Probe(a, src, pod_ip(intent, nodes[-1]), f"pod on {nodes[-1]} (same rack)"))
        other_rack, other_nodes = firsts[(i + 1) % len(firsts)]
        if other_rack.name != rack.name:
            b = other_nodes[-1]
            out.append(Probe(a, src, pod_ip(intent, b), f"pod on {b} (rack {other_rack.name})"))
    for v in intent.vips:
        where = {intent.devices[a].rack for a in v.announcers}
        rack, nodes = next(((r, n) for r, n in firsts if r.name not in where), firsts[0])
        out.append(Probe(nodes[0], pod_ip(intent, nodes[0]), v.address,
                         f"VIP {v.address}"))
    return out


def ping(plan: LabPlan, probe: Probe) -> tuple[bool, str]:
    ns = plan.speaker(probe.src).netns
    run = netns.exec_in(ns, ["ping", "-n", "-q", "-c", "1", "-W", "1", "-I", str(probe.src_ip),
                             str(probe.dst)], timeout=10)
    last = [line for line in run.stdout.splitlines() if "transmitted" in line]
    return run.returncode == 0, (last[0] if last else run.stderr.strip() or "no reply")


def check(intent: Intent, plan: LabPlan) -> list[Result]:
    install_routes(intent, plan)
    out = []
    for p in probes(intent):
        ok, seen = ping(plan, p)
        out.append(Result("dataplane", p.src, str(p.dst), f"reply from {p.what}",
                          "reply" if ok else seen, ok))
    return out
