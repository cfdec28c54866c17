"""The platform list is the platform folders (`fabric/platforms/<p>/platform.yml`),
and everything that names platforms is derived from it or agrees with it: the
schema's enum (derived at load time; the file's copy for editors is checked), the
driver registry, the CLI's choices, the templates each descriptor names, the NAPALM
shims (every platform with a NAPALM name; FRR has none) and the test simulators."""

from __future__ import annotations

import importlib
import json

import pytest
from conftest import ROOT
from switch_kinds import SWITCH_KINDS

from fabric import platforms
from fabric.cli.main import parser
from fabric.deploy.drivers import SWITCH_DRIVERS, driver_class
from fabric.model.schema import schema

pytestmark = pytest.mark.unit

FOLDERS = sorted(p.parent.name for p in (ROOT / "fabric" / "platforms").glob("*/platform.yml"))
SWITCHES = [p for p in FOLDERS if platforms.get(p).kind == "switch"]


def _platform_fields(node: object, key: str = "") -> list[object]:
    """Every schema object stored under a key named `platform`."""
    if isinstance(node, dict):
        found = [node] if key == "platform" else []
        return found + [e for k, v in node.items() for e in _platform_fields(v, k)]
    if isinstance(node, list):
        return [e for v in node for e in _platform_fields(v, key)]
    return []


def test_the_registry_is_the_folders():
    assert list(platforms.PLATFORMS) == FOLDERS
    assert list(platforms.SWITCH_PLATFORMS) == SWITCHES
    assert set(FOLDERS) - set(SWITCHES) == {"gobgp"}


def test_the_schema_enum_is_the_switch_platforms_wherever_one_is_chosen():
    on_disk = json.loads((ROOT / "fabric/schema/fabric.schema.json").read_text())
    fields = _platform_fields(on_disk)
    assert len(fields) == 3                     # cores, ToRs, route-reflector switches
    assert all(f == {"$ref": "#/$defs/switch_platform"} for f in fields), fields
    assert on_disk["$defs"]["switch_platform"]["enum"] == SWITCHES
    assert schema()["$defs"]["switch_platform"]["enum"] == SWITCHES


def test_every_switch_platform_has_its_driver_and_every_platform_its_templates():
    assert set(SWITCH_DRIVERS) == set(SWITCHES)
    for name in FOLDERS:
        p = platforms.get(name)
        for template in p.files.values():
            assert (ROOT / "templates" / template).is_file(), f"{name}: no {template}"
            assert template.startswith(f"{name}/"), f"{name}: {template} is not its own"
        if p.kind == "switch":
            cls = driver_class(name)
            assert cls.__module__ == f"fabric.platforms.{name}.driver"
            assert cls.__name__ == p.driver


def test_netmiko_and_hier_config_names_are_the_drivers():
    """The descriptor's netmiko device type is the one the driver connects with, and
    its hier_config platform is the one the driver's remediation builds on."""
    from hier_config.platforms.driver_base import HConfigDriverBase

    for name in SWITCHES:
        p, cls = platforms.get(name), driver_class(name)
        if p.netmiko is not None:       # the driver connects with netmiko by this name
            assert vars(importlib.import_module(cls.__module__)).get("PLATFORM") is p, name
            assert cls.device_type == p.netmiko, name
        hier = getattr(cls, "hier_driver", None)
        if p.hier_config is None:
            assert hier is None, name
            continue
        base = importlib.import_module(f"hier_config.platforms.{p.hier_config}.driver")
        bases = [c for c in vars(base).values()
                 if isinstance(c, type) and issubclass(c, HConfigDriverBase)]
        assert hier is not None and any(issubclass(hier, b) for b in bases), name


def test_the_cli_offers_every_switch_platform():
    init = next(a for a in parser()._subparsers._group_actions[0].choices["init"]._actions
                if a.dest == "platform")
    assert list(init.choices) == [*SWITCHES, "mixed"]


def test_napalm_shims_and_simulators_are_the_descriptors_napalm_names():
    """`napalm_fabric_<x>` exists exactly for each descriptor's NAPALM name `fabric_<x>`,
    holds that platform's driver, and each such platform has an SSH simulator."""
    named = {p.napalm: p.name for p in platforms.registry().values() if p.napalm}
    shims = {f.name.removeprefix("napalm_"): f for f in ROOT.glob("napalm_fabric_*")}
    assert set(shims) == set(named)
    for napalm_name, platform in named.items():
        mod = importlib.import_module(f"napalm_{napalm_name}")
        (cls,) = [getattr(mod, n) for n in mod.__all__]
        assert driver_class(platform) in cls.__mro__, napalm_name
        assert cls.platform == platform
    assert set(SWITCH_KINDS) == set(named.values())


def test_the_descriptors_defaults_are_what_the_simulated_devices_hide():
    """The lines platform.yml says a device never shows (its defaults) are the ones
    the device's simulator hides: two sources, written from the vendors' documents
    apart (the simulator is the device here), that must agree."""
    for name, kind in SWITCH_KINDS.items():
        module = importlib.import_module(kind.simulator.split(":")[0])
        hidden = {line for cls in vars(module).values() if isinstance(cls, type)
                  for lines in getattr(cls, "defaults", {}).values() for line in lines}
        assert hidden, f"{kind.simulator}: hides no default"
        assert platforms.get(name).shown_defaults() == hidden, name
        assert hidden == driver_class(name).DEFAULTS, name
