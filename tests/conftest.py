"""Shared test helpers: the repository root and the example model."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory" / "fabric.yaml"
FIXTURES = ROOT / "tests" / "fixtures"


def render_model(model: Path, tmp: Path) -> Path:
    """Render `model` (copied into its own folder under tmp, state and all); returns build/."""
    from fabric.cli import main

    work = tmp / model.stem
    work.mkdir()
    shutil.copy(model, work / "fabric.yaml")
    assert main(["render", str(work / "fabric.yaml"), "--out", str(work / "build")]) == 0
    return work / "build"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A copy of the example model and its state in a tmp dir; returns the model path."""
    inv = tmp_path / "inventory"
    (inv / "state").mkdir(parents=True)
    (inv / "fabric.yaml").write_text(EXAMPLE.read_text())
    (inv / "state" / "ipam.yaml").write_text((EXAMPLE.parent / "state" / "ipam.yaml").read_text())
    return inv / "fabric.yaml"


LOGIN_PW = "Lg-9xQ-unique-login-pw"
CORE_KEY = "Core-K3y-unique-8812"


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
    # The platform's defaults: (keepalive, hold, GR restart, GR stale-path, listen limit)
    defaults: tuple[int, int, int, int, int]

    def start(self, name: str, username: str, password: str):
        module, cls = self.simulator.split(":")
        sim_cls = getattr(importlib.import_module(module), cls)
        return sim_cls(name, username, password, config=self.base.format(name=name),
                       **self.timer).start()

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
        r"^\+ +ip prefix-list RACK-EXPORT index \d+ permit 10\.61\.0\.20 32$",
        (60, 180, 150, 480, 250)),
    SwitchKind(
        "huawei_vrp", "simulators.vrp:VrpSimulator", {"second": 0.01},
        "#\nsysname {name}\n#\naaa\n local-user admin password irreversible-cipher hunter2\n"
        " local-user admin service-type ssh\n#\ninterface 10GE1/0/1\n description uplink\n"
        " ip address 10.0.0.1 255.255.255.254\n undo shutdown\n#\n"
        "ip ip-prefix OTHER index 10 permit 10.0.0.0 8\n#\nreturn\n",
        lambda ln: ln.startswith("bgp ") or ln == "bmp" or _not_other(ln, "ip ip-prefix "),
        "peer NODES listen-net 10.64.0.0 24",
        r"^\+ +ip ip-prefix RACK-EXPORT index \d+ permit 10\.61\.0\.20 32$",
        (60, 180, 150, 600, 100)),
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
        r"^\+ +ip prefix-list RACK-EXPORT seq \d+ permit 10\.61\.0\.20/32$",
        (60, 180, 120, 360, 100)),
    SwitchKind(
        "cisco_nxos", "simulators.nxos:NxosSimulator", {"second": 0.05},
        "hostname {name}\nfeature lldp\nusername admin password 0 hunter2 role network-admin\n"
        "ip prefix-list OTHER seq 5 permit 10.0.0.0/8\ninterface Ethernet1/1\n"
        "  description uplink\n  ip address 10.0.0.1/31\n",
        lambda ln: ln in ("feature bgp",) or ln.startswith("router bgp ")
        or _not_other(ln, "ip prefix-list "),
        "neighbor 10.64.0.0/24",
        r"^\+ +ip prefix-list RACK-EXPORT seq \d+ permit 10\.61\.0\.20/32$",
        (60, 180, 120, 300, 250)),
)}


def switch_fabric_for(kind: SwitchKind, tmp_path: Path, monkeypatch) -> Iterator[
        tuple[Path, dict, list[str]]]:
    """A generated fabric of `kind` switches (2 cores, 2 racks), one simulated switch
    per device; yields (model, {device: simulator}, CLI args to reach them)."""
    from fabric import rollout
    from fabric.starter import starter_model

    text = starter_model(2, 2, platform=kind.platform, name="t-sw")
    text = text.replace("defaults:\n", "secrets:\n  core: {env: FABRIC_CORE_KEY}\n\n"
                                       "defaults:\n  auth: {core_links: core}\n", 1)
    model = tmp_path / "fabric.yaml"
    model.write_text(text)
    monkeypatch.setenv("FABRIC_CORE_KEY", CORE_KEY)
    monkeypatch.setenv("FABRIC_USERNAME", "netops")
    monkeypatch.setenv("FABRIC_PASSWORD", LOGIN_PW)
    monkeypatch.setenv("FABRIC_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setattr(rollout, "BACKUP_ROOT", tmp_path / "backups")
    sims: dict = {}
    try:
        for n in ["core1", "core2", "r01-tor", "r02-tor"]:
            sims[n] = kind.start(n, "netops", LOGIN_PW)
        (tmp_path / "hosts.yaml").write_text(
            "".join(f"{n}: {s.host}:{s.port}\n" for n, s in sims.items()))
        (tmp_path / "known_hosts").write_text(
            "".join(s.known_hosts_line() + "\n" for s in sims.values()))
        yield model, sims, ["--hosts", str(tmp_path / "hosts.yaml"),
                            "--known-hosts", str(tmp_path / "known_hosts")]
    finally:
        for s in sims.values():
            s.stop()


@pytest.fixture
def comware_fabric(tmp_path: Path, monkeypatch):
    yield from switch_fabric_for(SWITCH_KINDS["h3c_comware"], tmp_path, monkeypatch)


@pytest.fixture(params=list(SWITCH_KINDS))
def switch_fabric(request, tmp_path: Path, monkeypatch):
    """`comware_fabric` for every switch platform with a simulator; yields the
    SwitchKind too."""
    kind = SWITCH_KINDS[request.param]
    for model, sims, args in switch_fabric_for(kind, tmp_path, monkeypatch):
        yield kind, model, sims, args
