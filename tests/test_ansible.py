"""The Ansible playbooks, run with ansible-playbook against simulated Comware
switches: plan (check mode), apply, and a failing device failing the play."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import CORE_KEY, LOGIN_PW, ROOT

PLAYBOOKS = ROOT / "playbooks"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def playbook(tmp: Path, model: Path, name: str, args: list[str], *extra: str) -> tuple[int, str]:
    inventory = tmp / "fabric.inventory.yml"
    inventory.write_text(f"plugin: fabric\nmodel: {model}\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
           "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp / "atmp"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    hosts, known = args[1], args[3]
    run = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), str(PLAYBOOKS / name),
                          "-e", f"fabric_hosts={hosts}", "-e", f"fabric_known_hosts={known}",
                          "-e", "fabric_confirm_timer=600", "-e", "fabric_verify_wait=10",
                          *extra], capture_output=True, text=True, env=env, timeout=300)
    return run.returncode, run.stdout + run.stderr


def recap(out: str) -> dict[str, dict[str, int]]:
    rows = {}
    for line in out.split("PLAY RECAP")[-1].splitlines():
        if ":" in line and "ok=" in line:
            host, _, rest = line.partition(":")
            rows[host.strip()] = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
    return rows


def test_plan_check_then_apply_then_nothing_to_do(comware_fabric, tmp_path: Path) -> None:
    model, sims, args = comware_fabric
    code, out = playbook(tmp_path, model, "plan.yml", args, "--check", "--diff")
    assert code == 0, out
    rows = recap(out)
    assert {h for h, r in rows.items() if r["changed"]} == set(sims), out
    assert "peer 10.64.0.0 24 group NODES" in out             # the diff of r01-tor
    code, out = playbook(tmp_path, model, "apply.yml", args)
    assert code == 0, out
    assert all(r["changed"] == 1 and r["failed"] == 0 for r in recap(out).values()), out
    assert out.index("r01-tor") < out.index("r02-tor") < out.index("core1")   # canary first
    code, out = playbook(tmp_path, model, "plan.yml", args, "--check")
    assert code == 0 and not any(r["changed"] for r in recap(out).values()), out
    for secret in (LOGIN_PW, CORE_KEY):
        assert secret not in out


def test_a_failing_device_fails_the_play_readably(comware_fabric, tmp_path: Path) -> None:
    model, sims, args = comware_fabric
    sims["r02-tor"].stop()
    code, out = playbook(tmp_path, model, "apply.yml", args)
    assert code != 0
    rows = recap(out)
    assert rows["r01-tor"]["changed"] == 1 and rows["r02-tor"]["failed"] == 1
    assert "core1" not in rows or rows["core1"]["changed"] == 0   # the play stopped
    fatal = next(line for line in out.splitlines() if "fatal: [r02-tor]" in line)
    assert '"msg": "r02-tor: failed: ' in fatal and "TCP connection to device failed" in fatal
    assert "Traceback" not in out
    assert LOGIN_PW not in out
