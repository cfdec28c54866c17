#!/usr/bin/python
"""Ansible module: plan (check mode) or apply one switch of the fabric, through
this project's library: the same driver, remediation and confirm/rollback as
`fabric apply`. Returns `changed` and, with --diff, the remediation."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: fabric_switch
short_description: Plan or apply one switch of a bgp-fabric model
description:
  - Plans (in check mode) or applies the rendered config of one switch of the fabric,
    through this project's library, with the same driver, remediation and
    confirm/rollback as C(fabric plan) and C(fabric apply).
  - In check mode the result says whether the switch differs from its intended config;
    with C(--diff) the remediation (the lines to add and remove) is shown.
  - Applying commits with a confirm timer (where the platform has one), verifies the
    switch's sessions, then confirms; a failed verify rolls the switch back and fails
    the task.
  - Secrets (the login password, BGP keys) are masked in every message and diff.
author:
  - bgp-fabric maintainers
options:
  model:
    description: The fabric model file.
    type: path
    required: true
  device:
    description: The switch, by its name in the model (usually C(inventory_hostname)).
    type: str
    required: true
  target:
    description:
      - C(devices) reaches the real switch over SSH with its platform's driver.
      - C(lab) is the local FRR lab of C(fabric lab up).
    type: str
    default: devices
    choices: [lab, devices]
  hosts:
    description:
      - A YAML file that maps device names to C(host[:port]), overriding the model's
        management addresses.
    type: path
  known_hosts:
    description: The SSH known_hosts file to check host keys against (else the user's).
    type: path
  accept_unknown_host_keys:
    description: Trust and record host keys not yet known, instead of refusing them.
    type: bool
    default: false
  rekey:
    description:
      - Secrets of the model whose keys are pushed even where the switch shows keys only
        as ciphers (a key rotation on Comware, VRP, NX-OS).
    type: list
    elements: str
    default: []
  username:
    description: The login; with O(password), used instead of the environment or credentials file.
    type: str
  password:
    description:
      - The login password; with O(username), else C(FABRIC_PASSWORD) or the credentials
        file.
    type: str
  confirm_timer:
    description: Seconds after a commit before the switch reverts unless confirmed.
    type: int
    default: 300
  verify_wait:
    description: Seconds to wait for the switch's BGP sessions after a commit.
    type: float
    default: 60
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: The remediation is returned as a diff in check mode only.
  platform:
    platforms: posix
notes:
  - Runs on the controller and opens its own connection to the switch (the inventory
    gives every host C(ansible_connection=local)); Ansible's network_cli is not used.
  - Without O(username) and O(password) the credentials come from C(FABRIC_USERNAME) and
    C(FABRIC_PASSWORD), or the file named by C(FABRIC_CREDENTIALS).
"""

EXAMPLES = r"""
- name: Plan a switch (run with --check --diff)
  fabric_switch:
    model: "{{ fabric_model }}"
    device: "{{ inventory_hostname }}"
  check_mode: true

- name: Apply a switch, reaching it at a test address
  fabric_switch:
    model: "{{ fabric_model }}"
    device: "{{ inventory_hostname }}"
    hosts: hosts.yaml
    known_hosts: known_hosts
    confirm_timer: 600
"""

RETURN = r"""
added:
  description: Lines the remediation adds.
  returned: check mode
  type: int
  sample: 3
removed:
  description: Lines the remediation removes.
  returned: check mode
  type: int
  sample: 1
diff:
  description: The remediation as Ansible's diff (C(+ line) to add, C(- line) to remove), masked.
  returned: check mode
  type: dict
  sample:
    before_header: r01-tor (running)
    after_header: r01-tor (intended)
    prepared: "+ peer 10.2.1.14 ..."
status:
  description: What the apply did (V(unchanged), V(applied), V(failed) or V(rolled-back)).
  returned: not in check mode
  type: str
  sample: applied
detail:
  description: The lines changed (C(+added -removed)), or why the apply failed, masked.
  returned: not in check mode
  type: str
  sample: +3 -1
backup:
  description:
    - The file holding the running config from before the commit (empty when none was
      needed).
  returned: not in check mode
  type: str
  sample: /home/netops/.local/state/bgp-fabric/backups/idc-sh1/r01-tor-20240101T000000.cfg
"""

ARGUMENT_SPEC = {
    "model": {"type": "path", "required": True},
    "device": {"type": "str", "required": True},
    "target": {"type": "str", "default": "devices", "choices": ["lab", "devices"]},
    "hosts": {"type": "path"},
    "known_hosts": {"type": "path"},
    "accept_unknown_host_keys": {"type": "bool", "default": False},
    "rekey": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "confirm_timer": {"type": "int", "default": 300},
    "verify_wait": {"type": "float", "default": 60},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    from fabric import pipeline
    from fabric.cli import targets
    from fabric.deploy import plan, rollout
    from fabric.deploy.credentials import Credentials, CredentialStore
    from fabric.deploy.outcome import Status
    from fabric.errors import InputError, OperationalError

    p = module.params
    try:
        intent = pipeline.build(Path(p["model"])).intent
        unknown = sorted(set(p["rekey"]) - set(intent.secrets))
        if unknown:
            module.fail_json(msg=f"rekey: expected secrets of the model, found "
                                 f"{', '.join(unknown)}")
        creds = (CredentialStore(Credentials(p["username"], p["password"]))
                 if p["username"] and p["password"] else None)
        target = targets.open_target(
            intent, p["target"], creds=creds, devices=[p["device"]],
            hosts_file=Path(p["hosts"]) if p["hosts"] else None,
            known_hosts=Path(p["known_hosts"]) if p["known_hosts"] else None,
            accept_unknown=p["accept_unknown_host_keys"], rekey=p["rekey"])
    except (InputError, OperationalError) as exc:
        module.fail_json(msg=str(exc))
    device = p["device"]
    if device not in target.configs:
        module.fail_json(msg=f"{device} is not a switch of the model")
    if module.check_mode:
        result = plan.plan_device(target, device)
        if not result.ok:
            module.fail_json(msg=f"{device}: {result.error}")
        module.exit_json(changed=bool(result.diff), added=result.added, removed=result.removed,
                         diff={"before_header": f"{device} (running)",
                               "after_header": f"{device} (intended)",
                               "prepared": result.diff})
    outcome = rollout.apply_device(intent, target, device, "ansible", p["confirm_timer"],
                                   p["verify_wait"])
    if not outcome.ok:
        module.fail_json(msg=f"{device}: {outcome.status}: {outcome.detail}",
                         status=outcome.status, backup=outcome.backup)
    module.exit_json(changed=outcome.status == Status.APPLIED, status=outcome.status,
                     detail=outcome.detail, backup=outcome.backup)


if __name__ == "__main__":
    main()
