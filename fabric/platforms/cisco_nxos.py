"""Cisco NX-OS: no peer groups; `template peer` + prefix peering."""

CAPABILITIES: dict[str, str] = {}   # every feature in platforms.FEATURES
FILES = {"configs/{name}.cfg": "cisco_nxos/config.j2"}
