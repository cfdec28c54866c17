"""The places that name the switch platforms agree: the platform registry, the
schema's three enums, the driver registry, the CLI's choices, a platform module per
platform, its templates, and the NAPALM shims (every platform but FRR, which NAPALM
has no community driver for) with the test simulators. Until platforms are described
by data (issue 9), this is what keeps a new platform from being half-added."""

from __future__ import annotations

import importlib
import json

import pytest
from conftest import ROOT
from switch_kinds import SWITCH_KINDS

from fabric import platforms
from fabric.cli import parser
from fabric.drivers import SWITCH_DRIVERS, driver_class

pytestmark = pytest.mark.unit

PLATFORMS = set(platforms.SWITCH_PLATFORMS)


def _enums(node: object, key: str = "") -> list[list[str]]:
    if isinstance(node, dict):
        found = [node["enum"]] if key == "platform" and "enum" in node else []
        return found + [e for k, v in node.items() for e in _enums(v, k)]
    if isinstance(node, list):
        return [e for v in node for e in _enums(v, key)]
    return []


def test_the_schema_lists_every_platform_wherever_one_is_chosen():
    enums = _enums(json.loads((ROOT / "fabric/schema/fabric.schema.json").read_text()))
    assert len(enums) == 3                     # cores, ToRs, route-reflector switches
    assert all(e == list(platforms.SWITCH_PLATFORMS) for e in enums), enums


def test_every_platform_has_a_driver_a_module_and_templates():
    assert set(SWITCH_DRIVERS) == PLATFORMS
    for p in PLATFORMS:
        assert platforms.module(p).__name__ == f"fabric.platforms.{p}"
        assert list((ROOT / "templates" / p).glob("*.j2")), f"no templates for {p}"


def test_the_cli_offers_every_platform():
    init = next(a for a in parser()._subparsers._group_actions[0].choices["init"]._actions
                if a.dest == "platform")
    assert set(init.choices) == PLATFORMS | {"mixed"}


def test_napalm_names_and_simulators_cover_every_vendor_platform():
    """Each `napalm_fabric_*` package is one platform's driver (by its class), and each
    vendor platform has one such package and one simulator."""
    shims: dict[str, str] = {}
    for folder in sorted(ROOT.glob("napalm_fabric_*")):
        mod = importlib.import_module(folder.name)
        (cls,) = [getattr(mod, n) for n in mod.__all__]
        (platform,) = [p for p in SWITCH_DRIVERS if driver_class(p) in cls.__mro__]
        assert platform not in shims, f"{folder.name} and {shims[platform]} are both {platform}"
        shims[platform] = folder.name
    vendors = PLATFORMS - {"frr"}
    assert set(shims) == vendors
    assert set(SWITCH_KINDS) == vendors
