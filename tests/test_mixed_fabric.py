"""The example fabric as users run it: every switch platform at once (Comware, VRP,
IOS-XE, NX-OS simulators; the FRR ToRs as real FRR boxes over SSH with real BGP
peers), planned and applied at concurrency 8 through the CLI and through Ansible;
and the same plan against closed ports, which fails per device, cleanly."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_run import playbook, recap
from conftest import LOGIN_PW, ROOT
from frr_box import FrrBox
from switch_kinds import SWITCH_KINDS

from fabric import pipeline
from fabric.cli.main import main
from fabric.deploy import credentials, rollout, targets

pytestmark = pytest.mark.lab

CORE_KEY = "Mixed-core-K3y-4410"


def _cli(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def example_switches(example_copy: Path, tmp_path: Path, monkeypatch):
    """One device per switch of the example: a simulator for each vendor switch, an
    FRR box for each FRR one; yields (model, {name: device}, CLI args)."""
    if os.geteuid() != 0:
        pytest.skip("FRR boxes need root (network namespaces)")
    monkeypatch.setenv("FABRIC_BGP_CORE_KEY", CORE_KEY)
    monkeypatch.setenv("FABRIC_BGP_NODES_KEY", CORE_KEY)     # the boxes take one key
    monkeypatch.setenv("FABRIC_USERNAME", "netops")
    monkeypatch.setenv("FABRIC_PASSWORD", LOGIN_PW)
    monkeypatch.setattr(rollout, "BACKUP_ROOT", tmp_path / "backups")
    intent = pipeline.build(example_copy).intent
    keys = {ref.placeholder: CORE_KEY for ref in intent.secrets.values()}
    devices: dict = {}
    try:
        for name, d in sorted(intent.devices.items()):
            if not d.is_switch:
                continue
            if d.platform == "frr":
                iface = {i.address.ip: i.address for i in d.interfaces}
                peers = [(iface[p.local_address], p.address, d.asn, p.remote_as,
                          keys.get(p.auth or ""), p.ttl_security)
                         for p in d.peers if not p.dynamic]
                devices[name] = FrrBox(name, peers, "netops", LOGIN_PW, tmp_path).start()
            else:
                devices[name] = SWITCH_KINDS[d.platform].start(name, "netops", LOGIN_PW)
        hosts, known = tmp_path / "hosts.yaml", tmp_path / "known_hosts"
        hosts.write_text("".join(f"{n}: {s.host}:{s.port}\n" for n, s in devices.items()))
        known.write_text("".join(s.known_hosts_line() + "\n" for s in devices.values()))
        yield example_copy, devices, ["--hosts", str(hosts), "--known-hosts", str(known)]
    finally:
        for dev in devices.values():
            dev.stop()


@pytest.mark.slow
def test_example_fabric_every_platform_at_concurrency_8(example_switches, capsys, tmp_path):
    model, devices, args = example_switches
    platforms = {n: pipeline.build(model).intent.devices[n].platform for n in devices}
    assert set(platforms.values()) == {"h3c_comware", "huawei_vrp", "cisco_ios",
                                       "cisco_nxos", "frr"}

    # The CLI on empty switches at concurrency 8: plan, the staged apply, re-plan.
    code, plan = _cli(capsys, "plan", str(model), "--concurrency", "8", *args)
    assert code == 3, plan
    assert {d["device"] for d in plan["devices"] if d["diff"]} == set(devices)
    code, report = _cli(capsys, "apply", str(model), "--target", "devices", "--concurrency",
                        "8", "--confirm-timer", "600", "--verify-wait", "60", *args)
    assert code == 0, report
    assert {o["device"]: o["status"] for o in report["devices"]} == \
        dict.fromkeys(devices, "applied")
    code, plan = _cli(capsys, "plan", str(model), "--concurrency", "8", *args)
    assert code == 0, [(d["device"], d["diff"]) for d in plan["devices"] if d["diff"]]

    # Then Ansible, on a change to every switch (the BGP timers): plan in check mode,
    # the staged apply; the CLI re-plans empty after it.
    text = model.read_text()
    model.write_text(re.sub(r"keepalive: \d+", "keepalive: 5",
                            re.sub(r"hold: \d+", "hold: 15", text)))
    extra = ["-e", f"fabric_hosts={args[1]}", "-e", f"fabric_known_hosts={args[3]}",
             "-e", "fabric_confirm_timer=600", "-e", "fabric_verify_wait=60",
             "-e", "fabric_concurrency=8"]
    code, out = playbook(tmp_path, model, "plan.yml", *extra, "--check")
    assert code == 0, out
    assert {h for h, r in recap(out).items() if r["changed"]} == set(devices), out
    code, out = playbook(tmp_path, model, "apply.yml", *extra)
    assert code == 0, out
    assert {h for h, r in recap(out).items() if r["changed"]} == set(devices), out
    assert LOGIN_PW not in out and CORE_KEY not in out
    code, plan = _cli(capsys, "plan", str(model), "--concurrency", "8", *args)
    assert code == 0 and not any(d["diff"] for d in plan["devices"]), plan
    # The FRR boxes ran the driver's commands over SSH and kept no candidate file.
    for name, dev in devices.items():
        if platforms[name] == "frr":
            assert any("frr-reload.py --reload" in c for c in dev.commands)
            assert not any(Path(p).exists() for p in dev.uploads)
    _getters_agree(model, devices, platforms)


def _shape(value: object) -> object:
    """The keys of a getter's result, all the way down."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else type(k).__name__: _shape(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return None


