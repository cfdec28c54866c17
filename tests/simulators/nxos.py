"""Cisco NX-OS dialect for the SSH simulator (TEST-ONLY).

Tags as in `docs/vendor-syntax.md` and `comware.py`: [doc] a vendor
document, [2nd] secondary material (netmiko/NAPALM source, published captures and
configs), [guess] made up here to be plausible; a [guess] is what a real switch should
check first.

* Login: the NX-OS copyright banner, then `switch# ` (hostname, `#`, a space) [2nd:
  published sessions; netmiko `cisco_nxos` reads up to `[>#]`]. netmiko sends
  `terminal width 511` and `terminal length 0` [2nd: netmiko source]; they print
  nothing here [2nd]. `terminal dont-ask` / `no terminal dont-ask` switch the
  confirmation questions off/on for the session [doc; NAPALM wraps its checkpoint,
  delete and rollback commands in them].
* `configure terminal` prints "Enter configuration commands, one per line. End with
  CNTL/Z." [2nd] and the prompt becomes `switch(config)# ` [doc]. Views and prompts:
  `interface X` → `(config-if)` [doc]; `router bgp N` → `(config-router)` [doc];
  `address-family ipv4 unicast` under it → `(config-router-af)` [doc]; `neighbor X`
  → `(config-router-neighbor)` [doc]; its address family →
  `(config-router-neighbor-af)` [doc]; `template peer T` → `(config-router-ptmp)`
  [2nd]; the template's address family `(config-router-ptmp-af)` [guess]; `bmp-server
  N` → `(config-router-bmp)` [guess]. `exit` goes up one view (in exec mode it logs
  out), `end` back to exec mode [doc]. Show commands work in every mode [doc].
* Errors: a `^` under the offending word (column counted from the start of the
  prompt), then `% Invalid command at '^' marker.`, or `% Incomplete command at '^'
  marker.` when the line stops early [2nd: published sessions]. NX-OS also says
  `% Invalid number`/`% Invalid ip address ...` for a bad parameter; this simulator
  says `Invalid command` for every wrong word [guess]. A rejected line changes nothing
  [doc]. `router bgp` before `feature bgp` is an invalid command [2nd: the BGP commands
  exist only once the feature is on]; `no feature bgp` removes the BGP config with it
  [doc]. A second `router bgp` with another AS is refused (wording [guess]);
  `maximum-peers` under a neighbor that is not a prefix is refused (wording [guess]).
* `no <line>`: the short forms (`no neighbor X` deletes the neighbor with all its
  settings [doc]; `no template peer T`, `no remote-as`, `no password`, `no timers`,
  `no maximum-prefix`, `no prefix-list N in`, `no ip prefix-list N [seq S]`, `no
  bmp-server N`, `no feature bgp`, `no router bgp N` [doc]) and `no <the whole
  configured line>` [doc for most commands; exact matching rules guess].
* Keys: `password 0 K` (or `password K`) is stored and shown as `password 3 <cipher>`
  [doc: NX-OS shows BGP neighbor keys as type 3 (3DES)]; the cipher here is a salted
  reversible hex encoding, not 3DES [guess], so the same key gives a different cipher
  each time. `password 3 C` is kept as typed. `username U password P` shows
  `password 5 $5$...` [2nd]; the hash here is a stand-in [guess].
* `show running-config`: `!Command: show running-config`, `!Running configuration
  last done at: ...`, `!Time: ...`, a blank line, `version 9.3(10) Bios:version
  05.47` [2nd: published configs; NAPALM filters the `!Command`/`!Time` lines], two
  spaces of indentation per level [doc]; a blank line before every multi-line section
  [2nd]. Section order (hostname, feature, username, ip prefix-list, interface, router
  bgp) [2nd for the rough order; exact order guess]; lines inside a view as entered,
  one-line settings before sub-views [guess: the device sorts by its own rules].
  Default-valued lines (`graceful-restart`, GR timers 120/300, timers 60/180) are not
  shown, as NX-OS hides defaults outside `show running-config all` [2nd].
  `show startup-config` [doc] with `!Startup config saved at:` [2nd].
* bootflash: (`bootflash:F`, `bootflash:/F`, `bootflash:///F` and a bare `F` name the
  same file [2nd]). `dir [bootflash:[F]]`: size, date, name per file, then `Usage for
  bootflash://sup-local` and the `bytes used/free/total` lines [2nd: NAPALM and netmiko
  parse them]; a missing file says `No such file or directory` [2nd: netmiko checks
  that string]. `show file bootflash:F` prints the file [doc]; `... md5sum` only the
  hex digest [2nd: netmiko compares it to the local MD5]. `delete bootflash:F` asks
  `Do you want to delete "/F" ? (yes/no/abort)   [y] ` unless `terminal dont-ask`
  [2nd]. SCP puts (`scp -t bootflash:/F`, netmiko's FileTransfer) land in bootflash:
  [doc: the SCP server needs `feature scp-server` on a real switch; not modelled].
* `checkpoint file F` writes the running config to F and prints `Done` [2nd].
  `rollback running-config file F` (atomic, the default [doc]) replaces the running
  config with F's; it prints the progress lines and `Rollback completed
  successfully.` [2nd: NAPALM checks "completed"], or, if a line of F is refused, the
  refused line as `Syntax error while parsing 'LINE'` [guess] and `Rollback failed.`
  [2nd: NAPALM checks that string], the running config unchanged [doc: atomic]. A
  rollback while a configure-replace commit timer runs ends that timer (the running
  config has been replaced anyway) [guess].
* `configure replace bootflash:F [commit-timeout S]` [doc: Cisco Nexus 9000 NX-OS
  System Management Configuration Guide 9.3(x)/10.x, "Performing Configuration
  Replace": replaces the whole running config with F; if it fails the original is
  restored; with a commit timeout (30–3600 s [doc: Nexus 7000 guide 8.x; same range on
  9000]) the switch rolls back unless `configure replace commit` comes in time].
  The real switch computes a patch and verifies it; here every line of F is applied
  to an empty config, checked by the same grammar as typed lines, and any refusal
  restores the original [guess: same outcome for a valid file]. Output wording
  (`Configure replace completed successfully...`, `Configure replace failed...`, the
  timer notice) is a [guess]; `show config-replace log exec` lists the commands run
  and `Syntax error while parsing 'LINE'` for the refused one [guess wording].
  `show config-replace status` [doc: the command exists]; its layout and the `Commit
  Status:` line (`Commit pending, N seconds left` / `Committed` / `Rolled back, commit
  timeout expired`) are a [guess]. A second `configure replace` while a commit is
  pending is refused [guess]. `configure replace commit` with nothing pending is
  refused [guess wording]. On expiry the switch restores the config from before the
  replace and logs a line [doc for the rollback; log wording guess].
* `copy running-config startup-config`: a progress bar, then `Copy complete.` [2nd:
  NAPALM checks "complete"].
* `show bgp all summary vrf all` / `show bgp ipv4 unicast summary` / `show ip bgp
  summary`: `BGP summary information for VRF default, address family IPv4 Unicast`,
  `BGP router identifier R, local AS number N`, the table with columns Neighbor V AS
  MsgRcvd MsgSent TblVer InQ OutQ Up/Down State/PfxRcd [2nd: NAPALM nxos_ssh's parser
  and its test captures]; Up/Down `hh:mm:ss` under a day, then `1d11h`, `8w5d` [2nd].
  Dynamic peers of a prefix neighbor appear as plain rows; the prefix neighbor itself
  does not [guess]. Without `feature bgp` these commands are invalid [2nd]; with the
  feature on but no `router bgp` they print nothing [guess].
* `show bgp ipv4 unicast neighbors [A]`: a block per peer, `BGP neighbor is A, remote
  AS N, ibgp|ebgp link, Peer index I`, `BGP state = Established, up for T`, the
  capability lines including `Graceful Restart capability: advertised received` [2nd:
  published captures]. GR is shown advertised unless `no graceful-restart` is
  configured (on by default [2nd]) and received when the peer sends it.
* `show diff rollback-patch file A file B`: `#Generating Rollback Patch` then the
  commands that would turn A into B (removals as `no ...`), or `Rollback Patch is
  Empty` [2nd: NAPALM parses that framing]; the patch is a plain line diff [guess].
* Getter displays (what nxos_ssh's get_facts and this driver's getters read): `show
  version` [2nd: ntc-templates tests/cisco_nxos/show_version/cisco_nxos_show_version1.raw,
  with NX-OS 9's `NXOS: version` line], `show hosts`, `show hostname`, `show interface
  status` [2nd: ntc-templates tests/cisco_nxos/show_interface_status], `show inventory`
  (`NAME: "Chassis"` / `PID: ... SN: ...`) [2nd]; `show inventory | json` is refused
  (nxos_ssh then reads the text form). `show ip bgp neighbors`: the layout of ntc-
  templates tests/cisco_nxos/show_ip_bgp_neighbors/
  cisco_nxos_show_ip_bgp_neighbors_short_uptime.raw (Message statistics, `For address
  family`, `N accepted paths consume M bytes of memory`, `N sent paths`; `No
  established BGP session with peer` when down), which the cisco_nxos template parses.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import os
import threading
import time
from typing import Any

from .configtree import CliDialect, CliError, Match, Node, Spec, Syntax, View, snapshot
from .devicebase import PeerState, SimulatedDevice
from .sshserver import SimulatedSwitch

BANNER = (
    "\r\n"
    "Cisco Nexus Operating System (NX-OS) Software\r\n"
    "TAC support: http://www.cisco.com/tac\r\n"
    "Copyright (C) 2002-2023, Cisco and/or its affiliates.\r\n"
    "All rights reserved.\r\n"
    "The copyrights to certain works contained in this software are\r\n"
    "owned by other third parties and used and distributed under their own\r\n"
    "licenses, such as open source.\r\n"
    "\r\n"
)
VERSION = "version 9.3(10) Bios:version 05.47"

ERRORS = {
    "unrecognized": "% Invalid command at '^' marker.",
    "wrong": "% Invalid command at '^' marker.",
    "toomany": "% Invalid command at '^' marker.",
    "incomplete": "% Incomplete command at '^' marker.",
}
NO_FILE = "No such file or directory"

EXEC, CONF, IFACE, RTR, RAF, NBR, NAF, TPL, TAF, BMP, RMAP = (
    "exec", "config", "config-if", "config-router", "config-router-af",
    "config-router-neighbor", "config-router-neighbor-af", "config-router-ptmp",
    "config-router-ptmp-af", "config-router-bmp", "config-route-map")
FEATURES = ("bgp", "lldp", "ssh", "interface-vlan", "lacp", "bfd", "scp-server", "nxapi",
            "ospf", "vpc", "telnet")


# --------------------------------------------------------------------------- secrets
def encrypt(plain: str) -> str:
    """The stand-in for NX-OS's type-3 cipher: salted, reversible [guess]."""
    return (os.urandom(4) + plain.encode()).hex()


