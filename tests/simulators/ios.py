"""Cisco IOS-XE dialect for the SSH simulator (TEST-ONLY).

Tags as in `docs/vendor-syntax.md` and `comware.py`: [doc] a vendor
document, [2nd] secondary material (netmiko / NAPALM source, published captures and
configs), [guess] made up here to be plausible; a [guess] is what a real switch should
check first.

* Login: no banner, the prompt `sysname#` (a `privilege 15` user lands in privileged
  EXEC) [doc]. netmiko `cisco_ios` sends `terminal width 511` and `terminal length 0`
  [2nd: netmiko source]; both print nothing [2nd].
* Abbreviations: IOS accepts any unique prefix of a keyword [doc]; here only in EXEC
  commands (`write mem`, `conf t`, `show run | inc X`), which is what netmiko and
  NAPALM type [2nd]; configuration lines must be typed in full [guess-simplification].
* `configure terminal` prints "Enter configuration commands, one per line.  End with
  CNTL/Z." [doc]. Prompts `(config)#`, `(config-if)#`, `(config-router)#`,
  `(config-router-af)#`, `(config-router-bmpsrvr)#` [doc: BMP configuration guide],
  `(config-archive)#`, `(config-line)#` [doc]. `exit` goes up one mode (from EXEC it
  logs out), `end` back to EXEC, `exit-address-family` and `exit-bmp-server-mode`
  leave their mode [doc]. A line that is not a command of the current mode is tried
  in the enclosing modes and, if it is one there, leaves the sub-mode [2nd: how IOS
  parses configs, indentation is not significant] -- also how config files are read.
* Errors: `% Invalid input detected at '^' marker.` with the `^` under the offending
  word (after the prompt) [doc]; `% Incomplete command.` without a marker [doc]. A
  rejected line changes nothing [doc]. Semantic refusals: `% Specify remote-as or
  peer-group commands first` for a neighbor that is not configured, `% Create the
  peer-group first` for an unknown peer group [2nd: published sessions]; `% Invalid
  prefix range for P, make sure: len < ge-value <= le-value` [2nd]; `% BGP is already
  running; AS is N` [2nd]; the hold-time message [guess].
* `no <line>` removes the line; a prefix of a command (`no neighbor X description`,
  `no ip prefix-list N`) removes every line it starts [doc]. `no neighbor X` and
  `no neighbor X remote-as N` delete the neighbor with all its settings, in the
  address families too [doc]; `no neighbor G peer-group` deletes the group, its
  members' settings and the listen ranges using it [guess]. `no bgp default
  ipv4-unicast` is itself a config line, shown as such [doc].
* Peer keys: `neighbor X password [0|7] KEY`; stored in clear unless `service
  password-encryption` is on, then shown `password 7 <cipher>` [doc]; the cipher is
  the well-known (reversible) type-7 encoding [2nd]. `username U ... secret S` shows
  `secret 9 $9$...` [2nd]; the hash here is random text [guess].
* `show running-config`: "Building configuration...", blank, "Current configuration
  : N bytes", `!` lines, "! Last configuration change at ... by USER", `version`,
  sections separated by `!`, one space of indentation per level, ` !` before the
  `bmp server` and `address-family` blocks inside `router bgp`, which close with
  ` exit-bmp-server-mode` / ` exit-address-family`, `end` [2nd: published configs].
  The order of top-level sections is a [guess] (the device sorts by module); lines
  inside a section keep the order typed [guess: IOS sorts some]. `| include RE`,
  `| section RE`, `| begin RE` filters [doc].
* Settings at their default (GR restart-time 120, stalepath-time 360, `bgp listen
  limit 100`, `timers bgp 60 180`) are not written into the running config; typing
  one removes the explicit setting it replaces [2nd: IOS NVGEN, the defaults from
  Cisco's BGP configuration guides].
* `file prompt quiet` suppresses the file-operation questions; without it `copy`
  asks `Destination filename [F]?` and `delete` asks `Delete F? [confirm]` [doc].
  `ip scp server enable` is needed for SCP puts [doc]; the refusal text is a [guess].
* The `flash:` file system: `dir` ("Directory of flash:/", rows `N  -rw-  SIZE  DATE
  NAME`, "T bytes total (F bytes free)") [2nd: netmiko and NAPALM parse exactly this],
  `dir flash:/F` ("Directory of flash:/F", or `%Error opening flash:/F (No such file
  or directory)`) [2nd], `verify /md5 flash:/F` (`verify /md5 (flash:/F) = <md5>`)
  [2nd], `copy running-config flash:/F`, `copy null: flash:/F`, `copy flash:/F
  running-config` (merge, as typed), `copy running-config startup-config`, `more`,
  `delete` [doc]; the "bytes copied" line [2nd]. SCP puts (`scp -t flash:/F`) land
  in the same file system.
* `archive` / ` path flash:archive` [doc]; `show archive` says "Archive feature not
  enabled" without a path [2nd: NAPALM checks this text], else the archive list [2nd].
* `configure replace flash:/F [list] [force] [ignorecase] [revert trigger [error]
  [timer M] | time M]` [doc]: without `force` it asks to confirm [doc]. Every line of
  the file is read in its mode by the same grammar as typed lines. With `revert
  trigger error` one refused line keeps the original config; the output lists the
  refused lines and ends "The original configuration has been successfully restored."
  [2nd: the phrase NAPALM looks for; the rest of the wording is a guess]. Without it
  the refused lines are skipped and listed [guess]. Success replaces the running
  config and prints "Total number of passes: N" / "Rollback Done" [2nd]. With a
  timer the running config is first archived [doc], and unless `configure confirm`
  comes within M minutes the device goes back to it and logs
  `%ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_START/..._DONE` lines [2nd: message
  names; text guess]. A replace with a timer needs `archive` with a `path`, else
  "%Please turn config archive on" [2nd: NAPALM checks it]. A replace while a timer
  runs is refused [guess wording]. `configure confirm` stops the timer, `configure
  revert now` goes back at once, `configure revert timer M` resets it [doc].
  `show archive config rollback timer`: "No Rollback Confirmed Change pending" or a
  block with `Time configured(or reset)`, `Timer type`, `Timer value`, `User` [2nd:
  NAPALM's regexes; the spacing is what NAPALM parses, a real box may pad].
* `write memory` / `copy running-config startup-config`: "Building configuration..."
  / "[OK]" [doc]; `show startup-config` [doc].
* BGP displays, from the config and the peer states a test sets (devicebase):
  `show bgp all summary` (with "For address family: IPv4 Unicast"), `show bgp ipv4
  unicast summary`, `show ip bgp summary`: "BGP router identifier R, local AS number
  N", the table `Neighbor V AS MsgRcvd MsgSent TblVer InQ OutQ Up/Down State/PfxRcd`,
  a dynamic peer's address prefixed `*` and the "* Dynamically created based on a
  listen range command" footer [2nd: Cisco dynamic-neighbor docs]; Up/Down `hh:mm:ss`
  under a day, then `1d11h`, `8w5d`; `never` for a peer never up [2nd: NAPALM's
  parser]. `show bgp ipv4 unicast neighbors [A]`: a block per peer in the layout
  NAPALM parses ("BGP neighbor is A,  remote AS N, internal link", "BGP version 4,
  remote router ID", "BGP state = ...", "Graceful Restart Capability: advertised and
  received" under "Neighbor capabilities:", "For address family: IPv4 Unicast",
  "Prefixes Current:", "Local Policy Denied Prefixes:") [2nd]; a dynamic peer shows
  as `*A` there too [guess]. Other address families print nothing [guess]; without
  `router bgp`: "% BGP not active" [2nd].
* Getter displays (what NAPALM's get_facts and get_bgp_neighbors_detail read):
  `show version` of a Catalyst 9300 on 17.3 [2nd: ntc-templates tests/cisco_ios/
  show_version fixtures], `show hosts` ("Default domain is not set") [2nd], `show ip
  interface brief` [2nd: ntc-templates tests/cisco_ios/show_ip_interface_brief], `show
  ip bgp all summary`, `show ip bgp ipv4 unicast neighbors X`. The neighbor block
  carries `Message statistics` (Opens ... Total), `Prefixes Current: SENT RCVD`,
  `Implicit/Explicit Withdraw`, `Used as bestpath/multipath/secondary`,
  `Connections established N; dropped 0` and `Connection state is ESTAB` (or `No
  active TCP connection`) [2nd: the lines NAPALM's ip_bgp_neigh / ip_bgp_neigh_afi
  templates read]. EXEC keywords may be abbreviated up to the sixth word (NAPALM
  types `show ip bgp all sum`, `... neigh X`).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import re
import threading
import time
from typing import Any

from .configtree import CliDialect, CliError, Failure, Grammar, Match, Node, Spec, View, snapshot
from .devicebase import PeerState, SimulatedDevice
from .sshserver import SimulatedSwitch

EXEC, CONF, IFACE, ROUTER, AF, BMP, ARCHIVE, LINE = (
    "exec", "config", "config-if", "config-router", "config-router-af",
    "config-router-bmpsrvr", "config-archive", "config-line")

INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."
NO_NEIGHBOR = "% Specify remote-as or peer-group commands first"
NO_GROUP = "% Create the peer-group first"
VERSION = "17.9"
FLASH_TOTAL = 7_194_652_672
CONFIRM_REPLACE = (
    "This will apply all necessary additions and deletions\n"
    "to replace the current running configuration with the\n"
    "contents of the specified configuration file, which is\n"
    "assumed to be a complete configuration, not a partial\n"
    "configuration. Enter Y if you are sure you want to proceed. ? [no]: ")

# --------------------------------------------------------------------------- type 7
_XLAT = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def type7(plain: str, seed: int | None = None) -> str:
    """Cisco's reversible `7` encoding [2nd: published everywhere]."""
    seed = os.urandom(1)[0] % 16 if seed is None else seed
    return f"{seed:02d}" + "".join(f"{ord(c) ^ ord(_XLAT[(seed + i) % len(_XLAT)]):02X}"
                                   for i, c in enumerate(plain))


