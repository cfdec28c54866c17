#!/usr/bin/python
"""Ansible module: render the fabric (`fabric render`), or check it is current."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: fabric_render
short_description: Render every config of a bgp-fabric model, or report what is stale
description:
  - Builds the fabric model (validation, IPAM, intent) and writes every switch and node
    config into O(out), as C(fabric render) does. Allocations are kept in the state
    directory beside the model, which this module updates when they change.
  - In check mode nothing is written; the result lists the files that would be written
    or removed.
  - A model that does not validate fails the task with the located errors.
author:
  - bgp-fabric maintainers
options:
  model:
    description: The fabric model file (for example C(inventory/fabric.yaml)).
    type: path
    required: true
  out:
    description: The output directory (for example C(build)).
    type: path
    required: true
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
  - Runs on the controller (the inventory gives every host C(ansible_connection=local)).
  - Needs the C(fabric) package importable by the interpreter that runs it; the playbooks
    set C(ansible_python_interpreter) to C(ansible_playbook_python).
"""

EXAMPLES = r"""
- name: Render the fabric into build/
  fabric_render:
    model: "{{ playbook_dir }}/../inventory/fabric.yaml"
    out: "{{ playbook_dir }}/../build"

- name: Report stale files without writing (run the play with --check)
  fabric_render:
    model: inventory/fabric.yaml
    out: build
  check_mode: true
"""

RETURN = r"""
written:
  description: Files written (relative to O(out)), because they were new or differed.
  returned: success, not in check mode
  type: list
  elements: str
  sample: [configs/core1.cfg, nodes/r01-n1/gobgpd.toml]
removed:
  description: Files this tool had written before and no longer renders, now removed.
  returned: success, not in check mode
  type: list
  elements: str
  sample: []
files:
  description: How many files the model renders.
  returned: success, not in check mode
  type: int
  sample: 78
stale:
  description: Files on disk whose content differs from what the model renders.
  returned: check mode
  type: list
  elements: str
  sample: [configs/r01-tor.cfg]
missing:
  description: Files the model renders that are not on disk.
  returned: check mode
  type: list
  elements: str
  sample: []
extra:
  description: Files this tool wrote before that would be removed.
  returned: check mode
  type: list
  elements: str
  sample: []
"""

ARGUMENT_SPEC = {
    "model": {"type": "path", "required": True},
    "out": {"type": "path", "required": True},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    from fabric import pipeline
    from fabric.errors import InputError
    from fabric.ipam.state import write_state
    from fabric.render.incremental import render_tree

    model, out = Path(module.params["model"]), Path(module.params["out"])
    try:
        result = pipeline.build(model)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    if module.check_mode:
        rep = render_tree(out, result.intent, check=True).report
        module.exit_json(changed=not rep.current, stale=rep.stale, missing=rep.missing,
                         extra=rep.extra)
    state_changed = write_state(pipeline.state_dir_for(model), result.state_text)
    done = render_tree(out, result.intent)
    rep = done.report
    module.exit_json(changed=bool(rep.written or rep.removed or state_changed),
                     written=rep.written, removed=rep.removed, files=done.files)


if __name__ == "__main__":
    main()
