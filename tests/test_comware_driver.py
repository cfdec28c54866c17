"""The H3C Comware V7 driver against the SSH simulator of a Comware V7 switch
(tests/simulators/comware.py): login and host keys, plan, apply with commit-delay
and confirm, rollback by the device's timer and by the driver, getters, secrets."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import driver_helpers as helpers
import paramiko
import pytest
from driver_helpers import keyless, wait_for
from simulators.comware import ComwareSimulator, decrypt

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    CommitError,
    DriverError,
    HostKeyError,
)
from fabric.platforms.h3c_comware.dialect import PROMPT, config_items
from fabric.platforms.h3c_comware.driver import ComwareDriver

pytestmark = pytest.mark.sim
# The golden ToR's node-group limit, and another value for it.
LIMIT = "peer NODES route-limit 11 reconnect 300"
NEW_LIMIT = "peer NODES route-limit 300 reconnect 300"

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs" / "dyn-h3c-tor.cfg"
LOGIN_PW = "Zq7-L0gin-S3cret-9f1c"          # distinctive: grepped for in logs and errors
BGP_KEY = "Bgp-K3y-Sup3rS3cret-77aa"
FAST_MINUTE = 0.4                             # one commit-delay "minute", in seconds

# A switch before this tool touched it: a name, an interface, a user, and a prefix
# list of someone else's.
BASE = """\
#
 sysname sim-tor
#
interface Ten-GigabitEthernet1/0/1
 description uplink to spine
 ip address 10.0.0.1 255.255.255.254
#
ip prefix-list OTHER index 10 permit 10.0.0.0 8
#
local-user admin class manage
 password simple hunter2
 service-type ssh
#
 ssh server enable
