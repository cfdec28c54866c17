#!/usr/bin/python
"""Ansible module: plan (check mode) or apply one switch of the fabric, through
this project's library: the same driver, remediation and confirm/rollback as
`fabric apply`. Returns `changed` and, with --diff, the remediation."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: fabric_switch
short_description: plan or apply one switch of a bgp-fabric model
options:
  model: {description: the fabric model file, required: true, type: path}
  device: {description: the switch, required: true, type: str}
  target: {description: lab or devices, default: devices, type: str}
  hosts: {description: YAML of device host[:port] overrides, type: path}
  known_hosts: {description: SSH known_hosts file, type: path}
  accept_unknown_host_keys: {description: trust new host keys, type: bool, default: false}
  username: {description: login (else FABRIC_USERNAME), type: str}
  password: {description: password (else FABRIC_PASSWORD), type: str, no_log: true}
  confirm_timer: {description: seconds before the device reverts, type: int, default: 300}
  verify_wait: {description: seconds to wait for sessions, type: float, default: 60}
"""


def main() -> None:
    module = AnsibleModule(argument_spec={
        "model": {"type": "path", "required": True},
        "device": {"type": "str", "required": True},
        "target": {"type": "str", "default": "devices", "choices": ["lab", "devices"]},
        "hosts": {"type": "path"},
        "known_hosts": {"type": "path"},
        "accept_unknown_host_keys": {"type": "bool", "default": False},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "confirm_timer": {"type": "int", "default": 300},
        "verify_wait": {"type": "float", "default": 60},
    }, supports_check_mode=True)
    from fabric import pipeline, plan, rollout, targets
    from fabric.credentials import Credentials, CredentialStore, load
    from fabric.errors import InputError, OperationalError

    p = module.params
    try:
        intent = pipeline.build(Path(p["model"])).intent
        if p["target"] == "lab":
            target = targets.lab_target(intent)
        else:
            creds = (CredentialStore(Credentials(p["username"], p["password"]))
                     if p["username"] and p["password"] else load())
            target = targets.device_target(
                intent, creds, targets.load_hosts(Path(p["hosts"]) if p["hosts"] else None),
                Path(p["known_hosts"]) if p["known_hosts"] else None,
                p["accept_unknown_host_keys"])
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
    if outcome.status in ("failed", "rolled-back"):
        module.fail_json(msg=f"{device}: {outcome.status}: {outcome.detail}",
                         status=outcome.status, backup=outcome.backup)
    module.exit_json(changed=outcome.status == "applied", status=outcome.status,
                     detail=outcome.detail, backup=outcome.backup)


if __name__ == "__main__":
    main()
