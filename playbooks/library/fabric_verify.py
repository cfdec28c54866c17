#!/usr/bin/python
"""Ansible module: `fabric verify` on the lab; fails the play naming every failed check."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={
        "model": {"type": "path", "required": True},
        "wait": {"type": "float", "default": 60},
    }, supports_check_mode=True)
    from fabric import pipeline, verify
    from fabric.errors import InputError, OperationalError
    from fabric.lab.lab import require_up
    from fabric.lab.observe import collector
    from fabric.lab.plan import plan_lab

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