def decrypt(cipher: str) -> str | None:
    try:
        return bytes.fromhex(cipher)[4:].decode()
    except ValueError:
        return None


def _is_prefix(tok: str, host_bits: bool = False) -> bool:
    if "/" not in tok:
        return False
    try:
        ipaddress.IPv4Network(tok, strict=not host_bits)
    except ValueError:
        return False
    return tok.split("/")[0].count(".") == 3


def _is_addr(tok: str) -> bool:
    try:
        ipaddress.IPv4Address(tok)
    except ValueError:
        return False
    return tok.count(".") == 3


# --------------------------------------------------------------------------- checks
def _c_prefix(arg: str, host_bits: bool = False):
    def check(d: NxosDialect, m: Match) -> str | None:
        return None if _is_prefix(m.caps[arg], host_bits) else ERRORS["wrong"]
    return check


def _c_neighbor(d: NxosDialect, m: Match) -> str | None:
    a = m.caps["a"]
    return None if _is_addr(a) or _is_prefix(a) else ERRORS["wrong"]


def _c_router(d: NxosDialect, m: Match) -> str | None:
    if d.device.root.find(("feature", "bgp")) is None:
        return ERRORS["unrecognized"]
    node = d.device.root.find(("router", "bgp"))
    if node is not None and node.text != m.line:
        return (f"% BGP is already running; AS is {node.text.split()[2]}")   # [guess]
    return None


def _c_bfd(d: NxosDialect, m: Match) -> str | None:
    """BFD commands exist only once `feature bfd` is on [doc: tech note 221944]."""
    return None if d.device.root.find(("feature", "bfd")) is not None else ERRORS["unrecognized"]


def _c_max_peers(d: NxosDialect, m: Match) -> str | None:
    if "/" not in d.view.caps.get("a", ""):
        return "% maximum-peers is allowed only for prefix peers"           # [guess]
    return None


def _c_undo_router(d: NxosDialect, m: Match) -> str | None:
    node = d.device.root.find(("router", "bgp"))
    if node is not None and node.text != f"router bgp {m.caps['asn']}":
        return ERRORS["wrong"]
    return None


# --------------------------------------------------------------------------- transforms
def _t_prefix_list(d: NxosDialect, m: Match) -> str:
    if "seq" in m.toks:
        return m.line
    used = [int(c.key[3].split()[1]) for c in d.view.node.children
            if c.key[:3] == ("ip", "prefix-list", m.caps["n"]) and c.key[3]]
    seq = max(used, default=0) + 5                                 # [2nd] steps of 5
    words = m.line.split()
    return " ".join([*words[:3], "seq", str(seq), *words[3:]])