def untype7(cipher: str) -> str | None:
    try:
        seed = int(cipher[:2])
        data = bytes.fromhex(cipher[2:])
    except ValueError:
        return None
    return "".join(chr(b ^ ord(_XLAT[(seed + i) % len(_XLAT)])) for i, b in enumerate(data))


def _is_ip(tok: str) -> bool:
    try:
        ipaddress.IPv4Address(tok)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- helpers
def _router(d: IosDialect) -> Node | None:
    for v in reversed(d.stack):
        if v.name == ROUTER:
            return v.node
    return None


def _groups(bgp: Node) -> set[str]:
    return {c.key[1] for c in bgp.children
            if len(c.key) == 3 and c.key[0] == "neighbor" and c.key[2] == "peer-group"
            and c.text.endswith(" peer-group") and not _is_ip(c.key[1])}


def _exists(bgp: Node, peer: str) -> bool:
    if _is_ip(peer):
        return bgp.find(("neighbor", peer, "remote-as")) is not None or \
            bgp.find(("neighbor", peer, "peer-group")) is not None
    return peer in _groups(bgp)


def _c_neighbor(d: IosDialect, m: Match) -> str | None:
    bgp = _router(d)
    peer = m.caps["p"]
    if bgp is None or _exists(bgp, peer):
        return None
    return NO_NEIGHBOR if _is_ip(peer) else NO_GROUP


def _c_remote_as(d: IosDialect, m: Match) -> str | None:
    bgp = _router(d)
    peer = m.caps["p"]
    if bgp is not None and not _is_ip(peer) and peer not in _groups(bgp):
        return NO_GROUP
    return None


def _c_peer_group(d: IosDialect, m: Match) -> str | None:
    bgp = _router(d)
    peer, group = m.caps["p"], m.caps.get("g")
    if group is None:
        return INVALID if _is_ip(peer) or peer[:1].isdigit() else None
    if not _is_ip(peer):
        return INVALID
    if bgp is not None and group not in _groups(bgp):
        return NO_GROUP
    return None


def _c_listen_range(d: IosDialect, m: Match) -> str | None:
    try:
        ipaddress.IPv4Network(m.caps["r"], strict=True)
    except ValueError:
        return INVALID
    bgp = _router(d)
    if bgp is not None and m.caps["g"] not in _groups(bgp):
        return NO_GROUP
    return None


def _c_timers(d: IosDialect, m: Match) -> str | None:
    hold = int(m.caps["h"])
    if hold and hold < 3:
        return "% Hold time must be 0 or at least 3 seconds"                 # [guess]
    return None


def _c_prefix_list(d: IosDialect, m: Match) -> str | None:
    try:
        net = ipaddress.IPv4Network(m.caps["pfx"], strict=False)
    except ValueError:
        return INVALID
    ge = int(m.caps.get("ge") or 0)
    le = int(m.caps.get("le") or 0)
    if (ge and ge <= net.prefixlen) or (le and le < max(ge, net.prefixlen + 1) and
                                        not (le == net.prefixlen == 32)) or \
            (ge and le and ge > le):
        return (f"% Invalid prefix range for {net}, make sure: len < ge-value <= "
                "le-value")
    return None


