"""SSH CLI simulators of network devices. TEST-ONLY: they listen on 127.0.0.1 on an
ephemeral port, accept one username/password, and exist to exercise this project's
switch drivers when no real switch is reachable.

* `sshserver`  — the SSH server (paramiko) and its per-connection `Dialect` contract,
  and `SimulatedSwitch`, a device model joined to its SSH server;
* `configtree` — vendor-neutral config tree, grammar and view handling, parameterised
  by a `Syntax` (indent, negation keyword, separators);
* `devicebase` — what every vendor's device model shares (`SimulatedDevice`: BGP peer
  states, the rollback timer's `pending`/`shutdown`, `lines()`);
* `comware`    — H3C Comware V7 (`ComwareSimulator`, `ComwareDevice`);
* `vrp`        — Huawei VRP8 / CloudEngine (`VrpSimulator`, `VrpDevice`).

A new vendor (Huawei VRP8, Cisco IOS-XE, NX-OS) is one more module like `comware`:
its grammar tables, prompts, messages and display format on top of `CliDialect`.
"""

from .comware import ComwareDevice, ComwareSimulator
from .sshserver import SSHServer

__all__ = ["ComwareDevice", "ComwareSimulator", "SSHServer"]
