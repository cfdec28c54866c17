"""The Ansible playbooks, run with ansible-playbook against simulated switches of
every platform: plan (check mode), apply, and a failing device failing the play."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_run import playbook as run_playbook
from ansible_run import recap
from conftest import CORE_KEY, LOGIN_PW

pytestmark = pytest.mark.ansible


def playbook(tmp: Path, model: Path, name: str, args: list[str], *extra: str) -> tuple[int, str]:
    """A playbook against the simulators: `args` are the CLI's --hosts/--known-hosts."""
    return run_playbook(tmp, model, name, "-e", f"fabric_hosts={args[1]}",
                        "-e", f"fabric_known_hosts={args[3]}", "-e", "fabric_confirm_timer=600",
                        "-e", "fabric_verify_wait=10", *extra)


def test_plan_check_then_apply_then_nothing_to_do(switch_fabric, tmp_path: Path) -> None:
    kind, model, sims, args = switch_fabric
    code, out = playbook(tmp_path, model, "plan.yml", args, "--check", "--diff")
    assert code == 0, out
    rows = recap(out)
    assert {h for h, r in rows.items() if r["changed"]} == set(sims), out
    assert kind.nodes_line in out                              # the diff of r01-tor
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
