"""Thin, batched wrappers around iproute2 for building the lab's namespaces."""

from __future__ import annotations

import subprocess
from collections import defaultdict

from fabric.errors import OperationalError
from fabric.lab.layout import LabPlan


class LabError(OperationalError):
    pass


def _ip(args: list[str], batch: list[str] | None = None) -> None:
    run = subprocess.run(["ip", *args], input="\n".join(batch or []) + "\n", text=True,
                         capture_output=True)
    if run.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {(run.stderr or run.stdout).strip()}")


def existing(prefix: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return sorted(n for n in names if n.startswith(prefix))


def build(plan: LabPlan) -> None:
    """Create every namespace, link, bridge and address of the plan."""
    _ip(["-batch", "-"], [f"netns add {ns}" for ns in plan.namespaces])
    _ip(["-batch", "-"], [f"link add {v.a_if} netns {v.a_ns} type veth peer name {v.b_if} "
                          f"netns {v.b_ns}" for v in plan.veths])
    per_ns: dict[str, list[str]] = defaultdict(list)
    for ns in plan.namespaces:
        per_ns[ns].append("link set lo up")
    for ns, br in plan.bridges:
        per_ns[ns] += [f"link add {br} type bridge", f"link set {br} up"]
    for v in plan.veths:
        if v.a_bridge:
            per_ns[v.a_ns].append(f"link set {v.a_if} master {v.a_bridge}")
        per_ns[v.a_ns].append(f"link set {v.a_if} up")
        per_ns[v.b_ns].append(f"link set {v.b_if} up")
    for a in [*plan.addresses, *plan.pods]:
        per_ns[a.netns].append(f"addr add {a.cidr} dev {a.ifname}")
    for ns, lines in per_ns.items():
        _ip(["-n", ns, "-batch", "-"], lines)
    for ns in plan.namespaces:
        sysctl(ns, {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0",
                    "net.ipv4.conf.default.rp_filter": "0"})


def sysctl(ns: str, values: dict[str, str]) -> None:
    args = [f"{k}={v}" for k, v in values.items()]
    run = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", *args],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise LabError(f"sysctl in {ns}: {run.stderr.strip()}")


def pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def delete(namespaces: list[str]) -> None:
    if namespaces:
        subprocess.run(["ip", "-force", "-batch", "-"], capture_output=True, text=True,
                       input="".join(f"netns del {ns}\n" for ns in namespaces))


def exec_in(ns: str, argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                          timeout=timeout)
