"""The Cisco IOS-XE driver (NAPALM's `ios` wrapped) against the SSH simulator of an
IOS-XE switch (tests/simulators/ios.py), through netmiko, SCP and `configure replace`:
login and host keys, plan, apply with a revert timer and confirm, refused lines,
the device's timer, rollback, getters, secrets, NAPALM's name lookup."""

from __future__ import annotations

import logging
import os
import re
import stat
import tempfile
from pathlib import Path

import driver_helpers as helpers
import paramiko
import pytest
from driver_helpers import wait_for
from napalm.ios.ios import IOSDriver
from simulators.ios import INCOMPLETE, INVALID, IosDevice, IosSimulator, type7, untype7

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    CommitError,
    DriverError,
    HostKeyError,
)
from fabric.platforms.cisco_ios.dialect import config_items, remediation, replace_text
from fabric.platforms.cisco_ios.driver import CiscoIosDriver

pytestmark = pytest.mark.sim

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs" / "dyn-ios-tor.cfg"
LOGIN_PW = "Zq7-L0gin-S3cret-ios-4c2e"       # distinctive: grepped for in logs and errors
BGP_KEY = "Bgp-K3y-Sup3rS3cret-ios-91bd"
SLOW_MINUTE = 30.0                            # a revert-timer "minute" no test outlives
FAST_MINUTE = 1.5                             # ... and one a test waits for

# A switch before this tool touched it: a name, a user, the archive and SCP that
# NAPALM needs, an interface, and a prefix list of someone else's.
BASE = """\
hostname sim-ios-tor
username admin privilege 15 secret hunter2
archive
 path flash:archive
 maximum 5
interface GigabitEthernet1/0/1
 description uplink to spine
 no switchport
 ip address 10.0.0.1 255.255.255.254
ip scp server enable
ip prefix-list OTHER seq 5 permit 10.0.0.0/8 le 24
line vty 0 4
 login local
 transport input ssh
"""


def golden(key: str = BGP_KEY) -> str:
    return GOLDEN.read_text().replace("__secret_core_key__", key)


def is_owned(line: str, extra: tuple[str, ...] = ()) -> bool:
    return line.startswith("router bgp ") or (
        line.startswith("ip prefix-list ") and line.split()[2] not in ("OTHER", *extra))


def owned_sorted(text: str) -> list[tuple[int, str]]:
    return helpers.owned_sorted(config_items(text), is_owned)