def _t_password(d: NxosDialect, m: Match) -> str:
    kind = m.caps.get("k", "0")
    pw = m.caps["pw"]
    if kind == "3":
        return f"password 3 {pw}"
    if kind == "7":
        return f"password 7 {pw}"
    return f"password 3 {encrypt(pw)}"


def _t_username(d: NxosDialect, m: Match) -> str:
    pw = m.caps["pw"]
    if m.caps.get("k") != "5":
        pw = "$5$" + hashlib.sha256(pw.encode()).hexdigest()[:43]       # [guess]
    role = f" role {m.caps['r']}" if "r" in m.caps else ""
    return f"username {m.caps['u']} password 5 {pw}{role}"


# --------------------------------------------------------------------------- grammar
S = Spec
SESSION = [
    S("remote-as <asn:int:1-4294967295>", key=(0,)),
    S("description <t:text>", key=(0,)),
    S("password [ <k:int:0-7> ] <pw:word>", key=(0,), transform=_t_password),
    S("timers <k:int:0-3600> <h:int:0-3600>", key=(0,)),
    S("bmp-activate-server <n:int:1-2>", key=(0, 1)),
    S("update-source <if:ifname>", key=(0,)),
    S("ebgp-multihop <n:int:2-255>", key=(0,)),
    S("ttl-security hops <h:int:1-254>", key=(0, 1)),     # [2nd: Batfish CiscoNxos_bgp.g4]
    S("bfd", key=(0,), check=_c_bfd),
    S("shutdown", key=(0,)),
]
PEER_AF = [
    S("route-reflector-client", key=(0,)),
    S("default-originate", key=(0,)),
    S("next-hop-self", key=(0,)),
    S("send-community [ extended ]", key=(0, 1)),
    S("soft-reconfiguration inbound", key=(0, 1)),
    S("prefix-list <n:name> { in | out }", key=(0, 2)),
    # [2nd: Ansible nxos_bgp_neighbor_af `capability.additional_paths`]
    S("capability additional-paths { send | receive } [ disable ]", key=(0, 1, 2)),
    # [doc: Nexus 3548 command reference, `maximum-prefix maximum [threshold] [restart
    # restart-interval] [warning-only]`]
    S("maximum-prefix <n:int:1-300000> [ <th:int:1-100> ] [ { restart <r:int:1-65535> | "
      "warning-only } ]", key=(0,)),
]
SPECS: dict[str, list[Spec]] = {
    CONF: [
        S("hostname <n:name:63>", key=(0,)),
        S("feature { " + " | ".join(FEATURES) + " }", key=(0, 1)),
        S("username <u:name:28> password [ <k:int:0-5> ] <pw:word> [ role <r:name> ]",
          key=(0, 1), transform=_t_username),
        S("ip prefix-list <n:name> [ seq <s:int:1-4294967294> ] { permit | deny } <p:word> "
          "[ ge <ge:masklen> ] [ le <le:masklen> ]", key=(0, 1, 2, 3),
          transform=_t_prefix_list, check=_c_prefix("p")),
        S("interface <if:ifname>", key=(0, 1), view=IFACE),
        # [doc: Cisco tech note 221944, global BFD timers: ms 50-999, multiplier 1-50]
        S("bfd interval <t:int:50-999> min_rx <r:int:50-999> multiplier <m:int:1-50>",
          key=(0, 1), check=_c_bfd),
        S("route-map <n:name:63> { permit | deny } <s:int:0-65535>", key=(0, 1, 3),
          view=RMAP),
        S("router bgp <asn:int:1-4294967295>", key=(0, 1), view=RTR, check=_c_router),
    ],
    RMAP: [S("set path-selection all advertise", key=(0, 1))],    # [2nd: nxos_route_maps]
    IFACE: [
        S("description <t:text>", key=(0,)),
        S("ip address <p:word>", key=(0, 1), check=_c_prefix("p", host_bits=True)),
        S("mtu <n:int:576-9216>", key=(0,)),
        S("shutdown", key=(0,)),
    ],
    RTR: [
        S("router-id <ip:ip>", key=(0,)),
        S("cluster-id { <ip:ip> | <n:int:1-4294967295> }", key=(0,)),
        S("timers bgp <k:int:0-3600> <h:int:0-3600>", key=(0, 1)),
        S("graceful-restart", key=(0,)),
        S("graceful-restart restart-time <t:int:1-3600>", key=(0, 1)),
        S("graceful-restart stalepath-time <t:int:1-3600>", key=(0, 1)),
        S("bestpath as-path multipath-relax", key=(0, 1, 2)),
        S("log-neighbor-changes", key=(0,)),
        S("bmp-server <n:int:1-2>", key=(0, 1), view=BMP),
        S("address-family ipv4 unicast", key=(0, 1, 2), view=RAF),
        S("template peer <t:name:63>", key=(0, 1, 2), view=TPL),
        S("neighbor <a:word>", key=(0, 1), view=NBR, check=_c_neighbor),
    ],
    RAF: [
        S("aggregate-address <p:word> [ summary-only ]", key=(0, 1), check=_c_prefix("p")),
        S("network <p:word>", key=(0, 1), check=_c_prefix("p")),
        S("maximum-paths ibgp <n:int:1-64>", key=(0, 1)),
        S("maximum-paths <n:int:1-64>", key=(0,)),
        # [2nd: Ansible nxos_bgp_af `additional_paths`]
        S("additional-paths { send | receive }", key=(0, 1)),
        S("additional-paths selection route-map <n:name:63>", key=(0, 1)),
    ],
    BMP: [
        S("address <ip:ip> port-number <port:int:1-65535>", key=(0,)),
        S("description <t:text>", key=(0,)),
    ],
    TPL: [*SESSION, S("address-family ipv4 unicast", key=(0, 1, 2), view=TAF)],
    NBR: [*SESSION,
          S("inherit peer <t:name:63>", key=(0, 1)),
          S("maximum-peers <n:int:1-1000>", key=(0,), check=_c_max_peers),
          S("address-family ipv4 unicast", key=(0, 1, 2), view=NAF)],
    NAF: PEER_AF,
    TAF: PEER_AF,
}


def _no_feature(d: NxosDialect, m: Match) -> str | None:
    """`no feature bgp` takes the BGP config with it [doc]."""
    d.device.before_change()
    feature = m.toks[-1]
    root = d.device.root
    root.children = [c for c in root.children if c.key != ("feature", feature)
                     and not (feature == "bgp" and c.key == ("router", "bgp"))]
    return None


def _no_graceful_restart(d: NxosDialect, m: Match) -> str | None:
    """GR is on by default: `no graceful-restart` is the setting the config shows."""
    d.device.before_change()
    rtr = d.view.node
    rtr.children = [c for c in rtr.children if c.key != ("graceful-restart",)]
    rtr.children.append(Node("no graceful-restart", ("graceful-restart",)))
    return None


