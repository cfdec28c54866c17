"""This project's Comware and VRP8 drivers are NAPALM drivers by name: found by
`napalm.get_network_driver`, derived from NAPALM's NetworkDriver, and working
through NAPALM's interface against the simulators."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from napalm import get_network_driver
from napalm.base import NetworkDriver
from simulators.comware import ComwareSimulator
from simulators.vrp import VrpSimulator

GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs"
BASE = "#\n sysname {name}\n#\nreturn\n"
CASES = [("fabric_comware", ComwareSimulator, "dyn-h3c-tor.cfg", {"minute": 0.5}),
         ("fabric_vrp", VrpSimulator, "dyn-vrp-tor.cfg", {"second": 0.01})]


@pytest.mark.parametrize(("name", "sim_cls", "golden", "timer"), CASES,
                         ids=[c[0] for c in CASES])
def test_driver_by_name(name, sim_cls, golden, timer, tmp_path: Path) -> None:
    sim = sim_cls("sw1", "admin", "pw-napalm-1", config=BASE.format(name="sw1"), **timer)
    sim.start()
    try:
        known = tmp_path / "known_hosts"
        known.write_text(sim.known_hosts_line() + "\n")
        cls = get_network_driver(name)
        assert issubclass(cls, NetworkDriver)
        with cls("127.0.0.1", "admin", "pw-napalm-1", timeout=10,
                 optional_args={"port": sim.port, "known_hosts": known}) as dev:
            assert dev.is_alive() == {"is_alive": True}
            dev.load_replace_candidate(config=(GOLDEN / golden).read_text())
            assert "group NODES" in dev.compare_config()
            dev.commit_config(revert_in=600)
            assert dev.has_pending_commit()
            dev.confirm_commit()
            assert not dev.has_pending_commit()
            dev.load_replace_candidate(config=(GOLDEN / golden).read_text())
            assert dev.compare_config() == ""
            peers = dev.get_bgp_neighbors()["global"]["peers"]
            assert peers and all(p["is_up"] for p in peers.values())
    finally:
        sim.stop()
