"""The Huawei VRP8 driver against the SSH simulator of a CloudEngine switch
(tests/simulators/vrp.py): login and host keys, plan, two-stage apply with a trial
commit and confirm, line- and commit-time errors, rollback by the device's timer and by
the driver, getters, secrets."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import driver_helpers as helpers
import paramiko
import pytest
from driver_helpers import keyless, wait_for
from simulators.vrp import VrpSimulator, decrypt

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    CommitError,
    DriverError,
    HostKeyError,
)
from fabric.platforms.huawei_vrp.dialect import PROMPT, config_items
from fabric.platforms.huawei_vrp.driver import VrpDriver

pytestmark = pytest.mark.sim
# The golden ToR's node-group limit, and another value for it.
LIMIT = "peer NODES route-limit 10 idle-timeout 5"
NEW_LIMIT = "peer NODES route-limit 300 idle-timeout 5"

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs" / "dyn-vrp-tor.cfg"
LOGIN_PW = "Vx9-L0gin-S3cret-4e2d"
BGP_KEY = "Bgp-K3y-Sup3rS3cret-91bc"
FAST_SECOND = 0.01                   # one trial "second": 60 s (the minimum) = 0.6 s

BASE = """\
#
sysname sim-vrp
#
aaa
 local-user admin password irreversible-cipher hunter2
 local-user admin service-type ssh
#
interface 10GE1/0/1
 description uplink to spine
 ip address 10.0.0.1 255.255.255.254
 undo shutdown
