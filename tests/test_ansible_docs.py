"""Ansible's conventions for this project's plugins: each module's DOCUMENTATION,
EXAMPLES and RETURN as `ansible-doc` reads them, the documented options equal to the
module's argument_spec, and inventory host vars that are plain JSON values carrying
Ansible's connection variables."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_run import PLAYBOOKS, ansible_env, inventory_for, tool
from conftest import EXAMPLE

from fabric import pipeline

pytestmark = pytest.mark.ansible

LIBRARY = PLAYBOOKS / "library"
MODULES = sorted(p.stem for p in LIBRARY.glob("*.py"))
# What the issue asks of `ansible_network_os`: the collection's name where one exists,
# else netmiko's device type.
NETWORK_OS = {"cisco_ios": "cisco.ios.ios", "cisco_nxos": "cisco.nxos.nxos",
              "frr": "frr.frr.frr", "h3c_comware": "hp_comware",
              "huawei_vrp": "huawei_vrpv8", "gobgp": "linux"}
LOGIN_PW = "Inv-pw-never-shown-4417"
# AnsibleModule's defaults for a key an option leaves out.
OPTION_DEFAULTS = {"type": "str", "required": False, "default": None, "choices": None}


def run(tmp: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(argv[0]), *argv[1:]], capture_output=True, text=True,
                          env=ansible_env(tmp, **env), timeout=120)


def module_doc(tmp: Path, name: str) -> dict[str, Any]:
    """`ansible-doc` on one module: the text view works, and the JSON view parsed."""
    shown = run(tmp, "ansible-doc", "-M", str(LIBRARY), name)
    assert shown.returncode == 0 and not shown.stderr, shown.stdout + shown.stderr
    assert "OPTIONS" in shown.stdout and "EXAMPLES" in shown.stdout, shown.stdout
    assert "RETURN VALUES" in shown.stdout, shown.stdout
    as_json = run(tmp, "ansible-doc", "--json", "-M", str(LIBRARY), name)
    assert as_json.returncode == 0, as_json.stderr
    return json.loads(as_json.stdout)[name]


def argument_spec(name: str) -> dict[str, dict[str, Any]]:
    """The argument_spec the module hands AnsibleModule, from the module itself."""
    spec = importlib.util.spec_from_file_location(f"library_{name}", LIBRARY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARGUMENT_SPEC


def comparable(options: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each option's type, required, default and choices, AnsibleModule's defaults filled in."""
    return {name: {key: option.get(key, default) for key, default in OPTION_DEFAULTS.items()}
            for name, option in options.items()}


def result_keys(name: str) -> set[str]:
    """The keys the module passes to exit_json/fail_json, besides `changed` and `msg`."""
    tree = ast.parse((LIBRARY / f"{name}.py").read_text())
    return {kw.arg for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr in ("exit_json",
                                                                             "fail_json")
            for kw in node.keywords} - {"changed", "msg"}


@pytest.mark.parametrize("name", MODULES)
def test_module_documentation_matches_its_argument_spec(name: str, tmp_path: Path) -> None:
    entry = module_doc(tmp_path, name)
    doc = entry["doc"]
    assert doc["module"] == name
    assert doc["short_description"] and doc["description"] and doc["author"], doc
    for option, text in doc["options"].items():
        assert text.get("description"), f"{name}: option {option} has no description"
    assert comparable(doc["options"]) == comparable(argument_spec(name))

    returned = entry["return"]
    assert set(returned) == result_keys(name)
    for key, value in returned.items():
        assert {"description", "returned", "type"} <= set(value), f"{name}: return {key}"

    examples = yaml.safe_load(entry["examples"])
    assert examples, f"{name}: no examples"
    for task in examples:
        assert task.get("name"), task
        assert set(task[name]) <= set(doc["options"]), task
        required = {o for o, v in doc["options"].items() if v.get("required")}
        assert required <= set(task[name]), task


