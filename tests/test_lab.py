"""The lab end to end: real FRR and GoBGP speakers in network namespaces.

Needs root (network namespaces) and the Debian packages frr, gobgpd,
golang-github-osrg-gobgp-dev and iputils-ping; CI runs as root.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE

from fabric import pipeline
from fabric.cli.main import main
from fabric.lab import dataplane, lab, netns
from fabric.lab.deploy import apply_lab
from fabric.lab.lab import frr_instance, gobgp_service, lab_configs
from fabric.lab.layout import RUN_ROOT, netns_prefix, plan_lab
from fabric.lab.observe import collector
from fabric.lab.speakers import GobgpService
from fabric.platforms.gobgp.client import GobgpClient
from fabric.verify import check as verify

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root")]


def _cli(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def _namespaces(prefix: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def _processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def _model(tmp: Path, name: str, text: str) -> Path:
    (tmp / "state").mkdir(parents=True, exist_ok=True)
    model = tmp / "fabric.yaml"
    model.write_text(re.sub(r"^fabric: .*$", f"fabric: {name}", text, count=1, flags=re.M))
    return model


@pytest.fixture(scope="module")
def example_lab(tmp_path_factory: pytest.TempPathFactory):
    """The example fabric, up and applied, under a fabric name of its own."""
    tmp = tmp_path_factory.mktemp("lab")
    model = _model(tmp, "t-example", EXAMPLE.read_text())
    (tmp / "state" / "ipam.yaml").write_text(
        (EXAMPLE.parent / "state" / "ipam.yaml").read_text())
    intent = pipeline.build(model).intent
    lab.down("t-example")
    try:
        assert main(["lab", "up", str(model)]) == 0
        assert main(["apply", str(model)]) == 0
        yield model, intent
    finally:
        lab.down("t-example")


def _uptimes(intent, plan) -> dict[tuple[str, str], float]:
    obs = verify.collect(intent, collector(plan))
    return {(dev, addr): n.uptime for dev, o in obs.items() for addr, n in o.neighbors.items()}


def test_example_verifies_control_and_data_plane(example_lab, capsys) -> None:
    model, intent = example_lab
    code, report = _cli(capsys, "verify", str(model), "--wait", "60", "--dataplane")
    failed = [r for r in report["results"] if not r["ok"]]
    assert code == 0, failed
    checks = {r["check"] for r in report["results"]}
    assert checks == {"session", "graceful-restart", "bfd", "route", "no-off-rack", "ecmp",
                      "dataplane"}
    # BFD from both ends of every ToR–core session (every lab switch is FRR).
    bfd = [r for r in report["results"] if r["check"] == "bfd"]
    assert len(bfd) == 2 * sum(s.kind == "ebgp" for s in intent.sessions), bfd
    sessions = [r for r in report["results"] if r["check"] == "session"]
    assert len(sessions) == 2 * len(intent.sessions)   # every session, from both ends
    # Behind r06's route reflectors, its ToR holds the VIP of two r06 nodes through
    # both (add-path): one next hop per announcer, as verify expects.
    vip = next(r for r in report["results"] if r["check"] == "ecmp"
               and r["device"] == "r06-tor" and r["subject"] == "10.250.0.20/32")
    assert vip["ok"] and len(vip["seen"].split(", ")) == 2, vip
    probes = [r for r in report["results"] if r["check"] == "dataplane"]
    assert any("same rack" in r["expected"] for r in probes)
    assert any("(rack " in r["expected"] for r in probes)
    assert any("VIP" in r["expected"] for r in probes)


def test_reapply_changes_nothing(example_lab, capsys) -> None:
    model, intent = example_lab
    plan = plan_lab(intent)
    assert main(["verify", str(model), "--wait", "60"]) == 0
    before = _uptimes(intent, plan)
    code, report = _cli(capsys, "apply", str(model))
    assert code == 0
    assert {r["status"] for r in report["results"]} == {"unchanged"}
    assert all(r["detail"] in ("", "+0 -0 paths") for r in report["results"])
    after = _uptimes(intent, plan)
    assert set(after) == set(before)
    reset = [k for k in before if after[k] + 0.5 < before[k] or after[k] == 0]
    assert not reset, f"sessions reset by a no-op apply: {reset}"


def test_stopped_speaker_fails_verify_naming_the_session(example_lab, capsys) -> None:
    model, intent = example_lab
    plan = plan_lab(intent)
    svc = gobgp_service(plan, "r02-n2")
    svc.stop()
    try:
        code, report = _cli(capsys, "verify", str(model), "--wait", "5")
        assert code == 1
        failed = {(r["check"], r["device"], r["subject"]) for r in report["results"]
                  if not r["ok"]}
        assert ("session", "r02-tor", "10.2.2.12") in failed        # the ToR's end
        assert ("session", "r02-n2", "10.2.2.1") in failed          # the node's end
        assert not any(dev.startswith(("r01", "r03", "r04", "r05", "r06", "core"))
                       and check == "session" for check, dev, _ in failed)
        capsys.readouterr()
        assert main(["verify", str(model)]) == 1
        assert "FAIL  session" in capsys.readouterr().out
    finally:
        assert main(["apply", str(model)]) == 0      # the deployer starts it again
    assert main(["verify", str(model), "--wait", "60"]) == 0


def test_rejected_config_rolls_back_only_that_device(example_lab) -> None:
    _, intent = example_lab
    plan = plan_lab(intent)
    configs = lab_configs(intent, plan)
    running = frr_instance(plan, "r05-tor")
    from fabric.platforms.frr.driver import FrrDriver

    drv = FrrDriver.lab("r05-tor", plan.speaker("r05-tor").netns)
    before = drv.get_config()["running"]
    assert running.running()
    configs["r05-tor"] = configs["r05-tor"].replace(
        " bgp log-neighbor-changes\n", " bgp log-neighbor-changes\n neighbor 10.9.9.9 bogus\n")
    results = {r.device: r for r in apply_lab(intent, configs=configs)}
    assert not results["r05-tor"].ok and results["r05-tor"].status == "failed"
    assert "bogus" in results["r05-tor"].detail
    assert drv.get_config()["running"] == before
    others = {r.status for name, r in results.items() if name != "r05-tor"}
    assert others == {"unchanged"}


def test_graceful_restart_of_a_node(example_lab) -> None:
    model, intent = example_lab
    plan = plan_lab(intent)
    node, tor = "r01-n1", "r01-tor"
    block = str(intent.node_blocks[node][0])
    assert main(["verify", str(model), "--wait", "60", "--dataplane"]) == 0
    uptimes = _uptimes(intent, plan)
    svc = gobgp_service(plan, node)
    os.kill(svc.pid(), signal.SIGKILL)
    from fabric.platforms.frr.driver import FrrDriver

    drv = FrrDriver.lab(tor, plan.speaker(tor).netns)
    deadline = time.monotonic() + 20
    while not drv.routes().get(block, None) or not drv.routes()[block].stale:
        assert time.monotonic() < deadline, "the ToR never marked the node's routes stale"
        time.sleep(0.5)
    assert drv.routes()[block].nexthops == ("10.2.1.11",)     # kept, stale, same next hop
    probe = next(p for p in dataplane.probes(intent) if str(p.dst) ==
                 str(dataplane.pod_ip(intent, "r01-n3")))
    ok, seen = dataplane.ping(plan, probe)
    assert ok, f"pod unreachable while its speaker is down: {seen}"
    # Back with -r: the deployer sees the config in place and restarts gracefully.
    results = {r.device: r for r in apply_lab(intent)}
    assert results[node].status == "restarted"
    deadline = time.monotonic() + 30
    while (r := drv.routes().get(block)) is None or r.stale:
        assert time.monotonic() < deadline, "routes never refreshed after the restart"
        time.sleep(0.5)
    assert main(["verify", str(model), "--wait", "60"]) == 0
    after = _uptimes(intent, plan)
    flapped = [k for k in uptimes if node not in k[0] and k[1] != "10.2.1.11"
               and after.get(k, 0) + 0.5 < uptimes[k]]
    assert not flapped, f"other sessions flapped: {flapped}"


def test_graceful_restart_of_a_tor(example_lab) -> None:
    model, intent = example_lab
    plan = plan_lab(intent)
    tor, node, peer = "r03-tor", "r03-n1", "r03-n2"
    peer_block = str(intent.node_blocks[peer][0])
    inst = frr_instance(plan, tor)
    inst.stop_daemon("bgpd", signal.SIGKILL)
    from fabric.platforms.gobgp.client import GobgpClient

    with GobgpClient(gobgp_service(plan, node).socket) as c:
        deadline = time.monotonic() + 20
        while True:
            r = c.routes().get(peer_block)
            assert r is not None, "the node dropped its rack peer's route during the restart"
            if r.stale:
                break
            assert time.monotonic() < deadline, "routes never marked stale"
            time.sleep(0.3)
        inst.start()                         # bgpd back with its saved config, as on a switch
        assert {r.device: r for r in apply_lab(intent)}[tor].status == "unchanged"
        deadline = time.monotonic() + 40
        while (r := c.routes().get(peer_block)) is None or r.stale:
            assert time.monotonic() < deadline, "routes never refreshed after the ToR restart"
            time.sleep(0.5)
    assert main(["verify", str(model), "--wait", "60"]) == 0


def test_generated_fabric_and_clean_teardown(tmp_path: Path, capsys) -> None:
    model = tmp_path / "fabric.yaml"
    assert main(["init", "--racks", "2", "--nodes-per-rack", "3", "--name", "t-gen",
                 "--out", str(model)]) == 0
    prefix = netns_prefix("t-gen")
    lab.down("t-gen")
    try:
        assert main(["lab", "up", str(model)]) == 0
        assert main(["lab", "up", str(model)]) == 0          # up again: reconciles, no error
        assert main(["apply", str(model)]) == 0
        code, report = _cli(capsys, "verify", str(model), "--wait", "60", "--dataplane")
        assert code == 0, [r for r in report["results"] if not r["ok"]]
        code, status = _cli(capsys, "lab", "status", str(model))
        assert all(d["running"] and d["established"] == d["neighbors"] > 0
                   for d in status["devices"])
    finally:
        assert main(["lab", "down", str(model)]) == 0
        assert main(["lab", "down", str(model)]) == 0        # twice is fine
    assert _namespaces(prefix) == []
    assert _processes(str(RUN_ROOT / "t-gen")) == []
    assert _processes(prefix) == []
    assert not (RUN_ROOT / "t-gen").exists()
    assert not any(p.name.startswith(prefix) for p in Path("/etc/frr").iterdir())


def test_failed_up_cleans_up(tmp_path: Path, monkeypatch) -> None:
    model = tmp_path / "fabric.yaml"
    assert main(["init", "--racks", "1", "--nodes-per-rack", "2", "--name", "t-fail",
                 "--out", str(model)]) == 0
    from fabric.lab import netns

    real = netns.sysctl

    def broken(ns: str, values: dict[str, str]) -> None:
        if ns.endswith("-n2"):
            raise netns.LabError(f"sysctl in {ns}: injected failure")
        real(ns, values)

    monkeypatch.setattr(netns, "sysctl", broken)
    try:
        assert main(["lab", "up", str(model)]) == 1
    finally:
        lab.down("t-fail")
    assert _namespaces(netns_prefix("t-fail")) == []
    assert not (RUN_ROOT / "t-fail").exists()


def test_plan_of_a_vip_move_shows_both_tors_and_the_cores(example_lab, capsys) -> None:
    """A VIP moved from a node of r06 to one of r04: r06's ToR stops exporting it and
    accepting it from its nodes, r04's starts, the cores accept it from r04's ToR
    instead of r06's, the old announcer stops announcing it and the new one starts;
    no other switch or node changes."""
    model, _ = example_lab
    assert main(["apply", str(model)]) == 0
    code, report = _cli(capsys, "plan", str(model), "--target", "lab")
    assert code == 0 and report["summary"].startswith(f"{len(report['devices'])} unchanged")
    changed = model.parent / "changed.yaml"
    changed.write_text(model.read_text().replace(
        "  - {address: 10.250.0.11, announcers: [r03-n1, r06-n3]}",
        "  - {address: 10.250.0.11, announcers: [r03-n1, r04-n2]}"))
    (model.parent / "state").mkdir(exist_ok=True)
    code, report = _cli(capsys, "plan", str(changed), "--target", "lab",
                        "--state", str(model.parent / "state"))
    assert code == 3
    touched = {d["device"]: d["diff"] for d in report["devices"] if d["diff"]}
    # The two announcers, and r06's route reflectors (their RACK-ROUTES loses it).
    nodes = {"r04-n2", "r06-n3", "r06-n1", "r06-n2"}
    assert set(touched) == {"r04-tor", "r06-tor", "core1", "core2", *nodes}, touched
    assert "+ announce 10.250.0.11/32" in touched["r04-n2"].splitlines()
    assert "- announce 10.250.0.11/32" in touched["r06-n3"].splitlines()
    for rr in ("r06-n1", "r06-n2"):
        assert '-     ip-prefix = "10.250.0.11/32"' in touched[rr].splitlines(), touched[rr]

    def has(diff: str, sign: str, plist: str) -> bool:
        # frr-reload removes a prefix-list entry with a `no` line among those it adds.
        form = r"\+ ip" if sign == "+" else r"(?:- ip|\+ no ip)"
        return bool(re.search(rf"^{form} prefix-list {plist} seq \d+ permit "
                              r"10\.250\.0\.11/32$", diff, re.M))
    for plist in ("RACK-EXPORT", "RACK-ROUTES"):
        assert has(touched["r04-tor"], "+", plist), touched["r04-tor"]
        assert has(touched["r06-tor"], "-", plist), touched["r06-tor"]
    for core in ("core1", "core2"):
        assert has(touched[core], "+", "FROM-R04") and has(touched[core], "-", "FROM-R06"), \
            touched[core]
    capsys.readouterr()
    assert main(["plan", str(changed), "--target", "lab", "--state",
                 str(model.parent / "state"), "--markdown"]) == 3
    md = capsys.readouterr().out
    assert "| r04-tor |" in md and "| r06-tor |" in md and "```diff" in md


def test_staged_rollout_rolls_back_a_device_whose_sessions_fail(example_lab, tmp_path,
                                                                 monkeypatch) -> None:
    """The device rollout (lock, canary, batches, cores, verify, rollback) on real FRR."""
    from fabric.deploy import rollout
    from fabric.deploy.lock import LockHeld
    from fabric.lab import target as targets
    from fabric.platforms.frr.driver import FrrDriver

    monkeypatch.setattr(rollout, "BACKUP_ROOT", tmp_path / "backups")
    model, intent = example_lab
    assert main(["apply", str(model)]) == 0
    assert main(["verify", str(model), "--wait", "60"]) == 0
    target = targets.lab_target(intent)
    switches = [n for n, d in intent.devices.items() if d.is_switch]
    lock = tmp_path / "apply.lock"
    assert [s for s, _ in rollout.stages(intent, switches, None)] == ["canary", "racks", "cores"]
    assert rollout.stages(intent, switches, None)[0][1] == ["r01-tor"]

    # Nothing to change: every device unchanged, lock released.
    report = rollout.rollout(intent, target, switches, lock, verify_wait=30)
    assert report.ok and {o.status for o in report.outcomes} == {"unchanged"}
    assert not lock.exists()

    # The canary's change breaks its core sessions (wrong peer AS): it is rolled back,
    # the rollout stops, and nothing else is touched.
    drv = FrrDriver.lab("r01-tor", target.connect("r01-tor").pathspace)
    before = drv.get_config()["running"]
    target.configs["r01-tor"] = target.configs["r01-tor"].replace(
        "remote-as 65001", "remote-as 65009")
    report = rollout.rollout(intent, target, switches, lock, verify_wait=12)
    by = {o.device: o for o in report.outcomes}
    assert not report.ok and report.stopped_at == "canary"
    assert by["r01-tor"].status == "rolled-back", by["r01-tor"]
    assert "10.255.0.0 (AS 65001)" in by["r01-tor"].detail
    assert Path(by["r01-tor"].backup).read_text() == before
    assert {o.status for d, o in by.items() if d != "r01-tor"} == {"skipped"}
    assert drv.get_config()["running"] == before
    assert main(["verify", str(model), "--wait", "60"]) == 0

    # A second apply while one runs is refused, naming the holder.
    with rollout.ApplyLock(lock), pytest.raises(LockHeld, match="another apply is running"):
        rollout.rollout(intent, target, switches, lock)


def test_ansible_plays_on_the_lab(example_lab, tmp_path: Path) -> None:
    """The playbooks on the lab's FRR switches: plan in check mode, a one-rack change
    planned and applied on that rack's ToR only, then back, and verify.yml."""
    from ansible_run import playbook, recap

    model, intent = example_lab
    assert main(["apply", str(model)]) == 0
    switches = {n for n, d in intent.devices.items() if d.is_switch}
    lab_vars = ("-e", "fabric_target=lab", "-e", "fabric_verify_wait=30")

    code, out = playbook(tmp_path, model, "plan.yml", *lab_vars, "--check")
    rows = recap(out)
    assert code == 0 and set(rows) == switches, out
    assert not any(r["changed"] for r in rows.values()), out

    changed = model.parent / "ansible-changed.yaml"
    changed.write_text(model.read_text().replace(
        "  - {address: 10.250.0.11, announcers: [r03-n1, r06-n3]}",
        "  - {address: 10.250.0.11, announcers: [r03-n1, r06-n3]}\n"
        "  - {address: 10.250.0.12, announcers: [r04-n2]}"))
    code, out = playbook(tmp_path, changed, "plan.yml", *lab_vars, "--check", "--diff")
    assert code == 0, out
    # The rack's ToR exports it; the cores accept it from that ToR only.
    touched = {"r04-tor", "core1", "core2"}
    assert {h for h, r in recap(out).items() if r["changed"]} == touched, out
    assert "+ ip prefix-list RACK-EXPORT seq 20 permit 10.250.0.12/32" in out
    assert "+ ip prefix-list FROM-R04 seq 20 permit 10.250.0.12/32" in out

    drv = targets_driver(intent, "r04-tor")
    for text, want in ((changed, True), (model, False)):
        code, out = playbook(tmp_path, text, "apply.yml", *lab_vars)
        rows = recap(out)
        assert code == 0 and {h for h, r in rows.items() if r["changed"]} == touched, out
        running = drv.get_config()["running"]
        assert ("permit 10.250.0.12/32" in running) is want

    code, out = playbook(tmp_path, model, "verify.yml", "-e", f"fabric_model={model}",
                         "-e", "fabric_verify_wait=60")
    assert code == 0 and recap(out)["localhost"]["failed"] == 0, out


