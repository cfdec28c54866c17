"""What a push did to one device, for the rollout, the lab and the Ansible module."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    """What happened to one device: a switch (unchanged, applied, failed, rolled back,
    skipped) or a node (installed, reloaded, restarted, unchanged, failed)."""

    UNCHANGED = "unchanged"
    APPLIED = "applied"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    SKIPPED = "skipped"
    INSTALLED = "installed"
    RELOADED = "reloaded"
    RESTARTED = "restarted"


FAILED = frozenset({Status.FAILED, Status.ROLLED_BACK})


@dataclass
class DeviceOutcome:
    device: str
    stage: str
    status: Status
    detail: str = ""
    backup: str = ""

    @property
    def ok(self) -> bool:
        return self.status not in FAILED

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}
