"""The lab as a deploy target: its FRR switches, reached in their namespaces."""

from __future__ import annotations

from fabric.deploy.targets import Target
from fabric.intent.types import Intent
from fabric.lab.lab import lab_configs, lab_secret_values, require_up
from fabric.lab.layout import plan_lab
from fabric.platforms.frr.driver import FrrDriver


def lab_target(intent: Intent, configs: dict[str, str] | None = None) -> Target:
    """The lab's switches; `configs` (device → config, secrets filled in) are the lab's
    own unless given (the lab's apply renders them once for nodes and switches)."""
    plan = plan_lab(intent)
    require_up(plan)
    values = lab_secret_values(intent, plan)
    configs = {n: c for n, c in (configs or lab_configs(intent, plan)).items()
               if intent.devices[n].is_switch}
    return Target("lab", configs, lambda n: FrrDriver.lab(n, plan.speaker(n).netns), values,
                  backups=plan.run_dir / "backups")
