"""Each vendor's output holds the documented command forms (docs/vendor-syntax.md)
for dynamic peers, graceful restart with timers, reflect-client, ECMP, inbound
prefix filter with max-prefix, and BMP. Checked on the golden fixture's
dynamic-mode ToRs (rack subnets 10.10.<i>.0/24, listen limit 64, GR 90/300,
ECMP 4, derived max-prefix, BMP collector 192.0.2.200:11019)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

pytestmark = pytest.mark.unit

CONFIGS = ROOT / "tests" / "golden" / "allroles" / "configs"

FORMS: dict[str, list[str]] = {
    "h3c": [
        r"^ group NODES internal$",
        r"^ peer 10\.10\.0\.0 24 group NODES$",                       # dynamic peers
        r"^ graceful-restart$",
        r"^ graceful-restart timer restart 90$",
        r"^ graceful-restart timer wait-for-rib 300$",   # the helper's timer, not purge-time
        r"^  peer NODES reflect-client$",
        r"^  balance ebgp 4$", r"^  balance ibgp 4$",
        r"^ip prefix-list RACK-ROUTES index 10 permit 100\.64\.\d+\.0 22 "
        r"greater-equal 27 less-equal 27$",
        r"^  peer NODES prefix-list RACK-ROUTES import$",
        r"^  peer NODES route-limit \d+ reconnect 300$",   # seconds: 5 minutes
        r"^bmp server 1$", r"^ server address 192\.0\.2\.200 port 11019$",
        r"^ peer NODES bmp server 1$",
    ],
    "vrp": [
        r"^ group NODES listen internal$",
        r"^ peer NODES listen-net 10\.10\.1\.0 24$",
        r"^ bgp dynamic-session-limit 64$",
        r"^ graceful-restart$",
        r"^ graceful-restart timer restart 90$",
        r"^  peer NODES reflect-client$",
        r"^  maximum load-balancing ebgp 4$", r"^  maximum load-balancing ibgp 4$",
        r"^ip ip-prefix RACK-ROUTES index 10 permit 100\.64\.\d+\.0 22 "
        r"greater-equal 27 less-equal 27$",
        r"^  peer NODES ip-prefix RACK-ROUTES import$",
        r"^  peer NODES route-limit \d+ idle-timeout 5$",
        r"^ peer NODES description [A-Za-z0-9 ]+$",        # letters, digits and spaces only
        r"^bmp$", r"^ bmp-session 192\.0\.2\.200", r"^  tcp connect port 11019$",
        r"^  monitor public$",                             # else no peer is monitored
        r"^   route-mode ipv4-family unicast adj-rib-in pre-policy$",
        r"^   route-mode ipv4-family unicast adj-rib-in post-policy$",
        r"^ keep-all-routes$",                             # what pre-policy needs
    ],
    "ios": [
        r"^ neighbor NODES peer-group$",
        r"^ bgp listen limit 64$",
        r"^ bgp listen range 10\.10\.2\.0/24 peer-group NODES$",
        r"^ bgp graceful-restart$",
        r"^ bgp graceful-restart restart-time 90$",
        r"^ bgp graceful-restart stalepath-time 300$",
        r"^  neighbor NODES route-reflector-client$",
        r"^  maximum-paths 4$", r"^  maximum-paths ibgp 4$",
        r"^ip prefix-list RACK-ROUTES seq 10 permit 100\.64\.\d+\.0/22 ge 27 le 27$",
        r"^  neighbor NODES prefix-list RACK-ROUTES in$",
        r"^  neighbor NODES maximum-prefix \d+ restart 5$",
        r"^ bmp server 1$", r"^  address 192\.0\.2\.200 port-number 11019$",
        r"^ neighbor NODES bmp-activate all$",
    ],
    "nxos": [
        r"^  template peer NODES$",
        r"^  neighbor 10\.10\.3\.0/24\n    remote-as \d+\n    inherit peer NODES$",
        r"^    maximum-peers 64$",
        r"^  graceful-restart$",
        r"^  graceful-restart restart-time 90$",
        r"^  graceful-restart stalepath-time 300$",
        r"^      route-reflector-client$",
        r"^    maximum-paths 4$", r"^    maximum-paths ibgp 4$",
        r"^ip prefix-list RACK-ROUTES seq 10 permit 100\.64\.\d+\.0/22 ge 27 le 27$",
        r"^      prefix-list RACK-ROUTES in$",
        r"^      maximum-prefix \d+ restart 5$",
        r"^  bmp-server 1$", r"^    address 192\.0\.2\.200 port-number 11019$",
        r"^    bmp-activate-server 1$",
    ],
    "frr": [
        r"^ neighbor NODES peer-group$",
        r"^ bgp listen limit 64$",
        r"^ bgp listen range 10\.10\.4\.0/24 peer-group NODES$",
        r"^ bgp graceful-restart$",
        r"^ bgp graceful-restart restart-time 90$",
        r"^ bgp graceful-restart stalepath-time 300$",
        r"^  neighbor NODES route-reflector-client$",
        r"^  maximum-paths 4$", r"^  maximum-paths ibgp 4$",
        r"^ip prefix-list RACK-ROUTES seq 10 permit 100\.64\.\d+\.0/22 ge 27 le 27$",
        r"^  neighbor NODES prefix-list RACK-ROUTES in$",
        r"^  neighbor NODES maximum-prefix \d+ restart 5$",
        r"^ bmp targets bmp1$",
        r"^  bmp connect 192\.0\.2\.200 port 11019 min-retry 1000 max-retry 10000$",
    ],
}


@pytest.mark.parametrize("vendor", sorted(FORMS))
def test_dynamic_tor_has_documented_forms(vendor: str) -> None:
    text = (CONFIGS / f"dyn-{vendor}-tor.cfg").read_text()
    missing = [f for f in FORMS[vendor] if not re.search(f, text, re.M)]
    assert not missing, f"dyn-{vendor}-tor.cfg lacks {missing}"


@pytest.mark.parametrize("vendor", sorted(FORMS))
def test_switch_rr_reflects_and_core_multipaths(vendor: str) -> None:
    rr = (CONFIGS / f"rr-{vendor}-rr1.cfg").read_text()
    assert re.search(r"cluster-id 10\.20\.\d\.2$", rr, re.M), "RRs share the lower RR address"
    assert re.search(r"reflect-client|route-reflector-client", rr)
    core = (CONFIGS / f"core-{vendor}.cfg").read_text()
    relax = {"h3c": "balance as-path-relax", "vrp": "load-balancing as-path-relax",
             "ios": "bgp bestpath as-path multipath-relax",
             "nxos": "bestpath as-path multipath-relax",
             "frr": "bgp bestpath as-path multipath-relax"}[vendor]
    assert relax in core
    assert "__secret_core_key__" in core   # a placeholder, never a secret


def test_frr_peer_group_precedes_listen_range() -> None:
    text = (CONFIGS / "dyn-frr-tor.cfg").read_text()
    assert text.index("neighbor NODES peer-group") < text.index("bgp listen range")
    ios = (CONFIGS / "dyn-ios-tor.cfg").read_text()
    assert ios.index("neighbor NODES peer-group") < ios.index("bgp listen range")


def test_gobgp_node_has_gr_and_policies() -> None:
    node = (ROOT / "tests" / "golden" / "allroles" / "nodes" / "dyn-h3c-n1" / "gobgpd.toml")
    text = node.read_text()
    for form in ("[neighbors.graceful-restart.config]", "restart-time = 90",
                 "notification-enabled = true", "[neighbors.afi-safis.mp-graceful-restart.config]",
                 'default-import-policy = "reject-route"', "[[bmp-servers]]"):
        assert form in text, form
    # The golden rack has a key, so its node RRs peer with each client statically
    # (GoBGP 3.10: no MD5 on dynamic neighbors).
    rr = (node.parent.parent / "rrnode-n1" / "gobgpd.toml").read_text()
    assert "[[dynamic-neighbors]]" not in rr
    client = rr[rr.index('neighbor-address = "10.30.0.13"'):]
    for form in ('auth-password = "__secret_node_key__"', "route-reflector-client = true",
                 'route-reflector-cluster-id = "10.30.0.11"', "max-prefixes = 11"):
        assert form in client, form


def test_gobgp_node_rr_without_a_key_listens_on_the_subnet(tmp_path) -> None:
    from fabric import pipeline
    from fabric.render.engine import device_config

    model = tmp_path / "fabric.yaml"
    text = (ROOT / "tests" / "fixtures" / "golden" / "allroles.yaml").read_text()
    model.write_text(text.replace("core_links: core_key, nodes: node_key",
                                  "core_links: core_key"))
    intent = pipeline.build(model, tmp_path / "state").intent
    rr = device_config(intent.device("rrnode-n1"), intent)
    for form in ("[[dynamic-neighbors]]", 'prefix = "10.30.0.0/24"',
                 "route-reflector-client = true", 'route-reflector-cluster-id = "10.30.0.11"',
                 "max-prefixes = 11"):
        assert form in rr, form
    assert "auth-password" not in rr.split("[[peer-groups]]")[1].split("[[dynamic")[0]