# --------------------------------------------------------------------------- transforms
def _t_seq(d: IosDialect, m: Match) -> str:
    if "s" in m.caps:
        words = m.line.split()
        net = ipaddress.IPv4Network(m.caps["pfx"], strict=False)
        words[6] = str(net)                  # the device shows the network address [doc]
        return " ".join(words)
    used = [int(c.key[3].split()[1]) for c in d.view.node.children
            if c.key[:3] == ("ip", "prefix-list", m.caps["n"]) and c.key[3]
            and c.key[3].startswith("seq ")]
    seq = (max(used) // 5 + 1) * 5 if used else 5            # [doc] steps of 5
    words = m.line.split()
    net = ipaddress.IPv4Network(m.caps["pfx"], strict=False)
    rest = words[3:]
    rest[1] = str(net)
    return " ".join([*words[:3], "seq", str(seq), *rest])


def _t_af(d: IosDialect, m: Match) -> str:
    return "address-family ipv4"


def _t_password(d: IosDialect, m: Match) -> str:
    words = m.toks
    head = " ".join(words[:3])
    rest = words[3:]
    if rest[0] == "7" and len(rest) > 1:
        return f"{head} 7 {' '.join(rest[1:])}"
    if rest[0] == "0" and len(rest) > 1:
        rest = rest[1:]
    key = " ".join(rest)
    if d.encrypting():
        return f"{head} 7 {type7(key)}"
    return f"{head} {key}"


def _t_username(d: IosDialect, m: Match) -> str:
    words = m.toks
    i = words.index("secret") if "secret" in words else words.index("password")
    head, kind, rest = words[:i], words[i], words[i + 1:]
    if len(rest) > 1:
        return m.line
    if kind == "secret":
        return " ".join([*head, "secret 9", "$9$" + hashlib.sha256(
            os.urandom(8) + rest[0].encode()).hexdigest()[:40]])
    if d.encrypting():
        return " ".join([*head, "password 7", type7(rest[0])])
    return " ".join([*head, "password 0", rest[0]])


# --------------------------------------------------------------------------- grammar
S = Spec
NB = "neighbor <p:word>"
SPECS: dict[str, list[Spec]] = {
    CONF: [
        S("version <v:text>", key=(0,)),
        S("service password-encryption", key=(0, 1)),
        S("hostname <n:name:63>", key=(0,)),
        S("username <u:name:64> [ privilege <pr:int:0-15> ] { secret | password } "
          "[ <t:int:0-9> ] <s:word>", key=(0, 1), transform=_t_username),
        S("file prompt quiet", key=(0, 1)),
        S("ip scp server enable", key=(0, 1, 2)),
        S("ip ssh version <v:int:1-2>", key=(0, 1, 2)),
        S("ip domain name <d:name>", key=(0, 1, 2)),
        S("archive", key=(0,), view=ARCHIVE),
        S("interface <if:ifname>", key=(0, 1), view=IFACE),
        S("router bgp <asn:int:1-4294967295>", key=(0, 1), view=ROUTER),
        S("ip prefix-list <n:name> [ seq <s:int:1-4294967294> ] { permit | deny } <pfx:word> "
          "[ ge <ge:int:1-32> ] [ le <le:int:1-32> ]", key=(0, 1, 2, 3),
          check=_c_prefix_list, transform=_t_seq),
        S("ip prefix-list <n:name> description <t:text>", key=(0, 1, 2, 3)),
        S("line vty <a:int:0-98> <b:int:0-98>", key=(0, 1, 2, 3), view=LINE),
    ],
    ARCHIVE: [
        S("path <p:word>", key=(0,)),
        S("maximum <n:int:1-14>", key=(0,)),
        S("write-memory", key=(0,)),
        S("time-period <m:int:1-525600>", key=(0,)),
    ],
    IFACE: [
        S("description <t:text>", key=(0,)),
        S("ip address <ip:ip> <m:mask>", key=(0, 1)),
        S("shutdown", key=(0,)),
        S("no switchport", key=(0, 1)),
    ],
    LINE: [
        S("login local", key=(0,)),
        S("transport input { ssh | telnet | all | none }", key=(0, 1)),
        S("exec-timeout <m:int:0-35791> [ <s:int:0-2147483> ]", key=(0,)),
    ],
    ROUTER: [
        S("bgp router-id <ip:ip>", key=(0, 1)),
        S("bgp log-neighbor-changes", key=(0, 1)),
        S("no bgp default ipv4-unicast", key=(0, 1, 2, 3)),
        S("bgp cluster-id { <ip:ip> | <n:int:1-4294967295> }", key=(0, 1)),
        S("timers bgp <k:int:0-65535> <h:int:0-65535> [ <mh:int:0-65535> ]", key=(0, 1),
          check=_c_timers),
        S("bgp graceful-restart", key=(0, 1)),
        S("bgp graceful-restart restart-time <t:int:1-3600>", key=(0, 1, 2)),
        S("bgp graceful-restart stalepath-time <t:int:1-3600>", key=(0, 1, 2)),
        S("bgp bestpath as-path multipath-relax", key=(0, 1, 2, 3)),
        S("bgp listen limit <n:int:1-2000>", key=(0, 1, 2)),
        S("bgp listen range <r:word> peer-group <g:name>", key=(0, 1, 2, 3),
          check=_c_listen_range),
        S(f"{NB} peer-group [ <g:name> ]", key=(0, 1, 2), check=_c_peer_group),
        S(f"{NB} remote-as <asn:int:1-4294967295>", key=(0, 1, 2), check=_c_remote_as),
        S(f"{NB} description <t:text>", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} password [ {{ 0 | 7 }} ] <pw:text>", key=(0, 1, 2), check=_c_neighbor,
          transform=_t_password),
        S(f"{NB} bmp-activate {{ all | server <n:int:1-4095> }}", key=(0, 1, 2),
          check=_c_neighbor),
        S(f"{NB} ttl-security hops <h:int:1-254>", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} fall-over bfd [ {{ single-hop | multi-hop }} ]", key=(0, 1, 2, 3),
          check=_c_neighbor),                               # [2nd: Google Cloud BFD guide]
        S(f"{NB} update-source <if:ifname>", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} timers <k:int:0-65535> <h:int:0-65535>", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} shutdown", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} ebgp-multihop [ <n:int:1-255> ]", key=(0, 1, 2), check=_c_neighbor),
        S("bmp server <n:int:1-4095>", key=(0, 1, 2), view=BMP),
        S("address-family ipv4 [ unicast ]", key=(0, 1), view=AF, transform=_t_af),
    ],
    BMP: [
        S("address <ip:ip> port-number <port:int:1-65535>", key=(0,)),
        S("description <t:text>", key=(0,)),
        S("activate", key=(0,)),
        S("initial-delay <n:int:1-3600>", key=(0,)),
        S("failure-retry-delay <n:int:1-3600>", key=(0,)),
        S("flapping-delay <n:int:1-3600>", key=(0,)),
        S("stats-reporting-period <n:int:1-3600>", key=(0,)),
    ],
    AF: [
        S("aggregate-address <ip:ip> <m:mask> [ as-set ] [ summary-only ]", key=(0, 1, 2)),
        S("maximum-paths <n:int:1-32>", key=(0,)),
        S("maximum-paths ibgp <n:int:1-32>", key=(0, 1)),
        # [doc: "BGP Additional Paths", IOS-XE 16.7 configuration guide]
        S("bgp additional-paths select { all | best <n:int:2-3> | group-best }",
          key=(0, 1, 2)),
        S("bgp additional-paths { send [ receive ] | receive }", key=(0, 1)),
        S(f"{NB} advertise additional-paths {{ all | best <n:int:2-3> | group-best }}",
          key=(0, 1, 2, 3), check=_c_neighbor),
        S(f"{NB} additional-paths {{ send [ receive ] | receive | disable }}",
          key=(0, 1, 2), check=_c_neighbor),
        S("network <ip:ip> [ mask <m:mask> ]", key=(0, 1)),
        S(f"{NB} activate", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} route-reflector-client", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} default-originate", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} prefix-list <n:name> {{ in | out }}", key=(0, 1, 2, 4), check=_c_neighbor),
        # [doc: "BGP Neighbor Session Restart After the Max-Prefix Limit": restart minutes]
        S(f"{NB} maximum-prefix <n:int:1-2147483647> [ <th:int:1-100> ] [ {{ warning-only | "
          "restart <r:int:1-65535> } ]", key=(0, 1, 2), check=_c_neighbor),
        S(f"{NB} send-community [ {{ both | standard | extended }} ]", key=(0, 1, 2),
          check=_c_neighbor),
        S(f"{NB} soft-reconfiguration inbound", key=(0, 1, 2), check=_c_neighbor),
    ],
}


# --------------------------------------------------------------------------- actions
def _x_conf_t(d: IosDialect, m: Match) -> str:
    d.enter_system()
    return "Enter configuration commands, one per line.  End with CNTL/Z."


def _x_nothing(d: IosDialect, m: Match) -> str:
    return ""


def _x_exit(d: IosDialect, m: Match) -> str:
    d.up()
    return ""


def _x_end(d: IosDialect, m: Match) -> str:
    d.to_user()
    return ""


def _x_leave(view: str) -> Any:
    def run(d: IosDialect, m: Match) -> str:
        if d.view.name == view:
            d.stack.pop()
        return ""
    return run


def _x_bgp_default(d: IosDialect, m: Match) -> str:
    node = d.view.node.find(("no", "bgp", "default", "ipv4-unicast"))
    if node is not None:
        d.view.node.children.remove(node)
    return ""


