"""The switch platforms that have an SSH simulator, as the fabric-level tests and
the switch benchmark see them (`SWITCH_KINDS`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SwitchKind:
    """One switch platform as the fabric-level tests see it: its simulator (module,
    class, a timer scale that makes a minute short), a switch before this tool
    touched it (a name, an interface, a user, someone else's prefix list OTHER), which
    top-level lines the tool owns, and two lines the plan must show: r01-tor's
    dynamic-neighbor line and its export of the VIP 10.61.0.20/32 (a regex)."""

    platform: str
    simulator: str
    timer: dict[str, float]
    base: str
    owned: Callable[[str], bool]
    nodes_line: str
    vip_export: str

    def start(self, name: str, username: str, password: str, real_time: bool = False):
        """A started simulator of this platform; `real_time`: its timers' minutes and
        seconds last as long as real ones (else the test's short ones)."""
        module, cls = self.simulator.split(":")
        sim_cls = getattr(importlib.import_module(module), cls)
        timer = ({k: 60.0 if k == "minute" else 1.0 for k in self.timer} if real_time
                 else self.timer)
        return sim_cls(name, username, password, config=self.base.format(name=name),
                       **timer).start()

    def unrelated(self, sim) -> list[str]:
        """The simulator's config lines outside what the tool owns."""
        return [ln for ln in sim.device.lines() if not self.owned(ln.split("/")[0])]


def _not_other(line: str, head: str) -> bool:
    return line.startswith(head) and line.split()[2] != "OTHER"


SWITCH_KINDS = {k.platform: k for k in (
    SwitchKind(
        "h3c_comware", "simulators.comware:ComwareSimulator", {"minute": 0.5},
        "#\n sysname {name}\n#\ninterface Ten-GigabitEthernet1/0/1\n description uplink\n"
        " ip address 10.0.0.1 255.255.255.254\n#\n"
        "ip prefix-list OTHER index 10 permit 10.0.0.0 8\n#\n"
        "local-user admin class manage\n password simple hunter2\n service-type ssh\n#\n"
        "return\n",
        lambda ln: ln.startswith(("bgp ", "bmp server ")) or _not_other(ln, "ip prefix-list "),
        "peer 10.64.0.0 24 group NODES",
        r"^\+ +ip prefix-list RACK-EXPORT index \d+ permit 10\.61\.0\.20 32$"),
    SwitchKind(
        "huawei_vrp", "simulators.vrp:VrpSimulator", {"second": 0.01},
        "#\nsysname {name}\n#\naaa\n local-user admin password irreversible-cipher hunter2\n"
        " local-user admin service-type ssh\n#\ninterface 10GE1/0/1\n description uplink\n"
        " ip address 10.0.0.1 255.255.255.254\n undo shutdown\n#\n"
        "ip ip-prefix OTHER index 10 permit 10.0.0.0 8\n#\nreturn\n",
        lambda ln: ln.startswith("bgp ") or ln in ("bmp", "bfd")
        or _not_other(ln, "ip ip-prefix "),
        "peer NODES listen-net 10.64.0.0 24",
        r"^\+ +ip ip-prefix RACK-EXPORT index \d+ permit 10\.61\.0\.20 32$"),
    SwitchKind(
        # NAPALM's ios driver sets `file prompt quiet` for its file operations and
        # removes it when it closes: not the tool's, not the test's concern.
        "cisco_ios", "simulators.ios:IosSimulator", {"minute": 30.0},
        "hostname {name}\nusername netops privilege 15 secret hunter2\n"
        "archive\n path flash:archive\ninterface GigabitEthernet1/0/1\n description uplink\n"
        " no switchport\n ip address 10.0.0.1 255.255.255.254\nip scp server enable\n"
        "ip prefix-list OTHER seq 5 permit 10.0.0.0/8\n",
        lambda ln: ln.startswith(("router bgp ", "file prompt"))
        or _not_other(ln, "ip prefix-list "),
        "bgp listen range 10.64.0.0/24 peer-group NODES",
        r"^\+ +ip prefix-list RACK-EXPORT seq \d+ permit 10\.61\.0\.20/32$"),
    SwitchKind(
        "cisco_nxos", "simulators.nxos:NxosSimulator", {"second": 0.05},
        "hostname {name}\nfeature lldp\nusername admin password 0 hunter2 role network-admin\n"
        "ip prefix-list OTHER seq 5 permit 10.0.0.0/8\ninterface Ethernet1/1\n"
        "  description uplink\n  ip address 10.0.0.1/31\n",
        lambda ln: ln in ("feature bgp", "feature bfd")
        or ln.startswith(("router bgp ", "bfd interval ", "route-map ALL-PATHS "))
        or _not_other(ln, "ip prefix-list "),
        "neighbor 10.64.0.0/24",
        r"^\+ +ip prefix-list RACK-EXPORT seq \d+ permit 10\.61\.0\.20/32$"),
)}
