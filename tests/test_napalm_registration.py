"""This project's switch drivers are NAPALM drivers by name: found by
`napalm.get_network_driver`, derived from NAPALM's NetworkDriver, and working
through NAPALM's interface against the simulators."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from napalm import get_network_driver
from napalm.base import NetworkDriver
from switch_kinds import SWITCH_KINDS

pytestmark = pytest.mark.sim

GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs"
# NAPALM name, platform, golden ToR config, a line its plan on an empty switch shows
CASES = [("fabric_comware", "h3c_comware", "dyn-h3c-tor.cfg", "group NODES"),
         ("fabric_vrp", "huawei_vrp", "dyn-vrp-tor.cfg", "group NODES"),
         ("fabric_ios", "cisco_ios", "dyn-ios-tor.cfg", "neighbor NODES peer-group"),
         ("fabric_nxos", "cisco_nxos", "dyn-nxos-tor.cfg", "template peer NODES")]


@pytest.mark.parametrize(("name", "platform", "golden", "shows"), CASES,
                         ids=[c[0] for c in CASES])
def test_driver_by_name(name, platform, golden, shows, tmp_path: Path) -> None:
    sim = SWITCH_KINDS[platform].start("sw1", "admin", "pw-napalm-1")
    try:
        known = tmp_path / "known_hosts"
        known.write_text(sim.known_hosts_line() + "\n")
        cls = get_network_driver(name)
        assert issubclass(cls, NetworkDriver)
        with cls("127.0.0.1", "admin", "pw-napalm-1", timeout=10,
                 optional_args={"port": sim.port, "known_hosts": known}) as dev:
            assert dev.is_alive() == {"is_alive": True}
            dev.load_replace_candidate(config=(GOLDEN / golden).read_text())
            assert shows in dev.compare_config()
            dev.commit_config(revert_in=600)
            assert dev.has_pending_commit()
            dev.confirm_commit()
            assert not dev.has_pending_commit()
            dev.load_replace_candidate(config=(GOLDEN / golden).read_text())
            assert dev.compare_config() == ""
            dev.discard_config()
            peers = dev.get_bgp_neighbors()["global"]["peers"]
            assert peers and all(p["is_up"] for p in peers.values())
    finally:
        sim.stop()