def _getters_agree(model: Path, devices: dict, platforms: dict[str, str]) -> None:
    """The FRR driver's NAPALM getters have the vendor drivers' shapes, and its peers
    are the intent's, up, with their router ids and what was sent to them."""
    intent = pipeline.build(model).intent
    target = targets.device_target(intent, credentials.load(None), {
        n: (d.host, d.port) for n, d in devices.items()}, None, accept_unknown=True)
    got = {}
    for name in ("r05-tor", "r01-tor", "r03-tor"):      # FRR, Comware, IOS-XE
        drv = target.connect(name)
        try:
            drv.open()
            got[name] = (drv.get_facts(), drv.get_bgp_neighbors(),
                         drv.get_bgp_neighbors_detail())
        finally:
            drv.close()
    frr, comware, ios = got["r05-tor"], got["r01-tor"], got["r03-tor"]
    assert _shape(frr[0]) == _shape(comware[0]) == _shape(ios[0])
    assert frr[0]["vendor"] == "FRRouting" and frr[0]["os_version"]
    peer_shape = {json.dumps(_shape(p), sort_keys=True) for g in (frr, comware, ios)
                  for p in g[1]["global"]["peers"].values()}
    assert len(peer_shape) == 1, peer_shape
    static = {str(p.address): p for p in intent.devices["r05-tor"].peers if not p.dynamic}
    peers = frr[1]["global"]["peers"]
    assert set(peers) == set(static)
    for addr, p in peers.items():
        assert p["is_up"] and p["remote_as"] == static[addr].remote_as
        assert p["remote_id"] == addr                   # the box's peers use it as router id
        assert p["address_family"]["ipv4"]["sent_prefixes"] == 0   # no nodes: no aggregate
    detail = [p for ps in frr[2]["global"].values() for p in ps]
    assert {p["remote_address"] for p in detail} == set(static)
    assert {frozenset(p) for p in detail} == \
        {frozenset(p) for g in (comware, ios) for ps in g[2]["global"].values() for p in ps}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv", [["plan"], ["apply", "--target", "devices", "--dry-run"]])
def test_closed_ports_fail_each_device_on_one_line(example_copy, tmp_path, argv):
    intent = pipeline.build(example_copy).intent
    switches = sorted(n for n, d in intent.devices.items() if d.is_switch)
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("".join(f"{n}: 127.0.0.1:{_closed_port()}\n" for n in switches))
    env = {**os.environ, "FABRIC_USERNAME": "netops", "FABRIC_PASSWORD": LOGIN_PW,
           "FABRIC_BGP_CORE_KEY": CORE_KEY, "FABRIC_BGP_NODES_KEY": CORE_KEY, "NO_COLOR": "1"}
    run = subprocess.run([sys.executable, "-m", "fabric.cli", *argv, str(example_copy),
                          "--hosts", str(hosts), "--concurrency", "8"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out
    errors = [ln for ln in out.splitlines() if ": error: " in ln]
    assert sorted(ln.split(":")[0] for ln in errors) == switches, out
    assert all("127.0.0.1" in ln for ln in errors), out