UNDO_SESSION = [
    S("remote-as [ <asn:int:1-4294967295> ]", key=(0,)),
    S("description [ <t:text> ]", key=(0,)),
    S("password [ <k:int:0-7> <pw:word> ]", key=(0,)),
    S("timers [ <k:int:0-3600> <h:int:0-3600> ]", key=(0,)),
    S("bmp-activate-server <n:int:1-2>", key=(0, 1)),
    S("update-source [ <if:ifname> ]", key=(0,)),
    S("ebgp-multihop [ <n:int:2-255> ]", key=(0,)),
    S("ttl-security hops [ <h:int:1-254> ]", key=(0, 1)),
    S("bfd", key=(0,)),
    S("shutdown", key=(0,)),
    S("address-family ipv4 unicast", key=(0, 1, 2)),
]
UNDO_PEER_AF = [
    S("route-reflector-client", key=(0,)),
    S("default-originate", key=(0,)),
    S("next-hop-self", key=(0,)),
    S("send-community [ extended ]", key=(0, 1)),
    S("soft-reconfiguration inbound", key=(0, 1)),
    S("prefix-list <n:name> { in | out }", key=(0, 2)),
    S("capability additional-paths { send | receive } [ disable ]", key=(0, 1, 2)),
    S("maximum-prefix [ <n:int:1-300000> ] [ <th:int:1-100> ] [ { restart <r:int:1-65535> "
      "| warning-only } ]", key=(0,)),
]
UNDO: dict[str, list[Spec]] = {
    CONF: [
        S("hostname [ <n:name:63> ]", key=(0,)),
        S("feature { " + " | ".join(FEATURES) + " }", key=(0, 1), run=_no_feature),
        S("username <u:name:28>", key=(0, 1)),
        S("ip prefix-list <n:name> [ seq <s:int:1-4294967294> ]", key=(0, 1, 2, 3),
          prefix=True),
        S("interface <if:ifname>", key=(0, 1)),
        S("bfd interval [ <t:int:50-999> min_rx <r:int:50-999> multiplier <m:int:1-50> ]",
          key=(0, 1)),
        S("route-map <n:name:63> [ { permit | deny } <s:int:0-65535> ]", key=(0, 1, 3),
          prefix=True),
        S("router bgp <asn:int:1-4294967295>", key=(0, 1), check=_c_undo_router),
    ],
    RMAP: [S("set path-selection all advertise", key=(0, 1))],
    IFACE: [
        S("description [ <t:text> ]", key=(0,)),
        S("ip address [ <p:word> ]", key=(0, 1)),
        S("mtu [ <n:int:576-9216> ]", key=(0,)),
        S("shutdown", key=(0,)),
    ],
    RTR: [
        S("router-id [ <ip:ip> ]", key=(0,)),
        S("cluster-id [ <w:word> ]", key=(0,)),
        S("timers bgp [ <k:int:0-3600> <h:int:0-3600> ]", key=(0, 1)),
        S("graceful-restart", key=(0,), run=_no_graceful_restart),
        S("graceful-restart restart-time [ <t:int:1-3600> ]", key=(0, 1)),
        S("graceful-restart stalepath-time [ <t:int:1-3600> ]", key=(0, 1)),
        S("bestpath as-path multipath-relax", key=(0, 1, 2)),
        S("log-neighbor-changes", key=(0,)),
        S("bmp-server <n:int:1-2>", key=(0, 1)),
        S("address-family ipv4 unicast", key=(0, 1, 2)),
        S("template peer <t:name:63>", key=(0, 1, 2)),
        S("neighbor <a:word>", key=(0, 1)),
    ],
    RAF: [
        S("aggregate-address <p:word> [ summary-only ]", key=(0, 1)),
        S("network <p:word>", key=(0, 1)),
        S("maximum-paths ibgp [ <n:int:1-64> ]", key=(0, 1)),
        S("maximum-paths [ <n:int:1-64> ]", key=(0,)),
        S("additional-paths { send | receive }", key=(0, 1)),
        S("additional-paths selection route-map [ <n:name:63> ]", key=(0, 1)),
    ],
    BMP: [S("address [ <ip:ip> port-number <port:int:1-65535> ]", key=(0,)),
          S("description [ <t:text> ]", key=(0,))],
    TPL: UNDO_SESSION,
    NBR: [*UNDO_SESSION, S("inherit peer <t:name:63>", key=(0, 1)),
          S("maximum-peers [ <n:int:1-1000> ]", key=(0,))],
    NAF: UNDO_PEER_AF,
    TAF: UNDO_PEER_AF,
}


# --------------------------------------------------------------------------- actions
def _x_configure(d: NxosDialect, m: Match) -> str:
    d.enter_system()
    return "Enter configuration commands, one per line. End with CNTL/Z."


def _x_terminal(d: NxosDialect, m: Match) -> str:
    if m.toks[-1] == "dont-ask":
        d.dont_ask = m.toks[0] != "no"
    return ""


def _x_exit(d: NxosDialect, m: Match) -> str:
    d.up()
    return ""


def _x_end(d: NxosDialect, m: Match) -> str:
    d.to_user()
    return ""


def _x_show_run(d: NxosDialect, m: Match) -> str:
    return d.device.running()


def _x_show_start(d: NxosDialect, m: Match) -> str:
    return d.device.startup()


def _x_dir(d: NxosDialect, m: Match) -> str:
    return d.device.dir(m.caps.get("f"))


def _x_show_file(d: NxosDialect, m: Match) -> str:
    name = d.device.file_name(m.caps["f"])
    data = d.device.files.get(name or "")
    if data is None:
        return NO_FILE
    if "md5sum" in m.toks:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    return data.decode(errors="replace").rstrip("\n")


def _x_delete(d: NxosDialect, m: Match) -> str:
    name = d.device.file_name(m.caps["f"])
    if name is None or name not in d.device.files:
        return NO_FILE
    if d.dont_ask:
        d.device.delete(name)
        return ""

    def answer(text: str) -> str:
        if text.strip().lower() in ("", "y", "yes"):
            d.device.delete(name)
        return ""
    d.question = (f'Do you want to delete "/{name}" ? (yes/no/abort)   [y] ', answer)
    return ""


def _x_checkpoint(d: NxosDialect, m: Match) -> str:
    name = d.device.file_name(m.caps["f"])
    if name is None:
        raise CliError(ERRORS["wrong"], len("checkpoint file "))
    d.device.receive_file(name, (d.device.running() + "\n").encode())
    return "Done"


def _x_rollback(d: NxosDialect, m: Match) -> str:
    return d.device.rollback_to(m.caps["f"])


def _x_replace(d: NxosDialect, m: Match) -> str:
    timeout = int(m.caps["t"]) if "t" in m.caps else None
    return d.device.configure_replace(m.caps["f"], timeout, d.user)


def _x_replace_commit(d: NxosDialect, m: Match) -> str:
    return d.device.replace_commit()


