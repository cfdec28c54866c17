"""`scripts/setup` installs what the code and the tests use, by name.

A fresh machine has only Debian's essential packages: every other program the code
runs must come from a package in setup's list (or, for a program in the virtual
environment, from a Python distribution the project requires), and every module it
imports must be the standard library, this project's, or a required distribution.
The programs are found in the source, not listed by hand, so a change that starts
running a new program cannot hide behind a machine that happens to have it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.unit

SOURCES = ("fabric", "tests", "playbooks", "benchmarks", *(p.name for p in
                                                            ROOT.glob("napalm_fabric_*")))
VENV_BIN = Path(sys.executable).parent
SETUP = ROOT / "scripts" / "setup"


def python_files() -> list[Path]:
    return sorted(f for d in SOURCES for f in (ROOT / d).rglob("*.py")
                  if "_generated" not in f.parts)


# ------------------------------------------------------------------ programs


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" and NAME = Path("text")."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            text = _text(node.value, {})
            if text is not None:
                out[node.targets[0].id] = text
    return out


def _text(node: ast.AST, consts: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            len(node.args) == 1:
        # Path("/usr/..."), str(X), or a helper that finds a program by name: tool("x")
        return _text(node.args[0], consts)
    return None


RUNNERS = {"run", "Popen", "check_output", "check_call", "call", "exec_in", "execv", "execvp",
           "create_subprocess_exec"}
ARGV_NAMES = {"argv", "cmd", "command"}


def _argv_lists(tree: ast.Module) -> list[ast.List | ast.Tuple]:
    """List literals that are a program's argv: passed to a runner (subprocess.run,
    Popen, the lab's exec_in, ...) or assigned to a variable named argv/cmd."""
    out: list[ast.List | ast.Tuple] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in RUNNERS:
                out += [a for a in node.args if isinstance(a, ast.List | ast.Tuple)]
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple) \
                and any(isinstance(t, ast.Name) and t.id in ARGV_NAMES for t in node.targets):
            out.append(node.value)
    return out


