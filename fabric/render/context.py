"""The structured config every platform starts from: the device's intent,
split into what templates walk over. Platforms add their own naming on top."""

from __future__ import annotations

from typing import Any

from fabric.intent.types import Device, Intent


def context(device: Device, intent: Intent) -> dict[str, Any]:
    return {
        "d": device,
        "fabric": intent.fabric,
        "groups": [p for p in device.peers if p.dynamic],
        "neighbors": [p for p in device.peers if not p.dynamic],
        "lists": device.prefix_lists,
        # Numbered BMP servers, for the CLIs that refer to a server by index.
        "bmp": list(enumerate(device.bmp, start=1)),
        "bfd": any(p.bfd for p in device.peers),
        "add_paths": max((p.add_paths for p in device.peers), default=0),   # paths sent
        "add_path_receive": any(p.add_path_receive for p in device.peers),
    }
