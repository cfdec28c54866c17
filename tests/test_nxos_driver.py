"""The Cisco NX-OS driver against the SSH simulator of a Nexus switch
(tests/simulators/nxos.py), through NAPALM nxos_ssh, netmiko and SCP: login and host
keys, plan, configure replace with commit-timeout and confirm, the device's refusal,
rollback by the device's timer and by the driver, getters, secrets, NAPALM lookup."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from pathlib import Path

import driver_helpers as helpers
import paramiko
import pytest
from driver_helpers import wait_for
from simulators.nxos import NxosDevice, NxosSimulator, decrypt

from fabric.deploy.drivers.errors import (
    AuthenticationError,
    CandidateError,
    CommitError,
    DeviceConnectionError,
    DriverError,
    HostKeyError,
)
from fabric.platforms.cisco_nxos.dialect import config_items, replace_file
from fabric.platforms.cisco_nxos.driver import CiscoNxosDriver

pytestmark = pytest.mark.sim

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "allroles" / "configs" / "dyn-nxos-tor.cfg"
LOGIN_PW = "Nx-L0gin-S3cret-4d2e"          # distinctive: grepped for in logs and errors
BGP_KEY = "Nx-Bgp-K3y-S3cret-91bf"

# A switch before this tool touched it: a name, a feature, a user, someone else's
# prefix list, an interface.
BASE = """\
hostname sim-nxos
feature lldp
username admin password 0 hunter2 role network-admin
ip prefix-list OTHER seq 5 permit 10.0.0.0/8
interface Ethernet1/1
  description uplink to spine
  mtu 9216
  ip address 10.0.0.1/31