def targets_driver(intent, device: str):
    from fabric.lab import target as targets

    return targets.lab_target(intent).connect(device)


def _usage_file(path: Path, used: dict[str, list[str]]) -> Path:
    items = [{"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": {"name": n},
              "status": {"ipam": {"used": {a: {"owner": f"default/pod-{i}"}
                                           for i, a in enumerate(addrs)}}}}
             for n, addrs in used.items()]
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def _routed_at(intent, plan, prefix: str, want: set[str], wait: float = 60) -> set[str]:
    """The speakers (switches and nodes) whose BGP table holds `prefix`, once they are
    `want` or after `wait` seconds (a node's graceful restart defers its updates)."""
    end = time.monotonic() + wait
    while True:
        obs = verify.collect(intent, collector(plan))
        seen = {d for d, o in obs.items() if prefix in o.routes}
        if seen == want or time.monotonic() > end:
            return seen
        time.sleep(1)


def test_a_grown_block_is_routed_and_a_released_one_is_not(example_lab, tmp_path, capsys) -> None:
    """A node reported full grows a block: after apply it is announced, at its ToR
    and the rack's other nodes (the cores hold the rack's aggregate, which covers it),
    and a pod address in it answers from another rack. Reported empty
    for the grace period it is withdrawn everywhere and stops answering; after
    another it returns to the rack pool and the state is as before."""
    from ipaddress import IPv4Network

    model, _ = example_lab
    state = model.parent / "state" / "ipam.yaml"
    before = state.read_text()
    node, far = "r01-n1", "r04-n1"
    [block] = pipeline.build(model).intent.node_blocks[node]
    hosts = [str(a) for a in block]
    t0 = "2026-12-01T12:00:00+00:00"

    def rebalance(used: list[str], now: str) -> list[dict]:
        code, out = _cli(capsys, "ipam", "rebalance", str(model), "--now", now, "--out",
                         str(tmp_path / "build"), "--usage",
                         str(_usage_file(tmp_path / "usage.json", {node: used})))
        assert code == 0, out
        return out["steps"]

    [step] = rebalance(hosts[:60], t0)
    assert step["action"] == "grow"
    grown = IPv4Network(step["block"])
    pod = grown.network_address + 1
    assert main(["apply", str(model)]) == 0
    intent = pipeline.build(model).intent
    plan = plan_lab(intent)
    ns = plan.speaker(node).netns
    try:
        assert intent.node_blocks[node] == (block, grown)
        rack = intent.racks["r01"]
        assert grown.subnet_of(rack.pool)
        here = {"r01-tor", *rack.nodes}
        assert _routed_at(intent, plan, str(grown), here) == here
        assert set(intent.cores) <= _routed_at(intent, plan, str(rack.pool), set(intent.cores))
        # Cilium would give a pod this address; here it sits on the node's lo.
        netns.exec_in(ns, ["ip", "addr", "add", f"{pod}/32", "dev", "lo"])
        dataplane.install_routes(intent, plan)
        probe = dataplane.Probe(far, dataplane.pod_ip(intent, far), pod, "pod in the new block")
        ok, seen = dataplane.ping(plan, probe)
        assert ok, seen

        # The pods left the new block 16 minutes ago: withdrawn, no longer routed.
        assert rebalance(hosts[:10], t0) == []          # empty, but not for long enough
        [step] = rebalance(hosts[:10], "2026-12-01T12:16:00+00:00")
        assert (step["action"], step["block"]) == ("withdraw", str(grown))
        assert main(["apply", str(model)]) == 0
        intent = pipeline.build(model).intent
        assert intent.node_blocks[node] == (block,)
        assert _routed_at(intent, plan, str(grown), set()) == set()
        ok, seen = dataplane.ping(plan, probe)
        assert not ok, f"the withdrawn block still answers: {seen}"
        # Another grace later it goes back to the rack pool: the state is as before.
        [step] = rebalance(hosts[:10], "2026-12-01T12:32:00+00:00")
        assert (step["action"], step["block"]) == ("return", str(grown))
        assert yaml.safe_load(state.read_text()) == yaml.safe_load(before)
    finally:
        netns.exec_in(ns, ["ip", "addr", "del", f"{pod}/32", "dev", "lo"])
        state.write_text(before)
        assert main(["apply", str(model)]) == 0