def _x_replace_status(d: NxosDialect, m: Match) -> str:
    return d.device.replace_status()


def _x_replace_log(d: NxosDialect, m: Match) -> str:
    return d.device.replace_log()


def _x_copy(d: NxosDialect, m: Match) -> str:
    return d.device.save()


def _x_bgp_summary(d: NxosDialect, m: Match) -> str:
    d.device.require_bgp()
    return d.device.bgp_summary()


def _x_show_version(d: NxosDialect, m: Match) -> str:
    return d.device.show_version()


def _x_show_hosts(d: NxosDialect, m: Match) -> str:
    return "DNS lookup enabled"


def _x_show_hostname(d: NxosDialect, m: Match) -> str:
    return d.device.sysname


def _x_show_status(d: NxosDialect, m: Match) -> str:
    return d.device.interface_status()


def _x_show_inventory(d: NxosDialect, m: Match) -> str:
    dev = d.device
    return "\n".join([f'NAME: "Chassis",  DESCR: "Nexus9000 {dev.MODEL} Chassis"',
                      f"PID: N9K-{dev.MODEL}      ,  VID: V01  ,  SN: {dev.SERIAL}", ""])


def _x_bgp_neighbors(d: NxosDialect, m: Match) -> str:
    d.device.require_bgp()
    return d.device.bgp_neighbors(m.caps.get("a"))


def _x_diff(d: NxosDialect, m: Match) -> str:
    return d.device.rollback_patch(m.caps["a"], m.caps["b"])


SHOWS = [
    S("show running-config", run=_x_show_run),
    S("show startup-config", run=_x_show_start),
    S("show file <f:word> [ md5sum ]", run=_x_show_file),
    S("show config-replace status", run=_x_replace_status),
    S("show config-replace log exec", run=_x_replace_log),
    S("show bgp all summary [ vrf { all | default } ]", run=_x_bgp_summary),
    S("show bgp ipv4 unicast summary [ vrf { all | default } ]", run=_x_bgp_summary),
    S("show ip bgp summary [ vrf { all | default } ]", run=_x_bgp_summary),
    S("show bgp ipv4 unicast neighbors [ <a:ip> ]", run=_x_bgp_neighbors),
    S("show version", run=_x_show_version),
    S("show hosts", run=_x_show_hosts),
    S("show hostname", run=_x_show_hostname),
    S("show interface status", run=_x_show_status),
    S("show inventory", run=_x_show_inventory),
    S("show ip bgp neighbors [ <a:ip> ]", run=_x_bgp_neighbors),
    S("show diff rollback-patch file <a:word> file <b:word>", run=_x_diff),
]
ACTIONS: dict[str, list[Spec]] = {
    EXEC: [
        S("configure terminal", run=_x_configure),
        S("configure replace commit", run=_x_replace_commit),
        S("configure replace <f:word> [ commit-timeout <t:int:30-3600> ]", run=_x_replace),
        S("terminal length <n:int:0-511>", run=_x_terminal),
        S("terminal width <n:int:24-511>", run=_x_terminal),
        S("terminal dont-ask", run=_x_terminal),
        S("no terminal dont-ask", run=_x_terminal),
        S("dir [ <f:word> ]", run=_x_dir),
        S("delete <f:word> [ no-prompt ]", run=_x_delete),
        S("checkpoint file <f:word>", run=_x_checkpoint),
        S("rollback running-config file <f:word> [ atomic ]", run=_x_rollback),
        S("copy running-config startup-config", run=_x_copy),
        S("exit", run=_x_exit),
        *SHOWS,
    ],
}
for _view in (CONF, IFACE, RTR, RAF, NBR, NAF, TPL, TAF, BMP, RMAP):
    ACTIONS[_view] = [S("exit", run=_x_exit), S("end", run=_x_end), *SHOWS]

PROMPTS = {EXEC: "", CONF: "(config)", IFACE: "(config-if)", RTR: "(config-router)",
           RAF: "(config-router-af)", NBR: "(config-router-neighbor)",
           NAF: "(config-router-neighbor-af)", TPL: "(config-router-ptmp)",
           TAF: "(config-router-ptmp-af)", BMP: "(config-router-bmp)",
           RMAP: "(config-route-map)"}

# Top-level sections in display order [guess beyond the rough order seen in configs].
RANK = [("hostname", 1), ("feature", 5), ("username", 10), ("bfd", 15),
        ("ip prefix-list", 20), ("route-map", 25), ("interface", 30), ("router bgp", 40)]


def _rank(node: Node) -> int:
    return next((r for prefix, r in RANK if node.text.startswith(prefix)), 90)


class NxosDialect(CliDialect):
    syntax = Syntax(indent=2, negation="no", separator=None, trailer=None)
    errors = ERRORS
    caret_gap = ""
    specs = SPECS
    undo_specs = UNDO
    user_view = EXEC
    system_view = CONF
    # Not in `show running-config` when default: GR on, restart 120 s, stale path
    # 300 s, timers 60/180 [2nd: NX-OS BGP configuration guide defaults; hidden
    # unless `show running-config all`].
    defaults = {RTR: frozenset({"graceful-restart", "graceful-restart restart-time 120",
                                "graceful-restart stalepath-time 300", "timers bgp 60 180"}),
                NBR: frozenset({"timers 60 180"}), TPL: frozenset({"timers 60 180"})}

    def __init__(self, device: NxosDevice, user: str = "admin"):
        super().__init__(device)
        self.dont_ask = False
        self.user = user

    def banner(self) -> str:
        return BANNER

    def receive_file(self, path: str, data: bytes) -> str | None:
        """An SCP put (the SSH server's scp sink) lands in bootflash:."""
        return self.device.receive_file(path, data)

    def exec_specs(self, view: str) -> list[Spec]:
        return ACTIONS[view]

    def prompt_for(self, view: View) -> str:
        return f"{self.device.hostname}{PROMPTS[view.name]}# "

    def view_conflict_text(self, node: Node, m: Match) -> str:
        return ERRORS["wrong"]

    def same_line(self, configured: str, typed: str) -> bool:
        if configured.startswith("password ") and typed.startswith("password "):
            return True
        if configured.startswith("username ") and typed.startswith("username "):
            return configured.split()[:2] == typed.split()[:2]
        return configured == typed