def test_the_inventory_plugin_is_documented(tmp_path: Path) -> None:
    shown = run(tmp_path, "ansible-doc", "-t", "inventory", "fabric")
    assert shown.returncode == 0 and not shown.stderr, shown.stdout + shown.stderr
    doc = json.loads(run(tmp_path, "ansible-doc", "-t", "inventory", "--json",
                         "fabric").stdout)["fabric"]["doc"]
    assert doc["short_description"] and doc["description"] and doc["author"], doc
    assert comparable(doc["options"]) == {
        "plugin": {"type": "str", "required": True, "default": None, "choices": ["fabric"]},
        "model": {"type": "str", "required": False, "default": "../inventory/fabric.yaml",
                  "choices": None}}


def plain_json(value: object) -> bool:
    """A str, an int or a list of them: no mapping (Ansible's `__ansible_unsafe`
    wrapper of an untrusted string is one), no other type."""
    if isinstance(value, list):
        return all(plain_json(v) for v in value)
    return type(value) in (str, int)


def inventory_list(tmp: Path, inventory: Path, **env: str) -> dict[str, Any]:
    listed = run(tmp, "ansible-inventory", "-i", str(inventory), "--list", **env)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def without_credentials() -> dict[str, str]:
    return {"FABRIC_USERNAME": "", "FABRIC_PASSWORD": "", "FABRIC_CREDENTIALS": ""}


def test_inventory_host_vars_are_plain_and_carry_ansible_connection_variables(
        tmp_path: Path) -> None:
    intent = pipeline.build(EXAMPLE).intent
    env = {**without_credentials(), "FABRIC_USERNAME": "netops", "FABRIC_PASSWORD": LOGIN_PW}
    listed = inventory_list(tmp_path, PLAYBOOKS / "fabric.inventory.yml", **env)
    hostvars = listed["_meta"]["hostvars"]
    assert set(hostvars) == set(intent.devices)
    for name, host in hostvars.items():
        device = intent.devices[name]
        assert all(plain_json(v) for v in host.values()), (name, host)
        assert host["ansible_network_os"] == NETWORK_OS[device.platform], name
        assert host["ansible_connection"] == ("local" if device.is_switch else "ssh"), name
        assert host["ansible_user"] == "netops", name
        assert host["ansible_host"] == str(device.mgmt or device.router_id), name
    assert set(listed["switches"]["hosts"]) == {n for n, d in intent.devices.items()
                                                if d.is_switch}
    assert LOGIN_PW not in json.dumps(listed)


def test_ansible_user_follows_the_credentials_file_per_device(tmp_path: Path) -> None:
    creds = tmp_path / "credentials.yaml"
    creds.write_text(yaml.safe_dump({
        "default": {"username": "fabric-ops", "password": LOGIN_PW},
        "devices": {"core1": {"username": "core-admin", "password": LOGIN_PW + "-core"}}}))
    creds.chmod(0o600)
    env = {**without_credentials(), "FABRIC_CREDENTIALS": str(creds)}
    listed = inventory_list(tmp_path, PLAYBOOKS / "fabric.inventory.yml", **env)
    users = {n: h["ansible_user"] for n, h in listed["_meta"]["hostvars"].items()}
    assert users.pop("core1") == "core-admin"
    assert set(users.values()) == {"fabric-ops"}
    assert LOGIN_PW not in json.dumps(listed)


def test_a_bad_model_fails_the_inventory_with_located_errors(example_copy: Path,
                                                             tmp_path: Path) -> None:
    example_copy.write_text(example_copy.read_text().replace("ecmp: 8", "ecmp: many"))
    listed = run(tmp_path, "ansible-inventory", "-i", str(inventory_for(tmp_path, example_copy)),
                 "--list", **without_credentials())
    assert listed.returncode != 0
    line = next(n for n, text in enumerate(example_copy.read_text().splitlines(), 1)
                if "ecmp: many" in text)
    assert f"{example_copy}:{line}:" in listed.stderr, listed.stderr
    assert "Traceback" not in listed.stderr


def test_a_value_ansible_would_template_is_refused(example_copy: Path, tmp_path: Path) -> None:
    odd = tmp_path / "model{#dir"
    shutil.copytree(example_copy.parent, odd)
    listed = run(tmp_path, "ansible-inventory", "-i", str(PLAYBOOKS / "fabric.inventory.yml"),
                 "--list", **without_credentials(), FABRIC_MODEL=str(odd / "fabric.yaml"))
    assert listed.returncode != 0
    assert "fabric_model" in listed.stderr and "contains a Jinja delimiter" in listed.stderr, \
        listed.stderr
