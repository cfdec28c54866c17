"""`fabric plan` and `fabric apply --target devices` through the CLI, against one
simulated switch per device of a generated single-vendor fabric, for every switch
platform with a simulator (switch_kinds.SWITCH_KINDS)."""

from __future__ import annotations

import importlib
import json
import logging
import re
from pathlib import Path

import pytest
from conftest import CORE_KEY, LOGIN_PW, NODE_KEY

from fabric.cli.main import main
from fabric.deploy.lock import ApplyLock

pytestmark = pytest.mark.sim


def run(capsys, *argv: str) -> tuple[int, dict, str]:
    code, out, text = run_raw(capsys, *argv, "--json")
    return code, json.loads(out), text


def run_raw(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.out + cap.err


def test_plan_apply_replan_and_a_one_rack_change(switch_fabric, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    kind, model, sims, args = switch_fabric
    before = {n: kind.unrelated(s) for n, s in sims.items()}
    out = ""

    code, plan, text = run(capsys, "plan", str(model), "--target", "devices", *args)
    out += text
    assert code == 3
    assert {d["device"] for d in plan["devices"] if d["diff"]} == set(sims)
    tor = next(d for d in plan["devices"] if d["device"] == "r01-tor")
    assert kind.nodes_line in tor["diff"]
    assert "__secret_core__" in tor["diff"]          # the placeholder, not the key

    code, report, text = run(capsys, "apply", str(model), "--target", "devices",
                             "--confirm-timer", "600", "--verify-wait", "10", *args)
    out += text
    assert code == 0, report
    stages = {o["device"]: o["stage"] for o in report["devices"]}
    assert stages == {"r01-tor": "canary", "r02-tor": "racks", "core1": "cores",
                      "core2": "cores"}
    assert {o["status"] for o in report["devices"]} == {"applied"}
    assert all(Path(o["backup"]).stat().st_mode & 0o777 == 0o600 for o in report["devices"])
    for name, sim in sims.items():
        assert kind.unrelated(sim) == before[name], f"{name}: unrelated config changed"
        assert not sim.device.pending, f"{name}: commit left unconfirmed"

    code, plan, text = run(capsys, "plan", str(model), "--target", "devices", *args)
    out += text
    assert code == 0 and not any(d["diff"] for d in plan["devices"])

    # One rack's change (a VIP announced from rack r01) plans on that rack's ToR, which
    # exports it, and on the cores, which accept it from that ToR only; nowhere else.
    model.write_text(model.read_text().replace(
        "vips:\n", "vips:\n  - {address: 10.61.0.20, announcers: [r01-n2]}\n"))
    code, plan, text = run(capsys, "plan", str(model), "--target", "devices", *args)
    out += text
    assert code == 3
    changed = {d["device"]: d["diff"] for d in plan["devices"] if d["diff"]}
    assert sorted(changed) == ["core1", "core2", "r01-tor"]
    assert re.search(kind.vip_export, changed["r01-tor"], re.M), changed["r01-tor"]
    for core in ("core1", "core2"):
        assert "10.61.0.20" in changed[core], changed[core]

    # A second apply while one holds the fabric's lock is refused, and changes nothing.
    with ApplyLock(model.parent / ".fabric-apply.lock"):
        code, _, text = run_raw(capsys, "apply", str(model), "--target", "devices", *args)
    assert code == 1 and "lock" in text.lower(), text
    assert all(not s.device.pending for s in sims.values())

    # No credential or key anywhere: output, logs, backups.
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (LOGIN_PW, CORE_KEY, NODE_KEY):
        assert secret not in out and secret not in logs
    for b in (model.parent / "backups").rglob("*.cfg"):
        assert LOGIN_PW not in b.read_text()


def _keys_held(kind, sim) -> set[str]:  # type: ignore[no-untyped-def]
    """The BGP keys a simulated switch holds, deciphered as its simulator stores them."""
    decrypt = getattr(importlib.import_module(kind.simulator.split(":")[0]), "decrypt", None)
    out = set()
    for ln in sim.device.lines():
        if " password " in ln or "/password " in ln:
            token = ln.rsplit(" ", 1)[-1]
            out.add((decrypt(token) if decrypt else None) or token)
    return out


def test_a_key_rotation_is_pushed_with_rekey(switch_fabric, capsys, monkeypatch) -> None:
    """A new key value: a switch that shows keys in clear (IOS-XE here) plans it by
    itself; one that shows only a cipher (Comware, VRP, NX-OS) compares keys on
    presence and needs `--rekey SECRET`. Either way the rollout pushes it to every
    switch, holds no re-keyed session against a commit, and the keys are the new ones."""
    kind, model, sims, args = switch_fabric
    assert run(capsys, "apply", str(model), "--target", "devices", "--verify-wait", "10",
               *args)[0] == 0
    rotated = "Core-K3y-rotated-4410"
    monkeypatch.setenv("FABRIC_CORE_KEY", rotated)
    code, plan, _ = run(capsys, "plan", str(model), "--target", "devices", *args)
    ciphers = kind.platform in ("h3c_comware", "huawei_vrp", "cisco_nxos")
    assert {d["device"] for d in plan["devices"] if d["diff"]} == (set() if ciphers
                                                                   else set(sims)), plan
    code, plan, text = run(capsys, "plan", str(model), "--target", "devices", *args,
                           "--rekey", "core")
    assert code == 3 and {d["device"] for d in plan["devices"] if d["diff"]} == set(sims)
    assert all("__secret_core__" in d["diff"] for d in plan["devices"]), plan
    assert rotated not in text and CORE_KEY not in text
    code, report, text = run(capsys, "apply", str(model), "--target", "devices",
                             "--verify-wait", "10", "--rekey", "core", *args)
    assert code == 0, report
    assert {o["status"] for o in report["devices"]} == {"applied"}
    assert rotated not in text
    for name, sim in sims.items():
        held = _keys_held(kind, sim)
        assert rotated in held and CORE_KEY not in held, (name, held)
    code, _, _ = run(capsys, "plan", str(model), "--rekey", "nosuch", "--target", "devices",
                     *args)
    assert code == 2


def test_unknown_host_key_is_refused(comware_fabric, capsys, tmp_path: Path) -> None:
    model, _, args = comware_fabric
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    args = [a if a != str(tmp_path / "known_hosts") else str(empty) for a in args]
    code, plan, _ = run(capsys, "plan", str(model), "--target", "devices", *args)
    assert code == 1
    assert all(not d["ok"] and "host key" in d["error"].lower() for d in plan["devices"])
    code, plan, _ = run(capsys, "plan", str(model), "--target", "devices", *args,
                        "--accept-unknown-host-keys")
    assert code == 3 and all(d["ok"] for d in plan["devices"])


def test_rejected_line_stops_the_rollout_and_leaves_the_device_as_it_was(switch_fabric) -> None:
    from fabric import pipeline
    from fabric.deploy import rollout, targets
    from fabric.deploy.credentials import load

    _, model, sims, args = switch_fabric
    intent = pipeline.build(model).intent
    target = targets.device_target(intent, load(), targets.load_hosts(Path(args[1])),
                                   Path(args[3]))
    before = sims["r01-tor"].device.lines()
    untouched = sims["r02-tor"].device.lines()
    # A typo'd line right after the line that opens the BGP section, at its indentation.
    lines = target.configs["r01-tor"].splitlines()
    at = next(i for i, ln in enumerate(lines) if re.match(r"^(?:router )?bgp \d+$", ln))
    pad = re.match(r"^\s*", lines[at + 1]).group(0)
    lines.insert(at + 1, f"{pad}graceful-restrat timer purge-time 360")
    target.configs["r01-tor"] = "\n".join(lines) + "\n"
    switches = list(target.configs)
    report = rollout.rollout(intent, target, switches, model.parent / "lock",
                             confirm_timer=60, verify_wait=5)
    by = {o.device: o for o in report.outcomes}
    assert report.stopped_at == "canary"
    assert by["r01-tor"].status in ("failed", "rolled-back")
    assert "graceful-restrat" in by["r01-tor"].detail
    assert {by[n].status for n in ("r02-tor", "core1", "core2")} == {"skipped"}
    assert sims["r01-tor"].device.lines() == before or _wait(
        lambda: sims["r01-tor"].device.lines() == before)
    assert sims["r02-tor"].device.lines() == untouched


def _wait(cond, timeout: float = 5) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def test_settings_at_the_devices_defaults_are_no_change(switch_fabric, capsys) -> None:
    """A model whose timers equal the platform's defaults: the switch does not show
    those lines, and a plan after apply is still empty."""
    from fabric import pipeline, platforms
    from fabric.deploy.drivers import driver_class
    from fabric.render.engine import device_config

    kind, model, sims, args = switch_fabric
    d = platforms.get(kind.platform).defaults       # platform.yml's
    keepalive, hold, restart, stale, limit = (d["keepalive"], d["hold"], d["restart_time"],
                                              d["stalepath_time"], d["listen_limit"])
    model.write_text(model.read_text().replace(
        "    keepalive: 3\n    hold: 9\n"
        "    graceful_restart: {restart_time: 120, stalepath_time: 360}\n",
        f"    keepalive: {keepalive}\n    hold: {hold}\n"
        f"    graceful_restart: {{restart_time: {restart}, stalepath_time: {stale}}}\n")
        .replace("listen_limit: 250", f"listen_limit: {limit}"))
    defaults = driver_class(kind.platform).DEFAULTS
    intent = pipeline.build(model).intent
    rendered = {ln.strip() for n in sims for ln in
                device_config(intent.devices[n], intent).splitlines()}
    assert len(rendered & defaults) >= 3          # the model does render default lines

    code, report, _ = run(capsys, "apply", str(model), "--target", "devices",
                          "--confirm-timer", "600", "--verify-wait", "10", *args)
    assert code == 0, report
    shown = {ln.split("/")[-1] for s in sims.values() for ln in s.device.lines()}
    assert not shown & defaults                  # ... which the switches do not show
    code, plan, _ = run(capsys, "plan", str(model), "--target", "devices", *args)
    assert code == 0 and not any(d["diff"] for d in plan["devices"]), plan
