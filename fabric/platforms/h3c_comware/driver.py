"""H3C Comware V7 driver with the NAPALM driver contract, on netmiko `hp_comware`.

What this tool owns on a switch, and so what replace touches: the `bgp` view, the
`bmp server` views, and the `ip prefix-list` entries whose names the candidate
contains. Everything else on the switch (interfaces, users, other prefix lists) is
left alone; a candidate line outside those sections is refused at load.

`compare_config` is the remediation hier_config computes between the owned
sections of the running config and the candidate (empty when nothing changes);
`commit_config` pushes exactly those lines in system-view, checking every line's
answer for Comware's error markers and the prompt it lands on. With `revert_in`
the push is preceded by `configuration commit delay <minutes>`: unless
`confirm_commit` (`configuration commit`, `save force`) comes first, the switch
rolls itself back to the config from before the delay command (Release 1121+).
`rollback` pushes the inverse remediation back to the owned config from before the
last commit, and saves.

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
lines compare on presence only: a changed key is not detected (see README note in
the report); a new or removed key is.

Secrets: the login password and every BGP key of the candidate are masked in this
module's exceptions and in the log records of this module, netmiko and paramiko
while a connection is open.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import re
from typing import Any

from hier_config import HConfig
from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.hp_comware5.driver import HConfigDriverHPComware5

from fabric.deploy.drivers.errors import (
    DriverError,
)
from fabric.deploy.drivers.getters import facts, ntc
from fabric.deploy.drivers.netmiko_cli import (
    NetmikoCliDriver,
    ShortUndoMixin,
    hier_rules,
    seconds,
    uptime_seconds,
)
from fabric.deploy.drivers.session import PW_MARK as PW_MARK

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- device text

PROMPT = r"(?:^|[\r\n])[ \t]*(?:<[^<>\r\n]+>|\[[^\[\]\r\n]+\])[ \t]*$"
QUESTION = r"\[Y/N\]:?[ \t]*$"
_PROMPT_LINE = re.compile(r"^\s*(<[^<>]+>|\[[^\[\]]+\])\s*$")
# `% Unrecognized command found at '^' position.` and kin; a log line pushed to the
# terminal starts `%Jan  1 12:00:00:000 2024 sysname MOD/5/DIGEST:` and is not one.
_ERROR = re.compile(r"^\s*%")
_SYSLOG = re.compile(r"^\s*%[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d")
# A key follows `simple`, `cipher` or `hash` in every Comware command that takes one
# (`peer X password simple K`, `password hash H`), typo'd or not.
_SECRET = re.compile(r"(\b(?:simple|cipher|hash)\s+)(\S+)", re.IGNORECASE)
_PEER_ID = r"\S+(?: \d{1,2})?"          # an address or group, or an address and a length
_PEER = rf"peer {_PEER_ID}"


def config_items(text: str) -> list[tuple[int, str]]:
    """(depth, line) for every config line of a Comware text (display format or our
    templates): `#` lines separate sections and return to the top level; `return`
    ends; a section whose first line is indented (` sysname X`, ` version ...`)
    holds top-level one-line commands."""
    out: list[tuple[int, str]] = []
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


def _owned_kind(head: str) -> str | None:
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
        rf"^({_PEER}) (description|password|ttl-security|timer|connect-interface|route-limit) ",
        rf"^({_PEER}) prefix-list \S+ (import|export)$",
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
        (rf"^undo ({_PEER}) (description|password|ttl-security|timer|connect-interface"
         r"|route-limit) .*$", r"undo \1 \2"),
        (rf"^undo ({_PEER}) prefix-list \S+ (import|export)$", r"undo \1 prefix-list \2"),
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
                          last=("undo ip prefix-list ", "undo bmp server "), peer=_PEER,
                          af="address-family ")


# ---------------------------------------------------------------------- the driver


class ComwareDriver(NetmikoCliDriver):
    name = "ComwareDriver"
    device_type = "hp_comware"
    hier_driver = ComwareV7HierDriver
    log = log
    PROMPT, QUESTION, PROMPT_LINE, SECRET = PROMPT, QUESTION, _PROMPT_LINE, _SECRET
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(_owned_kind)
    owned_text = "the bgp view, bmp server views, ip prefix-list"
    # Shown only when not the default [doc: restart 150; 2nd: purge-time, timers].
    DEFAULTS = frozenset({"graceful-restart timer restart 150",
                          "graceful-restart timer purge-time 480",
                          "timer keepalive 60 hold 180"})
    PEER_ID = _PEER_ID
    AF = "address-family "
    MEMBER_END = "(?: |$)"
    PEERS = "display bgp peer ipv4"
    ROUTER_ID = re.compile(r"BGP local router ID:\s*(\S+)")
    LOCAL_AS = re.compile(r"Local AS number:\s*(\d+)")
    PEERS_VERBOSE = "display bgp peer ipv4 verbose"
    VERBOSE_PEER = re.compile(r"\bPeer:\s*(\d+\.\d+\.\d+\.\d+)")
    REMOTE_ID = re.compile(r"remote router ID\s+(\S+)")

    ADVERTISED = re.compile(r"Advertised routes total:\s*(\d+)")
    VERSION = re.compile(r"Comware Software, Version (\S+, Release \S+)")
    MODEL_UPTIME = re.compile(r"^H3C (\S+) uptime is (.+)$", re.M)

    def _errors(self, lines: list[str]) -> list[str]:
        return [ln.strip() for ln in lines if _ERROR.match(ln) and not _SYSLOG.match(ln)]

    # ----- getters
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

    def _sent(self, address: str) -> int:
        """`display bgp routing-table ipv4 peer X advertised-routes statistics`."""
        try:
            text = self._command(f"display bgp routing-table ipv4 peer {address} "
                                 "advertised-routes statistics")
        except DriverError:
            return -1
        return int(m.group(1)) if (m := self.ADVERTISED.search(text)) else -1

    def get_facts(self) -> dict[str, Any]:
        """`display version` (no ntc-template: parsed here), `display device manuinfo`
        and `display interface brief` (ntc-templates)."""
        version = self._command("display version")
        model, uptime = "", 0.0
        if m := self.MODEL_UPTIME.search(version):
            model, uptime = m.group(1), float(uptime_seconds(m.group(2)))
        manu = ntc("hp_comware", "display device manuinfo",
                   self._command("display device manuinfo"))
        serial = next((r["device_serial_number"] for r in manu if r["device_serial_number"]), "")
        brief = ntc("hp_comware", "display interface brief",
                    self._command("display interface brief"))
        return facts(uptime=uptime, vendor="H3C", model=model, hostname=self._sysname(),
                     os_version=m.group(1) if (m := self.VERSION.search(version)) else "",
                     serial_number=serial, interface_list=[r["interface"] for r in brief])

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        if m := re.match(r"^peer (\d+\.\d+\.\d+\.\d+)(?: (\d{1,2}))? group (\S+)", line):
            net = ipaddress.IPv4Network(f"{m.group(1)}/{m.group(2) or 32}", strict=False)
            return net, m.group(3)
        return None

    # ----- commit
    def _leave(self) -> None:
        with contextlib.suppress(DriverError):
            self._send("return")

    def _apply(self, rem: HConfig, revert_in: int | None) -> None:
        prompt = self._system_view()
        try:
            if revert_in:
                minutes = max(1, math.ceil(revert_in / 60))
                self._push_line(f"configuration commit delay {minutes}", prompt, False)
                self._pending = True
            self._push(rem, prompt)
        finally:
            self._leave()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self._candidate is None:
            raise self._error(DriverError, "no candidate loaded")
        running = config_items(self._running())
        rem = self._remediation(running, self._candidate, self._names, self._merge)
        self._before = self._owned(running, self._names)
        self._before_names = set(self._names)
        self._expired = False
        count = sum(1 for _ in rem.all_children())
        log.info("%s: pushing %d lines%s", self.hostname, count,
                 f" (rollback in {revert_in}s unless confirmed)" if revert_in else "")
        if count:
            self._apply(rem, revert_in)
        if not revert_in:
            self._save()
        self.discard_config()

    def _save(self) -> None:
        out = self._command("save force", timeout=max(self.timeout, 120))
        if "success" not in out.lower() and "saved" not in out.lower():
            log.warning("%s: save force said: %s", self.hostname, out.strip()[-200:])

    def _device_pending(self) -> bool | None:
        """What the device says of its commit-delay timer; None if it cannot say."""
        text = self._display("display configuration commit delay")
        if text is None:
            return None
        return not ("no configuration commit delay" in text or "not set" in text)

    def confirm_commit(self) -> None:
        self._check_confirmable("commit-delay timer")
        prompt = self._system_view()
        try:
            self._push_line("configuration commit", prompt, False)
        finally:
            self._leave()
        self._pending = False
        self._save()

    def rollback(self) -> None:
        """Back to the owned config from before the last commit (and saved)."""
        if self._before is None:
            raise self._error(DriverError, "nothing to roll back to")
        running = config_items(self._running())
        rem = self._remediation(running, self._before, self._before_names)
        prompt = self._system_view()
        try:
            self._push(rem, prompt)
            if self._pending:
                self._push_line("configuration commit", prompt, False)
                self._pending = False
        finally:
            self._leave()
        self._save()
