#!/usr/bin/python
"""Ansible module: render the fabric (`fabric render`), or check it is current."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={
        "model": {"type": "path", "required": True},
        "out": {"type": "path", "required": True},
    }, supports_check_mode=True)
    from fabric import output, pipeline
    from fabric.errors import InputError
    from fabric.ipam import write_state

    model, out = Path(module.params["model"]), Path(module.params["out"])
    try:
        result = pipeline.build(model)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    files = pipeline.render(result)
    if module.check_mode:
        rep = output.check(out, files)
        module.exit_json(changed=not rep.current, stale=rep.stale, missing=rep.missing,
                         extra=rep.extra)
    state_changed = write_state(pipeline.state_dir_for(model), result.state_text)
    rep = output.write(out, files)
    module.exit_json(changed=bool(rep.written or rep.removed or state_changed),
                     written=rep.written, removed=rep.removed, files=len(files))


if __name__ == "__main__":
    main()
