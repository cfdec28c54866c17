"""Cisco IOS / IOS-XE."""

CAPABILITIES: dict[str, str] = {}   # every feature in platforms.FEATURES
FILES = {"configs/{name}.cfg": "cisco_ios/config.j2"}