# --- a rogue speaker in a rack ------------------------------------------------------
# GoBGP in the rack's AS where an attacker would put it: a spare host cabled into the
# rack's /24 (it finds the ToR's listen range), or a compromised node (the only way
# into a rack whose node route reflectors peer with their clients statically). It
# announces what a node never may.

def _rogue_config(asn: int, me: str, peer: str, gtsm: bool, key: str | None) -> str:
    ttl = ("  [neighbors.ttl-security.config]\n    enabled = true\n    ttl-min = 255\n"
           if gtsm else "")
    auth = f'    auth-password = "{key}"\n' if key else ""
    return (f'[global.config]\n  as = {asn}\n  router-id = "{me}"\n  port = -1\n\n'
            f'[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "{peer}"\n'
            f'    peer-as = {asn}\n{auth}  [neighbors.timers.config]\n    connect-retry = 2\n'
            f'    hold-time = 9\n    keepalive-interval = 3\n'
            f'  [neighbors.transport.config]\n    local-address = "{me}"\n{ttl}'
            '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
            '      afi-safi-name = "ipv4-unicast"\n')


class Rogue:
    """The rogue's gobgpd: in a namespace of its own cabled into the rack's bridge, or
    in a node's namespace (whose own gobgpd the caller stopped)."""

    def __init__(self, plan, intent, rack: str, peer: str, node: str | None = None):
        r = intent.racks[rack]
        self.own_ns = node is None
        self.ns = f"{plan.prefix}rogue-{rack}" if node is None else plan.speaker(node).netns
        self.tor_ns = plan.speaker(r.tor).netns
        self.ip = str(r.subnet.network_address + 200 if node is None else
                      next(i.address.ip for i in intent.device(node).interfaces
                           if i.kind == "rack"))
        self.asn, self.peer, self.len = r.asn, peer, r.subnet.prefixlen
        self.svc = GobgpService(self.ns, plan.run_dir / f"rogue-{rack}")

    def __enter__(self) -> Rogue:
        if not self.own_ns:
            return self
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        try:
            for ns, lines in (
                    (self.tor_ns, ["link add rogue0 type veth peer name eth0 netns " + self.ns,
                                   "link set rogue0 master rack", "link set rogue0 up"]),
                    (self.ns, ["link set lo up", "link set eth0 up",
                               f"addr add {self.ip}/{self.len} dev eth0"])):
                subprocess.run(["ip", "-n", ns, "-batch", "-"], check=True, text=True,
                               input="\n".join(lines) + "\n")
        except BaseException:
            self.__exit__()
            raise
        return self

    def start(self, gtsm: bool, key: str | None) -> None:
        self.svc.stop(kill=True)
        self.svc.dir.mkdir(parents=True, exist_ok=True)
        self.svc.config_path.write_text(_rogue_config(self.asn, self.ip, self.peer, gtsm, key))
        self.svc.start()

    def client(self):
        from fabric.platforms.gobgp.client import GobgpClient
        c = GobgpClient(self.svc.socket, timeout=10)
        c.wait_ready(time.monotonic() + 15)
        return c

    def established(self) -> bool:
        with self.client() as c:
            return any(n.address == self.peer and n.established for n in c.neighbors())

    def longest_session(self, seconds: float) -> float:
        """The longest uptime its session reaches while watched for `seconds`."""
        longest = 0.0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.client() as c:
                longest = max([longest, *(n.uptime for n in c.neighbors() if n.established)])
            time.sleep(0.5)
        return longest

    def __exit__(self, *exc: object) -> None:
        self.svc.stop(kill=True)
        if self.own_ns:      # the veth goes with the namespace of either end
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def _wait(what: str, ok, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(0.3)


def _ribs(intent, plan, devices) -> dict[str, dict[str, tuple[str, ...]]]:
    collect = collector(plan)
    return {d: {p: r.nexthops for p, r in collect(d)[1].items()} for d in devices}


def _free_blocks(intent, rack: str) -> list:
    r = intent.racks[rack]
    held = {b for n in r.nodes for b in intent.node_blocks.get(n, ())}
    return [b for b in r.pool.subnets(new_prefix=intent.pools.block_prefix_length)
            if b not in held]


def _dynamic_peers(plan, tor: str) -> set[str]:
    from fabric.platforms.frr.driver import FrrDriver
    drv = FrrDriver.lab(tor, plan.speaker(tor).netns, timeout=15)
    data = json.loads(drv.vtysh("show bgp vrf default ipv4 unicast summary json") or "{}")
    return {a for a, p in data.get("peers", {}).items() if p.get("dynamicPeer")}


@pytest.mark.slow
@pytest.mark.parametrize("rack, listener, node", [("r05", "r05-tor", None),
                                                  ("r06", "r06-n1", "r06-n4")])
def test_a_rogue_speaker_in_a_rack_is_contained(example_lab, rack, listener, node) -> None:
    """Refused at the ToR or RR: a default, another rack's block, an aggregate of the
    rack's pool, a prefix longer than a block, another rack's VIP, an unassigned VIP
    and a /32 outside every pool. None of them reaches a core, another rack or a
    rack-mate; the one thing a rack host with the key may still announce (an exact
    free block of its own pool: the trust model's limit) is the control that shows
    the session carries routes at all. Without the rack's key, or without TTL 255,
    it gets no session that lasts; over its prefix limit it is cut, and is back by
    itself once it stops (a static peer of a GoBGP RR once it is enabled again:
    GoBGP 3.10 has no restart timer)."""
    model, intent = example_lab
    assert main(["verify", str(model), "--wait", "60"]) == 0    # converged: a baseline
    plan = plan_lab(intent)
    r = intent.racks[rack]
    peer = str(r.gateway) if listener == r.tor else str(next(
        i.address.ip for i in intent.device(listener).interfaces if i.kind == "rack"))
    listens = next(p for p in intent.device(listener).peers
                   if p.name in ("NODES", node or ""))
    assert listens.ttl_security and listens.auth, "the example's r05 and r06 have both"
    key = lab.lab_secret_values(intent, plan)[listens.auth]
    others = [d for d in intent.devices if d not in (listener, node)]
    other_rack = next(n for n in intent.racks if n != rack)
    foreign_vip = next(str(v.address) for v in intent.vips
                       if not any(intent.device(a).rack == rack for a in v.announcers))
    control = str(_free_blocks(intent, rack)[0])
    half = next(r.pool.subnets(prefixlen_diff=1))
    longer = next(_free_blocks(intent, rack)[1].subnets(prefixlen_diff=1))
    bad = ["0.0.0.0/0", str(intent.node_blocks[intent.racks[other_rack].nodes[0]][0]),
           str(r.pool), str(half), str(longer), f"{foreign_vip}/32", "10.250.0.99/32",
           "198.51.100.7/32"]
    # What may change: the control and, for a compromised node, its own blocks and
    # VIPs (gone with its real gobgpd).
    allowed = {control, *(str(b) for b in intent.node_blocks.get(node or "", ())),
               *(f"{v.address}/32" for v in intent.vips if node in v.announcers)}
    before = _ribs(intent, plan, others)
    if node:
        gobgp_service(plan, node).stop(kill=True)
    hold = intent.device(listener).hold
    try:
        with Rogue(plan, intent, rack, peer, node) as rogue:
            # Without the rack's key: no session, and on a listen range not even a
            # dynamic peer, so no slot of the listen limit either.
            rogue.start(gtsm=True, key=None)
            assert rogue.longest_session(3 * hold) == 0
            if listener == r.tor:
                assert rogue.ip not in _dynamic_peers(plan, listener)
            rogue.start(gtsm=True, key=key)
            _wait("the rogue's session", rogue.established, 90)
            with rogue.client() as c:
                for p in [*bad, control]:
                    c.add_path(p, rogue.ip)

            def listener_has_control() -> bool:
                return control in _ribs(intent, plan, [listener])[listener]
            _wait("the control block at the listener", listener_has_control, 20)
            mates = [n for n in r.nodes if n not in (listener, node, *r.route_reflectors)]
            _wait("the control block at a rack-mate",
                  lambda: control in _ribs(intent, plan, mates[:1])[mates[0]], 20)
            time.sleep(2)
            at_listener = _ribs(intent, plan, [listener])[listener]
            from_rogue = {p for p, hops in at_listener.items() if rogue.ip in hops}
            # (A compromised node's address also carries its own blocks, kept by GR.)
            assert control in from_rogue and from_rogue <= allowed, from_rogue
            after = _ribs(intent, plan, others)
            changed = {d: sorted(set(after[d].items()) ^ set(before[d].items()))
                       for d in others if after[d] != before[d]}
            # Only inside the rack (its nodes; with route reflectors, the other RR and
            # the ToR too): no core and no other rack changed.
            assert changed and all(intent.device(d).rack == rack for d in changed), changed
            assert all({p for p, _ in diff} <= allowed for diff in changed.values()), changed

            # Over the limit: cut; once it announces no more than it may, back by
            # itself (no one clears it by hand). Well over: FRR 8.4 cuts only once a
            # prefix arrives with the count already above the limit.
            extra = [str(b) for b in
                     _free_blocks(intent, rack)[2:4 + listens.max_prefixes]]
            with rogue.client() as c:
                for p in extra:
                    c.add_path(p, rogue.ip)
            _wait("the cut over max-prefix", lambda: not rogue.established(), 30)
            with rogue.client() as c:
                for p in extra:
                    c.delete_path(p, rogue.ip)
            cut = time.monotonic()
            restart = intent.device(listener).max_prefix_restart * 60
            if node is not None:
                # GoBGP 3.10 shuts a static peer over its limit administratively (PFX_CT)
                # and has no restart timer: it is back only once enabled again.
                with GobgpClient(gobgp_service(plan, listener).socket) as c:
                    _wait("the RR's prefix-limit shutdown", lambda: rogue.ip in c.over_limit(),
                          10)
                    assert not rogue.established()
                    c.enable(rogue.ip)
            _wait("the session back after the cut", rogue.established, restart + 30)
            print(f"{listener}: the rogue's session back {time.monotonic() - cut:.0f}s "
                  f"after the cut (restart interval {restart}s)")

            # Without TTL 255 (GTSM) it cannot keep a session with a GoBGP listener:
            # GoBGP sets IP_MINTTL once it has accepted a connection, so the OPEN
            # already queued gets through, then the hold timer cuts it, every time.
            # FRR 8.4 (the lab's) sets no TTL option at all on a listen-range peer's
            # socket, fixed upstream by FRRouting/frr#15121 (2024): see README.
            if plan.speaker(listener).kind == "gobgp":
                rogue.start(gtsm=False, key=key)
                longest = rogue.longest_session(3 * hold)
                assert longest <= hold + 1, f"an off-TTL session held {longest:.0f}s"
    finally:
        if node:     # the real node again, as apply leaves it
            # GoBGP leaves its own connection to an off-TTL peer in OpenSent until
            # its OpenSent hold timer runs out (240 s, pkg/server/fsm.go), and the real
            # node waits meanwhile: start the listener afresh rather than wait.
            gobgp_service(plan, listener).stop()
            assert main(["apply", str(model)]) == 0
            assert main(["verify", str(model), "--wait", "60"]) == 0


@contextmanager
def _silent(ns: str, ifname: str):
    """Every packet in or out of `ifname` dropped, the link left up: only BFD can tell.
    (nftables: this kernel has no netem.)"""
    rules = (f"table inet silent {{\n"
             f" chain pre {{ type filter hook prerouting priority -300; "
             f"iifname \"{ifname}\" drop; }}\n"
             f" chain post {{ type filter hook postrouting priority 300; "
             f"oifname \"{ifname}\" drop; }}\n}}\n")
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules, text=True,
                   check=True)
    try:
        yield
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "silent"],
                       check=True)


