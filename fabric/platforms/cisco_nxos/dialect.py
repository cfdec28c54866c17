"""Cisco NX-OS as text, without I/O: how a config reads (two spaces per level), what
this tool owns on a switch (`feature bgp` and `feature bfd`, the global BFD timers,
the `router bgp` section with the BMP servers inside it, and the `ip prefix-list` and
`route-map` entries whose names the candidate contains), the key forms, the full
replace file NX-OS wants, the remediation hier_config computes, and the device's
answers the driver reads.

`remediation(running, intended)` is what the driver's `compare_config()` shows for
that running config (as `show running-config` prints it) and candidate:
`Platform.CISCO_NXOS`'s hier_config driver, adjusted (short `no` forms, settings that
overwrite in place, push order), between the owned sections; "" when they match.
NX-OS shows neighbor keys as `password 3 <cipher>`, so keys compare on presence only:
a changed key is not detected, a new or removed one is.
"""

from __future__ import annotations

import re

from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.cisco_nxos.driver import HConfigDriverCiscoNXOS
from hier_config.platforms.driver_base import HConfigDriverRules

from fabric import platforms
from fabric.deploy.drivers.dialect import PW_MARK, Dialect, Items, ShortUndoMixin, sections

PLATFORM = platforms.get("cisco_nxos")

# A key follows `password [type]` (neighbor keys, users) or `key-string`.
SECRET = re.compile(r"(\b(?:password|key-string|secret)\s+(?:\d\s+)?)(\S+)", re.IGNORECASE)
_ERROR_LINE = re.compile(r"^\s*%\s")
# The refused line in the answer of a configure replace / rollback (and its log).
REFUSED = re.compile(r"Syntax error while parsing '(.+)'")
# `show ip bgp neighbors`: the remote router ID, which ntc-templates leaves out.
REMOTE_ID = re.compile(
    r"^BGP neighbor is (\S+?),(?:.*\n)*?\s+BGP version \d+, remote router ID (\S+)", re.M)
LOCAL_AS = re.compile(r"local AS number (\d+)")            # in the summary
SUMMARY_HEAD = re.compile(r"^Neighbor\s+.*PfxRcd$", re.M)  # the summary's table header
CR_MIN, CR_MAX = 30, 3600          # the commit-timeout range [doc]
_VERBOSE_PEER = re.compile(r"^BGP neighbor is (\S+),")
_GR = re.compile(r"Graceful Restart capability:\s*(.*)", re.IGNORECASE)