def programs_in(file: Path) -> set[str]:
    """What `file` may run or read from the system: the first word of every argv
    list (and the one after `ip netns exec NS`), names joined onto the venv's or a
    module's directory (`BIN / "bgpd"`), resolved to files (the venv, the module's
    directories, PATH); and absolute paths under /usr and /etc that exist."""
    tree = ast.parse(file.read_text(), str(file))
    consts = _constants(tree)
    dirs = [Path(t) for t in consts.values() if t.startswith("/") and Path(t).is_dir()]
    words: set[str] = set()
    for argv in _argv_lists(tree):
        items = [_text(e, consts) for e in argv.elts]
        words.add(items[0] or "")
        if items[:3] == ["ip", "netns", "exec"] and len(items) > 4:
            words.add(items[4] or "")
    local: set[str] = set()   # found only in the venv or a module's directories
    files: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            local.add(_text(node.right, consts) or "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(("/usr/", "/bin/", "/sbin/", "/etc/")) and \
                    Path(node.value).exists():
                files.add(node.value)       # a program, or data a package ships
            # a daemon named in a module that runs DIR / name
            local |= {node.value for d in dirs if _executable(d / node.value)}
    found = {p for w in words if w and (p := resolve(w, dirs))}
    return found | files | {p for w in local if w and (p := resolve(w, dirs, path=False))}


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def resolve(word: str, dirs: list[Path], path: bool = True) -> str | None:
    if word.startswith("/"):
        return word if _executable(Path(word)) else None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", word):
        return None
    for d in (VENV_BIN, *dirs):
        if _executable(d / word):
            return str(d / word)
    return shutil.which(word) if path else None


@cache
def setup_packages() -> frozenset[str]:
    m = re.search(r"^packages=\(([^)]*)\)", SETUP.read_text(), re.M)
    assert m, "scripts/setup has no packages=(...) list"
    return frozenset(m.group(1).split())


@cache
def debian_package(path: str) -> str | None:
    """The Debian package that ships `path` (usrmerge: /bin/x is /usr/bin/x)."""
    candidates = []
    for p in (path, os.path.realpath(path)):
        candidates += [p, p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p]
    for p in dict.fromkeys(candidates):
        run = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        owners = [ln.split(":", 1)[0].split(",")[0].strip() for ln in run.stdout.splitlines()
                  if not ln.startswith("diversion ")]
        if run.returncode == 0 and owners:
            return owners[0]
    return None


@cache
def essential(package: str) -> bool:
    run = subprocess.run(["dpkg-query", "-W", "-f", "${Essential}", package],
                         capture_output=True, text=True)
    return run.stdout.strip() == "yes"


@cache
def required_distributions() -> frozenset[str]:
    """The distributions pyproject asks for (dependencies + every extra), with
    everything they require in turn: what `pip install -e '.[test]'` installs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [*project["dependencies"],
            *(r for extra in project.get("optional-dependencies", {}).values() for r in extra)]
    seen: set[str] = {_canon(project["name"])}
    while todo:
        name = _canon(re.split(r"[\s<>=!~;\[(]", todo.pop(), maxsplit=1)[0])
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [r for r in requires if "extra ==" not in r]
    return frozenset(seen)


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def venv_distribution(path: str) -> str | None:
    target = Path(path).resolve()
    for dist in metadata.distributions():
        for f in dist.files or ():
            if f.name == target.name and Path(dist.locate_file(f)).resolve() == target:
                return _canon(dist.metadata["Name"])
    return None


def unmet(programs: dict[str, set[str]], packages: frozenset[str]) -> list[str]:
    """One line per program whose package setup would not install."""
    out = []
    for prog, users in sorted(programs.items()):
        where = ", ".join(sorted(users))
        if Path(prog).is_relative_to(VENV_BIN.parent):
            if Path(prog).name.startswith("python"):
                continue            # the venv's own interpreter
            dist = venv_distribution(prog)
            if dist not in required_distributions():
                out.append(f"{prog} (used in {where}) is from {dist or 'no distribution'}, "
                           "which pyproject.toml does not require")
            continue
        pkg = debian_package(prog)
        if pkg is None:
            out.append(f"{prog} (used in {where}) belongs to no Debian package")
        elif pkg not in packages and not essential(pkg):
            out.append(f"{prog} (used in {where}) is in the Debian package {pkg}, "
                       "which scripts/setup does not install")
    return out


@cache
def programs() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in python_files():
        if f == Path(__file__):      # names the prefixes it looks for
            continue
        for p in programs_in(f):
            out.setdefault(p, set()).add(str(f.relative_to(ROOT)))
    return out


def test_the_scan_finds_the_programs_the_lab_and_drivers_run():
    """The scan sees through the forms the code uses: a bare name, `ip netns exec NS
    prog`, a module constant, `DIR / name` and a venv program."""
    found = {Path(p).name for p in programs()}
    assert {"ip", "vtysh", "frr-reload.py", "bgpd", "zebra", "gobgpd", "ping", "sysctl",
            "ps", "ansible-playbook", "api"} <= found     # api: GoBGP's .proto files


def test_every_program_comes_from_a_package_setup_installs():
    assert unmet(programs(), setup_packages()) == []


@pytest.mark.parametrize("package", sorted(setup_packages()))
def test_removing_a_needed_package_from_setup_is_caught(package):
    """The check can fail: drop any package setup installs for a program, and the
    program is reported with that package's name."""
    needed = {debian_package(p) for p in programs()
              if not Path(p).is_relative_to(VENV_BIN.parent)}
    if package not in needed:
        pytest.skip(f"{package} ships nothing the code runs or reads by path")
    problems = unmet(programs(), setup_packages() - {package})
    assert problems and all(f"Debian package {package}," in p for p in problems)


# ------------------------------------------------------------------- modules


def imported_top_modules(file: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_every_import_is_stdlib_ours_or_a_required_distribution():
    ours = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    ours |= {f.stem for d in ("tests", "playbooks/library", "playbooks/inventory_plugins",
                              "benchmarks") for f in (ROOT / d).glob("*.py")}
    ours |= {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").exists()}
    ours.add("ansible_collections")   # Ansible's own namespace, from ansible-core
    providers = metadata.packages_distributions()
    problems = []
    for f in python_files():
        for mod in sorted(imported_top_modules(f) - set(sys.stdlib_module_names) - ours):
            dists = {_canon(d) for d in providers.get(mod, [])}
            if not dists & required_distributions():
                problems.append(f"{f.relative_to(ROOT)} imports {mod}, from "
                                f"{', '.join(sorted(dists)) or 'nothing installed'}, "
                                "which pyproject.toml does not require")
    assert problems == []
