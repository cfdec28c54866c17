"""The NAPALM getters agree across the four switch drivers: the same BGP state put
into each vendor's simulator (the same peers, states, prefix counts and peer router
IDs) reads back the same from get_bgp_neighbors, get_bgp_neighbors_detail and the
vendor-neutral fields of get_facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from switch_kinds import SWITCH_KINDS

from fabric.deploy.drivers import driver_class

pytestmark = pytest.mark.sim

PASSWORD = "pw-getters-1"
# The same BGP speaker on every platform: AS 65101, router ID 10.0.0.11, two peers in
# AS 65000, one of them described.
CONFIGS = {
    "h3c_comware": "bgp 65101\n router-id 10.0.0.11\n peer 100.126.0.2 as-number 65000\n"
                   " peer 100.126.0.2 description spine 1\n peer 100.126.0.4 as-number 65000\n"
                   " #\n address-family ipv4 unicast\n  peer 100.126.0.2 enable\n"
                   "  peer 100.126.0.4 enable\n#\nreturn\n",
    "huawei_vrp": "bgp 65101\n router-id 10.0.0.11\n peer 100.126.0.2 as-number 65000\n"
                  " peer 100.126.0.2 description spine 1\n peer 100.126.0.4 as-number 65000\n"
                  " #\n ipv4-family unicast\n  peer 100.126.0.2 enable\n"
                  "  peer 100.126.0.4 enable\n#\nreturn\n",
    "cisco_ios": "router bgp 65101\n bgp router-id 10.0.0.11\n"
                 " neighbor 100.126.0.2 remote-as 65000\n"
                 " neighbor 100.126.0.2 description spine 1\n"
                 " neighbor 100.126.0.4 remote-as 65000\n !\n address-family ipv4 unicast\n"
                 "  neighbor 100.126.0.2 activate\n  neighbor 100.126.0.4 activate\n"
                 " exit-address-family\n",
    "cisco_nxos": "feature bgp\nrouter bgp 65101\n  router-id 10.0.0.11\n"
                  "  neighbor 100.126.0.2\n    remote-as 65000\n    description spine 1\n"
                  "    address-family ipv4 unicast\n  neighbor 100.126.0.4\n"
                  "    remote-as 65000\n    address-family ipv4 unicast\n",
}
# address → (state, prefixes received, prefixes advertised, the peer's router ID)
STATE = {"100.126.0.2": ("Established", 7, 3, "100.125.0.9"),
         "100.126.0.4": ("Idle", 0, 0, "0.0.0.0")}
# What the vendors show in their own way (message counters tick with time, NX-OS and
# IOS parse timers the others do not show): compared on type only.
VOLATILE = {"uptime", "input_messages", "output_messages", "input_updates",
            "output_updates", "holdtime", "keepalive", "flap_count", "last_event"}


def _read(platform: str, tmp_path: Path) -> dict[str, Any]:
    """The three getters of `platform`'s driver after the common state is put on its
    simulator."""
    sim = SWITCH_KINDS[platform].start("sw1", "admin", PASSWORD)
    try:
        known = tmp_path / f"known_hosts-{platform}"
        known.write_text(sim.known_hosts_line() + "\n")
        cls = driver_class(platform)
        with cls("127.0.0.1", "admin", PASSWORD, timeout=10,
                 optional_args={"port": sim.port, "known_hosts": known}) as dev:
            dev.load_replace_candidate(config=CONFIGS[platform])
            dev.commit_config()
            for addr, (state, rcvd, sent, rid) in STATE.items():
                sim.device.set_peer(addr, state, prefixes=rcvd, sent=sent, remote_id=rid)
            return {"facts": dev.get_facts(), "neighbors": dev.get_bgp_neighbors(),
                    "detail": dev.get_bgp_neighbors_detail()}
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def readings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("getters")
    return {p: _read(p, tmp) for p in CONFIGS}


def _stable(value: Any) -> Any:
    """`value` with the volatile fields replaced by their type."""
    if isinstance(value, dict):
        return {k: type(v).__name__ if k in VOLATILE else _stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def test_bgp_neighbors_agree(readings: dict[str, dict[str, Any]]) -> None:
    want = {"global": {"router_id": "10.0.0.11", "peers": {
        "100.126.0.2": {"local_as": 65101, "remote_as": 65000, "remote_id": "100.125.0.9",
                        "is_up": True, "is_enabled": True, "description": "spine 1",
                        "uptime": "int", "address_family": {"ipv4": {
                            "received_prefixes": 7, "accepted_prefixes": 7,
                            "sent_prefixes": 3}}},
        "100.126.0.4": {"local_as": 65101, "remote_as": 65000, "remote_id": "0.0.0.0",
                        "is_up": False, "is_enabled": True, "description": "",
                        "uptime": "int", "address_family": {"ipv4": {
                            "received_prefixes": -1, "accepted_prefixes": -1,
                            "sent_prefixes": -1}}}}}}
    for platform, got in readings.items():
        assert _stable(got["neighbors"]) == want, platform
        assert got["neighbors"]["global"]["peers"]["100.126.0.4"]["uptime"] == -1, platform


def test_bgp_neighbors_detail_agree(readings: dict[str, dict[str, Any]]) -> None:
    ios = _stable(readings["cisco_ios"]["detail"])     # NAPALM's own driver: the reference
    assert set(ios) == {"global"} and set(ios["global"]) == {65000}
    up, idle = sorted(ios["global"][65000], key=lambda p: p["remote_address"])
    assert (up["up"], up["router_id"], up["connection_state"], up["received_prefix_count"],
            up["accepted_prefix_count"], up["advertised_prefix_count"]) == \
        (True, "100.125.0.9", "Established", 7, 7, 3)
    assert (idle["up"], idle["connection_state"], idle["advertised_prefix_count"]) == \
        (False, "Idle", 0)
    for platform, got in readings.items():
        mine = _stable(got["detail"])
        assert set(mine) == {"global"} and set(mine["global"]) == {65000}, platform
        rows = sorted(mine["global"][65000], key=lambda p: p["remote_address"])
        assert [sorted(r) for r in rows] == [sorted(up), sorted(idle)], platform
        for row, ref in zip(rows, (up, idle), strict=True):
            same = {k: row[k] for k in ("up", "local_as", "remote_as", "router_id",
                                         "remote_address", "routing_table", "connection_state",
                                         "received_prefix_count", "accepted_prefix_count",
                                         "advertised_prefix_count")}
            assert same == {k: ref[k] for k in same}, platform


def test_facts_agree(readings: dict[str, dict[str, Any]]) -> None:
    # Each simulator's one front-panel interface, as its vendor lists it.
    uplink = {"h3c_comware": "XGE1/0/1", "huawei_vrp": "10GE1/0/1",
              "cisco_ios": "GigabitEthernet1/0/1", "cisco_nxos": "Ethernet1/1"}
    vendor = {"h3c_comware": "H3C", "huawei_vrp": "Huawei", "cisco_ios": "Cisco",
              "cisco_nxos": "Cisco"}
    for platform, got in readings.items():
        facts = got["facts"]
        assert set(facts) == {"uptime", "vendor", "model", "hostname", "fqdn", "os_version",
                              "serial_number", "interface_list"}, platform
        assert (facts["hostname"], facts["fqdn"], facts["vendor"]) == \
            ("sw1", "sw1", vendor[platform]), platform
        assert isinstance(facts["uptime"], float) and facts["uptime"] >= 0, platform
        assert facts["model"] and facts["os_version"] and facts["serial_number"], platform
        assert uplink[platform] in facts["interface_list"], platform
