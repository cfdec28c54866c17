"""Invalid models are rejected with exact, located messages, and nothing is written.

Each `tests/fixtures/invalid/*.yaml` is a complete small model with one thing
(or a few things) broken. Its leading comment block says what to expect:

    # expect: FILE:12:5: racks[0].subnet: <message>     one line per error, in order
    # xfail: awaiting fix: ...       the messages are known to be wrong (strict xfail)
    # xfail-exit: awaiting fix: ...  the run itself is known to be wrong (crash, exit code)

`FILE` stands for the model path given on the command line. Every fixture is
run as `python -m fabric.cli render <tmp>/fabric.yaml --out <tmp>/build` in a
fresh tmp dir, so the only state the run could touch is the one it would create.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "fixtures" / "invalid"
FIXTURES = sorted(INVALID.glob("*.yaml"))
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
        return [line.replace("FILE", str(model), 1) for line in self.expect]


def parse_fixture(path: Path) -> Fixture:
    expect: list[str] = []
    xfail = xfail_exit = None
    for line in path.read_text(encoding="utf-8").splitlines():
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
    assert len(PARSED) >= 36
    names = [fx.name for fx in PARSED]
    assert len({n[:2] for n in names}) == len(names), "fixture numbers must be unique"
    for fx in PARSED:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", fx.name), fx.name
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