def _x_show_run(d: IosDialect, m: Match) -> str:
    return d.device.show_running()


def _x_show_start(d: IosDialect, m: Match) -> str:
    return d.device.saved if d.device.saved else "startup-config is not present"


def _x_show_archive(d: IosDialect, m: Match) -> str:
    return d.device.show_archive()


def _x_show_timer(d: IosDialect, m: Match) -> str:
    return d.device.show_rollback_timer()


def _x_bgp_summary(d: IosDialect, m: Match) -> str:
    return d.device.bgp_summary(all_families="all" in m.toks)


def _x_bgp_neighbors(d: IosDialect, m: Match) -> str:
    at = 2 if m.toks[1] == "bgp" else 3             # `show bgp AFI SAFI`, `show ip bgp ...`
    afi, safi = m.toks[at:at + 2] if m.toks[at] != "neighbors" else ("ipv4", "unicast")
    if (afi, safi) != ("ipv4", "unicast"):
        return ""
    return d.device.bgp_neighbors(m.caps.get("a"))


def _x_show_version(d: IosDialect, m: Match) -> str:
    return d.device.show_version()


def _x_show_hosts(d: IosDialect, m: Match) -> str:
    return "\n".join(["Default domain is not set", "Name/address lookup uses domain service",
                      "Name servers are 255.255.255.255"])


def _x_show_ip_brief(d: IosDialect, m: Match) -> str:
    return d.device.ip_interface_brief()


def _x_write(d: IosDialect, m: Match) -> str:
    return d.device.write_memory()


def _x_dir(d: IosDialect, m: Match) -> str:
    return d.device.dir(m.caps.get("f"))


def _x_md5(d: IosDialect, m: Match) -> str:
    return d.device.md5(m.caps["f"])


def _x_more(d: IosDialect, m: Match) -> str:
    name = d.device.flash_name(m.caps["f"])
    if name is None or name not in d.device.files:
        return f"%Error opening {m.caps['f']} (No such file or directory)"
    return d.device.files[name].decode(errors="replace")


def _x_copy(d: IosDialect, m: Match) -> str:
    src, dst = m.caps["src"], m.caps["dst"]
    dev = d.device
    if src in ("running-config", "system:running-config") and \
            dst in ("startup-config", "nvram:startup-config"):
        return dev.write_memory()
    if dst in ("running-config", "system:running-config"):
        return dev.merge_file(d, src)
    name = dev.flash_name(dst)
    if name is None:
        return f"%Error opening {dst} (Invalid argument)"
    if src in ("running-config", "system:running-config"):
        data = dev.running_file().encode()
    elif src == "null:":
        data = b""
    else:
        sname = dev.flash_name(src)
        if sname is None or sname not in dev.files:
            return f"%Error opening {src} (No such file or directory)"
        data = dev.files[sname]

    def do(_: str = "") -> str:
        dev.write_file(name, data)
        return f"{len(data)} bytes copied in 0.052 secs ({int(len(data) / 0.052)} bytes/sec)"
    if dev.quiet():
        return do()
    d.question = (f"Destination filename [{name}]? ", do)
    return ""


def _x_delete(d: IosDialect, m: Match) -> str:
    dev = d.device
    name = dev.flash_name(m.caps["f"])
    if name is None or name not in dev.files:
        return f"%Error deleting {m.caps['f']} (No such file or directory)"

    def do(answer: str = "") -> str:
        if answer.strip().lower() in ("", "y", "yes"):
            with dev.lock:
                dev.files.pop(name, None)
        return ""
    if dev.quiet() or "/force" in m.toks:
        return do()
    d.question = (f"Delete flash:/{name}? [confirm]", do)
    return ""


def _x_replace(d: IosDialect, m: Match) -> str:
    dev = d.device
    trigger = "trigger" in m.toks
    on_error = trigger and "error" in m.toks
    minutes = m.caps.get("m") or m.caps.get("m2")
    timer = int(minutes) if minutes else None

    def do(answer: str = "Y") -> str:
        if not answer.strip().lower().startswith("y"):
            return ""
        return dev.configure_replace(m.caps["f"], on_error=on_error, timer=timer,
                                     user=d.user)
    if "force" in m.toks:
        return do()
    d.question = (CONFIRM_REPLACE, do)
    return ""


def _x_confirm(d: IosDialect, m: Match) -> str:
    return d.device.confirm()


def _x_revert_now(d: IosDialect, m: Match) -> str:
    return d.device.revert_now()


def _x_revert_timer(d: IosDialect, m: Match) -> str:
    return d.device.reset_timer(int(m.caps["m"]))


def _x_archive_config(d: IosDialect, m: Match) -> str:
    name = d.device.archive_running()
    return "" if name else "%Please turn config archive on"


EXEC_SPECS = [
    S("terminal length <n:int:0-512>", run=_x_nothing),
    S("terminal width <n:int:0-512>", run=_x_nothing),
    S("configure terminal", run=_x_conf_t),
    S("configure replace <f:word> [ list ] [ force ] [ ignorecase ] "
      "[ { revert trigger [ error ] [ timer <m:int:1-120> ] | time <m2:int:1-120> } ]",
      run=_x_replace),
    S("configure confirm", run=_x_confirm),
    S("configure revert now", run=_x_revert_now),
    S("configure revert timer <m:int:1-120>", run=_x_revert_timer),
    S("show running-config", run=_x_show_run),
    S("show startup-config", run=_x_show_start),
    S("show archive", run=_x_show_archive),
    S("show archive config rollback timer", run=_x_show_timer),
    S("show bgp all summary", run=_x_bgp_summary),
    S("show bgp ipv4 unicast summary", run=_x_bgp_summary),
    S("show ip bgp summary", run=_x_bgp_summary),
    S("show ip bgp all summary", run=_x_bgp_summary),
    S("show ip bgp ipv4 unicast neighbors [ <a:ip> ]", run=_x_bgp_neighbors),
    S("show version", run=_x_show_version),
    S("show hosts", run=_x_show_hosts),
    S("show ip interface brief", run=_x_show_ip_brief),
    S("show bgp { ipv4 | ipv6 | vpnv4 | vpnv6 } { unicast | multicast | mdt } [ all ] "
      "neighbors [ <a:ip> ]", run=_x_bgp_neighbors),
    S("show ip bgp neighbors [ <a:ip> ]", run=_x_bgp_neighbors),
    S("write [ memory ]", run=_x_write),
    S("dir [ <f:word> ]", run=_x_dir),
    S("verify /md5 <f:word>", run=_x_md5),
    S("copy <src:word> <dst:word>", run=_x_copy),
    S("more <f:word>", run=_x_more),
    S("delete [ /force ] <f:word>", run=_x_delete),
    S("archive config", run=_x_archive_config),
    S("exit", run=_x_exit),
    S("logout", run=_x_exit),
]
_EXEC_WORDS = sorted({w for s in EXEC_SPECS for w in s.pattern.split()
                      if re.fullmatch(r"[a-z][a-z-]*", w)})
_PIPE_WORDS = ("include", "exclude", "section", "begin")

CONFIG_ACTIONS = [S("exit", run=_x_exit), S("end", run=_x_end)]
ACTIONS: dict[str, list[Spec]] = {
    CONF: CONFIG_ACTIONS,
    IFACE: CONFIG_ACTIONS, ARCHIVE: CONFIG_ACTIONS, LINE: CONFIG_ACTIONS,
    ROUTER: [*CONFIG_ACTIONS, S("bgp default ipv4-unicast", run=_x_bgp_default)],
    AF: [*CONFIG_ACTIONS, S("exit-address-family", run=_x_leave(AF))],
    BMP: [*CONFIG_ACTIONS, S("exit-bmp-server-mode", run=_x_leave(BMP))],
}