def plain_keys(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`password 7 C` decoded, so a device with password-encryption compares."""
    out = []
    for depth, line in items:
        if m := re.match(r"^(neighbor \S+ password) 7 (\S+)$", line):
            line = f"{m.group(1)} {untype7(m.group(2))}"
        out.append((depth, line))
    return sorted(out)


def unowned(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The (depth, line)s outside the owned sections, in order."""
    out, keep = [], True
    for depth, line in items:
        if depth == 0:
            keep = not is_owned(line)
        if keep:
            out.append((depth, line))
    return out


def unrelated(sim: IosSimulator) -> list[str]:
    """Every line outside the owned sections. NAPALM sets `file prompt quiet` for its
    file operations and removes it at close: not counted."""
    return [ln for ln in sim.device.lines()
            if not is_owned(ln.split("/")[0]) and not ln.startswith("file prompt")]


def config_now(sim: IosSimulator) -> str:
    """The device's config, without the `file prompt quiet` NAPALM adds for its file
    operations (and removes at close)."""
    return sim.device.render().replace("file prompt quiet\n!\n", "")


def make_sim(minute: float = SLOW_MINUTE, config: str = BASE) -> IosSimulator:
    return IosSimulator(sysname="sim-ios-tor", username="admin", password=LOGIN_PW,
                        minute=minute, config=config).start()


@pytest.fixture
def sim():
    s = make_sim()
    yield s
    s.stop()


@pytest.fixture
def known_hosts(sim: IosSimulator, tmp_path: Path) -> Path:
    return helpers.write_known_hosts(sim, tmp_path)


def make_driver(sim: IosSimulator, known_hosts: Path | None, password: str = LOGIN_PW,
                **extra: object) -> CiscoIosDriver:
    return helpers.make_driver(CiscoIosDriver, sim, known_hosts, password, **extra)


@pytest.fixture
def drv(sim: IosSimulator, known_hosts: Path):
    yield from helpers.opened(make_driver(sim, known_hosts))


@pytest.fixture
def applied(sim: IosSimulator) -> IosSimulator:
    """The switch after a successful apply of the golden config (typed in directly)."""
    sim.device.load(golden())
    sim.device.save()
    return sim


# --------------------------------------------------------------------------- simulator


def test_simulator_cli_answers_as_ios_does() -> None:
    dev = IosDevice("sw")
    dev.load(BASE)
    d = dev.dialect()
    assert d.prompt() == "sim-ios-tor#"          # `hostname` renames the prompt
    assert d.execute("show archive").startswith("The maximum archive configurations")
    assert d.execute("conf t").startswith("Enter configuration commands")
    assert d.execute("router bgp 65001") == ""
    assert d.prompt() == "sim-ios-tor(config-router)#"
    out = d.execute("neighbor 10.0.0.9 remote-az 65002")
    caret, msg = out.split("\n")
    assert msg == INVALID
    assert caret.index("^") == len("sim-ios-tor(config-router)#neighbor 10.0.0.9 ")
    assert d.execute("neighbor 10.0.0.9") == INCOMPLETE
    assert "Specify remote-as" in d.execute("neighbor 10.0.0.9 description x")
    assert d.execute("address-family ipv4 unicast") == ""
    assert d.prompt() == "sim-ios-tor(config-router-af)#"
    # A global command leaves the sub-modes (IOS parses configs this way).
    assert d.execute("ip prefix-list P seq 10 permit 10.0.0.0/8 ge 8").endswith("le-value")
    assert d.execute("ip prefix-list P permit 10.0.0.0/8 le 24") == ""
    assert d.prompt() == "sim-ios-tor(config)#"
    d.execute("end")
    assert d.execute("show run | include prefix-list P ") == \
        "ip prefix-list P seq 5 permit 10.0.0.0/8 le 24"
    # Without `archive`, NAPALM's check text; without `file prompt quiet`, copy asks.
    assert IosDevice("x").dialect().execute("show archive") == "Archive feature not enabled"
    assert d.execute("copy running-config flash:/x.cfg") == ""
    assert d.prompt() == "Destination filename [x.cfg]? "
    assert "bytes copied" in d.execute("")
    assert "Directory of flash:/x.cfg" in d.execute("dir flash:/x.cfg")
    assert "%Error opening flash:/nope" in d.execute("dir flash:/nope")
    assert type7("Cisco-123", seed=5) != "Cisco-123" and untype7(type7("Cisco-123")) == \
        "Cisco-123"


def test_simulator_replace_checks_every_line_and_restores() -> None:
    dev = IosDevice("sw")
    dev.load(BASE)
    before = dev.render()
    bad = dev.running_file().replace("ip scp server enable", "ip scp server enable\n"
                                     "router bgp 65001\n neighbor 10.0.0.9 remote-az 65002")
    dev.write_file("bad.cfg", bad.encode())
    out = dev.configure_replace("flash:/bad.cfg", on_error=True, timer=None, user="admin")
    assert "remote-az" in out and "successfully restored" in out
    assert dev.render() == before and dev.replaces == 0


# --------------------------------------------------------------------------- login


def test_login_with_the_right_password(drv: CiscoIosDriver) -> None:
    running = drv.get_config(retrieve="running")["running"]
    assert "hostname sim-ios-tor" in running.splitlines()
    assert "Building configuration" not in running and running.rstrip().endswith("end")


def test_login_with_a_wrong_password_fails(sim: IosSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, password="not-the-password")
    with pytest.raises(AuthenticationError, match="authentication failed for user 'admin'"):
        d.open()
    assert d.device is None


def test_unknown_host_key_is_refused_by_default(sim: IosSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match=rf"host key of 127.0.0.1:{sim.port} is not"):
        make_driver(sim, empty).open()
    other = paramiko.ECDSAKey.generate(bits=256)
    empty.write_text(f"[127.0.0.1]:{sim.port} {other.get_name()} {other.get_base64()}\n")
    with pytest.raises(HostKeyError):
        make_driver(sim, empty).open()


def test_unknown_host_key_is_accepted_with_the_flag(sim: IosSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    d = make_driver(sim, empty, accept_unknown_host_keys=True)
    d.open()
    try:
        assert "hostname sim-ios-tor" in d.get_config(retrieve="running")["running"]
    finally:
        d.close()


# --------------------------------------------------------------------------- plan


def test_plan_on_a_device_with_only_unrelated_config(sim: IosSimulator,
                                                    drv: CiscoIosDriver) -> None:
    before = sim.device.render()
    drv.load_replace_candidate(config=golden())
    diff = drv.compare_config()
    drv.discard_config()
    # Planning writes nothing to the switch: no file, no config line.
    assert sim.device.render() == before and "candidate_config.txt" not in sim.device.files
    # Exactly the candidate's owned lines, each at its depth, nothing removed.
    assert sorted(config_items(diff)) == owned_sorted(golden())
    assert f" neighbor 100.126.0.6 password {BGP_KEY}" in diff.splitlines()
    assert not any(ln.strip().startswith("no ") and ln.strip() != "no bgp default ipv4-unicast"
                   for ln in diff.splitlines())
    for foreign in ("hostname", "interface", "username", "OTHER", "archive", "line vty",
                    "ip scp"):
        assert foreign not in diff
    # Dependencies first: prefix lists before router bgp; the group before its range
    # and settings; neighbors before their settings; the address family last.
    lines = [ln.strip() for ln in diff.splitlines()]
    assert lines.index("ip prefix-list TO-NODES seq 10 permit 0.0.0.0/0") < \
        lines.index("router bgp 64603")
    assert lines.index("neighbor NODES peer-group") < \
        lines.index("bgp listen range 10.10.2.0/24 peer-group NODES") < \
        lines.index("neighbor NODES description rack dyn-ios nodes (dynamic)")
    assert lines.index("neighbor 100.126.0.6 remote-as 65005") < \
        lines.index("neighbor 100.126.0.6 bmp-activate all") < lines.index("bmp server 1") < \
        lines.index("address-family ipv4")
    assert lines[-1] == "neighbor 100.126.0.8 maximum-prefix 400 restart 5"


def test_candidate_outside_the_owned_sections_is_refused(drv: CiscoIosDriver) -> None:
    with pytest.raises(CandidateError, match="interface Loopback0"):
        drv.load_replace_candidate(config=golden() + "interface Loopback0\n ip address "
                                   "10.9.9.9 255.255.255.255\n")
    assert drv.compare_config() == ""


def test_the_replace_file_is_the_running_config_with_the_owned_sections_swapped() -> None:
    running = IosDevice("sw")
    running.load(BASE + "ip prefix-list TO-NODES seq 5 deny 1.0.0.0/8\n"
                 "router bgp 64603\n neighbor 10.9.9.9 remote-as 65000\n")
    text = replace_text(running.running_file(), golden(), {"TO-NODES", "RACK-ROUTES",
                                                           "FABRIC-IN", "RACK-EXPORT"})
    items = config_items(text)
    assert unowned(items) == unowned(config_items(running.running_file()))
    assert helpers.owned_sorted(items, is_owned) == owned_sorted(golden())
    assert "10.9.9.9" not in text and "deny 1.0.0.0/8" not in text
    assert text.endswith("!\nend\n")
    # The device reads it without a refused line.
    _, errors = running.parse(text)
    assert errors == []


# --------------------------------------------------------------------------- apply


def test_commit_with_revert_timer_then_confirm(sim: IosSimulator, tmp_path: Path,
                                               known_hosts: Path) -> None:
    before = unrelated(sim)
    d = make_driver(sim, known_hosts)
    d.open()
    d.load_replace_candidate(config=golden())
    d.commit_config(revert_in=61)                  # rounded up to 2 whole minutes
    assert sim.device.pending and d.has_pending_commit()
    assert "Timer value: 2 min" in sim.device.show_rollback_timer()
    assert sim.device.saves == 0
    assert "candidate_config.txt" not in sim.device.files     # the keys do not linger
    assert "rollback_config.txt" in sim.device.files          # for rollback()
    d.confirm_commit()
    assert not sim.device.pending and not d.has_pending_commit()
    assert sim.device.saves == 1 and sim.device.saved == sim.device.running_file()

    running = sim.device.running_file()
    assert owned_sorted(running) == owned_sorted(golden())
    d.load_replace_candidate(config=golden())
    assert d.compare_config() == ""
    d.close()
    assert unrelated(sim) == before
    assert "ip prefix-list OTHER seq 5 permit 10.0.0.0/8 le 24" in sim.device.running_file()


def test_commit_without_timer_saves(sim: IosSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, dest_file_system="flash:")    # NAPALM's option
    d.open()
    try:
        d.load_replace_candidate(config=golden())
        d.commit_config()
    finally:
        d.close()
    assert not sim.device.pending and sim.device.saves == 1
    assert owned_sorted(sim.device.running_file()) == owned_sorted(golden())
    assert "router bgp 64603" in (sim.device.saved or "")


def test_without_scp_server_or_archive_the_driver_says_what_is_missing(tmp_path: Path) -> None:
    config = BASE.replace("ip scp server enable\n", "")
    s = make_sim(config=config)
    try:
        d = make_driver(s, helpers.write_known_hosts(s, tmp_path))
        d.open()
        try:
            d.load_replace_candidate(config=golden())
            assert "neighbor NODES peer-group" in d.compare_config()     # plan: fine
            with pytest.raises(DriverError, match="ip scp server enable"):
                d.commit_config(revert_in=60)
            assert "candidate_config.txt" not in s.device.files
            assert "router bgp" not in s.device.render()
        finally:
            d.close()
    finally:
        s.stop()
    s = make_sim(config=BASE.replace("archive\n path flash:archive\n maximum 5\n", ""))
    try:
        d = make_driver(s, helpers.write_known_hosts(s, tmp_path))
        d.open()
        try:
            d.load_replace_candidate(config=golden())
            with pytest.raises(DriverError, match="archive"):
                d.commit_config(revert_in=60)
            assert "router bgp" not in s.device.render()
        finally:
            d.close()
    finally:
        s.stop()


def test_revert_in_is_clamped_to_two_hours(sim: IosSimulator, drv: CiscoIosDriver) -> None:
    drv.load_replace_candidate(config=golden())
    drv.commit_config(revert_in=10 * 3600)
    assert "Timer value: 120 min" in sim.device.show_rollback_timer()
    drv.confirm_commit()


def test_a_refused_line_keeps_the_running_config(applied: IosSimulator,
                                                 drv: CiscoIosDriver) -> None:
    before = config_now(applied)
    bad = golden().replace(" neighbor 100.126.0.6 description core core-frr\n",
                           " neighbor 100.126.0.6 descripton core core-frr\n")
    drv.load_replace_candidate(config=bad)
    with pytest.raises(CommitError) as err:
        drv.commit_config(revert_in=120)
    assert err.value.line == "neighbor 100.126.0.6 descripton core core-frr"
    assert "descripton" in str(err.value) and "Invalid input" in str(err.value)
    assert "original configuration" in str(err.value)
    assert config_now(applied) == before and applied.device.replaces == 0
    assert not applied.device.pending and not drv.has_pending_commit()


def test_an_unconfirmed_commit_is_reverted_by_the_device(tmp_path: Path) -> None:
    s = make_sim(minute=FAST_MINUTE)
    try:
        before = s.device.render()
        d = make_driver(s, helpers.write_known_hosts(s, tmp_path))
        d.open()
        try:
            d.load_replace_candidate(config=golden())
            d.commit_config(revert_in=30)              # one (fast) minute
            assert s.device.pending
            assert wait_for(lambda: not s.device.pending, timeout=FAST_MINUTE + 5)
            assert s.device.rollbacks == 1
            assert not d.has_pending_commit()
            with pytest.raises(DriverError, match="No pending configuration"):
                d.confirm_commit()
        finally:
            d.close()
        # Back to the config from before the replace (`file prompt quiet` came from
        # NAPALM's own file handling before the archive was taken).
        assert config_now(s) == before
    finally:
        s.stop()


def test_rollback_after_a_confirmed_commit(applied: IosSimulator,
                                           drv: CiscoIosDriver) -> None:
    changed = golden().replace(" neighbor 100.126.0.8 description core core-ios\n",
                               " neighbor 100.126.0.8 description core moved\n") \
        .replace("ip prefix-list FABRIC-IN seq 20 permit 100.127.0.0/24 ge 32 le 32\n", "")
    drv.load_replace_candidate(config=changed)
    diff = drv.compare_config()
    # A description overwrites in place; removals of prefix-list entries come last.
    assert diff.splitlines() == [
        "router bgp 64603",
        " neighbor 100.126.0.8 description core moved",
        "no ip prefix-list FABRIC-IN seq 20"]
    drv.commit_config(revert_in=300)
    drv.confirm_commit()
    assert "description core moved" in applied.device.running_file()
    drv.rollback()
    assert owned_sorted(applied.device.running_file()) == owned_sorted(golden())
    assert not applied.device.pending


def test_rollback_while_the_timer_runs_reverts_now(sim: IosSimulator,
                                                   drv: CiscoIosDriver) -> None:
    before = config_now(sim)
    drv.load_replace_candidate(config=golden())
    drv.commit_config(revert_in=300)
    assert drv.has_pending_commit()
    drv.rollback()
    assert not sim.device.pending and not drv.has_pending_commit()
    assert "router bgp" not in sim.device.render()
    assert config_now(sim) == before


def test_removed_neighbor_is_one_no_line(applied: IosSimulator, drv: CiscoIosDriver) -> None:
    lines = golden().splitlines()
    gone = [ln for ln in lines if "100.126.0.8" not in ln]
    drv.load_replace_candidate(config="\n".join(gone))
    diff = drv.compare_config()
    assert diff.splitlines() == ["router bgp 64603", " no neighbor 100.126.0.8"]
    drv.commit_config(revert_in=60)
    drv.confirm_commit()
    assert "100.126.0.8" not in applied.device.running_file()
    drv.load_replace_candidate(config="\n".join(gone))
    assert drv.compare_config() == ""


def test_keys_encrypted_by_the_device_compare_decoded(tmp_path: Path) -> None:
    s = make_sim(config=BASE + "service password-encryption\n")
    try:
        s.device.load(golden())
        running = s.device.running_file()
        assert BGP_KEY not in running and " password 7 " in running
        d = make_driver(s, helpers.write_known_hosts(s, tmp_path))
        d.open()
        try:
            d.load_replace_candidate(config=golden())
            assert d.compare_config() == ""
            d.load_replace_candidate(config=golden("An0ther-K3y"))
            assert d.compare_config().splitlines() == [
                "router bgp 64603", " neighbor 100.126.0.6 password An0ther-K3y",
                " neighbor 100.126.0.8 password An0ther-K3y"]
        finally:
            d.close()
    finally:
        s.stop()


# --------------------------------------------------------------------------- getters


def test_neighbors_and_napalm_getter(applied: IosSimulator, drv: CiscoIosDriver) -> None:
    dev = applied.device
    dev.set_peer("100.126.0.6", prefixes=7, remote_id="100.125.0.5")
    dev.set_peer("100.126.0.8", state="Active", gr=False)
    dev.add_dynamic_peer("10.10.2.21", prefixes=3, gr=False)
    dev.add_dynamic_peer("10.99.0.1", prefixes=3)      # outside every listen range
    ns = {n.address: n for n in drv.neighbors()}
    assert set(ns) == {"100.126.0.6", "100.126.0.8", "10.10.2.21"}
    core = ns["100.126.0.6"]
    assert (core.local_as, core.remote_as, core.state, core.prefixes_received) == \
        (64603, 65005, "Established", 7)
    assert core.gr_advertised and core.gr_received
    assert ns["100.126.0.8"].state == "Active" and not ns["100.126.0.8"].established
    assert ns["100.126.0.8"].remote_as == 65003
    node = ns["10.10.2.21"]
    assert node.established and node.remote_as == 64603 and node.gr_advertised
    assert not node.gr_received

    got = drv.get_bgp_neighbors()["global"]
    assert got["router_id"] == "100.125.0.8"
    peers = got["peers"]
    assert peers["100.126.0.6"]["is_up"] and peers["100.126.0.6"]["remote_as"] == 65005
    assert peers["100.126.0.6"]["remote_id"] == "100.125.0.5"
    assert peers["100.126.0.6"]["description"] == "core core-frr"
    assert peers["100.126.0.6"]["address_family"]["ipv4"]["accepted_prefixes"] == 7
    assert not peers["100.126.0.8"]["is_up"]
    # NAPALM's parser does not read the `*` of a dynamic peer's block: not reported.
    assert "10.10.2.21" not in peers


# --------------------------------------------------------------------------- secrets


def test_no_secret_in_logs_errors_or_temp_files(applied: IosSimulator, known_hosts: Path,
                                               tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[tuple[int, int, str]] = []
    original = IOSDriver.load_replace_candidate

    def spy(self, filename=None, config=None):
        path = Path(filename)
        seen.append((stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode),
                     path.read_text()))
        return original(self, filename=filename, config=config)
    monkeypatch.setattr(IOSDriver, "load_replace_candidate", spy)

    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    d = make_driver(applied, known_hosts)
    d.open()
    try:
        bad = golden().replace(f" neighbor 100.126.0.6 password {BGP_KEY}",
                               f" neighbor 100.126.0.6 pasword {BGP_KEY}")
        d.load_replace_candidate(config=bad)
        try:
            d.commit_config(revert_in=60)
        except CommitError as exc:
            errors.append(exc)
        d.load_replace_candidate(config=golden())
        d.commit_config(revert_in=60)
        d.confirm_commit()
    finally:
        d.close()
    assert len(errors) == 1 and "pasword ******" in str(errors[0])
    assert [m[:2] for m in seen] == [(0o600, 0o700), (0o600, 0o700)]
    assert BGP_KEY in seen[1][2] and "interface GigabitEthernet1/0/1" in seen[1][2]
    assert os.listdir(scratch) == []
    helpers.assert_no_secrets(caplog, errors, [LOGIN_PW, BGP_KEY])


def test_wrong_password_error_does_not_show_it(sim: IosSimulator, known_hosts: Path) -> None:
    with pytest.raises(AuthenticationError) as err:
        make_driver(sim, known_hosts, password=LOGIN_PW + "x").open()
    assert LOGIN_PW not in str(err.value)


def test_a_key_the_driver_cannot_decode_compares_on_presence() -> None:
    running = ("router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n"
               " neighbor 10.0.0.2 password 7 XX-not-type-7\n")
    assert remediation(running, "router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n"
                       " neighbor 10.0.0.2 password Any-Key\n") == ""
    assert remediation(running, "router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n") \
        == "router bgp 65001\n no neighbor 10.0.0.2 password"


def test_rollback_reports_what_the_device_refused(applied: IosSimulator,
                                                  drv: CiscoIosDriver) -> None:
    drv.load_replace_candidate(config=golden().replace("description core core-ios",
                                                       "description core moved"))
    drv.commit_config()
    saved = applied.device.files["rollback_config.txt"].decode()
    applied.device.write_file("rollback_config.txt", saved.replace(
        " timers bgp 10 30", " timers bgp 10 30\n timers bgp 10 2").encode())
    with pytest.raises(CommitError, match="rollback: the device refused 'timers bgp 10 2'"):
        drv.rollback()