#
ip ip-prefix OTHER index 10 permit 10.0.0.0 8
#
return
"""


def golden() -> str:
    return GOLDEN.read_text()


def with_keys(text: str) -> str:
    """`text` with every key placeholder (the cores', the nodes') as BGP_KEY."""
    return text.replace("__secret_core_key__", BGP_KEY).replace("__secret_node_key__", BGP_KEY)


def owned_sorted(text: str) -> list[tuple[int, str]]:
    def owned(line: str) -> bool:
        return line.startswith("bgp ") or line in ("bmp", "bfd") or (
            line.startswith("ip ip-prefix ") and line.split()[2] != "OTHER")
    return helpers.owned_sorted(config_items(text), owned)


def unrelated(sim: VrpSimulator) -> list[str]:
    return [ln for ln in sim.device.lines()
            if not ln.startswith(("bgp ", "bmp")) and ln != "bfd"
            and not (ln.startswith("ip ip-prefix ") and " OTHER " not in ln)]


@pytest.fixture
def sim():
    s = VrpSimulator(sysname="sim-vrp", username="admin", password=LOGIN_PW,
                     second=1.0, config=BASE).start()
    yield s
    s.stop()


@pytest.fixture
def known_hosts(sim: VrpSimulator, tmp_path: Path) -> Path:
    return helpers.write_known_hosts(sim, tmp_path)


def make_driver(sim: VrpSimulator, known_hosts: Path | None, password: str = LOGIN_PW,
                **extra: object) -> VrpDriver:
    return helpers.make_driver(VrpDriver, sim, known_hosts, password, **extra)


@pytest.fixture
def drv(sim: VrpSimulator, known_hosts: Path):
    yield from helpers.opened(make_driver(sim, known_hosts))


@pytest.fixture
def applied(sim: VrpSimulator) -> VrpSimulator:
    """The switch after a successful apply of the golden config (typed in directly)."""
    sim.device.load(golden())
    sim.device.save()
    sim.device.history.clear()
    return sim


# --------------------------------------------------------------------------- login


def test_login_with_the_right_password(drv: VrpDriver) -> None:
    running = drv.get_config()["running"]
    assert "sysname sim-vrp" in running.splitlines()
    assert running.rstrip().endswith("return")


def test_login_with_a_wrong_password_fails(sim: VrpSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, password="not-the-password")
    with pytest.raises(AuthenticationError, match="authentication failed"):
        d.open()
    assert d._conn is None


def test_unknown_host_key_is_refused_by_default(sim: VrpSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match="not trusted"):
        make_driver(sim, empty).open()
    other = paramiko.ECDSAKey.generate(bits=256)
    empty.write_text(f"[127.0.0.1]:{sim.port} {other.get_name()} {other.get_base64()}\n")
    with pytest.raises(HostKeyError):
        make_driver(sim, empty).open()


def test_unknown_host_key_is_accepted_with_the_flag(sim: VrpSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    d = make_driver(sim, empty, accept_unknown_host_keys=True)
    d.open()
    try:
        assert "sysname sim-vrp" in d.get_config()["running"]
    finally:
        d.close()


# --------------------------------------------------------------------------- plan / apply


def test_plan_on_an_empty_device_shows_the_whole_bgp_section(drv: VrpDriver) -> None:
    drv.load_replace_candidate(filename=str(GOLDEN))
    diff = drv.compare_config()
    assert sorted(config_items(diff)) == owned_sorted(golden())
    assert "peer 100.126.0.14 password cipher __secret_core_key__" in diff
    assert "undo" not in diff
    for foreign in ("sysname", "interface", "aaa", "local-user", "OTHER"):
        assert foreign not in diff
    lines = [ln.strip() for ln in diff.splitlines()]
    assert lines.index("ip ip-prefix RACK-ROUTES index 10 permit 100.64.16.0 22 "
                       "greater-equal 27 less-equal 27") < lines.index("bgp 64605")
    assert lines.index("group NODES listen internal") < lines.index(
        "peer NODES listen-net 10.10.1.0 24")
    assert lines.index("peer 100.126.0.14 as-number 65005") < lines.index(
        "peer 100.126.0.14 description core core frr") < lines.index("ipv4-family unicast")


def test_apply_with_a_trial_then_confirm(sim: VrpSimulator, drv: VrpDriver) -> None:
    before = unrelated(sim)
    drv.load_replace_candidate(filename=str(GOLDEN))
    drv.commit_config(revert_in=90)
    assert sim.device.pending and drv.has_pending_commit()
    assert sim.device.trial_seconds == 90 and sim.device.saves == 0
    drv.confirm_commit()
    assert not sim.device.pending and not drv.has_pending_commit()
    assert sim.device.saves == 1 and sim.device.saved == sim.device.running()
    running = sim.device.running()
    assert keyless(owned_sorted(running)) == keyless(owned_sorted(golden()))
    assert unrelated(sim) == before
    keys = re.findall(r"peer (\S+) password cipher (\S+)", running)
    assert {p: decrypt(c) for p, c in keys} == {"NODES": "__secret_node_key__",
                                               "100.126.0.14": "__secret_core_key__",
                                               "100.126.0.16": "__secret_core_key__"}
    drv.load_replace_candidate(filename=str(GOLDEN))
    assert drv.compare_config() == ""
    with pytest.raises(DriverError, match="no commit is waiting"):
        drv.confirm_commit()


def test_a_short_revert_in_is_raised_to_the_device_minimum(sim: VrpSimulator,
                                                           drv: VrpDriver) -> None:
    drv.load_replace_candidate(filename=str(GOLDEN))
    drv.commit_config(revert_in=5)
    assert sim.device.trial_seconds == 60
    drv.confirm_commit()


def test_changed_candidate_gives_exactly_the_changed_lines(applied: VrpSimulator,
                                                           drv: VrpDriver) -> None:
    cand = golden().replace(LIMIT, NEW_LIMIT)
    cand = cand.replace("ip ip-prefix TO-NODES index 20 permit 100.64.16.0 22 "
                        "greater-equal 27 less-equal 27\n", "")
    cand = cand.replace("  load-balancing as-path-relax\n", "")
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == (
        "bgp 64605\n"
        " ipv4-family unicast\n"
        "  undo load-balancing as-path-relax\n"
        "  peer NODES route-limit 300 idle-timeout 5\n"
        "undo ip ip-prefix TO-NODES index 20")
    drv.commit_config()
    lines = applied.device.lines()
    assert "bgp 64605/ipv4-family unicast/peer NODES route-limit 300 idle-timeout 5" in lines
    assert not any("route-limit 10 " in ln or "as-path-relax" in ln for ln in lines)
    assert not any(ln.startswith("ip ip-prefix TO-NODES index 20") for ln in lines)
    assert "ip ip-prefix TO-NODES index 10 permit 0.0.0.0 0" in lines
    assert "ip ip-prefix OTHER index 10 permit 10.0.0.0 8" in lines
    assert applied.device.saves == 2
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_removed_peer_is_one_undo_and_leaves_nothing(applied: VrpSimulator,
                                                     drv: VrpDriver) -> None:
    cand = "\n".join(ln for ln in golden().splitlines() if "100.126.0.16" not in ln)
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == "bgp 64605\n undo peer 100.126.0.16"
    drv.commit_config()
    assert not any("100.126.0.16" in ln for ln in applied.device.lines())
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_peer_with_a_new_as_is_recreated_with_all_its_lines(applied: VrpSimulator,
                                                            drv: VrpDriver) -> None:
    cand = golden().replace("peer 100.126.0.16 as-number 65002",
                            "peer 100.126.0.16 as-number 65009")
    drv.load_replace_candidate(config=cand)
    diff = drv.compare_config().splitlines()
    assert diff[:3] == ["bgp 64605", " undo peer 100.126.0.16",
                        " peer 100.126.0.16 as-number 65009"]
    assert "  peer 100.126.0.16 ip-prefix RACK-EXPORT export" in diff
    drv.commit_config()
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_merge_adds_and_overwrites_but_never_removes(applied: VrpSimulator,
                                                     drv: VrpDriver) -> None:
    drv.load_merge_candidate(config=(
        "ip ip-prefix EXTRA index 10 permit 192.0.2.0 24\n"
        "bgp 64605\n"
        " ipv4-family unicast\n"
        "  peer NODES route-limit 250\n"))
    assert drv.compare_config() == (
        "ip ip-prefix EXTRA index 10 permit 192.0.2.0 24\n"
        "bgp 64605\n"
        " ipv4-family unicast\n"
        "  peer NODES route-limit 250")
    drv.commit_config()
    lines = applied.device.lines()
    assert "bgp 64605/router-id 100.125.0.10" in lines
    assert "bgp 64605/ipv4-family unicast/peer NODES route-limit 250" in lines


def test_a_candidate_outside_owned_sections_is_refused(drv: VrpDriver) -> None:
    with pytest.raises(CandidateError, match="sysname evil"):
        drv.load_replace_candidate(config=golden() + "#\nsysname evil\n#\n")
    assert drv.compare_config() == ""


# --------------------------------------------------------------------------- two stages


def test_the_prompt_shows_an_uncommitted_candidate(sim: VrpSimulator, known_hosts: Path) -> None:
    conn = helpers.connect("huawei_vrpv8", sim, LOGIN_PW, known_hosts)

    def say(line: str) -> tuple[list[str], str]:
        out = conn.send_command(line, expect_string=PROMPT + r"|\]:\s*$",
                                strip_prompt=False, strip_command=False, cmd_verify=False)
        lines = out.replace("\r", "").split("\n")
        return lines[1:-1], lines[-1]

    try:
        assert conn.base_prompt == "sim-vrp"
        assert say("system-view")[1] == "[~sim-vrp]"
        assert say("bgp 65102")[1] == "[*sim-vrp-bgp]"
        assert say("ipv4-family unicast")[1] == "[*sim-vrp-bgp-af-ipv4]"
        assert say("quit")[1] == "[*sim-vrp-bgp]"
        out, _ = say("peer 192.0.2.1 as-numbr 65000")
        assert out[1] == "Error: Unrecognized command found at '^' position."
        assert out[0].index("^") == len("[*sim-vrp-bgp]peer 192.0.2.1 ")
        assert say("router-id 192.0.2.9 extra")[0][1] == \
            "Error: Too many parameters found at '^' position."
        # Nothing took effect yet; the candidate holds the BGP view.
        assert not any(ln.startswith("bgp ") for ln in sim.device.lines())
        out, _ = say("display configuration candidate")
        assert "bgp 65102" in out
        # Leaving system view asks; C stays, N discards.
        assert say("return")[1].endswith("[Y(yes)/N(no)/C(cancel)]:")
        assert say("maybe")[1].endswith("[Y/N/C]:")
        assert say("C")[1] == "[*sim-vrp-bgp]"
        assert say("quit")[1] == "[*sim-vrp]"
        assert say("bmp")[1] == "[*sim-vrp-bmp]"
        assert say("bmp-session 192.0.2.200 alias bmp1")[1] == \
            "[*sim-vrp-bmp-session-192.0.2.200-bmp1]"
        assert say("commit")[1] == "[~sim-vrp-bmp-session-192.0.2.200-bmp1]"
        assert "bgp 65102" in sim.device.lines() and "bmp" in sim.device.lines()
        assert say("return")[1] == "<sim-vrp>"
    finally:
        conn.disconnect()


def test_a_malformed_line_raises_and_leaves_the_running_config(
        applied: VrpSimulator, drv: VrpDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    before = applied.device.running()
    sent: list[str] = []
    real = VrpDriver._send

    def spy(self: VrpDriver, line: str, timeout: float | None = None):
        sent.append(line)
        return real(self, line, timeout)
    monkeypatch.setattr(VrpDriver, "_send", spy)
    commits = applied.device.commits
    cand = golden().replace("description core core frr", "description core core frr new")
    limit = "  peer NODES route-limit 10 idle-timeout 5\n"
    cand = cand.replace(limit, limit + "  peer NODES route-limt 300\n")
    drv.load_replace_candidate(config=cand)
    with pytest.raises(CommitError) as err:
        drv.commit_config(revert_in=120)
    assert err.value.line == "peer NODES route-limt 300"
    assert "Error: Unrecognized command found at '^' position." in str(err.value)
    assert applied.device.running() == before          # the good line never took effect
    assert not applied.device.pending and not drv.has_pending_commit()
    assert applied.device.commits == commits
    # Nothing after the bad line was sent; the candidate was cleared, never committed.
    bad = sent.index("peer NODES route-limt 300")
    assert sent[bad + 1:] == ["clear configuration candidate", "return"]
    # The session is usable and has no candidate left over.
    drv.load_replace_candidate(config=golden())
    assert drv.compare_config() == ""


def test_a_commit_time_error_is_caught_the_same_way(applied: VrpSimulator, drv: VrpDriver,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = applied.device.running()
    drv.load_replace_candidate(config=golden().replace("hold 30", "hold 60"))
    # A line the device accepts when typed but refuses at commit (no such peer).
    real = VrpDriver._push

    def push_with_ghost(self: VrpDriver, node, prompt: str) -> str:
        prompt = real(self, node, prompt)
        if prompt == "[*sim-vrp]":
            self._push_line("bgp 64605", prompt, opens_view=True)
            self._push_line("peer 198.51.100.9 description ghost", "[*sim-vrp-bgp]", False)
            self._send("quit")
        return prompt
    monkeypatch.setattr(VrpDriver, "_push", push_with_ghost)
    with pytest.raises(CommitError) as err:
        drv.commit_config()
    assert err.value.line == "commit"
    assert "Error: The peer does not exist." in err.value.device_message
    assert "peer 198.51.100.9 description ghost" in err.value.device_message
    assert applied.device.running() == before
    assert applied.device.saves == 1                     # not saved either
    monkeypatch.undo()
    drv.load_replace_candidate(config=golden().replace("hold 30", "hold 60"))
    assert drv.compare_config() == "bgp 64605\n timer keepalive 10 hold 60"


def test_an_unconfirmed_trial_is_rolled_back_by_the_device(applied: VrpSimulator,
                                                           drv: VrpDriver) -> None:
    before = applied.device.running()
    cand = golden().replace(LIMIT, NEW_LIMIT)
    applied.device.second = FAST_SECOND
    drv.load_replace_candidate(config=cand)
    drv.commit_config(revert_in=60)                   # 60 "seconds" = 0.6 s here
    assert "bgp 64605/ipv4-family unicast/peer NODES route-limit 300 idle-timeout 5" in \
        applied.device.lines()
    assert drv.has_pending_commit()
    assert wait_for(lambda: applied.device.rollbacks == 1)
    assert applied.device.running() == before
    assert not drv.has_pending_commit()
    with pytest.raises(DriverError, match="expired"):
        drv.confirm_commit()
    # The session survives the device's log line and still works.
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config().endswith("peer NODES route-limit 300 idle-timeout 5")


def test_rollback_restores_the_previous_config(applied: VrpSimulator, drv: VrpDriver) -> None:
    before = applied.device.running()
    others = unrelated(applied)
    saves = applied.device.saves
    cand = "\n".join(ln for ln in golden().splitlines() if "100.126.0.16" not in ln)
    cand = cand.replace(LIMIT, NEW_LIMIT)
    cand = cand.replace("tcp connect port 11019", "tcp connect port 11020")
    drv.load_replace_candidate(config=cand)
    drv.commit_config()
    assert owned_sorted(applied.device.running()) != owned_sorted(before)
    drv.rollback()
    assert keyless(owned_sorted(applied.device.running())) == keyless(owned_sorted(before))
    assert unrelated(applied) == others
    assert applied.device.saves == saves + 2
    cipher = re.search(r"peer 100.126.0.16 password cipher (\S+)", applied.device.running())
    assert cipher and decrypt(cipher.group(1)) == "__secret_core_key__"


def test_rollback_during_a_trial_aborts_it(applied: VrpSimulator, drv: VrpDriver) -> None:
    before = applied.device.running()
    drv.load_replace_candidate(config=golden().replace("hold 30", "hold 60"))
    drv.commit_config(revert_in=600)
    assert "bgp 64605/timer keepalive 10 hold 60" in applied.device.lines()
    drv.rollback()
    assert applied.device.running() == before
    assert not applied.device.pending and not drv.has_pending_commit()
    assert applied.device.rollbacks == 0                 # aborted, not expired


# --------------------------------------------------------------------------- getters


def test_neighbors_and_bgp_neighbors_from_the_peer_display(applied: VrpSimulator,
                                                           drv: VrpDriver) -> None:
    dev = applied.device
    dev.set_peer("100.126.0.14", "Established", prefixes=12, gr=True, remote_id="100.125.0.1")
    dev.set_peer("100.126.0.16", "Active")
    dev.add_dynamic_peer("10.10.1.5", prefixes=3, gr=False)
    dev.add_dynamic_peer("10.99.0.5", prefixes=3)        # outside every listen-net
    time.sleep(1.1)
    by = {n.address: n for n in drv.neighbors()}
    assert set(by) == {"100.126.0.14", "100.126.0.16", "10.10.1.5"}
    core = by["100.126.0.14"]
    assert (core.local_as, core.remote_as, core.state, core.prefixes_received) == \
        (64605, 65005, "Established", 12)
    assert core.gr_advertised and core.gr_received and core.uptime >= 1
    down = by["100.126.0.16"]
    assert (down.state, down.established, down.uptime, down.prefixes_received) == \
        ("Active", False, 0.0, 0)
    node = by["10.10.1.5"]
    assert node.remote_as == 64605 and node.established
    assert node.gr_advertised and not node.gr_received

    napalm = drv.get_bgp_neighbors()
    assert napalm["global"]["router_id"] == "100.125.0.10"
    peers = napalm["global"]["peers"]
    assert peers["100.126.0.14"]["description"] == "core core frr"
    assert peers["100.126.0.14"]["remote_id"] == "100.125.0.1"
    assert peers["100.126.0.14"]["address_family"]["ipv4"]["received_prefixes"] == 12
    assert peers["100.126.0.16"]["is_up"] is False
    assert peers["10.10.1.5"]["description"] == "rack dyn vrp nodes dynamic"


# Laid out like the CE command reference's `display bgp peer` example.
DOC_STYLE = """
 BGP local router ID : 192.0.2.1
 Local AS number : 4200000001
 Total number of peers : 2                 Peers in established state : 1

  Peer            V          AS  MsgRcvd  MsgSent  OutQ  Up/Down       State  PrefRcv
  198.51.100.1    4       65010   101225   113460     0 0286h47m Established       17
  198.51.100.5    4       65010        0        0     0 00:00:18        Idle        0
