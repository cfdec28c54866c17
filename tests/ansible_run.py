"""Running Ansible's tools on this project's playbooks and plugins from the tests: a
generated inventory (the fabric inventory plugin on a model), an isolated Ansible
home, no colour; and the PLAY RECAP as numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PLAYBOOKS = ROOT / "playbooks"


def tool(name: str) -> str:
    """An Ansible program (`ansible-playbook`, `ansible-doc`, ...) of this interpreter's venv."""
    return str(Path(sys.executable).parent / name)


def ansible_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for an Ansible tool: this project's ansible.cfg, a home under tmp."""
    return {**os.environ, "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp / "atmp"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **extra}


def inventory_for(tmp: Path, model: Path) -> Path:
    """An inventory file for the fabric plugin on `model`."""
    inventory = tmp / "fabric.inventory.yml"
    inventory.write_text(f"plugin: fabric\nmodel: {model}\n")
    return inventory


def playbook(tmp: Path, model: Path, name: str, *extra: str) -> tuple[int, str]:
    """Run playbooks/`name` on the inventory of `model`; (exit code, output)."""
    run = subprocess.run([tool("ansible-playbook"), "-i", str(inventory_for(tmp, model)),
                          str(PLAYBOOKS / name), *extra], capture_output=True, text=True,
                         env=ansible_env(tmp), timeout=300)
    return run.returncode, run.stdout + run.stderr


def recap(out: str) -> dict[str, dict[str, int]]:
    """host → {ok, changed, failed, ...} from the PLAY RECAP."""
    rows = {}
    for line in out.split("PLAY RECAP")[-1].splitlines():
        if ":" in line and "ok=" in line:
            host, _, rest = line.partition(":")
            rows[host.strip()] = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
    return rows
