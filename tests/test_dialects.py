"""Each platform's dialect from files, without a device: `remediation(running,
intended)` of `fabric.platforms.<platform>.dialect`, the lines a push sends, is the
`remediation.cfg` beside the `running.cfg` (as the switch displays it) and the
`intended.cfg` (as rendered) of every `tests/fixtures/dialects/<platform>/<case>/`
(the layout of hier_config's own fixture tests). A platform that remediates has at
least a fresh switch, a change and a switch already right among its cases, and each
golden config of the platform, as running and intended at once, needs no change.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from fabric import pipeline, platforms

pytestmark = pytest.mark.unit

DIALECTS = FIXTURES / "dialects"
FILES = ("running.cfg", "intended.cfg", "remediation.cfg")
CASES = sorted(d for d in DIALECTS.glob("*/*")
               if d.is_dir() and all((d / f).is_file() for f in FILES))
# The platforms whose remediation this tool computes (on hier_config, as platform.yml
# says); FRR's is frr-reload.py's, on the device, and is tested against real FRR.
WITH_DIALECT = sorted(name for name, p in platforms.registry().items() if p.hier_config)


def test_every_remediating_platform_has_a_dialect() -> None:
    assert WITH_DIALECT
    for name in WITH_DIALECT:
        assert find_spec(f"fabric.platforms.{name}.dialect") is not None, name
        assert callable(getattr(import_module(f"fabric.platforms.{name}.dialect"),
                                "remediation", None)), name


def remediation(platform: str) -> Callable[[str, str], str]:
    return import_module(f"fabric.platforms.{platform}.dialect").remediation  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES, ids=lambda d: f"{d.parent.name}/{d.name}")
def test_remediation_is_the_fixtures(case: Path) -> None:
    running, intended, want = ((case / f).read_text() for f in FILES)
    got = remediation(case.parent.name)(running, intended)
    # A file may end with a newline or not; the lines are what counts.
    assert got.rstrip("\n") == want.rstrip("\n"), f"{case}: got\n{got}"


def test_fixture_folders_are_platforms_with_dialects() -> None:
    assert CASES
    for folder in sorted(p for p in DIALECTS.iterdir() if p.is_dir()):
        assert folder.name in WITH_DIALECT, f"{folder}: not a platform with a remediation"
        for case in sorted(p for p in folder.iterdir() if p.is_dir()):
            assert case in CASES, f"{case}: expected {', '.join(FILES)}"


@pytest.mark.parametrize("platform", WITH_DIALECT)
def test_every_dialect_has_its_cases(platform: str) -> None:
    """A fresh switch, a change and a switch already right, at least."""
    cases = [c for c in CASES if c.parent.name == platform]
    assert len(cases) >= 3, f"{platform}: {len(cases)} cases in {DIALECTS / platform}"
    assert any(not (c / "remediation.cfg").read_text().strip() for c in cases), \
        f"{platform}: no case where the switch already matches"


@cache
def golden_configs() -> list[tuple[str, Path]]:
    """(platform, path) of every golden config of a platform with a dialect."""
    out = []
    for model in sorted((FIXTURES / "golden").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as state:
            devices = pipeline.build(model, Path(state) / "state").intent.devices
        for name, device in devices.items():
            if device.platform not in WITH_DIALECT:
                continue
            for pattern in platforms.get(device.platform).files:
                if pattern.startswith("configs/"):
                    out.append((device.platform, ROOT / "tests" / "golden" / model.stem /
                                pattern.format(name=name)))
    return out


@pytest.mark.parametrize(("platform", "config"), golden_configs(),
                         ids=[f"{pl}:{p.stem}" for pl, p in golden_configs()])
def test_a_golden_config_against_itself_is_no_change(platform: str, config: Path) -> None:
    text = config.read_text()
    assert remediation(platform)(text, text) == ""