# --------------------------------------------------------------------------- device
class NxosDevice(SimulatedDevice):
    """One switch: its running config (shared by every session), startup config,
    bootflash files, configure-replace commit timer and BGP peer states. `second`
    scales the commit-timeout second so a test can make one last well under a second."""

    def __init__(self, hostname: str = "switch", second: float = 1.0,
                 auto_establish: bool = True):
        self.sysname = hostname
        self.second = second
        self.auto_establish = auto_establish
        self.root = Node("")
        self.booted = time.time()
        self.lock = threading.RLock()
        self.saved: str | None = None
        self.saves = 0
        self.rollbacks = 0          # configs restored by the commit timer
        self.files: dict[str, bytes] = {}
        self.mtimes: dict[str, float] = {}
        self.last_change = time.time()
        self._timer: threading.Timer | None = None
        self._before_replace: Node | None = None
        self._deadline = 0.0
        self.cr: dict[str, Any] = {}    # the last configure replace: what `show` says
        self.cr_log: list[str] = []
        self.peers: dict[str, PeerState] = {}
        self.dynamic: dict[str, tuple[int, PeerState]] = {}
        self.notify: Any = None

    @property
    def hostname(self) -> str:
        node = self.root.find(("hostname",))
        return node.text.split()[1] if node is not None else self.sysname

    def dialect(self, user: str = "admin") -> NxosDialect:
        return NxosDialect(self, user)

    # ----- config
    def load(self, text: str) -> None:
        """Put a config (show running-config format) on the device, as if typed."""
        with self.lock:
            error = self._apply_text(text)
            if error is not None:
                raise ValueError(f"simulator refused {error[0]!r}:\n{error[1]}")

    def _apply_text(self, text: str, log: list[str] | None = None
                    ) -> tuple[str, str] | None:
        """Type every config line of `text` in a fresh session; stop at the first refused
        line: (line, device message), else None."""
        d = self.dialect()
        d.execute("configure terminal")
        for depth, line in iter_config(text):
            if line.startswith("version "):
                continue
            while len(d.stack) - 2 > depth:
                d.execute("exit")
            if log is not None:
                log.append(f"`{line}`")
            if len(d.stack) - 2 < depth:        # indented under a line that opened no view
                return line, ERRORS["unrecognized"]
            out = d.execute(line)
            if "% " in out:
                return line, out.strip().splitlines()[-1]
        return None

    def running(self) -> str:
        with self.lock:
            d = self.dialect()
            stamp = time.strftime("%a %b %d %H:%M:%S %Y")
            changed = time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(self.last_change))
            out = ["!Command: show running-config",
                   f"!Running configuration last done at: {changed}",
                   f"!Time: {stamp}", "", VERSION]
            for node in sorted(self.root.children, key=_rank):
                if node.view is not None:
                    out.append("")
                    out += d.render_view(node, 0)
                else:
                    out.append(node.text)
            return "\n".join(out)

    def startup(self) -> str:
        if self.saved is None:
            return ""
        lines = self.saved.splitlines()
        lines[0] = "!Command: show startup-config"
        lines.insert(2, f"!Startup config saved at: {self.saved_at}")
        return "\n".join(lines)

    def before_change(self) -> None:
        self.last_change = time.time()

    def after_change(self, dialect: NxosDialect, m: Match) -> None:
        pass

    def after_negate(self, dialect: NxosDialect, m: Match) -> None:
        pass

    def save(self) -> str:
        with self.lock:
            self.saved = self.running()
            self.saved_at = time.strftime("%a %b %d %H:%M:%S %Y")
            self.saves += 1
            if self.auto_establish and self._timer is None:
                self._establish()
        return ("[########################################] 100%\n"
                "Copy complete, now saving to disk (please wait)...\n"
                "Copy complete.")

    # ----- bootflash
    @staticmethod
    def file_name(path: str) -> str | None:
        """`bootflash:F`, `bootflash:/F`, `bootflash:///F`, `F` → `F`; None for another
        file system."""
        if ":" in path:
            fs, _, rest = path.partition(":")
            if fs != "bootflash":
                return None
            path = rest
        name = path.lstrip("/")
        return name or None

    def receive_file(self, path: str, data: bytes) -> str | None:
        name = self.file_name(path)
        if name is None or "/" in name:
            return f"scp: {path}: {NO_FILE}"
        with self.lock:
            self.files[name] = data
            self.mtimes[name] = time.time()
        return None

    def delete(self, name: str) -> None:
        with self.lock:
            self.files.pop(name, None)
            self.mtimes.pop(name, None)

    def dir(self, path: str | None) -> str:
        with self.lock:
            names = sorted(self.files)
            if path is not None:
                name = self.file_name(path)
                if name is not None and name in self.files:
                    names = [name]
                elif name is not None or not path.startswith("bootflash:"):
                    return NO_FILE
            out = []
            for n in names:
                stamp = time.strftime("%b %d %H:%M:%S %Y",
                                      time.localtime(self.mtimes.get(n, time.time())))
                out.append(f"{len(self.files[n]):>12}    {stamp}  {n}")
            used = sum(len(v) for v in self.files.values()) + 6211682304
            total = 116526366720
            out += ["", "Usage for bootflash://sup-local", f"{used:>12} bytes used",
                    f"{total - used:>12} bytes free", f"{total:>12} bytes total"]
            return "\n".join(out)

    # ----- rollback and configure replace
    def _replace_with(self, name: str, log: list[str]) -> tuple[str, str] | None:
        """Replace the running config with file `name`'s; on a refused line restore the
        original and return (line, message)."""
        text = self.files[name].decode(errors="replace")
        before = snapshot(self.root)
        self.root.children = []
        error = self._apply_text(text, log)
        if error is not None:
            self.root.children = before.children
            return error
        self.last_change = time.time()
        return None

    def rollback_to(self, path: str) -> str:
        with self.lock:
            name = self.file_name(path)
            if name is None or name not in self.files:
                return f"{NO_FILE}\nRollback failed."
            head = ("Note: Applying config parallelly may fail Rollback verification\n"
                    "Collecting Running-Config\n#Generating Rollback Patch\n"
                    "Executing Rollback Patch")
            error = self._replace_with(name, [])
            if error is not None:
                return (f"{head}\nSyntax error while parsing '{error[0]}'\n{error[1]}\n"
                        "Rollback failed.")
            if self._timer is not None:                 # [guess] ends a pending replace
                self._timer.cancel()
                self._timer = None
                self._before_replace = None
                self.cr["commit"] = "Rolled back, by rollback running-config"
            return (f"{head}\nGenerating Running-config for verification\n"
                    "Generating Patch for verification\nVerification is Successful.\n\n"
                    "Rollback completed successfully.")

    def configure_replace(self, path: str, timeout: int | None, user: str) -> str:
        with self.lock:
            if self._timer is not None:
                return ("% Configure replace commit is pending; commit it with "
                        "'configure replace commit' first.")                   # [guess]
            name = self.file_name(path)
            if name is None or name not in self.files:
                return f"% {path}: {NO_FILE}"
            start = time.strftime("%a, %H:%M:%S %d %b %Y")
            log = ["Operation            : Config-replace to user config",
                   f"Checkpoint file name : {name}", "Scheme               : bootflash",
                   f"Cfg-replace done By  : {user}", "Cfg-replace mode     : atomic",
                   f"Start Time           : {start}",
                   "--------------------------------------------", "`config t`"]
            before = snapshot(self.root)
            error = self._replace_with(name, log)
            end = time.strftime("%a, %H:%M:%S %d %b %Y")
            self.cr = {"file": name, "start": start, "end": end,
                       "status": "Failed" if error else "Success", "timeout": timeout,
                       "commit": None}
            if error is not None:
                log += [f"Syntax error while parsing '{error[0]}'", error[1], "",
                        "Rollback to the original configuration: Success"]
                self.cr_log = log
                return ("Version match between running-configuration and replace "
                        "configuration\nPrepare Configuration Replace...\n"
                        "Configure replace failed. Use 'show config-replace log exec' to "
                        "see reasons for failure")
            self.cr_log = [*log, "", "Configure replace completed successfully"]
            out = ("Version match between running-configuration and replace configuration\n"
                   "Prepare Configuration Replace...\n"
                   "Configure replace completed successfully. Please run 'show "
                   "config-replace log exec' to see the commands executed")
            if timeout is None:
                if self.auto_establish:
                    self._establish()
                return out
            self._before_replace = before
            self._deadline = time.monotonic() + timeout * self.second
            self.cr["commit"] = "pending"
            self._timer = threading.Timer(timeout * self.second, self._expire)
            self._timer.daemon = True
            self._timer.start()
            return (out + f"\nConfigure replace will be rolled back in {timeout} seconds "
                    "unless 'configure replace commit' is run.")                # [guess]

    def replace_commit(self) -> str:
        with self.lock:
            if self._timer is None:
                return "% No configure replace operation is pending commit."    # [guess]
            self._timer.cancel()
            self._timer = None
            self._before_replace = None
            self.cr["commit"] = "Committed"
            if self.auto_establish:
                self._establish()
            return "Configure replace commit completed successfully."           # [guess]

    def replace_left(self) -> float | None:
        with self.lock:
            if self._timer is None:
                return None
            return max(0.0, self._deadline - time.monotonic())

    def replace_status(self) -> str:
        with self.lock:
            if not self.cr:
                return "Last operation : None"
            left = self.replace_left()
            if self.cr.get("commit") == "pending" and left is not None:
                commit = f"Commit pending, {int(left)} seconds left"
            else:
                commit = self.cr.get("commit") or "Not applicable"
            timeout = self.cr.get("timeout")
            return "\n".join([
                "Last operation : Config replace to user config",
                "Details:",
                f"  Config replace type : atomic  bootflash:{self.cr['file']}",
                f"  Start Time: {self.cr['start']}",
                f"  End Time: {self.cr['end']}",
                f"  Operation Status: {self.cr['status']}",
                f"  Commit Timeout: {timeout if timeout else 'None'}",
                f"  Commit Status: {commit}"])

    def replace_log(self) -> str:
        with self.lock:
            return "\n".join(self.cr_log)

    def _expire(self) -> None:
        with self.lock:
            if self._before_replace is None:
                return
            self.root.children = self._before_replace.children
            self._before_replace = None
            self._timer = None
            self.cr["commit"] = "Rolled back, commit timeout expired"
            self.rollbacks += 1
            self.last_change = time.time()
        if self.notify is not None:
            stamp = time.strftime("%Y %b %d %H:%M:%S")
            self.notify(f"{stamp} {self.hostname} %CONFIG_REPLACE-2-CR_ROLLBACK: Commit "
                        "timeout expired, configuration rolled back")          # [guess]

    def rollback_patch(self, a: str, b: str) -> str:
        with self.lock:
            na, nb = self.file_name(a), self.file_name(b)
            if na not in self.files or nb not in self.files:
                return NO_FILE
            old = [ln for ln in self.files[na].decode().splitlines()
                   if ln.strip() and not ln.startswith(("!", "version "))]
            new = [ln for ln in self.files[nb].decode().splitlines()
                   if ln.strip() and not ln.startswith(("!", "version "))]
            patch = []
            for line in difflib.ndiff(old, new):
                if line.startswith("- "):
                    body = line[2:]
                    pad = len(body) - len(body.lstrip())
                    patch.append(" " * pad + "no " + body.lstrip())
                elif line.startswith("+ "):
                    patch.append(line[2:])
            out = ["Collecting Running-Config", "#Generating Rollback Patch"]
            return "\n".join([*out, *(patch or ["Rollback Patch is Empty"])])

    # ----- BGP state
    def require_bgp(self) -> None:
        if self.root.find(("feature", "bgp")) is None:
            raise CliError(ERRORS["unrecognized"], len("show "))

    def bgp_config(self) -> Node | None:
        return self.root.find(("router", "bgp"))

    @staticmethod
    def _child(node: Node | None, *key: str) -> Node | None:
        return None if node is None else node.find(tuple(key))

    def _remote_as(self, rtr: Node, nbr: Node) -> int:
        if (n := nbr.find(("remote-as",))) is not None:
            return int(n.text.split()[1])
        if (inh := nbr.find(("inherit", "peer"))) is not None:
            tpl = rtr.find(("template", "peer", inh.text.split()[2]))
            if tpl is not None and (n := tpl.find(("remote-as",))) is not None:
                return int(n.text.split()[1])
        return 0

    def static_peers(self) -> list[tuple[str, int]]:
        rtr = self.bgp_config()
        if rtr is None:
            return []
        return [(c.text.split()[1], self._remote_as(rtr, c)) for c in rtr.children
                if c.view == NBR and "/" not in c.text]

    def _rows(self, rtr: Node) -> list[tuple[str, int, PeerState, Node]]:
        rows = []
        for c in rtr.children:
            if c.view != NBR:
                continue
            addr = c.text.split()[1]
            if "/" not in addr:
                rows.append((addr, self._remote_as(rtr, c),
                             self.peers.get(addr, PeerState("Idle")), c))
                continue
            net = ipaddress.IPv4Network(addr)
            for dyn, (asn, st) in self.dynamic.items():
                if ipaddress.IPv4Address(dyn) in net:
                    rows.append((dyn, asn or self._remote_as(rtr, c), st, c))
        return rows

    MODEL = "C93180YC-EX"
    SERIAL = "FDO21120U8N"

    def show_version(self) -> str:
        """`show version` [2nd: ntc-templates
        tests/cisco_nxos/show_version/cisco_nxos_show_version1.raw, an NX-OS 9 box's
        `NXOS: version` line]."""
        w, d, h, mi, sec = self.uptime_parts()
        return "\n".join([
            "Cisco Nexus Operating System (NX-OS) Software",
            "TAC support: http://www.cisco.com/tac",
            "Copyright (C) 2002-2022, Cisco and/or its affiliates.", "",
            "Software", "  BIOS: version 05.47", "  NXOS: version 9.3(10)",
            "  BIOS compile time:  04/28/2022",
            "  NXOS image file is: bootflash:///nxos.9.3.10.bin", "",
            "Hardware", f'  cisco Nexus9000 {self.MODEL} chassis ("supervisor")',
            "  Intel(R) Xeon(R) CPU  @ 1.80GHz with 24632068 kB of memory.",
            f"  Processor Board ID {self.SERIAL}", "",
            f"  Device name: {self.sysname}", "  bootflash:   53298520 kB", "",
            f"Kernel uptime is {d + 7 * w} day(s), {h} hour(s), {mi} minute(s), "
            f"{sec} second(s)", ""])

    def interface_status(self) -> str:
        """`show interface status` [2nd: ntc-templates
        tests/cisco_nxos/show_interface_status fixtures]."""
        out = ["", "-" * 79, "Port          Name               Status    Vlan      Duplex  Speed"
               "   Type", "-" * 79]
        for name, _addr, descr in self.interfaces():
            short = name.replace("Ethernet", "Eth", 1)
            out.append(f"{short:<13} {descr[:18]:<18} connected routed    full    10G     "
                       "10Gbase-SR")
        return "\n".join(out)

    def bgp_summary(self) -> str:
        with self.lock:
            rtr = self.bgp_config()
            if rtr is None:
                return ""
            local = int(rtr.text.split()[2])
            rid = rtr.find(("router-id",))
            rows = self._rows(rtr)
            up = sum(st.state == "Established" for _, _, st, _ in rows)
            out = ["BGP summary information for VRF default, address family IPv4 Unicast",
                   f"BGP router identifier {rid.text.split()[1] if rid else '0.0.0.0'}, "
                   f"local AS number {local}",
                   f"BGP table version is 15, IPv4 Unicast config peers {len(rows)}, "
                   f"capable peers {up}",
                   "12 network entries and 14 paths using 2664 bytes of memory",
                   "BGP attribute entries [4/640], BGP AS path entries [2/12]",
                   "BGP community entries [0/0], BGP clusterlist entries [0/0]", "",
                   "Neighbor        V    AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  "
                   "State/PfxRcd"]
            now = time.time()
            for addr, asn, st, _ in rows:
                msgs = st.msgs or (int(now - st.since) // 10 + 3 if st.since else 0)
                when = nxos_uptime(now - st.since) if st.since else "never"
                state = str(st.prefixes) if st.state == "Established" else st.state
                out.append(f"{addr:<15} 4 {asn:>5} {msgs:>7} {msgs + 1:>7} {15:>8} "
                           f"{0:>4} {0:>4} {when:>8} {state}")
            return "\n".join(out)

    def bgp_neighbors(self, only: str | None = None) -> str:
        with self.lock:
            rtr = self.bgp_config()
            if rtr is None:
                return ""
            local = int(rtr.text.split()[2])
            gr_local = rtr.find(("graceful-restart",)) is None     # no `no graceful-restart`
            out: list[str] = []
            now = time.time()
            for index, (addr, asn, st, node) in enumerate(self._rows(rtr), start=1):
                if only and addr != only:
                    continue
                when = nxos_uptime(now - st.since) if st.since else "never"
                est = st.state == "Established"
                descr = node.find(("description",))
                out += [f"BGP neighbor is {addr}, remote AS {asn}, "
                        f"{'ibgp' if asn == local else 'ebgp'} link, Peer index {index}"]
                if "/" in node.text:
                    out.append(f"  Dynamically created from prefix peer "
                               f"{node.text.split()[1]}")                      # [guess]
                if descr is not None:
                    out.append(f"  Description: {descr.text.split(' ', 1)[1]}")
                out += [f"  BGP version 4, remote router ID {st.remote_id}",
                        "  Neighbor previous state = OpenConfirm",
                        f"  BGP state = {st.state}, {'up' if est else 'down'} for {when}",
                        "  Neighbor vrf: default"]
                if est:
                    caps = ["  Neighbor capabilities:",
                            "  Dynamic capability: advertised (mp, refresh, gr) "
                            "received (mp, refresh, gr)",
                            "  Route refresh capability (new): advertised received",
                            "  Route refresh capability (old): advertised received",
                            "  4-Byte AS capability: advertised received",
                            "  Address family IPv4 Unicast: advertised received"]
                    how = " ".join(w for w, on in (("advertised", gr_local),
                                                   ("received", st.gr)) if on)
                    if how:
                        caps.append(f"  Graceful Restart capability: {how}")
                    out += caps
                msgs = st.msgs or (int(now - st.since) // 10 + 3 if st.since else 0)
                out += ["  Message statistics:",
                        "                              Sent               Rcvd",
                        f"  Opens:              {int(est):>12} {int(est):>18}",
                        "  Notifications:                 0                  0",
                        f"  Updates:            {int(est):>12} {int(est):>18}",
                        f"  Keepalives:         {msgs:>12} {msgs:>18}",
                        "  Route Refresh:                 0                  0",
                        "  Capability:                    0                  0",
                        f"  Total:              {msgs + 2 * est:>12} {msgs + 2 * est:>18}",
                        f"  Total bytes:        {19 * msgs:>12} {19 * msgs:>18}",
                        "  Bytes in queue:                0                  0"]
                if est:
                    out += ["  For address family: IPv4 Unicast",
                            "  BGP table version 15, neighbor version 15",
                            f"  {st.prefixes} accepted paths consume {st.prefixes * 56} bytes "
                            "of memory", f"  {st.sent} sent paths"]
                else:
                    out.append("  No established BGP session with peer")
                out.append("")
            return "\n".join(out).rstrip("\n")


def nxos_uptime(seconds: float) -> str:
    """NX-OS's Up/Down column: `00:19:34`, then `1d11h`, then `8w5d` [2nd]."""
    s = int(seconds)
    if s < 86400:
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s < 7 * 86400:
        return f"{s // 86400}d{s % 86400 // 3600:02d}h"
    return f"{s // (7 * 86400)}w{s % (7 * 86400) // 86400}d"


def iter_config(text: str) -> list[tuple[int, str]]:
    """(depth, line) for every config line of an NX-OS text: `!` lines and blank lines
    skipped, two spaces of indentation per level."""
    out: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            continue
        out.append(((len(line) - len(line.lstrip(" "))) // 2, " ".join(stripped.split())))
    return out


class NxosSimulator(SimulatedSwitch):
    """A simulated Nexus switch and its SSH server: `sim.start()`, `sim.device`,
    `sim.port`, `sim.known_hosts_line()`, `sim.stop()`."""

    device: NxosDevice

    def __init__(self, hostname: str = "sim-nxos", username: str = "admin",
                 password: str = "admin", second: float = 1.0, config: str | None = None,
                 auto_establish: bool = True):
        device = NxosDevice(hostname, second=second, auto_establish=auto_establish)
        if config:
            device.load(config)
        super().__init__(device, username, password)
        self.username = username

    def _dialect(self, session: Any) -> NxosDialect:
        return self.device.dialect(self.username)


__all__ = ["NxosDevice", "NxosDialect", "NxosSimulator", "decrypt", "encrypt"]
