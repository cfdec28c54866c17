"""FRR as text, without I/O: the running config as vtysh prints it, what frr-reload.py
answers (its `--test` diff, its error log), and the lines of a running config this
tool does not own.

There is no pure `remediation(running, intended)` here: FRR's remediation is what
frr-reload.py computes on the device (its own parser of FRR's config, its own rules
for which lines replace which), and a re-implementation here would be a second,
different opinion shown as if it were the device's. `reload_diff` turns frr-reload's
answer into the diff `compare_config()` shows; frr-reload itself runs in the driver.
"""

from __future__ import annotations

import re

# Lines of the running config this tool does not own: a difference there is no
# reason to push (vtysh shows its own host's name, for one).
NOT_OURS = ("hostname", "no hostname", "frr version", "service ", "log ")
# `show version`: FRRouting VERSION (HOSTNAME).
VERSION = re.compile(r"FRRouting (\S+) \((\S+)\)")


def running_text(shown: str) -> str:
    """`show running-config` as a config file: vtysh prints "Building
    configuration..." / "Current configuration:" first, which are not config (and
    frr-reload would reject them when rolling back)."""
    lines = shown.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.startswith("!")), 0)
    return "".join(lines[start:])


def reload_diff(answer: str) -> str:
    """`frr-reload.py --test --stdout`'s answer as a diff: the lines it would delete
    ("- ", without their `no `) and add ("+ "), with the enclosing context lines
    ("  ") it prints, less the lines in NOT_OURS; "" when nothing changes."""
    lines: list[tuple[str, str]] = []
    section = ""
    for line in answer.splitlines():
        if line.startswith(("Lines To Delete", "Lines To Add")):
            section = "-" if "Delete" in line else "+"
        elif section and line.strip() and not line.startswith("===") and \
                not line.strip().startswith(NOT_OURS):
            lines.append((section, line))
    diff = []
    for i, (sign, line) in enumerate(lines):
        nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
        depth = len(line) - len(line.lstrip())
        if len(nxt) - len(nxt.lstrip()) > depth and lines[i + 1][0] == sign:
            diff.append(f"  {line}")          # a parent the next line sits in
        elif sign == "-":
            body = line.lstrip()
            diff.append(f"- {line[:depth]}{body.removeprefix('no ')}")
        else:
            diff.append(f"+ {line}")
    return "\n".join(diff) if any(d[0] in "+-" for d in diff) else ""


def errors(log: str) -> str:
    """What frr-reload.py's (or vtysh's) output says went wrong: its error lines, the
    last 20 (vtysh.conf warnings left out), else the end of the output."""
    keep = [line for line in log.splitlines()
            if ("ERROR" in line or "% " in line or "failed" in line.lower())
            and "vtysh.conf" not in line]
    return "\n".join(keep[-20:]) or log.strip()[-2000:]


def reload_failed(status: int, output: str) -> bool:
    """Whether frr-reload.py failed: a non-zero exit, or vtysh failing under it (it
    then may still exit 0)."""
    return status != 0 or "vtysh failed" in output