"""


def golden() -> str:
    return GOLDEN.read_text().replace("__secret_core_key__", BGP_KEY)


def owned(text: str) -> list[tuple[int, str]]:
    """The (depth, line)s of the owned sections, order-insensitive, keys masked,
    default-valued lines left out."""
    def mine(line: str) -> bool:
        return line in ("feature bgp", "feature bfd") or line.startswith(
            ("router bgp ", "bfd interval ", "route-map ALL-PATHS ")) or (
            line.startswith("ip prefix-list ") and line.split()[2] != "OTHER")
    items = helpers.owned_sorted(config_items(text), mine)
    return sorted((d, re.sub(r"^password \d? ?\S+$", "password K", ln)) for d, ln in items
                  if ln not in CiscoNxosDriver.DEFAULTS)      # the switch does not show those


def unrelated(sim: NxosSimulator) -> list[str]:
    return [ln for ln in sim.device.lines()
            if not ln.startswith(("feature bgp", "feature bfd", "bfd interval ", "router bgp ",
                                  "route-map ALL-PATHS "))
            and not (ln.startswith("ip prefix-list ") and " OTHER " not in ln)]


def unstamped(text: str) -> str:
    """A config display without its `!Command`/`!Time` stamp lines."""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("!"))


def config_now(sim: NxosSimulator) -> str:
    """The running config without its time stamps."""
    return unstamped(sim.device.running())


@pytest.fixture
def sim():
    s = NxosSimulator(hostname="sim-nxos", username="admin", password=LOGIN_PW,
                      second=1.0, config=BASE).start()
    yield s
    s.stop()


@pytest.fixture
def known_hosts(sim: NxosSimulator, tmp_path: Path) -> Path:
    return helpers.write_known_hosts(sim, tmp_path)


def make_driver(sim: NxosSimulator, known_hosts: Path | None, password: str = LOGIN_PW,
                **extra: object) -> CiscoNxosDriver:
    return helpers.make_driver(CiscoNxosDriver, sim, known_hosts, password, **extra)


@pytest.fixture
def drv(sim: NxosSimulator, known_hosts: Path):
    yield from helpers.opened(make_driver(sim, known_hosts))


@pytest.fixture
def applied(sim: NxosSimulator) -> NxosSimulator:
    """The switch after a successful apply of the golden config (typed in directly)."""
    sim.device.load(golden())
    sim.device.save()
    return sim


# --------------------------------------------------------------------------- login


def test_login_with_the_right_password(drv: CiscoNxosDriver) -> None:
    running = drv.get_config()["running"]
    assert "hostname sim-nxos" in running.splitlines()
    assert "!Command" not in running and "!Time" not in running   # NAPALM's filter


def test_login_with_a_wrong_password_fails(sim: NxosSimulator, known_hosts: Path) -> None:
    d = make_driver(sim, known_hosts, password="not-the-password")
    with pytest.raises(AuthenticationError, match="authentication failed"):
        d.open()
    assert d._napalm is None


def test_unknown_host_key_is_refused_by_default(sim: NxosSimulator, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match="not trusted"):
        make_driver(sim, empty).open()
    other = paramiko.ECDSAKey.generate(bits=256)
    empty.write_text(f"[127.0.0.1]:{sim.port} {other.get_name()} {other.get_base64()}\n")
    with pytest.raises(HostKeyError):
        make_driver(sim, empty).open()


def test_unknown_host_key_is_accepted_with_the_flag(sim: NxosSimulator,
                                                    tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    d = make_driver(sim, empty, accept_unknown_host_keys=True)
    d.open()
    try:
        assert "hostname sim-nxos" in d.get_config()["running"]
    finally:
        d.close()


def test_nothing_listening_is_a_connection_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # closed again when the block ends
    d = CiscoNxosDriver("127.0.0.1", "admin", LOGIN_PW, timeout=3,
                        optional_args={"port": port, "accept_unknown_host_keys": True})
    with pytest.raises(DeviceConnectionError, match=f"cannot connect to port {port}"):
        d.open()
    with pytest.raises(DeviceConnectionError, match="not connected"):
        d.neighbors()


def test_the_scp_connection_checks_the_host_key_too(sim: NxosSimulator, known_hosts: Path,
                                                    drv: CiscoNxosDriver) -> None:
    # The key file no longer trusts the switch when the SCP connection is opened.
    other = paramiko.ECDSAKey.generate(bits=256)
    known_hosts.write_text(f"[127.0.0.1]:{sim.port} {other.get_name()} "
                           f"{other.get_base64()}\n")
    drv.load_replace_candidate(config=golden())
    with pytest.raises(CandidateError, match="could not be put on bootflash"):
        drv.commit_config(revert_in=60)
    assert "candidate_config.txt" not in sim.device.files
    assert "router bgp" not in sim.device.running()


# --------------------------------------------------------------------------- plan


def test_plan_on_a_device_with_only_unrelated_config(sim: NxosSimulator,
                                                    drv: CiscoNxosDriver) -> None:
    drv.load_replace_candidate(config=golden())
    diff = drv.compare_config()
    assert owned(diff) == owned(golden())
    assert f"password 0 {BGP_KEY}" in diff
    assert not any(ln.strip().startswith("no ") for ln in diff.splitlines())
    for foreign in ("hostname", "lldp", "username", "OTHER", "interface", "version"):
        assert foreign not in diff
    # Push order: the feature and the prefix lists before the router; the template
    # before the prefix neighbor that inherits it.
    lines = [ln.strip() for ln in diff.splitlines()]
    assert lines[0] == "feature bgp"
    assert lines.index("ip prefix-list RACK-EXPORT seq 10 permit 100.64.12.0/22") < \
        lines.index("router bgp 64604")
    assert lines.index("template peer NODES") < lines.index("neighbor 10.10.3.0/24")
    # Planning writes nothing to the switch.
    assert "candidate_config.txt" not in sim.device.files
    # What commit sends: the whole running config, owned sections swapped.
    drv._send_replace_file()
    sent = sim.device.files["candidate_config.txt"].decode()
    assert "hostname sim-nxos" in sent and "interface Ethernet1/1" in sent
    assert owned(sent) == owned(golden())


def test_napalms_own_diff_of_the_replace_file_agrees(drv: CiscoNxosDriver) -> None:
    """NAPALM's compare (checkpoint + `show diff rollback-patch`) on the file we sent:
    only owned lines are added, nothing else changes."""
    drv.load_replace_candidate(config=golden())
    drv._send_replace_file()
    native = drv._napalm.compare_config()
    assert "router bgp 64604" in native and "feature bgp" in native
    assert not any(ln.lstrip().startswith("no ") for ln in native.splitlines())
    assert "hostname" not in native and "interface" not in native


def test_candidate_outside_the_owned_sections_is_refused(sim: NxosSimulator,
                                                         drv: CiscoNxosDriver) -> None:
    with pytest.raises(CandidateError, match="'hostname evil'"):
        drv.load_replace_candidate(config=golden() + "hostname evil\n")
    assert "candidate_config.txt" not in sim.device.files
    assert drv.compare_config() == ""


def test_replace_file_keeps_other_lines_and_orders_the_feature() -> None:
    running = ("!Command: show running-config\n\nversion 9.3(10)\nhostname h\n"
               "feature lldp\nfeature bgp\nip prefix-list A seq 5 permit 1.0.0.0/8\n"
               "ip prefix-list OTHER seq 5 permit 2.0.0.0/8\n\nrouter bgp 1\n"
               "  router-id 1.1.1.1\n\ninterface loopback0\n  description x\n")
    cand = config_items("feature bgp\nip prefix-list A seq 10 permit 3.0.0.0/8\n"
                        "router bgp 2\n  router-id 2.2.2.2\n")
    out = replace_file(running, cand, {"A"}).splitlines()
    assert out[:6] == ["!Command: show running-config", "", "version 9.3(10)",
                       "hostname h", "feature lldp", "feature bgp"]
    assert "ip prefix-list OTHER seq 5 permit 2.0.0.0/8" in out
    assert "ip prefix-list A seq 5 permit 1.0.0.0/8" not in out
    assert out[-3:] == ["ip prefix-list A seq 10 permit 3.0.0.0/8", "router bgp 2",
                        "  router-id 2.2.2.2"]
    assert "router bgp 1" not in out and "  description x" in out


# --------------------------------------------------------------------------- apply


def test_commit_with_commit_timeout_then_confirm(sim: NxosSimulator,
                                                drv: CiscoNxosDriver) -> None:
    before = unrelated(sim)
    with pytest.raises(DriverError, match="no commit is waiting"):
        drv.confirm_commit()
    drv.load_replace_candidate(config=golden())
    drv.commit_config(revert_in=120)
    assert sim.device.pending and drv.has_pending_commit()
    drv.load_replace_candidate(config=golden())
    with pytest.raises(DriverError, match="still waits"):      # one commit at a time
        drv.commit_config(revert_in=120)
    drv.discard_config()
    assert sim.device.cr["timeout"] == 120 and sim.device.saves == 0
    assert "rollback_config.txt" in sim.device.files          # the checkpoint
    assert "candidate_config.txt" not in sim.device.files     # the keys do not linger
    drv.confirm_commit()
    assert not sim.device.pending and not drv.has_pending_commit()
    assert sim.device.saves == 1
    # (the `!Time:` stamp of `show running-config` is the time it is shown)
    assert unstamped(sim.device.saved or "") == config_now(sim)

    running = sim.device.running()
    assert owned(running) == owned(golden())
    assert unrelated(sim) == before
    keys = re.findall(r"neighbor (\S+)\n.*?password 3 (\S+)", running, re.S)
    assert {decrypt(c) for _, c in keys} == {BGP_KEY}
    drv.load_replace_candidate(config=golden())
    assert drv.compare_config() == ""


def test_changed_candidate_gives_exactly_the_changed_lines(applied: NxosSimulator,
                                                           drv: CiscoNxosDriver) -> None:
    cand = golden().replace("maximum-prefix 10 restart 5", "maximum-prefix 300 restart 5")
    cand = cand.replace("ip prefix-list TO-NODES seq 20 permit 100.64.12.0/22 ge 27 le 27\n",
                        "")
    cand = re.sub(r"  neighbor 100\.126\.0\.12\n(    .*\n)+", "", cand)
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == (
        "router bgp 64604\n"
        "  no neighbor 100.126.0.12\n"
        "  template peer NODES\n"
        "    address-family ipv4 unicast\n"
        "      maximum-prefix 300 restart 5\n"
        "no ip prefix-list TO-NODES seq 20")
    drv.commit_config()                 # NAPALM's path: rollback to the file, then save
    assert applied.device.saves == 2
    lines = applied.device.lines()
    assert "router bgp 64604/template peer NODES/address-family ipv4 unicast/" \
           "maximum-prefix 300 restart 5" in lines
    assert not any("100.126.0.12" in ln for ln in lines)
    assert not any(ln.startswith("ip prefix-list TO-NODES seq 20") for ln in lines)
    assert "ip prefix-list OTHER seq 5 permit 10.0.0.0/8" in lines
    drv.load_replace_candidate(config=cand)
    assert drv.compare_config() == ""


def test_a_changed_key_is_not_seen_a_removed_key_is(applied: NxosSimulator,
                                                    drv: CiscoNxosDriver) -> None:
    drv.load_replace_candidate(config=golden().replace(BGP_KEY, "another-key-123"))
    assert drv.compare_config() == ""          # passwords compare on presence only
    drv.load_replace_candidate(config=golden().replace(f"    password 0 {BGP_KEY}\n", "", 1))
    assert drv.compare_config() == "router bgp 64604\n  neighbor 100.126.0.10\n    no password"


@pytest.mark.parametrize("revert_in", [120, None])
def test_a_line_the_device_rejects(sim: NxosSimulator, drv: CiscoNxosDriver,
                                   revert_in: int | None) -> None:
    before = config_now(sim)
    drv.load_replace_candidate(config=golden().replace("maximum-prefix 10 restart 5",
                                                       "maximum-prefx 10 restart 5"))
    with pytest.raises(CommitError, match="refused 'maximum-prefx 10 restart 5'") as err:
        drv.commit_config(revert_in=revert_in)
    assert err.value.line == "maximum-prefx 10 restart 5"
    assert "Invalid command" in err.value.device_message
    assert config_now(sim) == before
    assert not sim.device.pending and not drv.has_pending_commit()
    assert sim.device.saves == 0


def test_an_unconfirmed_commit_is_reverted_by_the_device(tmp_path: Path) -> None:
    fast = NxosSimulator(hostname="sim-nxos", password=LOGIN_PW, second=0.02,
                         config=BASE).start()
    try:
        d = make_driver(fast, helpers.write_known_hosts(fast, tmp_path))
        d.open()
        try:
            before = config_now(fast)
            d.load_replace_candidate(config=golden())
            d.commit_config(revert_in=5)          # clamped to NX-OS's 30 s minimum
            assert fast.device.cr["timeout"] == 30 and fast.device.pending
            assert "router bgp 64604" in config_now(fast)
            assert wait_for(lambda: not fast.device.pending, timeout=5)
            assert config_now(fast) == before and fast.device.rollbacks == 1
            assert not d.has_pending_commit()
            with pytest.raises(DriverError, match="already expired"):
                d.confirm_commit()
            assert fast.device.saves == 0
        finally:
            d.close()
    finally:
        fast.stop()


def test_rollback_after_a_confirmed_commit(applied: NxosSimulator,
                                          drv: CiscoNxosDriver) -> None:
    golden_owned = owned(applied.device.running())
    drv.load_replace_candidate(config=golden().replace("maximum-paths 4", "maximum-paths 8"))
    drv.commit_config(revert_in=60)
    drv.confirm_commit()
    assert "maximum-paths 8" in config_now(applied)
    drv.rollback()
    assert owned(applied.device.running()) == golden_owned
    assert "maximum-paths 8" not in config_now(applied)
    assert applied.device.saved is not None and "maximum-paths 8" not in applied.device.saved


def test_rollback_while_the_commit_timer_runs(sim: NxosSimulator,
                                             drv: CiscoNxosDriver) -> None:
    before = config_now(sim)
    drv.load_replace_candidate(config=golden())
    drv.commit_config(revert_in=300)
    assert sim.device.pending
    drv.rollback()
    assert not sim.device.pending and not drv.has_pending_commit()
    assert config_now(sim) == before


# --------------------------------------------------------------------------- getters


def test_neighbors_and_get_bgp_neighbors(applied: NxosSimulator,
                                         drv: CiscoNxosDriver) -> None:
    dev = applied.device
    dev.set_peer("100.126.0.10", prefixes=7, remote_id="100.125.0.5")
    dev.set_peer("100.126.0.12", state="Active")
    dev.peers["100.126.0.10"].since = time.time() - 2 * 86400 - 3 * 3600   # 2d03h
    dev.add_dynamic_peer("10.10.3.21", prefixes=3, gr=False)
    dev.add_dynamic_peer("10.99.0.1", prefixes=1)       # outside every prefix neighbor
    ns = {n.address: n for n in drv.neighbors()}
    assert set(ns) == {"100.126.0.10", "100.126.0.12", "10.10.3.21"}
    core = ns["100.126.0.10"]
    assert (core.state, core.local_as, core.remote_as, core.prefixes_received) == \
        ("Established", 64604, 65005, 7)
    assert core.uptime == 2 * 86400 + 3 * 3600
    assert core.gr_advertised and core.gr_received
    assert ns["100.126.0.12"].state == "Active" and not ns["100.126.0.12"].established
    node = ns["10.10.3.21"]
    assert node.remote_as == 64604 and node.prefixes_received == 3
    assert node.gr_advertised and not node.gr_received

    bgp = drv.get_bgp_neighbors()["global"]
    assert bgp["router_id"] == "100.125.0.9"
    assert bgp["peers"]["100.126.0.10"]["is_up"] is True
    assert bgp["peers"]["100.126.0.10"]["address_family"]["ipv4"]["received_prefixes"] == 7
    assert bgp["peers"]["100.126.0.12"]["is_up"] is False
    assert bgp["peers"]["10.10.3.21"]["remote_as"] == 64604


def test_neighbors_without_bgp(drv: CiscoNxosDriver) -> None:
    assert drv.neighbors() == []


# --------------------------------------------------------------------------- secrets


def test_no_secret_in_logs_errors_or_temp_files(sim: NxosSimulator, known_hosts: Path,
                                                tmp_path: Path, caplog,
                                                monkeypatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with pytest.raises(AuthenticationError) as bad:
        make_driver(sim, known_hosts, password=LOGIN_PW + "x").open()
    errors.append(bad.value)
    d = make_driver(sim, known_hosts)
    d.open()
    try:
        d.load_replace_candidate(config=golden().replace("timers 10 30\n    bmp",
                                                         f"timers 10 30 {BGP_KEY}\n    bmp", 1))
        assert list(tmp.iterdir()) == []                  # the replace file is gone
        with pytest.raises(CommitError) as refused:
            d.commit_config(revert_in=60)
        errors.append(refused.value)
        d.load_replace_candidate(config=golden())
        assert list(tmp.iterdir()) == []
        d.compare_config()
        d.commit_config(revert_in=60)
        with pytest.raises(DriverError, match="no candidate loaded") as again:
            d.commit_config(revert_in=60)
        errors.append(again.value)
        d.confirm_commit()
        d.get_config(retrieve="all")
    finally:
        d.close()
    helpers.assert_no_secrets(caplog, errors, [LOGIN_PW, BGP_KEY])
    assert not any(BGP_KEY.encode() in p.read_bytes() for p in tmp_path.rglob("*")
                   if p.is_file())


# --------------------------------------------------------------------------- simulator


@pytest.mark.parametrize("name", ["dyn-nxos-tor.cfg", "core-nxos.cfg", "rr-nxos-rr1.cfg"])
def test_simulator_takes_every_golden_nxos_config(name: str) -> None:
    text = (GOLDEN.parent / name).read_text().replace("__secret_core_key__", BGP_KEY)
    dev = NxosDevice("sw")
    dev.load(BASE)
    dev.load(text)
    assert owned(dev.running()) == owned(text)


def test_simulator_grammar_and_bootflash() -> None:
    dev = NxosDevice("sw")
    d = dev.dialect()
    d.execute("configure terminal")
    out = d.execute("router bgp 65000")
    assert out.endswith("% Invalid command at '^' marker.")   # no `feature bgp` yet
    assert d.execute("feature bgp") == "" and d.execute("router bgp 65000") == ""
    assert d.prompt() == "sw(config-router)# "
    out = d.execute("neighbr 10.0.0.1")
    assert out.splitlines()[0] == " " * len("sw(config-router)# ") + "^"
    assert d.execute("neighbor 10.0.0.1") == "" and d.prompt() == \
        "sw(config-router-neighbor)# "
    assert "maximum-peers" in d.execute("maximum-peers 5")     # only for a prefix
    assert d.execute("remote-as").endswith("% Incomplete command at '^' marker.")
    d.execute("end")
    assert d.execute("checkpoint file cp1") == "Done"
    assert "Usage for bootflash://sup-local" in d.execute("dir bootflash:cp1")
    d.execute("configure terminal")
    d.execute("no feature bgp")                                 # takes the router along
    assert not any(ln.startswith("router bgp") for ln in dev.lines())
    d.execute("end")
    assert "Rollback completed successfully." in d.execute("rollback running-config file cp1")
    assert "router bgp 65000/neighbor 10.0.0.1" in dev.lines()
    assert d.execute("delete bootflash:cp1") == "" and "(yes/no/abort)" in d.prompt()
    d.execute("y")
    assert d.execute("dir bootflash:cp1") == "No such file or directory"


def test_graceful_restart_is_on_unless_switched_off(applied: NxosSimulator,
                                                    drv: CiscoNxosDriver) -> None:
    """NX-OS runs GR by default and shows only `no graceful-restart`."""
    dev = applied.device
    assert not any(ln.endswith("/graceful-restart") for ln in dev.lines())
    assert all(n.gr_advertised for n in drv.neighbors())
    d = dev.dialect()
    for line in ("configure terminal", "router bgp 64604", "no graceful-restart", "end"):
        assert "%" not in d.execute(line)
    assert "router bgp 64604/no graceful-restart" in dev.lines()
    assert not any(n.gr_advertised for n in drv.neighbors())
    drv.load_replace_candidate(config=golden())        # the plan switches it back on
    assert "graceful-restart" in [ln.strip() for ln in drv.compare_config().splitlines()]