_SHORT = {"conf": "configure", "t": "terminal", "term": "terminal", "sh": "show",
          "wr": "write", "mem": "memory", "run": "running-config", "len": "length"}


def _expand(toks: list[str]) -> list[str]:
    """EXEC abbreviations: the usual short forms, else a unique prefix of a keyword."""
    out = []
    for i, tok in enumerate(toks):
        if i < 4 and tok in _SHORT:
            tok = _SHORT[tok]
        elif i < 6 and re.fullmatch(r"[a-z-]+", tok) and tok not in _EXEC_WORDS:
            hits = [w for w in _EXEC_WORDS if w.startswith(tok)]
            if len(hits) == 1:
                tok = hits[0]
        out.append(tok)
    return out


def _pipe(text: str, how: str, pattern: str) -> str:
    how = next((w for w in _PIPE_WORDS if w.startswith(how)), how)
    try:
        rx = re.compile(pattern)
    except re.error:
        return INVALID
    lines = text.split("\n")
    if how == "include":
        return "\n".join(ln for ln in lines if rx.search(ln))
    if how == "exclude":
        return "\n".join(ln for ln in lines if not rx.search(ln))
    if how == "begin":
        for i, ln in enumerate(lines):
            if rx.search(ln):
                return "\n".join(lines[i:])
        return ""
    if how == "section":
        out: list[str] = []
        keep = False
        for ln in lines:
            if ln and not ln.startswith(" "):
                keep = bool(rx.search(ln))
            if keep and ln.strip() != "!":
                out.append(ln)
        return "\n".join(out)
    return INVALID


# --------------------------------------------------------------------------- dialect
class IosDialect(CliDialect):
    specs = SPECS
    user_view = EXEC
    system_view = CONF
    # IOS does not write defaults into the running config (NVGEN): GR restart 120 s,
    # stale path 360 s, listen limit 100, timers 60/180 [2nd: Cisco IOS BGP
    # configuration guides give these defaults].
    defaults = {ROUTER: frozenset({"bgp graceful-restart restart-time 120",
                                   "bgp graceful-restart stalepath-time 360",
                                   "bgp listen limit 100", "timers bgp 60 180"})}

    def __init__(self, device: IosDevice, root: Node | None = None, user: str = ""):
        super().__init__(device)
        self.root = device.root if root is None else root
        self.stack = [View(EXEC, self.root, {})]
        self.user = user or device.username

    def enter_system(self) -> None:
        self.stack = [self.stack[0], View(CONF, self.root, {})]

    def receive_file(self, path: str, data: bytes) -> str | None:
        return self.device.receive_file(path, data)

    def encrypting(self) -> bool:
        return self.root.find(("service", "password-encryption")) is not None

    def prompt_for(self, view: View) -> str:
        host = self.device.sysname
        return f"{host}#" if view.name == EXEC else f"{host}({view.name})#"

    def revalidate(self) -> None:
        if len(self.stack) >= 2:
            self.stack = self.descend(self.root, [self.stack[0],
                                                  View(CONF, self.root, {})])
        else:
            self.stack = [View(EXEC, self.root, {})]

    def error_text(self, kind: str) -> str:
        return INCOMPLETE if kind == "incomplete" else INVALID

    def failure_error(self, toks: list[str], line: str, f: Failure) -> CliError:
        if f.kind == "incomplete":
            return CliError(INCOMPLETE, None)
        return super().failure_error(toks, line, f)

    def execute(self, line: str) -> str:
        if self.question:
            _, answer = self.question
            self.question = None
            return answer(line.strip())
        if not line.strip():
            return ""
        with self.device.lock:
            self.revalidate()
            try:
                return self._execute(line, line.split()) or ""
            except CliError as err:
                return self.format_error(line, err)

    # ----- EXEC
    def _execute(self, line: str, toks: list[str]) -> str | None:
        if self.view.name == EXEC:
            return self._exec(line)
        return self.config_line(line)

    def _exec(self, line: str) -> str:
        cmd, _, pipe = line.partition("|")
        toks = _expand(cmd.split())
        m = Grammar.match(EXEC_SPECS, toks)
        if isinstance(m, Failure):
            raise self.failure_error(toks, " ".join(toks), m)
        assert m.spec.run is not None
        out = m.spec.run(self, m) or ""
        if pipe.strip():
            words = pipe.split(None, 1)
            if len(words) < 2:
                raise CliError(INCOMPLETE)
            out = _pipe(out, words[0], words[1].strip())
        return out

    # ----- configuration lines
    def config_line(self, line: str) -> str | None:
        """One config line in the current mode, else in an enclosing one (leaving the
        sub-modes); the error is the current mode's."""
        toks = line.split()
        first: CliError | None = None
        for depth in range(len(self.stack) - 1, 0, -1):
            view = self.stack[depth].name
            try:
                found, out = self._in_view(view, line, toks, depth)
            except CliError as err:
                if first is None:
                    first = err
                if err.message not in (INVALID, INCOMPLETE):
                    raise              # a semantic refusal of a command of this mode
                continue
            if found:
                return out
        raise first or CliError(INVALID, 0)

    def _in_view(self, view: str, line: str, toks: list[str], depth: int
                 ) -> tuple[bool, str | None]:
        specs = [*ACTIONS.get(view, []), *self.specs.get(view, [])]
        m = Grammar.match(specs, toks)
        if isinstance(m, Match):
            del self.stack[depth + 1:]
            if m.spec.run is not None:
                return True, m.spec.run(self, m)
            return True, self.apply(m)
        if toks[0] == "no" and len(toks) > 1:
            n = Grammar.match(self.specs.get(view, []), toks, offset=1)
            if isinstance(n, Match) or (n.kind == "incomplete" and n.pos == len(toks)):
                del self.stack[depth + 1:]
                self.remove(toks[1:], n if isinstance(n, Match) else None)
                return True, None
            raise self.failure_error(toks, line, n)
        raise self.failure_error(toks, line, m)

    def remove(self, words: list[str], m: Match | None) -> None:
        parent = self.view.node
        if m is not None and m.spec.check is not None and m.spec.check is not _c_prefix_list \
                and (msg := m.spec.check(self, m)) and msg in (NO_NEIGHBOR, NO_GROUP):
            raise CliError(msg)
        deletes = len(words) == 2 or words[2] == "remote-as" or \
            (words[2] == "peer-group" and len(words) == 3)
        if words[0] == "neighbor" and len(words) >= 2 and deletes and self.view.name == ROUTER:
            self._drop_neighbor(parent, words[1])
            return
        if m is not None:
            m = self.canonical(m) if m.spec.transform and m.spec.transform is not _t_seq \
                else m
            key = m.key()
            parent.children = [c for c in parent.children if c.key != key]
            return
        prefix = " ".join(words)
        parent.children = [c for c in parent.children
                           if c.text != prefix and not c.text.startswith(prefix + " ")]

    def _drop_neighbor(self, bgp: Node, peer: str) -> None:
        gone = {peer}
        if not _is_ip(peer):
            gone |= {c.key[1] for c in bgp.children if c.text.endswith(f" peer-group {peer}")}
            bgp.children = [c for c in bgp.children
                            if not (c.text.startswith("bgp listen range ") and
                                    c.text.endswith(f" peer-group {peer}"))]
        for node in [bgp, *(c for c in bgp.children if c.view == AF)]:
            node.children = [c for c in node.children
                             if not (c.key[:1] == ("neighbor",) and c.key[1] in gone)]

    def view_conflict_text(self, node: Node, m: Match) -> str:
        if node.text.startswith("router bgp "):
            return f"% BGP is already running; AS is {node.text.split()[2]}"
        return INVALID


