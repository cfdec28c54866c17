"""The FRR driver against a real FRR switch reached over SSH (tests/frr_box.py):
login and host keys, a plan that changes nothing, commit and rollback, a refused
config that leaves the switch as it was, and no candidate left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import EXAMPLE, LOGIN_PW
from frr_box import FrrBox

from fabric import pipeline
from fabric.deploy import secrets
from fabric.deploy.drivers.errors import AuthenticationError, CommitError, HostKeyError
from fabric.platforms.frr.driver import FrrDriver
from fabric.render.engine import device_config

pytestmark = pytest.mark.lab

KEY = "Frr-device-K3y-9931"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("an FRR box needs root (network namespaces)")
    intent = pipeline.build(EXAMPLE).intent
    d = intent.devices["r05-tor"]
    iface = {i.address.ip: i.address for i in d.interfaces}
    peers = [(iface[p.local_address], p.address, d.asn, p.remote_as, KEY if p.auth else None,
              p.ttl_security) for p in d.peers if not p.dynamic]
    values = {ref.placeholder: KEY for ref in intent.secrets.values()}
    config = secrets.substitute(device_config(d, intent), values)
    tmp = tmp_path_factory.mktemp("box")
    b = FrrBox("r05-tor", peers, "netops", LOGIN_PW, tmp).start()
    (tmp / "known_hosts").write_text(b.known_hosts_line() + "\n")
    yield b, config, tmp / "known_hosts"
    b.stop()


def driver(box, password: str = LOGIN_PW, known: Path | None = None) -> FrrDriver:
    b, _, known_hosts = box
    return FrrDriver(b.host, "netops", password, timeout=20,
                     optional_args={"port": b.port, "known_hosts": str(known or known_hosts)})


def test_login_refused_and_unknown_host_key(box, tmp_path):
    with pytest.raises(AuthenticationError, match=r"login refused for user netops") as exc:
        driver(box, password="Wrong-pw-123456").open()
    assert "Wrong-pw" not in str(exc.value)
    (tmp_path / "empty").write_text("")
    with pytest.raises(HostKeyError, match=r"unknown host key .*--accept-unknown-host-keys"):
        driver(box, known=tmp_path / "empty").open()


def test_plan_commit_replan_rollback(box):
    b, config, _ = box
    drv = driver(box)
    drv.open()
    try:
        before = drv.get_config()["running"]
        drv.load_replace_candidate(config=config)
        diff = drv.compare_config()
        assert "+ router bgp 65105" in diff
        assert drv.get_config()["running"] == before          # a plan writes nothing
        drv.commit_config(revert_in=300)
        after = drv.get_config()["running"]
        assert "router bgp 65105" in after and KEY in after
        drv.load_replace_candidate(config=config)
        assert drv.compare_config() == ""                     # re-plan: nothing to do
        drv.discard_config()
        drv.rollback()
        assert "router bgp" not in drv.get_config()["running"]
    finally:
        drv.close()
    assert b.uploads and not any(Path(p).exists() for p in b.uploads)


def test_a_refused_config_leaves_the_switch_as_it_was(box):
    drv = driver(box)
    drv.open()
    try:
        before = drv.get_config()["running"]
        drv.load_replace_candidate(config="router bgp 65105\n neighbor 10.9.9.9 bogus-knob 7\n")
        with pytest.raises(CommitError, match=r"(?s)rejected the config.*config was restored"):
            drv.commit_config()
        assert drv.get_config()["running"] == before
    finally:
        drv.close()