#
return
"""


def golden() -> str:
    return GOLDEN.read_text()


def with_keys(text: str) -> str:
    """`text` with every key placeholder (the cores', the nodes') as BGP_KEY."""
    return text.replace("__secret_core_key__", BGP_KEY).replace("__secret_node_key__", BGP_KEY)


def owned_sorted(text: str, extra: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """The (depth, line)s of the sections this tool owns, order-insensitive."""
    def owned(line: str) -> bool:
        return line.startswith(("bgp ", "bmp server ")) or (
            line.startswith("ip prefix-list ") and line.split()[2] not in ("OTHER", *extra))
    return helpers.owned_sorted(config_items(text), owned)


def unrelated(sim: ComwareSimulator) -> list[str]:
    return [ln for ln in sim.device.lines()
            if not ln.startswith(("bgp ", "bmp server "))
            and not (ln.startswith("ip prefix-list ") and " OTHER " not in ln)]


@pytest.fixture
def sim():
    s = ComwareSimulator(sysname="sim-tor", username="admin", password=LOGIN_PW,
                         minute=10.0, config=BASE).start()
    yield s
    s.stop()


@pytest.fixture
def known_hosts(sim: ComwareSimulator, tmp_path: Path) -> Path:
    return helpers.write_known_hosts(sim, tmp_path)


def make_driver(sim: ComwareSimulator, known_hosts: Path | None, password: str = LOGIN_PW,
                **extra: object) -> ComwareDriver:
    return helpers.make_driver(ComwareDriver, sim, known_hosts, password, **extra)


@pytest.fixture
def drv(sim: ComwareSimulator, known_hosts: Path):
    yield from helpers.opened(make_driver(sim, known_hosts))


@pytest.fixture
def applied(sim: ComwareSimulator) -> ComwareSimulator:
    """The switch after a successful apply of the golden config (typed in directly)."""
    sim.device.load(golden())
    sim.device.save()
    return sim


# --------------------------------------------------------------------------- login


def test_login_with_the_right_password(drv: ComwareDriver) -> None:
    running = drv.get_config()["running"]
    assert " sysname sim-tor" in running.splitlines()
    assert running.rstrip().endswith("return")


def test_login_with_a_wrong_password_fails(sim: ComwareSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, password="not-the-password")
    with pytest.raises(AuthenticationError, match="authentication failed"):
        d.open()
    assert d._conn is None


def test_unknown_host_key_is_refused_by_default(sim: ComwareSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match="not trusted"):
        make_driver(sim, empty).open()
    # A different key recorded for this host:port is refused too.
    other = paramiko.ECDSAKey.generate(bits=256)
    empty.write_text(f"[127.0.0.1]:{sim.port} {other.get_name()} {other.get_base64()}\n")
    with pytest.raises(HostKeyError):
        make_driver(sim, empty).open()


def test_unknown_host_key_is_accepted_with_the_flag(sim: ComwareSimulator,
                                                    tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    d = make_driver(sim, empty, accept_unknown_host_keys=True)
    d.open()
    try:
        assert "sysname sim-tor" in d.get_config()["running"]
    finally:
        d.close()


def test_known_host_key_is_accepted(sim: ComwareSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, accept_unknown_host_keys=False)
    d.open()
    try:
        assert d.get_config(retrieve="running")["running"].startswith("#")
    finally:
        d.close()


# --------------------------------------------------------------------------- plan / apply


def test_plan_on_an_empty_device_shows_the_whole_bgp_section(drv: ComwareDriver) -> None:
    drv.load_replace_candidate(filename=str(GOLDEN))
    diff = drv.compare_config()
    # Exactly the candidate's lines, each at its depth (order is the push order).
    assert sorted(config_items(diff)) == owned_sorted(golden())
    assert "peer 100.126.0.2 password simple __secret_core_key__" in diff
    assert "undo" not in diff
    for foreign in ("sysname", "interface", "local-user", "OTHER", "ssh server"):
        assert foreign not in diff
    # Dependencies first: prefix lists and the BMP server before the BGP view; the
    # group and peers before their settings; the address family last.
    lines = [ln.strip() for ln in diff.splitlines()]
    assert lines.index("bmp server 1") < lines.index("bgp 64602")
    assert lines.index("group NODES internal") < lines.index(
        "peer NODES description rack dyn-h3c nodes (dynamic)")
    assert lines.index("peer 100.126.0.2 as-number 65005") < lines.index(
        "peer 100.126.0.2 bmp server 1") < lines.index("address-family ipv4 unicast")


def test_apply_with_commit_delay_then_confirm(sim: ComwareSimulator,
                                             drv: ComwareDriver) -> None:
    before = unrelated(sim)
    drv.load_replace_candidate(filename=str(GOLDEN))
    drv.commit_config(revert_in=60)
    assert sim.device.pending and drv.has_pending_commit()
    assert sim.device.delay_minutes == 1
    drv.confirm_commit()
    assert not sim.device.pending and not drv.has_pending_commit()
    assert sim.device.saves == 1 and sim.device.saved == sim.device.running()

    running = sim.device.running()
    assert keyless(owned_sorted(running)) == keyless(owned_sorted(golden()))
    assert unrelated(sim) == before
    assert "ip prefix-list OTHER index 10 permit 10.0.0.0 8" in running
    keys = re.findall(r"peer (\S+) password cipher (\S+)", running)
    assert {p: decrypt(c) for p, c in keys} == {"NODES": "__secret_node_key__",
                                               "100.126.0.2": "__secret_core_key__",
                                               "100.126.0.4": "__secret_core_key__"}

    drv.load_replace_candidate(filename=str(GOLDEN))
    assert drv.compare_config() == ""


def test_applied_config_equals_the_candidate(applied: ComwareSimulator,
                                             drv: ComwareDriver) -> None:
    running = applied.device.running()
    strip = [(d, re.sub(r"password (?:simple|cipher) \S+$", "password K", ln))
             for d, ln in owned_sorted(running)]
    want = [(d, re.sub(r"password (?:simple|cipher) \S+$", "password K", ln))
            for d, ln in owned_sorted(golden())]
    assert sorted(strip) == sorted(want)
    drv.load_replace_candidate(config=golden())
    assert drv.compare_config() == ""


def test_changed_candidate_gives_exactly_the_changed_lines(applied: ComwareSimulator,
                                                           drv: ComwareDriver) -> None:
    cand = golden().replace(LIMIT, NEW_LIMIT)
    cand = cand.replace("ip prefix-list TO-NODES index 20 permit 100.64.4.0 22 "
                        "greater-equal 27 less-equal 27\n", "")
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == (
        "bgp 64602\n"
        " address-family ipv4 unicast\n"
        "  peer NODES route-limit 300 reconnect 300\n"
        "undo ip prefix-list TO-NODES index 20")
    drv.commit_config()
    lines = applied.device.lines()
    assert "bgp 64602/address-family ipv4 unicast/peer NODES route-limit 300 reconnect 300" in lines
    assert not any("route-limit 11 " in ln for ln in lines)
    assert not any(ln.startswith("ip prefix-list TO-NODES index 20") for ln in lines)
    assert "ip prefix-list TO-NODES index 10 permit 0.0.0.0 0" in lines
    assert "ip prefix-list OTHER index 10 permit 10.0.0.0 8" in lines
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_removed_peer_is_one_undo_and_leaves_nothing(applied: ComwareSimulator,
                                                     drv: ComwareDriver) -> None:
    cand = "\n".join(ln for ln in golden().splitlines() if "100.126.0.4" not in ln)
    cand = cand.replace("description core core-frr", "description core core-frr moved")
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == (
        "bgp 64602\n"
        " undo peer 100.126.0.4\n"
        " peer 100.126.0.2 description core core-frr moved")
    drv.commit_config()
    assert not any("100.126.0.4" in ln for ln in applied.device.lines())
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_peer_with_a_new_as_is_recreated_with_all_its_lines(applied: ComwareSimulator,
                                                            drv: ComwareDriver) -> None:
    cand = golden().replace("peer 100.126.0.4 as-number 65001", "peer 100.126.0.4 as-number 65009")
    drv.load_replace_candidate(config=cand)
    diff = drv.compare_config()
    assert diff.splitlines()[:3] == ["bgp 64602", " undo peer 100.126.0.4",
                                     " peer 100.126.0.4 as-number 65009"]
    assert "  peer 100.126.0.4 prefix-list RACK-EXPORT export" in diff.splitlines()
    drv.commit_config()
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_another_as_replaces_the_bgp_instance(sim: ComwareSimulator,
                                              drv: ComwareDriver) -> None:
    sim.device.load("bgp 65000\n router-id 198.51.100.1\n peer 198.51.100.2 as-number 65010\n")
    drv.load_replace_candidate(filename=str(GOLDEN))
    diff = drv.compare_config()
    assert diff.splitlines()[0] == "undo bgp 65000"           # first, and answered [Y/N]
    assert "198.51.100" not in diff
    drv.commit_config()
    assert not any(ln.startswith("bgp 65000") for ln in sim.device.lines())
    drv.load_replace_candidate(filename=str(GOLDEN))
    assert drv.compare_config() == ""


def test_merge_adds_and_overwrites_but_never_removes(applied: ComwareSimulator,
                                                     drv: ComwareDriver) -> None:
    drv.load_merge_candidate(config=(
        "ip prefix-list EXTRA index 10 permit 192.0.2.0 24\n"
        "bgp 64602\n"
        " address-family ipv4 unicast\n"
        "  peer NODES route-limit 250\n"))
    assert drv.compare_config() == (
        "ip prefix-list EXTRA index 10 permit 192.0.2.0 24\n"
        "bgp 64602\n"
        " address-family ipv4 unicast\n"
        "  peer NODES route-limit 250")
    drv.commit_config()
    lines = applied.device.lines()
    assert "bgp 64602/router-id 100.125.0.7" in lines
    assert "bgp 64602/address-family ipv4 unicast/peer NODES route-limit 250" in lines


def test_a_candidate_outside_owned_sections_is_refused(drv: ComwareDriver) -> None:
    with pytest.raises(CandidateError, match="sysname evil"):
        drv.load_replace_candidate(config=golden() + "#\n sysname evil\n#\n")
    assert drv.compare_config() == ""


# --------------------------------------------------------------------------- failures


def test_a_template_typo_raises_and_the_device_timer_restores(applied: ComwareSimulator,
                                                              drv: ComwareDriver) -> None:
    before = applied.device.running()
    cand = golden().replace("description core core-frr", "description core core-frr (new)")
    cand = cand.replace(" peer 100.126.0.2 bmp server 1\n",
                        " peer 100.126.0.2 bmp server 1\n peer NODES route-limt 300\n")
    applied.device.minute = FAST_MINUTE
    drv.load_replace_candidate(config=cand)
    with pytest.raises(CommitError) as err:
        drv.commit_config(revert_in=120)
    assert err.value.line == "peer NODES route-limt 300"
    assert "peer NODES route-limt 300" in str(err.value)
    assert "% Unrecognized command found at '^' position." in str(err.value)
    # The line before the typo went in; the timer is running; nothing after it was sent.
    assert any("core-frr (new)" in ln for ln in applied.device.lines())
    assert drv.has_pending_commit()
    assert wait_for(lambda: applied.device.rollbacks == 1)
    assert applied.device.running() == before
    assert not drv.has_pending_commit()


def test_an_unconfirmed_commit_is_rolled_back_by_the_device(applied: ComwareSimulator,
                                                            drv: ComwareDriver) -> None:
    before = applied.device.running()
    cand = golden().replace(LIMIT, NEW_LIMIT)
    applied.device.minute = FAST_MINUTE
    drv.load_replace_candidate(config=cand)
    drv.commit_config(revert_in=120)              # 2 minutes = 0.8 s here
    assert "bgp 64602/address-family ipv4 unicast/peer NODES route-limit 300 reconnect 300" in \
        applied.device.lines()
    assert drv.has_pending_commit()
    assert wait_for(lambda: applied.device.rollbacks == 1)
    assert applied.device.running() == before
    assert not drv.has_pending_commit()
    with pytest.raises(DriverError, match="expired"):
        drv.confirm_commit()
    # The session survives the device's rollback log line and still works.
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config().endswith("peer NODES route-limit 300 reconnect 300")


def test_rollback_restores_the_previous_config(applied: ComwareSimulator,
                                               drv: ComwareDriver) -> None:
    before = applied.device.running()
    others = unrelated(applied)
    saves = applied.device.saves
    cand = "\n".join(ln for ln in golden().splitlines() if "100.126.0.4" not in ln)
    cand = cand.replace(LIMIT, NEW_LIMIT)
    cand = cand.replace("#\nbmp server 1", "ip prefix-list RACK-EXPORT index 30 permit "
                        "198.51.100.0 24\n#\nbmp server 1")
    drv.load_replace_candidate(config=cand)
    drv.commit_config()
    assert owned_sorted(applied.device.running()) != owned_sorted(before)
    drv.rollback()
    assert owned_sorted(applied.device.running()) == owned_sorted(before)
    assert unrelated(applied) == others
    assert applied.device.saves == saves + 2        # after the commit, after the rollback
    assert applied.device.saved == applied.device.running()
    cipher = re.search(r"peer 100.126.0.4 password cipher (\S+)", applied.device.running())
    assert cipher and decrypt(cipher.group(1)) == "__secret_core_key__"


def test_rollback_during_a_pending_commit_cancels_the_timer(applied: ComwareSimulator,
                                                            drv: ComwareDriver) -> None:
    before = owned_sorted(applied.device.running())
    drv.load_replace_candidate(config=golden().replace("hold 30", "hold 60"))
    drv.commit_config(revert_in=600)
    assert "bgp 64602/timer keepalive 10 hold 60" in applied.device.lines()
    drv.rollback()
    assert owned_sorted(applied.device.running()) == before
    assert not applied.device.pending and not drv.has_pending_commit()


# --------------------------------------------------------------------------- getters


def test_neighbors_and_bgp_neighbors_from_the_peer_display(applied: ComwareSimulator,
                                                           drv: ComwareDriver) -> None:
    dev = applied.device
    dev.set_peer("100.126.0.2", "Established", prefixes=12, gr=True, remote_id="100.125.0.1")
    dev.set_peer("100.126.0.4", "Active")
    dev.add_dynamic_peer("10.10.0.5", prefixes=3, gr=False)
    dev.add_dynamic_peer("10.99.0.5", prefixes=3)        # outside every range: not a peer
    time.sleep(1.1)
    by = {n.address: n for n in drv.neighbors()}
    assert set(by) == {"100.126.0.2", "100.126.0.4", "10.10.0.5"}
    core = by["100.126.0.2"]
    assert (core.local_as, core.remote_as, core.state, core.prefixes_received) == \
        (64602, 65005, "Established", 12)
    assert core.gr_advertised and core.gr_received and core.uptime >= 1
    down = by["100.126.0.4"]
    assert (down.state, down.established, down.uptime, down.prefixes_received) == \
        ("Active", False, 0.0, 0)
    node = by["10.10.0.5"]
    assert node.remote_as == 64602 and node.established
    assert node.gr_advertised and not node.gr_received

    napalm = drv.get_bgp_neighbors()
    assert napalm["global"]["router_id"] == "100.125.0.7"
    peers = napalm["global"]["peers"]
    assert peers["100.126.0.2"]["description"] == "core core-frr"
    assert peers["100.126.0.2"]["remote_id"] == "100.125.0.1"
    assert peers["100.126.0.2"]["is_up"] is True
    assert peers["100.126.0.2"]["address_family"]["ipv4"]["received_prefixes"] == 12
    assert peers["100.126.0.4"]["is_up"] is False
    assert peers["10.10.0.5"]["description"] == "rack dyn-h3c nodes (dynamic)"
    assert peers["10.10.0.5"]["local_as"] == 64602


# Laid out like published `display bgp peer ipv4` captures (ntc-templates), not like
# this repository's simulator: long uptimes as NNNNhNNm, 4-byte AS numbers.
CAPTURE_STYLE = """
 BGP local router ID: 192.0.2.1
 Local AS number: 4200000001
 Total number of peers: 3                 Peers in established state: 2

  * - Dynamically created peer
  Peer                    AS  MsgRcvd  MsgSent OutQ PrefRcv Up/Down  State

  198.51.100.1         65010   101225   113460    0      17 0286h47m Established
  198.51.100.5         65010        0        0    0       0 0129h15m Connect
