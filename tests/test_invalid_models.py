"""Invalid models are rejected with exact, located messages, and nothing is written.

Each `tests/fixtures/invalid/*.yaml` is a complete small model with one thing
(or a few things) broken. Its leading comment block says what to expect:

    # expect: FILE:12:5: racks[0].subnet: <message>     one line per error, in order
    # xfail: awaiting fix: ...       the messages are known to be wrong (strict xfail)
    # xfail-exit: awaiting fix: ...  the run itself is known to be wrong (crash, exit code)

`FILE` stands for the model path given on the command line, `PLATFORMS` for the
switch platforms (the platform folders, in order). Every fixture is
run as `python -m fabric.cli render <tmp>/fabric.yaml --out <tmp>/build` in a
fresh tmp dir, so the only state the run could touch is the one it would create.
The header is UTF-8; the body after it may hold any bytes (fixtures of bytes
that are not UTF-8, or control characters, are stored as they are).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest

from fabric.platforms import SWITCH_PLATFORMS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "fixtures" / "invalid"
FIXTURES = sorted(INVALID.glob("*.yaml"))
PLATFORMS = ", ".join(SWITCH_PLATFORMS)
SUMMARY = re.compile(r"^fabric: (\d+) errors?; nothing written$")


@dataclass(frozen=True)
class Fixture:
    path: Path
    expect: tuple[str, ...]
    xfail: str | None
    xfail_exit: str | None

    @property
    def name(self) -> str:
        return self.path.stem

    def expected_lines(self, model: Path) -> list[str]:
        return [line.replace("FILE", str(model), 1).replace("PLATFORMS", PLATFORMS)
                for line in self.expect]


def parse_fixture(path: Path) -> Fixture:
    expect: list[str] = []
    xfail = xfail_exit = None
    for raw in path.read_bytes().splitlines():
        line = raw.decode("utf-8")
        if not line.startswith("#"):
            break  # the header is the leading comment block
        if line.startswith("# expect: "):
            expect.append(line.removeprefix("# expect: "))
        elif line.startswith("# xfail: "):
            xfail = line.removeprefix("# xfail: ")
        elif line.startswith("# xfail-exit: "):
            xfail_exit = line.removeprefix("# xfail-exit: ")
    return Fixture(path, tuple(expect), xfail, xfail_exit)


PARSED = [parse_fixture(p) for p in FIXTURES]


def _params(reason_of) -> list:
    out = []
    for fx in PARSED:
        reason = reason_of(fx)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(fx, id=fx.name, marks=marks))
    return out


@dataclass
class Run:
    model: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()

    @property
    def error_lines(self) -> list[str]:
        """Lines located in the model, warnings left out."""
        prefix = f"{self.model}:"
        return [line for line in self.lines
                if line.startswith(prefix) and not _is_warning(line, self.model)]


def _is_warning(line: str, model: Path) -> bool:
    # `{file}:{line}:{col}: warning: {path}: {message}`
    rest = line[len(str(model)) + 1:]
    return re.match(r"^\d+:\d+: warning: ", rest) is not None


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fabric.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def render(tmp: Path, fixture: Fixture) -> Run:
    model = tmp / "fabric.yaml"
    shutil.copyfile(fixture.path, model)
    proc = run_cli(tmp, "render", str(model), "--out", str(tmp / "build"))
    return Run(model, proc.returncode, proc.stdout, proc.stderr)


def test_enough_fixtures() -> None:
    assert len(PARSED) >= 91
    names = [fx.name for fx in PARSED]
    numbers = {int(n.split("-")[0]) for n in names}
    assert len(numbers) == len(names), "fixture numbers must be unique"
    for fx in PARSED:
        assert re.fullmatch(r"\d{2,3}-[a-z0-9-]+", fx.name), fx.name
        assert fx.expect, f"{fx.name}: no '# expect:' line"
        for line in fx.expect:
            assert re.match(r"^FILE:\d+:\d+: \S+: .+", line), f"{fx.name}: {line!r}"


@pytest.mark.parametrize("fixture", _params(lambda fx: fx.xfail_exit))
def test_rejected_and_nothing_written(tmp_path: Path, fixture: Fixture) -> None:
    """Exit 2, no traceback, a summary line, no build dir, no state dir."""
    run = render(tmp_path, fixture)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, run.stderr
    assert run.lines, "nothing on stderr"
    summary = SUMMARY.match(run.lines[-1])
    assert summary, f"last stderr line: {run.lines[-1]!r}"
    assert int(summary.group(1)) == len(run.error_lines), run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "build").exists()
    assert not (tmp_path / "state").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fabric.yaml"]


@pytest.mark.parametrize("fixture", _params(lambda fx: fx.xfail_exit or fx.xfail))
def test_exact_messages(tmp_path: Path, fixture: Fixture) -> None:
    """The located error lines are exactly the fixture's `# expect:` lines, in order."""
    run = render(tmp_path, fixture)
    assert run.error_lines == fixture.expected_lines(run.model)
    n = len(fixture.expect)
    assert run.lines[-1] == f"fabric: {n} error{'s' if n != 1 else ''}; nothing written"


