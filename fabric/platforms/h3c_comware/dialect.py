"""H3C Comware V7's CLI as text, without I/O: prompts, error markers, key forms, the
config text, the sections this tool owns, the hier_config rules of a push, the
layout of the peer displays, and `remediation(running, intended)`, the lines a push
sends (what the driver's `compare_config` shows).

What this tool owns on a switch, and so what replace touches: the `bgp` view, the
`bmp server` views, and the `ip prefix-list` entries whose names the candidate
contains. Everything else on the switch (interfaces, users, other prefix lists) is
left alone; a candidate line outside those sections is refused.

hier_config has no Comware V7 driver; `ComwareV7HierDriver` starts from
`Platform.HP_COMWARE5` (`undo` as the negation) and adds what V7 needs:
  * one space of indentation per level, `#` separators and `return` dropped;
  * the display quirk that global one-line commands sit indented in their own
    `#` block (` sysname X`) is handled before hier_config sees the text;
  * the documented short `undo` forms (`undo peer X description`, `undo peer X
    route-limit`, `undo peer X prefix-list import`, `undo timer`, `undo ip
    prefix-list N index I`; `undo peer X` deletes a peer with all its settings);
  * commands that overwrite the previous value (route-limit, description, timers,
    router-id, a prefix-list index...) are idempotent: no undo before them;
  * an order that respects dependencies: prefix lists and BMP servers before the
    BGP view; in it, deleted peers/groups first, then groups, then peers, then
    their settings, then the address family; removals of prefix lists and BMP
    servers last;
  * a peer or group removed with `undo peer X` / `undo group G` takes its other
    lines with it (no further `undo peer X ...`), and if it is re-created with a
    new identity (another AS, another group) every candidate line for it is pushed.
The device stores `password simple K` encrypted (`cipher $c$3$...`), so password
lines compare on presence only: a changed key is not detected; a new or removed key
is. Settings at the device's defaults (platform.yml `default_lines`) are never shown
by the device and so left out of both sides.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.hp_comware5.driver import HConfigDriverHPComware5

from fabric import platforms
from fabric.deploy.drivers.dialect import Items, ShortUndoMixin, UndoDialect, hier_rules, seconds
from fabric.deploy.drivers.getters import ntc

PLATFORM = platforms.get("h3c_comware")

# ---------------------------------------------------------------------- device text

PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"\[Y/N\]:?[ \t]*$"
PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[^\[\]]+\])\s*$")
# `% Unrecognized command found at '^' position.` and kin; a log line pushed to the
# terminal starts `%Jan  1 12:00:00:000 2024 sysname MOD/5/DIGEST:` and is not one.
ERROR = re.compile(r"^\s*%")
SYSLOG = re.compile(r"^\s*%[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d")
# A key follows `simple`, `cipher` or `hash` in every Comware command that takes one
# (`peer X password simple K`, `password hash H`), typo'd or not.
SECRET = re.compile(r"(\b(?:simple|cipher|hash)\s+)(\S+)", re.IGNORECASE)
PEER_ID = r"\S+(?: \d{1,2})?"           # an address or group, or an address and a length
PEER = rf"peer {PEER_ID}"


def errors(lines: list[str]) -> list[str]:
    """The error lines of an answer (not the log lines the device pushes)."""
    return [ln.strip() for ln in lines if ERROR.match(ln) and not SYSLOG.match(ln)]


def config_items(text: str) -> Items:
    """(depth, line) for every config line of a Comware text (display format or our
    templates): `#` lines separate sections and return to the top level; `return`
    ends; a section whose first line is indented (` sysname X`, ` version ...`)
    holds top-level one-line commands."""
    out: Items = []
    shift, first = 0, True
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped == "return":
            continue
        if stripped.startswith("#"):
            if not raw.startswith((" ", "\t")):
                first = True
            continue
        indent = len(line) - len(line.lstrip(" "))
        if first:
            shift, first = indent, False
        out.append((max(0, indent - shift), " ".join(stripped.split())))
    return out


def owned_kind(head: str) -> str | None:
    """"bgp", "bmp", "pl:NAME" for an owned top-level line; None for any other."""
    if re.match(r"^bgp \d+(?: |$)", head):
        return "bgp"
    if re.match(r"^bmp server \d+$", head):
        return "bmp"
    if m := re.match(r"^ip prefix-list (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


# ---------------------------------------------------------------------- hier_config


class ComwareV7HierDriver(ShortUndoMixin, HConfigDriverHPComware5):
    """HP_COMWARE5 (`undo`) extended for Comware V7 as described in the module doc."""

    idempotent = [re.compile(p) for p in (
        r"^(ip prefix-list \S+ index \d+) ",
        r"^(server address) ",
        r"^(router-id) ",
        r"^(timer) keepalive ",
        r"^(graceful-restart timer \S+) ",
        rf"^({PEER}) (description|password|ttl-security|timer|connect-interface|route-limit) ",
        rf"^({PEER}) prefix-list \S+ (import|export)$",
        r"^(balance(?: ebgp| ibgp| eibgp)?) \d+$",
        r"^(reflector cluster-id) ",
        r"^(peer [^\d\s]\S*) (as-number) ",
    )]

    # (pattern on "undo <line>", replacement): Comware V7's short undo forms.
    undo_forms = [(re.compile(p), r) for p, r in (
        (r"^undo (peer \d+\.\d+\.\d+\.\d+(?: \d{1,2})?) (?:as-number \d+|group \S+.*)$",
         r"undo \1"),
        (r"^undo (peer \S+) as-number \d+$", r"undo \1 as-number"),
        (r"^undo (group \S+)(?: .*)?$", r"undo \1"),
        (rf"^undo ({PEER}) (description|password|ttl-security|timer|connect-interface"
         r"|route-limit) .*$", r"undo \1 \2"),
        (rf"^undo ({PEER}) prefix-list \S+ (import|export)$", r"undo \1 prefix-list \2"),
        (r"^undo (ip prefix-list \S+ index \d+) .*$", r"undo \1"),
        (r"^undo (server address) .*$", r"undo \1"),
        (r"^undo (router-id) .*$", r"undo \1"),
        (r"^undo (timer) keepalive .*$", r"undo \1"),
        (r"^undo (graceful-restart timer \S+) .*$", r"undo \1"),
        (r"^undo (balance(?: ebgp| ibgp| eibgp)?) \d+$", r"undo \1"),
        (r"^undo (reflector cluster-id) .*$", r"undo \1"),
        (r"^undo (aggregate \S+ \S+) .*$", r"undo \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        return hier_rules(comments=r"^\s*#.*", first=("ip prefix-list ", "bmp server "),
                          last=("undo ip prefix-list ", "undo bmp server "), peer=PEER,
                          af="address-family ")


# ---------------------------------------------------------------------- the dialect


class ComwareDialect(UndoDialect):
    """Comware V7's text, for `remediation` and as the base of `ComwareDriver`."""

    hier_driver = ComwareV7HierDriver
    PROMPT, QUESTION, PROMPT_LINE, SECRET = PROMPT, QUESTION, PROMPT_LINE, SECRET
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(owned_kind)
    owned_text = "the bgp view, bmp server views, ip prefix-list"
    # Shown only when not the default [doc: restart 150, wait-for-rib 600; 2nd: timers].
    DEFAULTS = PLATFORM.shown_defaults()
    PEER_ID = PEER_ID
    AF = "address-family "
    MEMBER_END = "(?: |$)"
    # ----- displays
    ROUTER_ID = re.compile(r"BGP local router ID:\s*(\S+)")
    LOCAL_AS = re.compile(r"Local AS number:\s*(\d+)")
    VERBOSE_PEER = re.compile(r"\bPeer:\s*(\d+\.\d+\.\d+\.\d+)")
    REMOTE_ID = re.compile(r"remote router ID\s+(\S+)")
    ADVERTISED = re.compile(r"Advertised routes total:\s*(\d+)")
    VERSION = re.compile(r"Comware Software, Version (\S+, Release \S+)")
    MODEL_UPTIME = re.compile(r"^H3C (\S+) uptime is (.+)$", re.M)

    _errors = staticmethod(errors)

    def _summary_rows(self, text: str) -> list[dict[str, Any]]:
        """`display bgp peer ipv4` by ntc-templates' hp_comware template. The template
        knows no row of a dynamically created peer (`*` before the address): the mark
        is noted and blanked first."""
        dynamic = set()
        lines = []
        for line in text.splitlines():
            if m := re.match(r"^\s*\*\s*(\d+\.\d+\.\d+\.\d+)\s", line):
                dynamic.add(m.group(1))
                line = "  " + line.strip().lstrip("*").strip()
            lines.append(line)
        return [{"address": r["peer"], "remote_as": int(r["remote_asn"]),
                 "prefixes": int(r["prefixes_received"] or 0),
                 "uptime": seconds(r["up_down"]), "state": r["state"],
                 "msgs_in": int(r["messages_received"] or 0),
                 "msgs_out": int(r["messages_sent"] or 0),
                 "out_q": int(r["output_queue"] or 0), "dynamic": r["peer"] in dynamic}
                for r in ntc("hp_comware", "display bgp peer ipv4", "\n".join(lines))]

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        if m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+)(?: (\d{1,2}))? group (\S+)", line):
            net = ipaddress.IPv4Network(f"{m.group(1)}/{m.group(2) or 32}", strict=False)
            return net, m.group(3)
        return None


_DIALECT = ComwareDialect()


def remediation(running: str, intended: str) -> str:
    """The lines a replace of `running` (a `display current-configuration`) by
    `intended` (a rendered config) pushes, in push order, indented by view: what
    `ComwareDriver.compare_config` shows; "" when the switch already matches."""
    return _DIALECT.remediation(running, intended)
