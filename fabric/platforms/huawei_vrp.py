"""Huawei VRP8 (CloudEngine CE series): two-stage commit."""

CAPABILITIES: dict[str, str] = {}   # every feature in platforms.FEATURES
FILES = {"configs/{name}.cfg": "huawei_vrp/config.j2"}