* 10.1.0.9        4200000001     1180     1221    0       4 08:30:47 Established
"""


def test_peer_display_parser_reads_the_published_layout() -> None:
    d = ComwareDriver("192.0.2.1", "admin", LOGIN_PW)
    answers = {"display bgp peer ipv4": CAPTURE_STYLE}
    d._command = lambda line, timeout=None: answers.get(line, "")   # type: ignore[method-assign]
    by = {n.address: n for n in d.neighbors()}
    assert by["198.51.100.1"].uptime == 286 * 3600 + 47 * 60
    assert by["198.51.100.1"].prefixes_received == 17
    assert by["198.51.100.5"].state == "Connect" and by["198.51.100.5"].uptime == 0
    assert by["10.1.0.9"].remote_as == 4200000001 and by["10.1.0.9"].local_as == 4200000001
    assert by["10.1.0.9"].uptime == 8 * 3600 + 30 * 60 + 47
    assert not by["10.1.0.9"].gr_advertised          # no verbose output: GR unknown


# --------------------------------------------------------------------------- secrets


def test_no_password_in_exceptions_or_logs(sim: ComwareSimulator, known_hosts: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with pytest.raises(AuthenticationError) as bad:
        make_driver(sim, known_hosts, password=LOGIN_PW + "x").open()
    errors.append(bad.value)

    cand = with_keys(golden())
    typo = f" peer 100.126.0.4 pasword simple {BGP_KEY}\n"
    cand = cand.replace(" peer 100.126.0.4 bmp server 1\n",
                        " peer 100.126.0.4 bmp server 1\n" + typo)
    d = make_driver(sim, known_hosts)
    d.open()
    try:
        d.load_replace_candidate(config=cand)
        with pytest.raises(CommitError) as refused:
            d.commit_config()
        errors.append(refused.value)
        assert refused.value.line == "peer 100.126.0.4 pasword simple ******"
        # The key did reach the device (masking is for logs and errors only)...
        ciphers = re.findall(r"password cipher (\S+)", sim.device.running())
        assert ciphers and all(decrypt(c) == BGP_KEY for c in ciphers)
        d.rollback()
    finally:
        d.close()
    # ... and the failed push was undone.
    assert not any(ln.startswith(("bgp ", "bmp server ")) for ln in sim.device.lines())

    helpers.assert_no_secrets(caplog, errors, (LOGIN_PW, BGP_KEY))


def test_the_pushed_key_is_the_real_one(sim: ComwareSimulator, drv: ComwareDriver) -> None:
    drv.load_replace_candidate(config=with_keys(golden()))
    drv.commit_config()
    ciphers = re.findall(r"password cipher (\S+)", sim.device.running())
    assert ciphers and all(decrypt(c) == BGP_KEY for c in ciphers)
    assert BGP_KEY not in sim.device.running()           # stored encrypted, as on a switch


# --------------------------------------------------------------------------- the simulator


def test_simulator_speaks_comware(sim: ComwareSimulator, known_hosts: Path) -> None:
    conn = helpers.connect("hp_comware", sim, LOGIN_PW, known_hosts)

    def say(line: str) -> tuple[list[str], str]:
        out = conn.send_command(line, expect_string=PROMPT + r"|\[Y/N\]:\s*$",
                                strip_prompt=False, strip_command=False)
        lines = out.replace("\r", "").split("\n")
        return lines[1:-1], lines[-1]

    try:
        assert conn.base_prompt == "sim-tor"
        assert say("system-view") == (["System View: return to User View with Ctrl+Z."],
                                      "[sim-tor]")
        assert say("bgp 65101")[1] == "[sim-tor-bgp-default]"
        out, prompt = say("peer 192.0.2.1 as-numbr 65000")
        assert out[1] == " % Unrecognized command found at '^' position."
        assert out[0].index("^") == len("[sim-tor-bgp-default]peer 192.0.2.1 ")
        assert prompt == "[sim-tor-bgp-default]"
        assert say("peer 192.0.2.1 as-number")[0][1].endswith("% Incomplete command found at"
                                                              " '^' position.")
        assert say("peer 192.0.2.1 as-number 99999999999")[0][1].endswith(
            "% Wrong parameter found at '^' position.")
        assert say("router-id 192.0.2.9 extra")[0][1].endswith(
            "% Too many parameters found at '^' position.")
        assert say("peer 192.0.2.1 description early")[0][0].startswith("% ")  # no such peer
        assert say("peer 192.0.2.1 as-number 65000") == ([], "[sim-tor-bgp-default]")
        assert say("address-family ipv4 unicast")[1] == "[sim-tor-bgp-default-ipv4]"
        assert say("peer 192.0.2.1 enable")[1] == "[sim-tor-bgp-default-ipv4]"
        assert say("quit")[1] == "[sim-tor-bgp-default]"
        assert say("quit")[1] == "[sim-tor]"
        assert say("bmp server 1")[1] == "[sim-tor-bmp-server-1]"
        assert say("return")[1] == "<sim-tor>"
        out, _ = say("display current-configuration configuration bgp")
        assert out == ["#", "bgp 65101", " peer 192.0.2.1 as-number 65000", " #",
                       " address-family ipv4 unicast", "  peer 192.0.2.1 enable",
                       "#", "return"]
        out, _ = say("display current-configuration")
        assert out[:5] == ["#", " version 7.1.070, Release 6635P07", "#", " sysname sim-tor", "#"]
        assert "bmp server 1" in out and out[-1] == "return"
        say("system-view")
        assert say("undo bgp 65101")[1] == "Undo BGP process? [Y/N]:"
        assert say("Y")[1] == "[sim-tor]"
        assert not any(ln.startswith("bgp ") for ln in sim.device.lines())
    finally:
        conn.disconnect()


def test_simulator_serves_exec_requests(sim: ComwareSimulator, known_hosts: Path) -> None:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=sim.port, username="admin", password=LOGIN_PW,
                   allow_agent=False, look_for_keys=False)
    try:
        _, out, _ = client.exec_command("display current-configuration")
        text = out.read().decode()
        assert " sysname sim-tor" in text.splitlines() and "return" in text
    finally:
        client.close()