"""


def test_peer_display_parser_reads_the_documented_layout() -> None:
    d = VrpDriver("192.0.2.1", "admin", LOGIN_PW)
    d._command = lambda line, timeout=None: DOC_STYLE if line == "display bgp peer" else ""  # type: ignore[method-assign]
    by = {n.address: n for n in d.neighbors()}
    assert by["198.51.100.1"].uptime == 286 * 3600 + 47 * 60
    assert by["198.51.100.1"].prefixes_received == 17
    assert by["198.51.100.1"].local_as == 4200000001
    assert by["198.51.100.5"].state == "Idle" and by["198.51.100.5"].uptime == 0


# --------------------------------------------------------------------------- secrets


def test_no_password_in_exceptions_or_logs(sim: VrpSimulator, known_hosts: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with pytest.raises(AuthenticationError) as bad:
        make_driver(sim, known_hosts, password=LOGIN_PW + "x").open()
    errors.append(bad.value)

    cand = with_keys(golden())
    cand = cand.replace(" peer 100.126.0.16 password cipher " + BGP_KEY + "\n",
                        " peer 100.126.0.16 password cipher " + BGP_KEY + "\n"
                        " peer 100.126.0.16 pasword cipher " + BGP_KEY + "\n")
    d = make_driver(sim, known_hosts)
    d.open()
    try:
        d.load_replace_candidate(config=cand)
        with pytest.raises(CommitError) as refused:
            d.commit_config()
        errors.append(refused.value)
        assert refused.value.line == "peer 100.126.0.16 pasword cipher ******"
        d.load_replace_candidate(config=with_keys(golden()))
        d.commit_config()                    # the key does reach the device
        ciphers = re.findall(r"password cipher (\S+)", sim.device.running())
        assert ciphers and all(decrypt(c) == BGP_KEY for c in ciphers)
    finally:
        d.close()
    helpers.assert_no_secrets(caplog, errors, (LOGIN_PW, BGP_KEY))
