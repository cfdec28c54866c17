"""Every switch driver is a `SwitchDriver`: each member of the protocol is there, and
each method takes the protocol's parameters, by name, with the same defaults (the
registry imports drivers by name, so the type checker cannot see this itself)."""

from __future__ import annotations

import inspect

import pytest

from fabric.deploy.drivers import SWITCH_DRIVERS, SwitchDriver, driver_class

pytestmark = pytest.mark.unit

METHODS = sorted(m for m, v in vars(SwitchDriver).items()
                 if callable(v) and (not m.startswith("_") or m == "__init__"))


def _params(fn: object) -> list[tuple[str, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.default) for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)][1:]       # not self


def test_the_protocol_is_what_plan_apply_and_verify_use():
    assert {"open", "close", "load_replace_candidate", "compare_config", "commit_config",
            "confirm_commit", "rollback", "discard_config", "has_pending_commit",
            "neighbors", "get_config", "get_facts", "get_bgp_neighbors",
            "get_bgp_neighbors_detail", "__init__"} <= set(METHODS)


@pytest.mark.parametrize("platform", sorted(SWITCH_DRIVERS))
def test_every_driver_has_every_member_with_the_protocols_parameters(platform):
    cls = driver_class(platform)
    for name in METHODS:
        assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
        want = _params(getattr(SwitchDriver, name))
        got = dict(_params(getattr(cls, name)))
        for param, default in want:
            assert param in got, f"{cls.__name__}.{name} takes no {param}"
            if default is not inspect.Parameter.empty:
                assert got[param] == default, \
                    f"{cls.__name__}.{name}: {param} defaults to {got[param]!r}, not {default!r}"
    assert "hostname" in SwitchDriver.__annotations__
    # The form of compare_config is declared, so plan never guesses it from the text.
    assert "compare_is_diff" in SwitchDriver.__annotations__
    assert isinstance(cls.compare_is_diff, bool)
    assert cls.compare_is_diff == (platform == "frr")
