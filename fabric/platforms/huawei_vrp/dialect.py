"""Huawei VRP8's (CloudEngine) CLI as text, without I/O: prompts, error markers, key
forms, the config text, the sections this tool owns, the hier_config rules of a
push, the layout of the peer displays, and `remediation(running, intended)`, the
lines a push sends (what the driver's `compare_config` shows).

What this tool owns on a switch, and so what replace touches: the `bgp` view, the
`bmp` view, and the `ip ip-prefix` lists whose names the candidate contains.
Everything else (interfaces, aaa, other prefix lists) is left alone; a candidate line
outside those sections is refused.

The remediation is hier_config's Platform.HUAWEI_VRP with VRP8's undo forms
(`undo peer X` deletes a peer and every setting of it; a key is never repeated in an
undo), commands that overwrite in place (no undo before them), an order that
respects dependencies (prefix lists first; groups, then peers, then their settings;
removals of prefix lists and of the bmp view last), and what `undo peer X` / `undo
group G` take with them. The device shows a key only as a cipher, so password lines
compare on presence only. Settings at the device's defaults (platform.yml
`default_lines`) are never shown by the device and so left out of both sides.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.huawei_vrp.driver import HConfigDriverHuaweiVrp

from fabric import platforms
from fabric.deploy.drivers.dialect import (
    Items,
    ShortUndoMixin,
    UndoDialect,
    asn,
    hier_rules,
    seconds,
    sections,
)
from fabric.deploy.drivers.getters import ntc

PLATFORM = platforms.get("huawei_vrp")

# ---------------------------------------------------------------------- device text

# `<sysname>` in user view; `[~sysname-view]` / `[*sysname-view]` in the others.
PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[~*]?[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"(?:\[Y/N\]|\[Y\(yes\)/N\(no\)/C\(cancel\)\]|\[Y/N/C\]):?[ \t]*$"
PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[~*]?[^\[\]]+\])\s*$")
ERROR = re.compile(r"^\s*Error\s*:")
SECRET = re.compile(r"(\b(?:simple|cipher|irreversible-cipher)\s+)(\S+)", re.IGNORECASE)
PEER_ID = r"\S+"


def errors(lines: list[str]) -> list[str]:
    """Every `Error:` line of an answer and the context lines the device prints after
    one."""
    out: list[str] = []
    for i, ln in enumerate(lines):
        if ERROR.match(ln):
            out.append(ln.strip())
            for more in lines[i + 1:]:
                if not more.strip() or ERROR.match(more) or \
                        more.lstrip().startswith(("Info:", "Warning:")):
                    break
                out.append(more.rstrip())
    return out


def config_items(text: str) -> Items:
    """(depth, line) for every config line of a VRP text (display format or our
    templates): `#` and `!` lines and `return` skipped; one space per level."""
    out: Items = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped == "return" or stripped.startswith(("#", "!")):
            continue
        out.append((len(line) - len(line.lstrip(" ")), " ".join(stripped.split())))
    return out


def owned_kind(head: str) -> str | None:
    """"bgp", "bmp", "pl:NAME" for an owned top-level line, "pl:bfd" for the `bfd`
    view where the candidate has it (BFD may serve other protocols too); None for any
    other."""
    if re.match(r"^bgp \d+$", head):
        return "bgp"
    if head == "bmp":
        return head
    if head == "bfd":
        return "pl:bfd"
    if m := re.match(r"^ip ip-prefix (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


# ---------------------------------------------------------------------- hier_config


class VrpHierDriver(ShortUndoMixin, HConfigDriverHuaweiVrp):
    """Platform.HUAWEI_VRP with VRP8 undo forms, overwrite-in-place commands and an
    order that respects dependencies (groups, then peers, then their settings)."""

    idempotent = [re.compile(p) for p in (
        r"^(ip ip-prefix \S+ index \d+) ",
        r"^(tcp connect port) ",
        r"^(router-id) ",
        r"^(timer) keepalive ",
        r"^(graceful-restart timer \S+) ",
        r"^(bgp dynamic-session-limit) ",
        r"^(peer \S+) (description|password|listen-as|valid-ttl-hops|connect-interface"
        r"|route-limit) ",
        r"^(peer \S+) ip-prefix \S+ (import|export)$",
        r"^(maximum load-balancing(?: ebgp| ibgp)?) \d+$",
        r"^(reflector cluster-id) ",
    )]

    # (pattern on "undo <line>", replacement): where VRP's undo must differ from the line.
    undo_forms = [(re.compile(p), r) for p, r in (
        # [doc] `undo peer X` deletes the peer and every setting of it.
        (r"^undo (peer \d+\.\d+\.\d+\.\d+) (?:as-number \d+|group \S+)$", r"undo \1"),
        (r"^undo (group \S+)(?: .*)?$", r"undo \1"),
        # The device shows only a cipher: the key is never repeated in an undo.
        (r"^undo (peer \S+ password)(?: .*)?$", r"undo \1"),
        (r"^undo (ip ip-prefix \S+ index \d+) .*$", r"undo \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        return hier_rules(comments=r"^\s*[#!].*", first="ip ip-prefix ",
                          last=("undo ip ip-prefix ", "undo bmp"), peer=r"peer \S+",
                          af="ipv4-family ")


# ---------------------------------------------------------------------- the dialect


class VrpDialect(UndoDialect):
    """VRP8's text, for `remediation` and as the base of `VrpDriver`."""

    hier_driver = VrpHierDriver
    PROMPT, QUESTION, PROMPT_LINE, SECRET = PROMPT, QUESTION, PROMPT_LINE, SECRET
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(owned_kind)
    owned_text = "the bgp view, the bmp view, the bfd view, ip ip-prefix"
    EMPTY_VIEWS = frozenset({"bfd"})     # BFD on globally: a view, empty here

    def _owned(self, items: Items, names: set[str]) -> Items:
        """As every dialect's, but the `bfd` view counts by its presence: what the
        operator set inside it (multi-hop timers, ...) is not the tool's."""
        out: Items = []
        for section in sections(super()._owned(items, names)):
            out += section[:1] if section[0][1] == "bfd" else section
        return out
    # Shown only when not the default [doc: the CE command reference's defaults].
    DEFAULTS = PLATFORM.shown_defaults()
    PEER_ID = PEER_ID
    AF = "ipv4-family "
    MEMBER_END = "$"
    # ----- displays
    ROUTER_ID = re.compile(r"BGP local router ID\s*:\s*(\S+)")
    LOCAL_AS = re.compile(r"Local AS number\s*:\s*(\d+)")
    VERBOSE_PEER = re.compile(r"BGP Peer is (\d+\.\d+\.\d+\.\d+)")
    REMOTE_ID = re.compile(r"Remote router ID\s+(\S+)", re.IGNORECASE)
    ESN = re.compile(r"ESN of (?:slot|device)\s*\S*\s*:\s*(\S+)", re.IGNORECASE)

    _errors = staticmethod(errors)

    def _summary_rows(self, text: str) -> list[dict[str, Any]]:
        """`display bgp peer` by ntc-templates' huawei_vrp template (which leaves the
        router ID and local AS of the header to `ROUTER_ID` / `LOCAL_AS`)."""
        return [{"address": r["peer"].lstrip("*"), "remote_as": asn(r["asn"]),
                 "prefixes": int(r["pref_rcvd"] or 0), "uptime": seconds(r["up_down"]),
                 "state": r["state"], "msgs_in": int(r["msg_rcvd"] or 0),
                 "msgs_out": int(r["msg_sent"] or 0), "out_q": int(r["out_q"] or 0),
                 "dynamic": r["peer"].startswith("*")}
                for r in ntc("huawei_vrp", "display bgp peer", text)]

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        """A group's listen-net (its dynamic peers) or a static member of a group."""
        if m := re.match(r"^peer (\S+) listen-net (\S+) (\d+)$", line):
            return ipaddress.IPv4Network(f"{m.group(2)}/{m.group(3)}", strict=False), m.group(1)
        if m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+) group (\S+)$", line):
            return ipaddress.IPv4Network(f"{m.group(1)}/32"), m.group(2)
        return None


_DIALECT = VrpDialect()


def remediation(running: str, intended: str) -> str:
    """The lines a replace of `running` (a `display current-configuration`) by
    `intended` (a rendered config) pushes, in push order, indented by view: what
    `VrpDriver.compare_config` shows; "" when the switch already matches."""
    return _DIALECT.remediation(running, intended)