def _snapshot(*dirs: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and directory under `dirs` (hidden ones too): bytes and mtime.

    A directory's mtime changes when an entry is created or removed in it, so a
    temporary file written and deleted again is caught as well.
    """
    out = {}
    for d in dirs:
        for p in [d, *sorted(d.rglob("*"))]:
            data = p.read_bytes() if p.is_file() else b"<dir>"
            out[str(p)] = (data, p.stat().st_mtime_ns)
    return out


SEEDED = ["01-yaml-syntax-error", "27-rack-asn-range-exhausted", "28-link-pool-exhausted",
          "47-several-semantic-errors"]


@pytest.mark.parametrize("name", SEEDED)
def test_existing_state_and_build_untouched(tmp_path: Path, name: str) -> None:
    """A failing run after a good one leaves the state and build/ byte for byte, mtime for mtime."""
    model = tmp_path / "fabric.yaml"
    shutil.copyfile(ROOT / "inventory" / "fabric.yaml", model)
    good = run_cli(tmp_path, "render", str(model), "--out", str(tmp_path / "build"))
    assert good.returncode == 0, good.stderr
    state, build = tmp_path / "state", tmp_path / "build"
    assert (state / "ipam.yaml").is_file()
    assert any(build.rglob("*.cfg"))
    before = _snapshot(state, build)

    shutil.copyfile(INVALID / f"{name}.yaml", model)
    bad = run_cli(tmp_path, "render", str(model), "--out", str(build))
    assert bad.returncode == 2, bad.stderr
    assert "Traceback" not in bad.stderr
    assert SUMMARY.match(bad.stderr.splitlines()[-1])
    assert _snapshot(state, build) == before


def test_validate_json(tmp_path: Path) -> None:
    """`fabric validate --json` exits 2 and prints the same errors as JSON on stdout."""
    fixture = parse_fixture(INVALID / "47-several-semantic-errors.yaml")
    model = tmp_path / "fabric.yaml"
    shutil.copyfile(fixture.path, model)
    proc = run_cli(tmp_path, "validate", str(model), "--json")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    got = [f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}"
           for e in data["errors"]]
    assert got == fixture.expected_lines(model)
    assert {e["severity"] for e in data["errors"]} == {"error"}
    assert not (tmp_path / "state").exists()


def test_alias_bomb_is_refused_cheaply() -> None:
    """A 1 KB "billion laughs" is refused before it is expanded: in well under a
    second and a few MB (expanded, it would be 10^9 nodes)."""
    from fabric.errors import InputError
    from fabric.model.source import load_yaml

    text = (INVALID / "79-alias-bomb.yaml").read_text(encoding="utf-8")
    bomb = text[text.index("lol:"):]
    assert len(bomb.encode()) <= 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        load_yaml("bomb.yaml", bomb)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [p.path for p in exc.value.problems] == ["lol6[2]"]
    assert "after expanding aliases" in exc.value.problems[0].message
    assert elapsed < 1.0, elapsed
    assert peak < 20 * 2**20, peak


def test_node_budget_fits_a_large_fabric() -> None:
    """The budget refuses bombs, not big models: 2,000 racks of 40 nodes, written as
    aliases of one rack (so the document expands as much as such a model is big)."""
    from fabric.model.source import NODE_BUDGET, load_yaml

    nodes = "".join(f"    - {{name: n{n}, ip: 10.0.0.{n + 2}, pod_blocks: 2}}\n"
                    for n in range(40))
    rack = f"rack: &r\n  name: r\n  tor: {{platform: frr, mgmt: 192.0.2.1}}\n  nodes:\n{nodes}"
    text = rack + "racks: [" + ", ".join(["*r"] * 2000) + "]\n"
    data, _ = load_yaml("big.yaml", text)
    assert len(data["racks"]) == 2000
    assert data["racks"][1999]["nodes"][39] == {"name": "n39", "ip": "10.0.0.41", "pod_blocks": 2}
    assert 4 * _nodes(data["racks"]) < NODE_BUDGET   # room for four times that


def _nodes(value: object) -> int:
    """YAML nodes `value` was read from: itself, and each key, value and item in it."""
    if isinstance(value, dict):
        return 1 + len(value) + sum(map(_nodes, value.values()))
    if isinstance(value, list):
        return 1 + sum(map(_nodes, value))
    return 1