def config_items(text: str) -> Items:
    """(depth, line) for every config line of an NX-OS text: two spaces per level;
    blank lines, `!` comments and the `version` line skipped."""
    out: Items = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("!") or stripped.startswith("version "):
            continue
        out.append(((len(line) - len(line.lstrip(" "))) // 2, " ".join(stripped.split())))
    return out


def owned_kind(head: str) -> str | None:
    """"feature" for `feature bgp`, "bgp" for `router bgp N`, "pl:NAME" for `ip
    prefix-list NAME ...`; and, owned only where the candidate has them as prefix
    lists are (BFD may serve other protocols too), "pl:feature bfd", "pl:bfd
    interval" for the global BFD timers and "pl:route-map NAME"; else None."""
    if head == "feature bgp":
        return "feature"
    if head == "feature bfd":
        return "pl:feature bfd"
    if head.startswith("bfd interval "):
        return "pl:bfd interval"
    if re.match(r"^router bgp \d+(?:\.\d+)?$", head):
        return "bgp"
    if m := re.match(r"^ip prefix-list (\S+) ", head):
        return f"pl:{m.group(1)}"
    if m := re.match(r"^route-map (\S+) ", head):
        return f"pl:route-map {m.group(1)}"
    return None


def _is_owned(kind: str | None, names: set[str]) -> bool:
    return kind in ("feature", "bgp") or (
        kind is not None and kind.startswith("pl:") and kind[3:] in names)


def _render_items(items: Items) -> list[str]:
    return ["  " * depth + line for depth, line in items]


def replace_file(running: str, candidate: Items, names: set[str]) -> str:
    """The running config with the owned sections swapped for the candidate's: other
    lines verbatim and in place; the candidate's `feature` lines after the last other
    `feature` line (or the header), its BFD timers, prefix lists, route maps and
    `router bgp` at the end."""
    blocks: list[list[str]] = []        # top-level line + its indented lines, verbatim
    kinds: list[str | None] = []
    for raw in running.splitlines():
        text = raw.rstrip()
        if text.startswith((" ", "\t")) and blocks and kinds[-1] != "text":
            blocks[-1].append(text)
            continue
        blocks.append([text])
        config = text.strip() and not text.startswith("!") and not text.startswith("version ")
        kinds.append(owned_kind(" ".join(text.split())) if config else "text")
        if config and kinds[-1] is None:
            kinds[-1] = "other"
    kept = [(b, k) for b, k in zip(blocks, kinds, strict=True) if not _is_owned(k, names)]
    feature: Items = []
    rest: Items = []
    for s in sections(candidate):
        if owned_kind(s[0][1]) in ("feature", "pl:feature bfd"):
            feature += s
    for s in sections(candidate):
        kind = owned_kind(s[0][1]) or ""
        if kind.startswith("pl:") and kind != "pl:feature bfd":
            rest += s
    for s in sections(candidate):
        if owned_kind(s[0][1]) == "bgp":
            rest += s
    at = 0
    for n, (block, block_kind) in enumerate(kept):
        if block_kind == "other" and block[0].startswith("feature "):
            at = n + 1
    if at == 0:
        for n, (block, _kind) in enumerate(kept):
            if block[0].startswith(("hostname ", "version ")):
                at = n + 1
    out = [ln for b, _ in kept[:at] for ln in b] + _render_items(feature) + \
        [ln for b, _ in kept[at:] for ln in b]
    while out and not out[-1].strip():
        out.pop()
    return "\n".join([*out, *_render_items(rest)]) + "\n"


def errors(answer: str) -> list[str]:
    """The `% ...` error lines of a device answer."""
    return [ln.strip() for ln in answer.splitlines() if _ERROR_LINE.match(ln)]


def commit_timeout(seconds: int) -> int:
    """A confirm timer clamped into the range of `configure replace ... commit-timeout`."""
    return min(CR_MAX, max(CR_MIN, int(seconds)))


def graceful_restart(verbose: str) -> dict[str, dict[str, bool]]:
    """address → {gr_adv, gr_rcv} from `show bgp ipv4 unicast neighbors`."""
    out: dict[str, dict[str, bool]] = {}
    cur: dict[str, bool] | None = None
    for line in verbose.splitlines():
        if m := _VERBOSE_PEER.match(line):
            cur = out.setdefault(m.group(1), {"gr_adv": False, "gr_rcv": False})
        elif cur is not None and (m := _GR.search(line)):
            how = m.group(1).lower()
            cur["gr_adv"] = "advertised" in how
            cur["gr_rcv"] = "received" in how
    return out


# ---------------------------------------------------------------------- hier_config

_SETTING = r"(remote-as|description|password|timers|maximum-prefix|maximum-peers|" \
           r"update-source|ebgp-multihop|router-id|cluster-id|timers bgp|address|" \
           r"graceful-restart restart-time|graceful-restart stalepath-time)"


class NxosHierDriver(ShortUndoMixin, HConfigDriverCiscoNXOS):
    """hier_config's NX-OS driver with NX-OS's short `no` forms for the BGP settings,
    the settings that overwrite in place (no `no` before them) and a push order that
    respects dependencies: `feature bgp` and prefix lists before `router bgp`; in it
    removals first, then settings, BMP servers, the address family, templates, and
    neighbors (which inherit templates) last; removals of prefix lists after it."""

    idempotent = [re.compile(p) for p in (
        r"^(ip prefix-list \S+ seq \d+) ",
        rf"^{_SETTING} ",
        r"^(maximum-paths) \d+$",
        r"^(maximum-paths ibgp) \d+$",
        r"^(prefix-list) \S+ (in|out)$",
        r"^(inherit peer) ",
    )]
    undo_forms = [(re.compile(p), r) for p, r in (
        (r"^no (ip prefix-list \S+ seq \d+) .*$", r"no \1"),
        (rf"^no {_SETTING} .*$", r"no \1"),
        (r"^no (maximum-paths(?: ibgp)?) \d+$", r"no \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        rules = HConfigDriverCiscoNXOS._instantiate_rules()

        def at(*match: MatchRule, weight: int) -> OrderingRule:
            return OrderingRule(match_rules=match, weight=weight)

        any_, bgp = MatchRule(re_search="."), MatchRule(startswith="router bgp ")
        no = MatchRule(startswith="no ")
        # The last matching rule wins; everything starts at 500.
        ordering = [
            at(any_, weight=500), at(any_, any_, weight=500),
            at(any_, any_, any_, weight=500), at(any_, any_, any_, any_, weight=500),
            at(MatchRule(startswith="feature "), weight=100),
            at(MatchRule(startswith="ip prefix-list "), weight=300),
            at(MatchRule(startswith="no ip prefix-list "), weight=700),
            at(MatchRule(startswith="no feature "), weight=800),
            at(MatchRule(startswith="no router bgp "), weight=400),
            at(bgp, any_, weight=200),
            at(bgp, MatchRule(startswith="bmp-server "), weight=300),
            at(bgp, MatchRule(startswith="address-family "), weight=350),
            at(bgp, MatchRule(startswith="template "), weight=400),
            at(bgp, MatchRule(startswith="neighbor "), weight=450),
            at(bgp, no, weight=150),
            at(bgp, MatchRule(re_search=r"^no template peer \S+$"), weight=120),
            at(bgp, MatchRule(re_search=r"^no neighbor \S+$"), weight=100),
            at(bgp, any_, MatchRule(startswith="remote-as "), weight=150),
            at(bgp, any_, MatchRule(startswith="inherit peer "), weight=160),
            at(bgp, any_, MatchRule(startswith="address-family "), weight=600),
            at(bgp, any_, no, weight=100),
            at(bgp, any_, any_, no, weight=100),
        ]
        return rules.model_copy(update={
            "per_line_sub": [PerLineSubRule(search=r"^\s*!.*", replace=""),
                             PerLineSubRule(search=r"^version .*", replace="")],
            "ordering": ordering})


# ---------------------------------------------------------------------- the dialect


class NxosDialect(Dialect):
    """NX-OS's config text, owned sections, defaults and remediation (see the module
    doc); the driver derives from it."""

    SECRET = SECRET
    INDENT = 2
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(owned_kind)
    owned_text = "feature bgp, feature bfd, bfd interval, router bgp, ip prefix-list, route-map"
    # Hidden unless `show running-config all` [2nd: NX-OS BGP configuration guide
    # defaults]: GR is on by default; `timers 60 180` also under neighbors/templates.
    # The descriptor's default lines.
    DEFAULTS = PLATFORM.shown_defaults()
    hier_driver = NxosHierDriver

    def _presence_only(self, line: str, path: list[str]) -> str | None:
        """A neighbor's or template's key: the switch shows it as a type-3 cipher."""
        if len(path) == 2 and path[0].startswith("router bgp ") and \
                re.match(r"^password (?:\d )?\S+$", line):
            return f"password {PW_MARK}"
        return None


_DIALECT = NxosDialect()


def remediation(running: str, intended: str) -> str:
    """The lines a push of `intended` sends to a switch whose `show running-config` is
    `running`: the driver's `compare_config()` for them. Raises CandidateError for an
    intended config the driver would refuse."""
    return _DIALECT.remediation(running, intended)
