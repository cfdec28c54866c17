"""`fabric plan`: what `apply` would change on each switch, computed by the
device's own driver against its running config (remediation limited to what
this tool owns), shown as a summary, per-device diffs, JSON or Markdown."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from fabric.deploy.targets import Target


@dataclass
class DevicePlan:
    device: str
    ok: bool
    diff: str = ""        # remediation: "+ line" to add, "- line" to remove (masked)
    error: str = ""

    @property
    def added(self) -> int:
        return sum(line.startswith("+") for line in self.diff.splitlines())

    @property
    def removed(self) -> int:
        return sum(line.startswith("-") for line in self.diff.splitlines())

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "added": self.added, "removed": self.removed}


def remediation_as_diff(text: str, is_diff: bool) -> str:
    """`text` as a diff: as it is when the driver gives one (FRR), else (the commands
    a vendor CLI is sent) each command added, an `undo`/`no` one removed, and a line
    with deeper lines under it only context: it opens a view."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if is_diff:
        return "\n".join(lines)
    out = []
    for i, ln in enumerate(lines):
        depth = len(ln) - len(ln.lstrip())
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt and len(nxt) - len(nxt.lstrip()) > depth:
            out.append("  " + ln)
        else:
            neg = ln.strip().startswith(("undo ", "no "))
            out.append(("- " if neg else "+ ") + ln)
    return "\n".join(out)


def plan_device(target: Target, device: str) -> DevicePlan:
    drv = target.connect(device)
    try:
        drv.open()
        drv.load_replace_candidate(config=target.configs[device])
        diff = remediation_as_diff(drv.compare_config(), drv.compare_is_diff)
        drv.discard_config()
        return DevicePlan(device, True, target.mask(diff))
    except Exception as exc:
        return DevicePlan(device, False, error=target.mask(str(exc)))
    finally:
        with contextlib.suppress(Exception):
            drv.close()


def plan(target: Target, devices: list[str], concurrency: int = 8) -> list[DevicePlan]:
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(lambda d: plan_device(target, d), devices))


def summary(plans: list[DevicePlan]) -> str:
    changed = [p for p in plans if p.ok and p.diff]
    failed = [p for p in plans if not p.ok]
    line = (f"{len(plans) - len(changed) - len(failed)} unchanged, {len(changed)} to change "
            f"(+{sum(p.added for p in changed)} -{sum(p.removed for p in changed)} lines)")
    return line + (f", {len(failed)} failed" if failed else "")


def text(plans: list[DevicePlan], color: bool) -> str:
    red, green, bold, off = (("\033[31m", "\033[32m", "\033[1m", "\033[0m") if color
                             else ("", "", "", ""))
    out = []
    for p in plans:
        if not p.ok:
            out.append(f"{bold}{p.device}{off}: {red}error: {p.error}{off}")
        elif p.diff:
            out.append(f"{bold}{p.device}{off}: +{p.added} -{p.removed}")
            for ln in p.diff.splitlines():
                out.append(f"  {(green if ln.startswith('+') else red)}{ln}{off}")
    out.append(summary(plans))
    return "\n".join(out)


def markdown(plans: list[DevicePlan], fabric: str) -> str:
    out = [f"### Plan for fabric `{fabric}`", "", summary(plans), "",
           "| device | change |", "|---|---|"]
    for p in plans:
        change = f"error: {p.error}" if not p.ok else (f"+{p.added} -{p.removed}" if p.diff
                                                       else "none")
        out.append(f"| {p.device} | {change} |")
    for p in plans:
        if p.ok and p.diff:
            out += ["", f"<details><summary>{p.device}</summary>", "", "```diff", p.diff, "```",
                    "", "</details>"]
    return "\n".join(out) + "\n"