# --------------------------------------------------------------------------- device
RANK = [("version", 0), ("service ", 1), ("hostname", 2), ("file prompt", 3),
        ("username", 5), ("archive", 6), ("interface", 10), ("router bgp", 20),
        ("ip scp", 30), ("ip ssh", 31), ("ip domain", 29), ("ip prefix-list", 40),
        ("line ", 90)]


def _rank(node: Node) -> int:
    return next((r for p, r in RANK if node.text.startswith(p)), 50)


class IosDevice(SimulatedDevice):
    """One switch: running config, startup config, the flash: file system, the
    archive and its rollback-confirmed-change timer, and BGP peer states. `minute`
    scales the timer's minute so a test can make one last well under a second."""

    def __init__(self, sysname: str = "Switch", minute: float = 60.0,
                 auto_establish: bool = True, username: str = "admin"):
        self.sysname = sysname
        self.minute = minute
        self.auto_establish = auto_establish
        self.username = username
        self.root = Node("")
        self.booted = time.time()
        self.root.children.append(Node(f"version {VERSION}", ("version",)))
        self.lock = threading.RLock()
        self.saved: str | None = None
        self.saves = 0
        self.rollbacks = 0
        self.replaces = 0
        self.files: dict[str, bytes] = {}
        self.mtimes: dict[str, float] = {}
        self.archives: list[str] = []
        self.changed_by = ""
        self.changed_at = time.time()
        self._timer: threading.Timer | None = None
        self._timer_info: tuple[float, int, str] | None = None     # (when, minutes, user)
        self._snapshot: Node | None = None
        self._snapshot_file = ""
        self.peers: dict[str, PeerState] = {}
        self.dynamic: dict[str, tuple[int, PeerState]] = {}
        self.notify: Any = None

    # ----- config
    def dialect(self) -> IosDialect:
        return IosDialect(self)

    def before_change(self) -> None:
        pass

    def after_change(self, dialect: IosDialect, m: Match) -> None:
        if dialect.root is self.root:
            if m.line.startswith("hostname "):
                self.sysname = m.line.split()[1]
            self.changed_at, self.changed_by = time.time(), dialect.user

    def after_negate(self, dialect: IosDialect, m: Match) -> None:
        pass

    def parse(self, text: str, root: Node | None = None, user: str = ""
              ) -> tuple[Node, list[tuple[str, str]]]:
        """Read a config text as typed in configuration mode (onto `root`, default a new
        tree); returns the tree and the refused lines with the device's message."""
        root = Node("") if root is None else root
        d = IosDialect(self, root, user)
        d.enter_system()
        errors: list[tuple[str, str]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("!"):
                continue
            if line == "end":
                break
            with self.lock:
                try:
                    d.config_line(line)
                except CliError as err:
                    errors.append((raw.rstrip(), err.message))
            if len(d.stack) < 2:          # an `exit` from configuration mode
                d.enter_system()
        return root, errors

    def load(self, text: str) -> None:
        """Put a config (in `show running-config` form) on the device: for fixtures."""
        with self.lock:
            _, errors = self.parse(text, self.root, "fixture")
            host = self.root.find(("hostname",))
            if host is not None:
                self.sysname = host.text.split()[1]
        if errors:
            raise ValueError(f"simulator refused: {errors}")

    def render(self, root: Node | None = None) -> str:
        root = self.root if root is None else root
        out: list[str] = []
        prev_rank = None
        for node in sorted(root.children, key=_rank):
            rank = _rank(node)
            if out and (node.view is not None or rank != prev_rank):
                out.append("!")
            prev_rank = rank
            out += self._render_node(node, 0)
        return "\n".join(out)

    def _render_node(self, node: Node, depth: int) -> list[str]:
        pad = " " * depth
        out = [pad + node.text]
        leaves = [c for c in node.children if c.view is None]
        views = [c for c in node.children if c.view is not None]
        for c in leaves:
            out.append(pad + " " + c.text)
        for c in views:
            if depth == 0 and node.view == ROUTER:
                out.append(pad + " !")
            out += self._render_node(c, depth + 1)
            if c.view == AF:
                out.append(pad + " exit-address-family")
            elif c.view == BMP:
                out.append(pad + " exit-bmp-server-mode")
        return out

    def running_file(self) -> str:
        """The config as `copy running-config FILE` writes it."""
        with self.lock:
            stamp = time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(self.changed_at))
            by = f" by {self.changed_by}" if self.changed_by else ""
            body = self.render()
            return (f"\n!\n! Last configuration change at {stamp}{by}\n!\n"
                    f"{body}\n!\nend\n")

    def show_running(self) -> str:
        text = self.running_file()
        return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes{text}"

    def running(self) -> str:
        return self.show_running()

    def write_memory(self) -> str:
        with self.lock:
            self.saved = self.running_file()
            self.saves += 1
            if self.auto_establish and self._timer is None:
                self._establish()
        return "Building configuration...\n[OK]"

    def save(self) -> str:
        return self.write_memory()

    def quiet(self) -> bool:
        return self.root.find(("file", "prompt")) is not None

    # ----- flash:
    @staticmethod
    def flash_name(path: str) -> str | None:
        m = re.fullmatch(r"(?:flash|bootflash):/?([^/\s]+)", path)
        return m.group(1) if m else None

    def write_file(self, name: str, data: bytes) -> None:
        with self.lock:
            self.files[name] = data
            self.mtimes[name] = time.time()

    def enter_system(self) -> None:
        self.stack = [self.stack[0], View(CONF, self.root, {})]

    def receive_file(self, path: str, data: bytes) -> str | None:
        """An SCP put (sshserver calls this)."""
        with self.lock:
            if self.root.find(("ip", "scp", "server")) is None:
                return "scp: Administratively disabled."                     # [guess]
            name = self.flash_name(path)
            if name is None:
                return f"scp: {path}: Invalid destination"                   # [guess]
            self.write_file(name, data)
        return None

    def _free(self) -> int:
        return FLASH_TOTAL - 1_048_576 - sum(len(v) for v in self.files.values())

    def _row(self, i: int, name: str) -> str:
        stamp = time.strftime("%b %d %Y %H:%M:%S +00:00", time.gmtime(self.mtimes[name]))
        return f"{i + 11:>6}  -rw-{len(self.files[name]):>12}  {stamp}  {name}"

    def dir(self, path: str | None) -> str:
        with self.lock:
            if path in (None, "flash:", "flash:/", "bootflash:", "bootflash:/"):
                rows = [self._row(i, n) for i, n in enumerate(sorted(self.files))]
                return "\n".join(["Directory of flash:/", "", *rows, "",
                                  f"{FLASH_TOTAL} bytes total ({self._free()} bytes free)"])
            name = self.flash_name(path or "")
            if name is None:
                return INVALID
            if name not in self.files:
                return f"%Error opening {path} (No such file or directory)"
            i = sorted(self.files).index(name)
            return "\n".join([f"Directory of {path}", "", self._row(i, name), "",
                              f"{FLASH_TOTAL} bytes total ({self._free()} bytes free)"])

    def md5(self, path: str) -> str:
        name = self.flash_name(path)
        with self.lock:
            if name is None or name not in self.files:
                return f"%Error opening {path} (No such file or directory)"
            digest = hashlib.md5(self.files[name], usedforsecurity=False).hexdigest()
        return f"..........MD5 of {path} Done!\nverify /md5 ({path}) = {digest}"

    # ----- archive
    def archive_path(self) -> str | None:
        arch = self.root.find(("archive",))
        if arch is None:
            return None
        path = arch.find(("path",))
        return path.text.split()[1] if path is not None else None

    def archive_running(self) -> str | None:
        path = self.archive_path()
        if path is None:
            return None
        stamp = time.strftime("%b-%d-%H-%M-%S", time.gmtime())
        name = f"{path}-{stamp}.{int(time.time() * 1000) % 1000:03d}-{len(self.archives)}"
        fname = self.flash_name(name)
        if fname is not None:
            self.write_file(fname, self.running_file().encode())
        self.archives.append(name)
        return name

    def show_archive(self) -> str:
        path = self.archive_path()
        if path is None:
            return "Archive feature not enabled"
        rows = [f"   {i + 1:<8} {n}" + (" <- Most Recent" if i == len(self.archives) - 1
                                         else "")
                for i, n in enumerate(self.archives)]
        return "\n".join(["The maximum archive configurations allowed is 10.",
                          f"There are currently {len(self.archives)} archive configurations "
                          "saved.",
                          f"The next archive file will be named {path}-<timestamp>-"
                          f"{len(self.archives)}",
                          " Archive #  Name", *rows])

    def show_rollback_timer(self) -> str:
        with self.lock:
            if self._timer_info is None:
                return "No Rollback Confirmed Change pending"
            when, minutes, user = self._timer_info
            stamp = time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(when))
            return (f"Time configured(or reset)  : {stamp}\n"
                    f"Timer type: Rollback timer\nTimer value: {minutes} min\nUser: {user}")

    # ----- configure replace and its timer
    def configure_replace(self, path: str, on_error: bool, timer: int | None,
                          user: str) -> str:
        with self.lock:
            name = self.flash_name(path)
            if name is None or name not in self.files:
                return f"%Error opening {path} (No such file or directory)"
            if self._timer is not None:
                return ("%Rollback Confirmed Change is pending: confirm or revert it "
                        "first. Configuration replace failed.")              # [guess]
            if (timer or on_error) and self.archive_path() is None:
                return "%Please turn config archive on"
            text = self.files[name].decode(errors="replace")
            new, errors = self.parse(text, user=user)
            if errors:
                listed = "\n".join(f"{line}\n{msg}" for line, msg in errors)
                if on_error:
                    return ("The following commands are failed to apply to the IOS image.\n"
                            f"********\n{listed}\n********\n"
                            "Reverting with the original configuration ...\n"
                            "The original configuration has been successfully restored.")
            if timer:
                self._snapshot = snapshot(self.root)
                self._snapshot_file = self.archive_running() or ""
                self._start_timer(timer, user)
            self.root.children = new.children
            host = self.root.find(("hostname",))
            if host is not None:
                self.sysname = host.text.split()[1]
            self.changed_at, self.changed_by = time.time(), user
            self.replaces += 1
            if self.auto_establish:
                self._establish()
            out = "Total number of passes: 1\nRollback Done"
            if errors:
                listed = "\n".join(f"{line}\n{msg}" for line, msg in errors)
                out = ("The following commands are failed to apply to the IOS image.\n"
                       f"********\n{listed}\n********\n{out}")
            return out

    def merge_file(self, d: IosDialect, path: str) -> str:
        name = self.flash_name(path)
        if name is None or name not in self.files:
            return f"%Error opening {path} (No such file or directory)"
        _, errors = self.parse(self.files[name].decode(errors="replace"), self.root, d.user)
        return "\n".join(f"{line}\n{msg}" for line, msg in errors) + \
            f"\n{len(self.files[name])} bytes copied in 0.101 secs"

    def _start_timer(self, minutes: int, user: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_info = (time.time(), minutes, user)
        self._timer = threading.Timer(minutes * self.minute, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def reset_timer(self, minutes: int) -> str:
        with self.lock:
            if self._timer is None:
                return "%No Rollback Confirmed Change pending"               # [guess]
            self._start_timer(minutes, self._timer_info[2] if self._timer_info else "")
        return ""

    def confirm(self) -> str:
        with self.lock:
            if self._timer is None:
                return "%No Rollback Confirmed Change pending"               # [guess]
            self._timer.cancel()
            self._timer, self._timer_info, self._snapshot = None, None, None
            if self.auto_establish:
                self._establish()
        return ""

    def _restore(self) -> None:
        if self._snapshot is not None:
            self.root.children = self._snapshot.children
            host = self.root.find(("hostname",))
            if host is not None:
                self.sysname = host.text.split()[1]
        self._snapshot = None
        self._timer, self._timer_info = None, None
        self.rollbacks += 1
        self.changed_at = time.time()

    def revert_now(self) -> str:
        with self.lock:
            if self._timer is None:
                return "%No Rollback Confirmed Change pending"               # [guess]
            self._timer.cancel()
            self._restore()
        return "Total number of passes: 1\nRollback Done"

    def _expire(self) -> None:
        with self.lock:
            if self._timer is None:
                return
            target = self._snapshot_file
            self._restore()
        if self.notify is not None:
            stamp = time.strftime("%b %d %H:%M:%S.000", time.gmtime())
            self.notify(f"*{stamp}: %ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_START: "
                        f"Start rolling to: {target}\n"
                        f"*{stamp}: %ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_DONE: "
                        "Rollback to the archived configuration done")

    # ----- BGP state
    def _bgp(self) -> Node | None:
        return next((c for c in self.root.children if c.key[:2] == ("router", "bgp")), None)

    def static_peers(self) -> list[tuple[str, int]]:
        bgp = self._bgp()
        if bgp is None:
            return []
        out = []
        for c in bgp.children:
            w = c.text.split()
            if w[0] != "neighbor" or not _is_ip(w[1]):
                continue
            if w[2] == "remote-as":
                out.append((w[1], int(w[3])))
            elif w[2] == "peer-group" and len(w) == 4:
                out.append((w[1], self._group_as(bgp, w[3])))
        return out

    def _group_as(self, bgp: Node, group: str) -> int:
        node = bgp.find(("neighbor", group, "remote-as"))
        return int(node.text.split()[-1]) if node is not None else 0

    def _rows(self) -> list[tuple[str, int, PeerState, bool, str]]:
        bgp = self._bgp()
        assert bgp is not None
        rows = [(a, asn, self.peers.get(a, PeerState("Idle")), False, "")
                for a, asn in self.static_peers()]
        ranges = []
        for c in bgp.children:
            w = c.text.split()
            if w[:3] == ["bgp", "listen", "range"]:
                ranges.append((ipaddress.IPv4Network(w[3]), w[5]))
        for addr, (asn, st) in self.dynamic.items():
            for net, group in ranges:
                if ipaddress.IPv4Address(addr) in net:
                    rows.append((addr, asn or self._group_as(bgp, group), st, True, group))
                    break
        return rows

    @staticmethod
    def _updown(st: PeerState) -> str:
        if not st.since:
            return "never"
        s = int(time.time() - st.since)
        if s < 86400:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
        if s < 7 * 86400:
            return f"{s // 86400}d{s % 86400 // 3600}h"
        return f"{s // 604800}w{s % 604800 // 86400}d"

    def _ident(self) -> tuple[str, int]:
        bgp = self._bgp()
        assert bgp is not None
        rid = bgp.find(("bgp", "router-id"))
        return (rid.text.split()[2] if rid is not None else "0.0.0.0",
                int(bgp.text.split()[2]))

    MODEL = "C9300-48P"
    SERIAL = "FCW2233A0B1"

    def show_version(self) -> str:
        """`show version` of a Catalyst 9300 on IOS-XE 17 [2nd: ntc-templates
        tests/cisco_ios/show_version fixtures; the lines NAPALM's get_facts reads]."""
        w, d, h, mi, _ = self.uptime_parts()
        up = f"{w} weeks, {d} days, {h} hours, {mi} minutes"
        return "\n".join([
            "Cisco IOS XE Software, Version 17.03.04a",
            "Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), "
            "Version 17.3.4a, RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
            "Compiled Tue 20-Jul-21 04:59 by mcpre", "",
            "ROM: IOS-XE ROMMON", "BOOTLDR: System Bootstrap, Version 17.3.2r, RELEASE "
            "SOFTWARE (P)", "", f"{self.sysname} uptime is {up}",
            f"Uptime for this control processor is {up}",
            "System returned to ROM by Reload Command",
            'System image file is "flash:packages.conf"',
            "Last reload reason: Reload Command", "",
            f"cisco {self.MODEL} (X86) processor with 1338934K/6147K bytes of memory.",
            f"Processor board ID {self.SERIAL}",
            "2048K bytes of non-volatile configuration memory.", "",
            "Configuration register is 0x102"])

    def ip_interface_brief(self) -> str:
        """`show ip interface brief` [2nd: ntc-templates
        tests/cisco_ios/show_ip_interface_brief fixtures]."""
        out = ["Interface              IP-Address      OK? Method Status                "
               "Protocol"]
        for name, addr, _descr in self.interfaces():
            out.append(f"{name:<22} {addr or 'unassigned':<15} YES NVRAM  up"
                       f"{'':20}up")
        return "\n".join(out)

    def bgp_summary(self, all_families: bool = False) -> str:
        with self.lock:
            if self._bgp() is None:
                return "% BGP not active"
            rid, local = self._ident()
            rows = self._rows()
            out = ["For address family: IPv4 Unicast"] if all_families else []
            out += [f"BGP router identifier {rid}, local AS number {local}",
                    "BGP table version is 1, main routing table version 1", "",
                    "Neighbor        V           AS MsgRcvd MsgSent   TblVer  InQ OutQ "
                    "Up/Down  State/PfxRcd"]
            for addr, asn, st, dyn, _g in rows:
                name = ("*" if dyn else "") + addr
                up = st.state == "Established"
                msgs = st.msgs or (int(time.time() - st.since) // 10 + 3 if st.since else 0)
                last = str(st.prefixes) if up else st.state
                out.append(f"{name:<15} 4 {asn:>10} {msgs:>7} {msgs + 1:>7} {1:>8} {0:>4} "
                           f"{0:>4} {self._updown(st):<8} {last:>8}"
                           if up else
                           f"{name:<15} 4 {asn:>10} {msgs:>7} {msgs:>7} {1:>8} {0:>4} "
                           f"{0:>4} {self._updown(st):<8} {last}")
            dyn = [r for r in rows if r[3]]
            if dyn:
                out += ["* Dynamically created based on a listen range command",
                        f"Dynamically created neighbors: {len(dyn)}, Subnet ranges: "
                        f"{len({r[4] for r in dyn})}"]
            return "\n".join(out)

    def bgp_neighbors(self, only: str | None = None) -> str:
        with self.lock:
            if self._bgp() is None:
                return "% BGP not active"
            bgp = self._bgp()
            assert bgp is not None
            _rid, local = self._ident()
            gr_local = bgp.find(("bgp", "graceful-restart")) is not None
            out: list[str] = []
            for addr, asn, st, dyn, group in self._rows():
                if only and addr != only:
                    continue
                up = st.state == "Established"
                link = "internal" if asn == local else "external"
                out.append(f"BGP neighbor is {'*' if dyn else ''}{addr},  remote AS {asn}, "
                           f"{link} link")
                descr = bgp.find(("neighbor", addr, "description"))
                if descr is not None:
                    out.append(f" Description: {descr.text.split(' description ', 1)[1]}")
                if group:
                    out += [f" Member of peer-group {group} for session parameters",
                            f"  Belongs to the subnet range group: "
                            f"{self._range_of(bgp, group)}"]
                state = f"Established, up for {self._updown(st)}" if up else \
                    f"{st.state}, down for {self._updown(st)}"
                out += [f"  BGP version 4, remote router ID {st.remote_id if up else '0.0.0.0'}",
                        f"  BGP state = {state}",
                        "  Last read 00:00:05, last write 00:00:05, hold time is 30, "
                        "keepalive interval is 10 seconds"]
                if up:
                    how = " and ".join(w for w, on in (("advertised", gr_local),
                                                       ("received", st.gr)) if on)
                    out += ["  Neighbor sessions:",
                            "    1 active, is not multisession capable (disabled)",
                            "  Neighbor capabilities:",
                            "    Route refresh: advertised and received(new)",
                            "    Four-octets ASN Capability: advertised and received",
                            "    Address family IPv4 Unicast: advertised and received"]
                    if how:
                        out.append(f"    Graceful Restart Capability: {how}")
                    out.append("    Enhanced Refresh Capability: advertised and received")
                msgs = st.msgs or (int(time.time() - st.since) // 10 + 3 if st.since else 0)
                out += ["  Message statistics:", "    InQ depth is 0", "    OutQ depth is 0",
                        "", "                         Sent       Rcvd",
                        f"    Opens:             {int(up):>6} {int(up):>10}",
                        "    Notifications:          0          0",
                        f"    Updates:           {int(up):>6} {int(up):>10}",
                        f"    Keepalives:        {msgs:>6} {msgs:>10}",
                        "    Route Refresh:          0          0",
                        f"    Total:             {msgs + 2 * up:>6} {msgs + 2 * up:>10}",
                        "  Default minimum time between advertisement runs is 0 seconds"]
                pfx, sent = (st.prefixes, st.sent) if up else (0, 0)
                out += ["", " For address family: IPv4 Unicast",
                        f"  Session: {addr}",
                        "  BGP table version 1, neighbor version 1/0",
                        "  Output queue size : 0",
                        "                                 Sent       Rcvd",
                        "  Prefix activity:               ----       ----",
                        f"    Prefixes Current:      {sent:>10} {pfx:>10} "
                        f"(Consumes {pfx * 80} bytes)",
                        f"    Prefixes Total:        {sent:>10} {pfx:>10}",
                        "    Implicit Withdraw:              0          0",
                        "    Explicit Withdraw:              0          0",
                        f"    Used as bestpath:             n/a {pfx:>10}",
                        "    Used as multipath:            n/a          0",
                        "    Used as secondary:            n/a          0",
                        "",
                        "                                   Outbound    Inbound",
                        "  Local Policy Denied Prefixes:    --------    -------",
                        "    Total:                                0          0",
                        "",
                        f"  Connections established {int(up)}; dropped 0",
                        "  Last reset never"]
                out += ["Connection state is ESTAB, I/O status: 1, unread input bytes: 0"
                        if up else "  No active TCP connection", ""]
            return "\n".join(out)

    @staticmethod
    def _range_of(bgp: Node, group: str) -> str:
        for c in bgp.children:
            w = c.text.split()
            if w[:3] == ["bgp", "listen", "range"] and w[5] == group:
                return w[3]
        return ""

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            super().shutdown()
        self._timer_info = None


class IosSimulator(SimulatedSwitch):
    """A simulated IOS-XE switch and its SSH server: `sim.start()`, `sim.device`,
    `sim.port`, `sim.known_hosts_line()`, `sim.stop()`."""

    device: IosDevice

    def __init__(self, sysname: str = "sim-ios", username: str = "admin",
                 password: str = "admin", minute: float = 60.0, config: str | None = None,
                 auto_establish: bool = True):
        device = IosDevice(sysname, minute=minute, auto_establish=auto_establish,
                           username=username)
        if config:
            device.load(config)
        super().__init__(device, username, password)
