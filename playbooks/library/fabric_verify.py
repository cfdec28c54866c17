#!/usr/bin/python
"""Ansible module: `fabric verify` on the lab; fails the play naming every failed check."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: fabric_verify
short_description: Verify every session, route and VIP of a bgp-fabric lab
description:
  - Runs C(fabric verify) on the local lab of the model (C(fabric lab up)). It checks every BGP
    session and its graceful-restart state, every route and VIP, from both ends, and
    that no rack learns another rack's node routes.
  - Fails the task naming every failed check; changes nothing, so check mode runs it too.
author:
  - bgp-fabric maintainers
options:
  model:
    description: The fabric model file whose lab is up.
    type: path
    required: true
  wait:
    description: Seconds to wait for the sessions and routes to converge before failing.
    type: float
    default: 60
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Runs on the controller, which hosts the lab's network namespaces (root is needed).
"""

EXAMPLES = r"""
- name: Verify the lab
  fabric_verify:
    model: "{{ playbook_dir }}/../inventory/fabric.yaml"
    wait: 120
"""

RETURN = r"""
summary:
  description: Checks passed, per kind of check.
  returned: success
  type: str
  sample: "PASS — session: 48 ok; graceful-restart: 48 ok; route: 120 ok"
checks:
  description: How many checks ran.
  returned: success
  type: int
  sample: 216
failed_checks:
  description: The failed checks.
  returned: failure
  type: list
  elements: dict
  contains:
    check:
      description:
        - The kind of check (V(session), V(graceful-restart), V(route), V(no-off-rack),
          V(ecmp)).
      type: str
    device:
      description: The device checked.
      type: str
    subject:
      description: The neighbor address or prefix.
      type: str
    expected:
      description: What the model says.
      type: str
    seen:
      description: What the device shows.
      type: str
    ok:
      description: Always false here.
      type: bool
"""

ARGUMENT_SPEC = {
    "model": {"type": "path", "required": True},
    "wait": {"type": "float", "default": 60},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    from fabric import pipeline
    from fabric.errors import InputError, OperationalError
    from fabric.lab.lab import require_up
    from fabric.lab.layout import plan_lab
    from fabric.lab.observe import collector
    from fabric.verify import check as verify

    try:
        intent = pipeline.build(Path(module.params["model"])).intent
        plan = plan_lab(intent)
        require_up(plan)
    except (InputError, OperationalError) as exc:
        module.fail_json(msg=str(exc))
    results = verify.verify(intent, collector(plan), wait=module.params["wait"])
    failed = [r for r in results if not r.ok]
    if failed:
        module.fail_json(msg=verify.summary(results) + "\n" + verify.table(failed),
                         failed_checks=[r.as_dict() for r in failed])
    module.exit_json(changed=False, summary=verify.summary(results), checks=len(results))


if __name__ == "__main__":
    main()