def _bfd_peers(plan, switch: str) -> dict[str, str]:
    from fabric.platforms.frr.driver import FrrDriver
    drv = FrrDriver.lab(switch, plan.speaker(switch).netns, timeout=15)
    return {p["peer"]: p["status"] for p in json.loads(drv.vtysh("show bfd peers json") or "[]")}


def test_bfd_moves_traffic_off_a_silent_link_within_a_second(example_lab, capsys) -> None:
    """BFD is up on every ToR–core link, from both ends. A link that drops every packet
    while it stays up is left in well under a second (the hold time is 9 s): a ping
    every 10 ms across it, from a pod to another rack's pod, loses under 1 s."""
    model, intent = example_lab
    assert main(["verify", str(model), "--wait", "60", "--dataplane"]) == 0  # node routes
    plan = plan_lab(intent)
    for name, d in intent.devices.items():
        want = {str(p.address) for p in d.peers if p.bfd}
        if d.is_switch:
            assert want == {str(p.address) for p in d.peers
                            if p.address and p.name in intent.devices
                            and {d.role, intent.devices[p.name].role} == {"tor", "core"}}
            _wait(f"BFD up on {name}",
                  lambda n=name, w=want: all(_bfd_peers(plan, n).get(a) == "up" for a in w), 30)
    rack = intent.racks["r01"]
    src_node, dst_node = rack.nodes[0], intent.racks["r06"].nodes[-1]
    src, dst = dataplane.pod_ip(intent, src_node), dataplane.pod_ip(intent, dst_node)
    tor_ns = plan.speaker(rack.tor).netns
    # The uplink this flow hashes to (L3 hash: the same for every packet of the ping).
    route = subprocess.run(["ip", "-n", tor_ns, "route", "get", str(dst), "from", str(src),
                            "iif", "rack"], capture_output=True, text=True, check=True).stdout
    uplink = re.search(r" dev (\S+)", route)
    assert uplink, route
    ping = subprocess.Popen(
        ["ip", "netns", "exec", plan.speaker(src_node).netns, "ping", "-n", "-q", "-i", "0.01",
         "-w", "6", "-I", str(src), str(dst)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        with _silent(tor_ns, uplink.group(1)):
            out, _ = ping.communicate(timeout=30)
            stats = re.search(r"(\d+) packets transmitted, (\d+) received.*time (\d+)ms", out)
            assert stats, out
            sent, got, ms = (int(x) for x in stats.groups())
            lost_ms = (sent - got) * ms / sent
            with capsys.disabled():      # the measurement, for the README and the note
                print(f"BFD: {sent - got} of {sent} pings lost across the silent link, "
                      f"about {lost_ms:.0f} ms of traffic")
            assert sent - got > 0 and lost_ms < 1000, out
            seen = _bfd_peers(plan, rack.tor)
            assert [s for s in seen.values() if s == "down"] == ["down"], seen
            # verify names it: the ToR's session over the silent link is down.
            silent = next(a for a, st in seen.items() if st == "down")
            code, report = _cli(capsys, "verify", str(model))
            down = {(r["check"], r["device"], r["subject"]) for r in report["results"]
                    if not r["ok"]}
            assert code == 1 and ("session", rack.tor, silent) in down, down
    finally:
        if ping.poll() is None:
            ping.kill()
    assert main(["verify", str(model), "--wait", "60"]) == 0     # the link back, and BGP


def test_node_key_rotation(example_lab, tmp_path, monkeypatch) -> None:
    """The documented rotation: change the secret's value and apply; every session
    comes back with the new key (graceful restart keeps the routes meanwhile). Also
    taking the key away and giving it back, with the ToR changed before its nodes
    (as a switch-first rollout on devices does) and after them (the lab's order)."""
    from fabric.platforms.frr.driver import FrrDriver

    model, intent = example_lab
    plan = plan_lab(intent)
    unkeyed = model.parent / "unkeyed.yaml"
    unkeyed.write_text(model.read_text().replace(
        "    nodes: bgp_nodes           # MD5 on node sessions (a rack may name its own key)\n",
        ""))
    assert "bgp_nodes" not in unkeyed.read_text().split("secrets:")[0]

    def apply_and_verify(path: Path) -> None:
        assert main(["apply", str(path)]) == 0
        assert main(["verify", str(path), "--wait", "90"]) == 0

    def tor_first(path: Path, tor: str) -> None:
        drv = FrrDriver.lab(tor, plan.speaker(tor).netns)
        new = lab_configs(pipeline.build(path).intent, plan)[tor]
        drv.open()
        try:
            drv.load_replace_candidate(config=new)
            assert drv.compare_config()
            drv.commit_config()
        finally:
            drv.close()

    try:
        for key in ("rotation-key-1", "rotation-key-2"):
            monkeypatch.setenv("FABRIC_BGP_NODES_KEY", key)
            apply_and_verify(model)
            running = FrrDriver.lab("r05-tor", plan.speaker("r05-tor").netns)
            running.open()
            try:
                assert f"neighbor NODES password {key}" in running.get_config()["running"]
            finally:
                running.close()
        tor_first(unkeyed, "r05-tor")        # the key gone from the ToR first
        apply_and_verify(unkeyed)
        monkeypatch.setenv("FABRIC_BGP_NODES_KEY", "rotation-key-3")
        tor_first(model, "r05-tor")          # and back, the ToR first again
        apply_and_verify(model)
    finally:
        monkeypatch.delenv("FABRIC_BGP_NODES_KEY", raising=False)
        apply_and_verify(model)              # the lab's own key again, for later tests


def test_key_rotation_through_the_staged_rollout(example_lab, tmp_path, monkeypatch) -> None:
    """`apply --target devices` rotates keys too: a re-keyed session is down from one
    end's commit until the other end has the key (a core in the last stage, a node
    after the switches), so it is not held against the change. The core key: every
    ToR and core applied, none rolled back, every core session up at the end. The
    node key: the switches report which sessions wait for their nodes; then the
    nodes, and everything verifies."""
    from fabric.deploy import rollout
    from fabric.lab import target as targets

    monkeypatch.setattr(rollout, "BACKUP_ROOT", tmp_path / "backups")
    model, intent = example_lab
    switches = [n for n, d in intent.devices.items() if d.is_switch]
    lock = tmp_path / "apply.lock"
    try:
        assert main(["apply", str(model)]) == 0
        monkeypatch.setenv("FABRIC_BGP_CORE_KEY", "rolled-core-key")
        report = rollout.rollout(intent, targets.lab_target(intent), switches, lock,
                                 verify_wait=30)
        assert report.ok, report.as_dict()
        assert {o.device for o in report.outcomes if o.status == "applied"} == set(switches)
        assert not report.awaiting_nodes
        assert main(["verify", str(model), "--wait", "60"]) == 0

        monkeypatch.setenv("FABRIC_BGP_NODES_KEY", "rolled-node-key")
        report = rollout.rollout(intent, targets.lab_target(intent), switches, lock,
                                 verify_wait=30)
        assert report.ok, report.as_dict()
        tors = {r.tor for r in intent.racks.values()}
        assert set(report.awaiting_nodes) == tors, report.awaiting_nodes
        assert report.awaiting_nodes["r06-tor"] == ["10.2.6.11", "10.2.6.12"]  # its RRs
        assert report.awaiting_nodes["r05-tor"] == ["dynamic peers"]
        assert main(["apply", str(model)]) == 0          # the nodes (switches unchanged)
        assert main(["verify", str(model), "--wait", "90"]) == 0
    finally:
        monkeypatch.delenv("FABRIC_BGP_CORE_KEY", raising=False)
        monkeypatch.delenv("FABRIC_BGP_NODES_KEY", raising=False)
        assert main(["apply", str(model)]) == 0
        assert main(["verify", str(model), "--wait", "90"]) == 0
