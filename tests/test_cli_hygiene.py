"""CLI hygiene: selectors that select nothing, closed pipes, secrets (missing, short,
masked as whole tokens), grouped warnings, --quiet and absolute output paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, tree

from fabric.cli.main import main
from fabric.deploy.secrets import mask, replace_tokens
from fabric.model.starter import starter_model

pytestmark = pytest.mark.unit

NOTHING_WRITTEN = "fabric: 1 error; nothing written"
SECRET_LINE = "  bgp_core: {env: FABRIC_BGP_CORE_KEY}"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def login(monkeypatch) -> None:
    """Device credentials from the environment, so a plan gets as far as the secrets."""
    monkeypatch.setenv("FABRIC_USERNAME", "netops")
    monkeypatch.setenv("FABRIC_PASSWORD", "login-password-1")
    monkeypatch.setenv("FABRIC_BGP_CORE_KEY", "Core-K3y-hygiene")
    monkeypatch.setenv("FABRIC_BGP_NODES_KEY", "Node-K3y-hygiene")


def secret_at(model: Path, needle: str) -> str:
    """file:line:col of `needle` on the secrets line of `model`."""
    for no, line in enumerate(model.read_text().splitlines(), 1):
        if line.startswith("  bgp_core:"):
            return f"{model}:{no}:{line.index(needle) + 1}"
    raise AssertionError("no bgp_core secret in the model")


# 1. Selectors -------------------------------------------------------------------------

SELECTIONS = {
    "unknown rack": (["--rack", "r1O1"],
                     "--rack: expected a rack of the model (r01, r02, r03, r04, r05, r06), "
                     "found r1O1"),
    "rack without the device": (["--device", "core1", "--rack", "r01"],
                                "--rack: expected a selection with at least one switch, found "
                                "none in --device core1 and --rack r01"),
    "unknown device": (["--device", "r07-tor"],
                       "--device: expected a switch of the model (core1, core2, r01-tor, "
                       "r02-tor, r03-tor, r04-tor, r05-tor, r06-tor), found r07-tor"),
}


@pytest.mark.parametrize("command", [["plan"], ["apply", "--target", "devices"],
                                     ["apply", "--target", "devices", "--dry-run"]])
@pytest.mark.parametrize("case", list(SELECTIONS))
def test_a_selector_that_selects_nothing_is_bad_input(example_copy: Path, capsys, login,
                                                      command: list[str], case: str) -> None:
    options, message = SELECTIONS[case]
    code, out, err = run(capsys, *command, str(example_copy), *options)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"{example_copy}:1:1: {message}", NOTHING_WRITTEN]


@pytest.mark.parametrize("options, message", [
    (["--canary", "core9"], "--canary: expected a switch of the model (core1, core2, r01-tor, "
                            "r02-tor, r03-tor, r04-tor, r05-tor, r06-tor), found core9"),
    (["--rack", "r02", "--canary", "r01-tor"],
     "--canary: expected one of the selected switches (r02-tor), found r01-tor"),
])
def test_a_canary_outside_the_selection_is_bad_input(example_copy: Path, capsys, login,
                                                     options: list[str], message: str) -> None:
    for dry in ([], ["--dry-run"]):
        code, out, err = run(capsys, "apply", "--target", "devices", str(example_copy),
                             *options, *dry)
        assert (code, out) == (2, "")
        assert err.splitlines() == [f"{example_copy}:1:1: {message}", NOTHING_WRITTEN]


# 2. Closed pipes ------------------------------------------------------------------------

def fabric_into_closed_pipe(*argv: str, cwd: Path) -> tuple[int, str]:
    """Run the CLI with its stdout a pipe whose reader is gone before it writes."""
    proc = subprocess.Popen([sys.executable, "-m", "fabric.cli", *argv], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize("argv", [["ipam", "show", "--json"], ["validate"], ["ipam", "show"]])
def test_a_closed_pipe_ends_quietly(example_copy: Path, argv: list[str]) -> None:
    code, err = fabric_into_closed_pipe(*argv, str(example_copy), cwd=example_copy.parent)
    assert code == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    # What was written to stderr before the pipe closed (validate's warning) is whole.
    assert all(line.startswith(str(example_copy)) for line in err.splitlines())


@pytest.mark.parametrize("pipeline", ["ipam show --json {m} | head -1",
                                      "validate {m} | head -c1"])
def test_through_head_in_a_shell(example_copy: Path, pipeline: str) -> None:
    cmd = f"{sys.executable} -m fabric.cli " + pipeline.format(m=example_copy)
    done = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0
    assert done.stdout in ("{\n", "/")
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


# 3, 4. Secrets --------------------------------------------------------------------------

def test_a_missing_secret_variable_is_bad_input(example_copy: Path, capsys, login,
                                                monkeypatch) -> None:
    monkeypatch.delenv("FABRIC_BGP_CORE_KEY")
    for argv in (["plan"], ["apply", "--target", "devices"]):
        code, out, err = run(capsys, *argv, str(example_copy))
        assert (code, out) == (2, "")
        assert err.splitlines() == [
            f"{secret_at(example_copy, 'FABRIC_BGP_CORE_KEY')}: secrets.bgp_core.env: secret "
            "bgp_core: environment variable FABRIC_BGP_CORE_KEY is not set", NOTHING_WRITTEN]


def test_a_missing_secret_file_is_bad_input(example_copy: Path, tmp_path: Path, capsys,
                                            login) -> None:
    missing = tmp_path / "keys" / "core.key"
    text = example_copy.read_text().replace(SECRET_LINE, f"  bgp_core: {{file: {missing}}}")
    example_copy.write_text(text)
    code, out, err = run(capsys, "plan", str(example_copy))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{secret_at(example_copy, str(missing))}: secrets.bgp_core.file: secret bgp_core: "
        f"cannot read file {missing}: No such file or directory", NOTHING_WRITTEN]


SHORT_TAIL = ("at least 8 are needed: a shorter one could not be masked in output without "
              "also masking ordinary words")


def test_a_short_secret_is_refused_without_showing_it(example_copy: Path, tmp_path: Path,
                                                      capsys, login, monkeypatch) -> None:
    monkeypatch.setenv("FABRIC_BGP_CORE_KEY", "Zq7#x")
    code, out, err = run(capsys, "plan", str(example_copy), "--json")
    assert code == 2 and "Zq7#x" not in out + err
    assert json.loads(out)["errors"][0]["message"] == (
        "secret bgp_core (environment variable FABRIC_BGP_CORE_KEY) is 5 characters; "
        + SHORT_TAIL)
    key = tmp_path / "core.key"
    key.write_text("Zq7#x12\n")
    example_copy.write_text(example_copy.read_text().replace(
        SECRET_LINE, f"  bgp_core: {{file: {key}}}"))
    code, out, err = run(capsys, "apply", "--target", "devices", str(example_copy))
    assert (code, out) == (2, "") and "Zq7#x" not in err
    assert err.splitlines() == [
        f"{secret_at(example_copy, str(key))}: secrets.bgp_core.file: secret bgp_core "
        f"(file {key}) is 7 characters; {SHORT_TAIL}", NOTHING_WRITTEN]


# 5. Masks replace whole tokens ------------------------------------------------------------

def test_a_secret_is_masked_only_as_a_token_of_its_own() -> None:
    values = {"__secret_core__": "port-22-Key"}
    text = ("ssh port-22-Key\nkey=port-22-Key; 'port-22-Key', [port-22-Key]\n"
            "import-port-22-Key port-22-Keys xport-22-Key port 22\n")
    assert mask(text, values) == (
        "ssh __secret_core__\nkey=__secret_core__; '__secret_core__', [__secret_core__]\n"
        "import-port-22-Key port-22-Keys xport-22-Key port 22\n")


def test_replace_tokens_prefers_the_longest_and_never_rereads() -> None:
    repl = {"abcdefgh": "******", "abcdefgh-ijk": "******", "******": "NEVER"}
    assert replace_tokens("abcdefgh-ijk abcdefgh \"abcdefgh\" abcdefghz", repl) == (
        "****** ****** \"******\" abcdefghz")
    assert replace_tokens("port 22 user:s3cret-pw@host", {"s3cret-pw": "***", "": "x"}) == (
        "port 22 user:***@host")


# 6. Grouped warnings ----------------------------------------------------------------------

def test_identical_warnings_are_one_line_with_a_count(tmp_path: Path, capsys) -> None:
    model = tmp_path / "fabric.yaml"
    model.write_text(starter_model(12, 1, platform="h3c_comware", name="many"))
    code, out, _ = run(capsys, "validate", str(model), "--json")
    assert code == 0
    report = json.loads(out)
    warnings = report["warnings"]
    same = [w for w in warnings if "lacks a limit on the number of dynamic peers" in w["message"]]
    assert len(same) == 12          # --json keeps every warning
    tors = [w["message"].split(":")[0].removeprefix("ToR ") for w in same]
    group = next(g for g in report["warning_groups"] if g["first"] == same[0])
    assert group["count"] == 12 and group["names"] == tors
    code, out, err = run(capsys, "validate", str(model))
    assert code == 0 and len(err.splitlines()) == len(report["warning_groups"])
    first = same[0]
    assert (f"{model}:{first['line']}:{first['column']}: warning: {first['path']}: "
            f"{first['message']} (and 11 more like it: {', '.join(tors[1:4])}, …)"
            in err.splitlines())


def test_warnings_about_different_things_stay_apart() -> None:
    from fabric.errors import Problem, group_problems

    a = Problem("m.yaml", 3, 1, "racks[0].tor", "ToR r1-tor: lacks bmp", "warning")
    b = Problem("m.yaml", 9, 1, "racks[1].tor", "ToR r2-tor: lacks bmp", "warning")
    c = Problem("m.yaml", 9, 1, "racks[1].tor", "ToR r2-tor: lacks md5", "warning")
    groups = group_problems([a, b, c], {"r1-tor", "r2-tor"})
    assert [str(g) for g in groups] == [f"{a} (and 1 more like it: r2-tor)", str(c)]


# 7. --quiet -------------------------------------------------------------------------------

def test_quiet_prints_nothing_on_success(example_copy: Path, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    for argv in (["validate"], ["render", "--out", str(out_dir)],
                 ["render", "--check", "--out", str(out_dir)]):
        assert run(capsys, *argv, str(example_copy), "-q") == (0, "", "")
    assert run(capsys, "init", "--racks", "1", "--nodes-per-rack", "1", "--quiet",
               "--out", str(tmp_path / "m.yaml")) == (0, "", "")
    # Data asked for is still printed; so are failures and errors.
    code, out, _ = run(capsys, "ipam", "show", str(example_copy), "-q")
    assert code == 0 and "r01" in out
    (out_dir / "configs" / "core1.cfg").write_text("edited\n")
    code, out, err = run(capsys, "render", "--check", "--out", str(out_dir), str(example_copy),
                         "-q")
    assert code == 1 and f"stale: {out_dir / 'configs' / 'core1.cfg'}" in out.splitlines()
    code, out, err = run(capsys, "plan", "--rack", "r1O1", str(example_copy), "-q")
    assert code == 2 and NOTHING_WRITTEN in err


# 8. Absolute paths ------------------------------------------------------------------------

def test_render_names_both_absolute_paths(example_copy: Path, tmp_path: Path, capsys,
                                          monkeypatch) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    state = example_copy.parent / "state" / "ipam.yaml"
    state.unlink()
    rel_model = os.path.relpath(example_copy, work)
    code, out, _ = run(capsys, "render", rel_model)
    files = sorted(n for n in tree(work / "build") if n != ".fabric-manifest")
    assert code == 0 and out.splitlines()[-1] == (
        f"{len(files)} files in {work / 'build'}: {len(files)} written, 0 removed, "
        f"0 unchanged; state {state} updated")
    code, out, _ = run(capsys, "render", rel_model, "--json")
    assert json.loads(out)["out"] == str(work / "build")
    assert json.loads(out)["state_file"] == str(state)
    code, out, _ = run(capsys, "render", rel_model, "--out", "b2", "--check")
    assert code == 1 and out.splitlines()[-1] == (
        f"out of date: run `fabric render` ({len(files)} files in {work / 'b2'}; "
        f"state {state})")


def test_init_and_rename_name_absolute_paths(example_copy: Path, tmp_path: Path, capsys,
                                             monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init", "--racks", "1", "--nodes-per-rack", "1",
               "--out", "new/fabric.yaml") == (0, f"wrote {tmp_path / 'new' / 'fabric.yaml'}\n",
                                               "")
    rel_model = os.path.relpath(example_copy, tmp_path)
    code, out, err = run(capsys, "ipam", "rename", "rack", "r02", "r2x", rel_model)
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"renamed rack r02 → r2x in {example_copy.parent / 'state' / 'ipam.yaml'}:")


# Credentials and the hosts file are bad input too, found before any device is reached.

def test_missing_credentials_are_bad_input(example_copy: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("FABRIC_USERNAME", raising=False)
    monkeypatch.delenv("FABRIC_CREDENTIALS", raising=False)
    monkeypatch.setenv("FABRIC_BGP_CORE_KEY", "Core-K3y-hygiene")
    monkeypatch.setenv("FABRIC_BGP_NODES_KEY", "Node-K3y-hygiene")
    code, _, err = run(capsys, "plan", str(example_copy), "--device", "r01-tor")
    assert code == 2
    assert err.splitlines() == [
        "(environment):1:1: credentials: no credentials for r01-tor: set FABRIC_USERNAME "
        "and FABRIC_PASSWORD, or give a credentials file", NOTHING_WRITTEN]


@pytest.mark.parametrize(("text", "message"), [
    ("r01-tor: [1, 2]\n", "1:1: (hosts): r01-tor: expected host[:port], found [1, 2]"),
    ("r01-tor: 127.0.0.1:99999\n",
     "1:1: (hosts): r01-tor: expected host[:port], found '127.0.0.1:99999'"),
    ("- r01-tor\n", "1:1: (hosts): expected a mapping of device: host[:port]"),
    ("r01-tor: [\n", "2:1: (hosts): invalid YAML"),
])
def test_a_bad_hosts_file_is_bad_input(example_copy: Path, tmp_path: Path, capsys, login,
                                       text: str, message: str) -> None:
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(text)
    code, _, err = run(capsys, "plan", str(example_copy), "--hosts", str(hosts))
    assert code == 2
    assert err.splitlines() == [f"{hosts}:{message}", NOTHING_WRITTEN]
