"""Platform registry: one module per platform holds all of its vendor knowledge
(capabilities, the structured-config step, the template that renders it)."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..intent import Device, Intent

SWITCH_PLATFORMS = ("h3c_comware", "huawei_vrp", "cisco_ios", "cisco_nxos", "frr")
PLATFORMS = (*SWITCH_PLATFORMS, "gobgp")

# Features the model may ask of a platform, with the words used in errors.
FEATURES = {
    "dynamic_neighbors": "dynamic BGP neighbors (listen range)",
    "listen_limit": "a limit on the number of dynamic peers",
    "md5_dynamic": "MD5 authentication on dynamic neighbors",
    "bmp": "BMP (RFC 7854)",
    "route_reflector": "route reflection",
}


def module(platform: str) -> ModuleType:
    if platform not in PLATFORMS:
        raise KeyError(f"unknown platform {platform!r}")
    return import_module(f"{__name__}.{platform}")


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    """The platform's structured config for one device (the common one by default)."""
    from . import common

    mod = module(device.platform)
    return getattr(mod, "structured", common.context)(device, intent)


def capabilities(platform: str) -> dict[str, str]:
    """feature → "yes" | "warn" (rendered without it) | "no" (an error).
    A platform module lists only where it falls short."""
    return {**dict.fromkeys(FEATURES, "yes"), **module(platform).CAPABILITIES}
