"""Running this project's playbooks with ansible-playbook from the tests: a
generated inventory (the fabric inventory plugin on a model), an isolated Ansible
home, no colour; and the PLAY RECAP as numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PLAYBOOKS = ROOT / "playbooks"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def playbook(tmp: Path, model: Path, name: str, *extra: str) -> tuple[int, str]:
    """Run playbooks/`name` on the inventory of `model`; (exit code, output)."""
    inventory = tmp / "fabric.inventory.yml"
    inventory.write_text(f"plugin: fabric\nmodel: {model}\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
           "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp / "atmp"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    run = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), str(PLAYBOOKS / name),
                          *extra], capture_output=True, text=True, env=env, timeout=300)
    return run.returncode, run.stdout + run.stderr


def recap(out: str) -> dict[str, dict[str, int]]:
    """host → {ok, changed, failed, ...} from the PLAY RECAP."""
    rows = {}
    for line in out.split("PLAY RECAP")[-1].splitlines():
        if ":" in line and "ok=" in line:
            host, _, rest = line.partition(":")
            rows[host.strip()] = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
    return rows
