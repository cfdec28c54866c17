"""The rack policy as the intent holds it: exact blocks and own VIPs only, and prefix
limits that sit between what a peer may announce and what its filter admits."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE

from fabric import pipeline
from fabric.intent.types import Intent, Peer

pytestmark = pytest.mark.unit


def _intent(tmp_path: Path, edit=None) -> Intent:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(EXAMPLE.read_text())
    if edit:
        edit(data)
    tmp_path.mkdir(parents=True, exist_ok=True)
    model = tmp_path / "fabric.yaml"
    model.write_text(yaml.safe_dump(data))
    return pipeline.build(model, tmp_path / "state").intent


def _peer(intent: Intent, device: str, name: str) -> Peer:
    return next(p for p in intent.device(device).peers if p.name == name)


def _admitted(intent: Intent, device: str, list_name: str) -> int:
    """How many distinct prefixes the prefix list can ever admit."""
    plist = next(pl for pl in intent.device(device).prefix_lists if pl.name == list_name)
    total = 0
    for r in plist.rules:
        lo, hi = r.ge or r.prefix.prefixlen, r.le or r.prefix.prefixlen
        total += sum(2 ** (n - r.prefix.prefixlen) for n in range(lo, hi + 1))
    return total


def test_node_filters_take_exact_blocks_and_only_this_racks_vips(tmp_path: Path) -> None:
    intent = _intent(tmp_path)
    block_len = intent.pools.block_prefix_length
    vip_racks = {}
    for v in intent.vips:
        for who in v.announcers:
            vip_racks.setdefault(intent.device(who).rack_name, set()).add(v.address)
    for name, rack in intent.racks.items():
        tor = intent.device(rack.tor)
        lists = {pl.name: pl for pl in tor.prefix_lists}
        rules = lists["RACK-ROUTES"].rules
        assert rules[0].prefix == rack.pool and rules[0].ge == rules[0].le == block_len
        assert {r.prefix for r in rules[1:]} == {IPv4Network((a, 32))
                                                 for a in vip_racks.get(name, ())}
        for core in intent.cores:
            accepted = next(pl for pl in intent.device(core).prefix_lists
                            if pl.name == f"FROM-{name.upper()}")
            assert [r.prefix for r in accepted.rules] == [r.prefix for r in
                                                          lists["RACK-EXPORT"].rules]
            assert all(r.ge is None and r.le is None for r in accepted.rules)


def test_derived_limits_trip_below_what_the_filter_admits(tmp_path: Path) -> None:
    intent = _intent(tmp_path)
    for name, rack in intent.racks.items():
        listener = rack.tor if rack.discovery == "dynamic" else rack.route_reflectors[-1]
        # The listen group, or (node RRs of a rack with a key) each client's static peer.
        clients = [p for p in intent.device(listener).peers if p.rr_client]
        assert clients, name
        vips = sum(1 for v in intent.vips
                   if any(intent.device(a).rack == name for a in v.announcers))
        for group in clients:
            # 8 blocks a node may grow to (rebalance's default cap), the rack's VIPs,
            # a margin
            assert group.max_prefixes == 8 + vips + 2, name
            assert group.max_prefixes < _admitted(intent, listener, "RACK-ROUTES"), name
        for core in intent.cores:
            assert _peer(intent, core, rack.tor).max_prefixes == 1 + vips + 2
            assert _peer(intent, rack.tor, core).max_prefixes is not None
    assert {d.max_prefix_restart for d in intent.devices.values()} == {1}  # the example's


def test_given_limits_apply_to_every_session_of_their_kind(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        bgp = data["defaults"]["bgp"]
        bgp.update(max_prefixes=40, core_max_prefixes=900)
        del bgp["max_prefix_restart"]
    intent = _intent(tmp_path, edit)
    limits: dict[str, set[int]] = {"node": set(), "core": set()}
    for d in intent.devices.values():
        for p in d.peers:
            if p.max_prefixes is None:
                continue
            ebgp = not p.ibgp
            limits["core" if ebgp else "node"].add(p.max_prefixes)
    assert limits == {"node": {40}, "core": {900}}
    assert {d.max_prefix_restart for d in intent.devices.values()} == {5}  # the default


def _both_ends(intent: Intent, s) -> tuple[Peer, Peer]:  # type: ignore[no-untyped-def]
    """Both ends' view of a session: a static peer, or the listener's group."""
    a, b = intent.device(s.a), intent.device(s.b)
    a_peer = next(p for p in a.peers if p.address == s.b_address)
    b_peer = next(p for p in b.peers
                  if (p.listen_range is not None and s.a_address in p.listen_range
                      if s.dynamic else p.address == s.a_address))
    return a_peer, b_peer


def test_gtsm_where_both_ends_support_it(tmp_path: Path) -> None:
    from fabric import platforms

    intent = _intent(tmp_path)
    seen = set()
    for s in intent.sessions:
        a, b = intent.device(s.a), intent.device(s.b)
        feature = "gtsm" if s.kind == "ebgp" else "gtsm_ibgp"
        want = all(platforms.capabilities(d.platform)[feature] == "yes" for d in (a, b))
        a_peer, b_peer = _both_ends(intent, s)
        assert a_peer.ttl_security is b_peer.ttl_security is want, (s.a, s.b)
        seen.add(want)
    assert seen == {True, False}     # the mixed example has both kinds

    def off(data: dict) -> None:
        data["defaults"]["bgp"]["gtsm"] = False
    intent = _intent(tmp_path / "off", off)
    assert not any(p.ttl_security for d in intent.devices.values() for p in d.peers)


def test_bfd_on_every_core_link_and_on_node_sessions_only_where_the_node_has_it(
        tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from fabric.cli.main import main

    intent = _intent(tmp_path)
    for s in intent.sessions:
        ends = _both_ends(intent, s)
        assert {p.bfd for p in ends} == {s.kind == "ebgp"}, (s.a, s.b)
    assert {d.bfd_interval for d in intent.devices.values()} == {100}    # the example's

    def nodes_too(data: dict) -> None:
        data["defaults"]["bgp"]["bfd"] = {"nodes": True}
    intent = _intent(tmp_path / "nodes", nodes_too)
    # GoBGP 3.10 has none: the node sessions go without, the core links keep theirs.
    assert all({p.bfd for p in _both_ends(intent, s)} == {s.kind == "ebgp"}
               for s in intent.sessions)
    assert {(d.bfd_interval, d.bfd_multiplier) for d in intent.devices.values()} == {(300, 3)}
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "nodes" / "fabric.yaml")]) == 0
    err = capsys.readouterr().err
    assert "defaults.bgp.bfd.nodes: nodes: platform gobgp lacks BFD" in err
    assert "GoBGP has BFD from 4.6" in err
    # IOS-XE and Comware take single-hop timers from the interface: said, once each.
    assert "ToR r03-tor: platform cisco_ios lacks BFD timers outside interface" in err
    assert "ToR r01-tor: platform h3c_comware lacks BFD timers outside interface" in err

    def off(data: dict) -> None:
        data["defaults"]["bgp"]["bfd"] = {"core_links": False}
    intent = _intent(tmp_path / "off", off)
    assert not any(p.bfd for d in intent.devices.values() for p in d.peers)


def test_every_reflector_sends_all_paths_and_the_tor_takes_them(tmp_path: Path) -> None:
    intent = _intent(tmp_path)
    ecmp = 8     # the example's
    for name, rack in intent.racks.items():
        if rack.discovery == "dynamic":
            assert _peer(intent, rack.tor, "NODES").add_paths == ecmp, name
            continue
        for rr in rack.route_reflectors:
            assert _peer(intent, rr, rack.tor).add_paths == ecmp
            assert _peer(intent, rack.tor, rr).add_path_receive
            clients = [p for p in intent.device(rr).peers if p.rr_client]
            assert clients and all(p.add_paths == ecmp for p in clients)
        # The RR's limit toward the ToR: 8 blocks per node (rebalance's cap) and one
        # path per VIP announcement (r06: .11 by n3, .20 by n3 and n4), a quarter more.
        names = set(rack.nodes)
        paths = sum(len(names & set(v.announcers)) for v in intent.vips)
        assert paths == 3, name
        assert _peer(intent, rack.tor, rack.route_reflectors[0]).max_prefixes == \
            (8 * len(rack.nodes) + paths) + (8 * len(rack.nodes) + paths) // 4
    assert not any(p.add_paths or p.add_path_receive
                   for p in intent.device("core1").peers)      # eBGP: nothing to reflect

    def single_path(data: dict) -> None:
        data["defaults"]["bgp"]["ecmp"] = 1
    intent = _intent(tmp_path / "one", single_path)
    assert not any(p.add_paths or p.add_path_receive
                   for d in intent.devices.values() for p in d.peers)


def test_verify_checks_bfd_where_the_intent_has_it(tmp_path: Path) -> None:
    from fabric.observed import Neighbor
    from fabric.verify.check import Observed, evaluate

    intent = _intent(tmp_path)

    def observed(bfd_of) -> dict[str, Observed]:  # type: ignore[no-untyped-def]
        obs = {n: Observed({}, {}) for n in intent.devices}
        for s in intent.sessions:
            for dev, addr, peer_as, local_as in ((s.a, s.b_address, s.b_as, s.a_as),
                                                 (s.b, s.a_address, s.a_as, s.b_as)):
                obs[dev].neighbors[str(addr)] = Neighbor(
                    str(addr), local_as, peer_as, "Established", 10.0, True, True,
                    bfd=bfd_of(dev, str(addr)))
        return obs

    def bfd_results(obs):  # type: ignore[no-untyped-def]
        return {(r.device, r.subject): r.ok for r in evaluate(intent, obs) if r.check == "bfd"}

    switch = {n for n, d in intent.devices.items() if d.is_switch}
    up = bfd_results(observed(lambda dev, _: "Up" if dev in switch else None))
    assert len(up) == 2 * sum(s.kind == "ebgp" for s in intent.sessions) and all(up.values())
    one = next(iter(up))
    down = bfd_results(observed(
        lambda dev, a: ("Down" if (dev, a) == one else "Up") if dev in switch else None))
    assert [k for k, ok in down.items() if not ok] == [one]
    # A speaker whose driver does not read BFD is not asked about it.
    unread = bfd_results(observed(lambda dev, _: "Up" if dev in switch - {"core1"} else None))
    assert not any(dev == "core1" for dev, _ in unread) and len(unread) == len(up) - 6


def test_a_changed_key_line_marks_the_sessions_of_that_key(tmp_path: Path) -> None:
    """What a switch's compare shows (a diff, or the commands a vendor CLI is sent),
    as the rollout reads it: the peers whose key is in a changed line are re-keyed."""
    from fabric.deploy.plan import remediation_as_diff
    from fabric.deploy.rollout import rekeyed

    intent = _intent(tmp_path)
    cores = {str(p.address) for p in intent.device("r01-tor").peers if not p.ibgp}
    commands = ("bgp 65101\n peer 10.255.0.0 password simple __secret_bgp_core__\n"
                " peer NODES description rack r01 nodes\n")          # Comware's form
    keys = rekeyed(intent, "r01-tor", remediation_as_diff(commands, False))
    assert keys.static == cores and not keys.dynamic
    frr = "  router bgp 65105\n-  neighbor NODES password ******\n" \
          "+  neighbor NODES password __secret_bgp_nodes__\n"
    keys = rekeyed(intent, "r05-tor", remediation_as_diff(frr, True))
    assert keys.dynamic and not keys.static
    # A key only in an unchanged line (a view opened for context) is no re-key.
    context = ("  peer 10.255.0.0 password simple __secret_bgp_core__\n"
               "   peer 10.255.0.0 enable\n")
    assert rekeyed(intent, "r01-tor", remediation_as_diff(context, True)) == \
        rekeyed(intent, "r01-tor", "")
