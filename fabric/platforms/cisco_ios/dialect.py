"""Cisco IOS / IOS-XE as text, without I/O: how a config reads, what this tool owns
on a switch (the `router bgp` section, with the BMP servers inside it, and the `ip
prefix-list` entries whose names the candidate contains), the key forms, the replace
file, the remediation hier_config computes, and the regexes of the BGP displays.

`remediation(running, intended)` is what the driver's `compare_config()` shows for
that running config (as `show running-config` prints it) and candidate: hier_config's
CISCO_IOS driver with one-space indentation, IOS's short `no` forms, lines that
overwrite in place, and a dependency order (prefix lists, peer groups, neighbors, their
settings, the address family), in push order; "" when nothing changes.

Peer keys: a device with `service password-encryption` shows `password 7 <cipher>`;
type 7 is a published reversible encoding, so keys are compared decoded (a changed key
is detected). A key that cannot be decoded compares on presence only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

from hier_config import HConfig, get_hconfig
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.cisco_ios.driver import HConfigDriverCiscoIOS
from hier_config.platforms.driver_base import HConfigDriverRules

from fabric import platforms
from fabric.deploy.drivers.dialect import PW_MARK, Dialect, Items, ShortUndoMixin
from fabric.deploy.drivers.errors import CandidateError

PLATFORM = platforms.get("cisco_ios")

# `neighbor X password [0|7] K`, `username U secret 9 H`, `enable secret ...`.
SECRET = re.compile(r"(\b(?:password|secret)\s+(?:\d{1,2}\s+)?)(\S+)", re.IGNORECASE)
# A neighbor key, whole (it may hold spaces): (neighbor X) password [type] (key)
NB_PW = re.compile(r"^(neighbor \S+) password(?: ([07]))? (.+)$")
_XLAT = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_SKIP = ("exit-address-family", "exit-bmp-server-mode", "exit-peer-policy",
         "exit-peer-session", "end")
REVERT_MINUTES = (1, 120)         # `revert trigger error timer M`: whole minutes [doc]

# `show bgp ipv4 unicast summary`: a peer row (`*` before a dynamic peer) and the header.
ROW = re.compile(r"^(?P<dyn>\*)?(?P<addr>\d{1,3}(?:\.\d{1,3}){3})\s+\d+\s+(?P<as>[\d.]+)"
                 r"(?:\s+\S+){5}\s+(?P<updown>never|\d\S*)\s+(?P<state>\S.*?)\s*$")
LOCAL = re.compile(r"router identifier (\S+), local AS number ([\d.]+)")
# `show bgp ipv4 unicast neighbors`: a peer's block starts, its GR capability.
_VERBOSE_PEER = re.compile(r"^BGP neighbor is \*?(\d+\.\d+\.\d+\.\d+),")
_GR = re.compile(r"Graceful Restart Capability:\s*(.*)")
_DESCRIPTION = re.compile(r"^neighbor (\S+) description (.+)$")


def untype7(cipher: str) -> str | None:
    """Decode Cisco's (reversible, published) type 7 encoding; None if it is not one."""
    try:
        seed = int(cipher[:2])
        data = bytes.fromhex(cipher[2:])
    except ValueError:
        return None
    if not data or seed > 15:
        return None
    return "".join(chr(b ^ ord(_XLAT[(seed + i) % len(_XLAT)])) for i, b in enumerate(data))


def config_items(text: str) -> Items:
    """(depth, line) for every config line of an IOS text (show running-config or our
    template): one space per level; `!` comments, `end`, the display header and the
    `exit-...` lines that close sub-modes are dropped."""
    out: Items = []
    for raw in text.splitlines():
        line = raw.rstrip()
        s = line.strip()
        if not s or s.startswith("!") or s in _SKIP or \
                s.startswith(("Building configuration", "Current configuration")):
            continue
        out.append((len(line) - len(line.lstrip(" ")), " ".join(s.split())))
    return out


def owned_kind(head: str) -> str | None:
    """"bgp" for `router bgp N`, "pl:NAME" for `ip prefix-list NAME ...`, else None."""
    if re.match(r"^router bgp \S+$", head):
        return "bgp"
    if m := re.match(r"^ip prefix-list (\S+) ", head):
        return f"pl:{m.group(1)}"
    return None


def revert_minutes(seconds: int) -> int:
    """A confirm timer in seconds as IOS's revert timer: whole minutes, rounded up and
    clamped into its range."""
    low, high = REVERT_MINUTES
    return min(high, max(low, math.ceil(seconds / 60)))


def replace_text(running: str, candidate: str, names: set[str]) -> str:
    """The full replace file: `running` with its owned sections (router bgp, the
    prefix lists named in `names`) swapped for the candidate's owned lines, where the
    first of them was; everything else verbatim."""
    cand = [ln.rstrip() for ln in candidate.splitlines()
            if ln.strip() and ln.strip() != "end" and not
            (ln[:1] == "!" and not ln.strip("! "))]
    out: list[str] = []
    inserted, skip = False, False
    for raw in running.replace("\r", "").splitlines():
        s = raw.strip()
        top = bool(s) and raw[:1] not in (" ", "\t")
        if top and s == "end":
            break
        if top and not s.startswith("!"):
            kind = owned_kind(" ".join(s.split()))
            skip = kind == "bgp" or (kind is not None and kind[3:] in names)
            if skip and not inserted:
                out += cand
                inserted = True
        elif top:
            skip = False
        if not skip:
            out.append(raw.rstrip())
    if not inserted:
        out += ["!", *cand]
    return "\n".join([*out, "!", "end", ""])


def refused(answer: str) -> tuple[str, str]:
    """(line, message) of the first line a failed `configure replace` lists between
    `********` markers (a `%` line is the message for the line before it); ("", "")
    when it lists none."""
    body = answer.replace("\r", "")
    if m := re.search(r"\*{4,}\n(.*?)\n\*{4,}", body, re.S):
        rows = [r for r in m.group(1).splitlines() if r.strip()]
        for i, row in enumerate(rows):
            if not row.lstrip().startswith("%"):
                msg = next((r.strip() for r in rows[i + 1:i + 2]
                            if r.lstrip().startswith("%")), "")
                return row.strip(), msg
    return "", ""


def is_refusal(answer: str) -> bool:
    """Whether the answer to a `configure replace` / `configure revert` is a failure."""
    low = answer.lower()
    return "error" in low or "failed" in low or "invalid input" in low or \
        "not a valid config file" in low


def graceful_restart(verbose: str) -> dict[str, tuple[bool, bool]]:
    """address → (GR advertised, GR received) from `show bgp ipv4 unicast neighbors`."""
    out: dict[str, tuple[bool, bool]] = {}
    cur = ""
    for line in verbose.splitlines():
        if m := _VERBOSE_PEER.match(line):
            cur = m.group(1)
            out[cur] = (False, False)
        elif cur and (m := _GR.search(line)):
            how = m.group(1).lower()
            out[cur] = ("advertised" in how, "received" in how)
    return out


def descriptions(items: Items) -> dict[str, str]:
    """neighbor (address or group) → its description in a config."""
    return {m.group(1): m.group(2) for _, line in items if (m := _DESCRIPTION.match(line))}


# ---------------------------------------------------------------------- hier_config

_NB = r"neighbor \S+"


def _rule(*rules: MatchRule, weight: int) -> OrderingRule:
    return OrderingRule(match_rules=rules, weight=weight)


class IosHierDriver(ShortUndoMixin, HConfigDriverCiscoIOS):
    """hier_config's CISCO_IOS driver with one-space indentation, IOS's short `no`
    forms, the BGP lines that overwrite in place, and a dependency order."""

    idempotent = [re.compile(p) for p in (
        r"^(bgp router-id) ",
        r"^(bgp cluster-id) ",
        r"^(timers bgp) ",
        r"^(bgp graceful-restart (?:restart-time|stalepath-time)) ",
        r"^(bgp listen limit) ",
        rf"^({_NB}) (remote-as|description|password|ttl-security|update-source|timers"
        r"|bmp-activate|maximum-prefix|ebgp-multihop) ",
        rf"^({_NB}) prefix-list \S+ (in|out)$",
        r"^(maximum-paths(?: ibgp)?) \d+$",
        r"^(address|description|initial-delay|failure-retry-delay|flapping-delay"
        r"|stats-reporting-period) ",
    )]

    undo_forms = [(re.compile(p), r) for p, r in (
        (r"^no (neighbor \d+\.\d+\.\d+\.\d+) remote-as \S+$", r"no \1"),
        (rf"^no ({_NB}) (description|password|ttl-security|update-source|timers"
         r"|bmp-activate|maximum-prefix|ebgp-multihop) .*$", r"no \1 \2"),
        (r"^no (ip prefix-list \S+ seq \d+) .*$", r"no \1"),
        (r"^no (bgp router-id|bgp cluster-id|timers bgp|bgp listen limit"
         r"|bgp graceful-restart restart-time|bgp graceful-restart stalepath-time) .*$",
         r"no \1"),
    )]

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        base = HConfigDriverCiscoIOS._instantiate_rules()
        any_, bgp = MatchRule(re_search="."), MatchRule(startswith="router bgp ")
        ordering = [
            _rule(any_, weight=500), _rule(any_, any_, weight=500),
            _rule(any_, any_, any_, weight=500),
            _rule(MatchRule(startswith="no router bgp "), weight=100),
            _rule(MatchRule(startswith="ip prefix-list "), weight=300),
            _rule(MatchRule(startswith="no ip prefix-list "), weight=700),
            _rule(bgp, MatchRule(re_search=r"^no neighbor \S+(?: peer-group)?$"), weight=100),
            _rule(bgp, MatchRule(startswith="no "), weight=200),
            _rule(bgp, MatchRule(re_search=rf"^{_NB} peer-group$"), weight=300),
            _rule(bgp, MatchRule(re_search=rf"^{_NB} (?:remote-as|peer-group) \S+$"),
                  weight=400),
            _rule(bgp, MatchRule(startswith="bgp listen range "), weight=450),
            _rule(bgp, MatchRule(startswith="bmp server "), weight=550),
            _rule(bgp, MatchRule(startswith="address-family "), weight=600),
            _rule(bgp, MatchRule(startswith="address-family "), MatchRule(startswith="no "),
                  weight=200),
        ]
        return base.model_copy(update={
            "indentation": 1,
            "idempotent_commands": [],          # `idempotent_for` above decides
            "per_line_sub": [*base.per_line_sub,
                             PerLineSubRule(search=r"^\s*exit-bmp-server-mode", replace="")],
            "ordering": ordering,
        })


# ---------------------------------------------------------------------- the dialect


class IosDialect(Dialect):
    """IOS's config text, owned sections, defaults and remediation (see the module doc);
    the driver derives from it."""

    SECRET = SECRET
    config_items = staticmethod(config_items)
    owned_kind = staticmethod(owned_kind)
    owned_text = "router bgp, ip prefix-list"
    # Not written into the running config when default (IOS's NVGEN) [2nd: Cisco IOS
    # BGP configuration guides]: the descriptor's default lines.
    DEFAULTS = PLATFORM.shown_defaults()
    hier_driver = IosHierDriver

    def _check_candidate(self, items: Items) -> tuple[Items, set[str]]:
        items, names = super()._check_candidate(items)
        if sum(1 for _, line in items if owned_kind(line) == "bgp") > 1:
            raise CandidateError("the candidate has more than one router bgp")
        return items, names

    @staticmethod
    def _opaque(items: Items) -> set[str]:
        """The neighbors whose key the device shows in a form that cannot be decoded."""
        return {m.group(1) for _, line in items
                if (m := NB_PW.match(line)) and m.group(2) == "7"
                and untype7(m.group(3)) is None}

    def _tree(self, items: Items, originals: dict[tuple[str, ...], str] | None = None
              ) -> HConfig:
        """The tree a candidate is checked with; keys are compared decoded, not by
        `originals` (unused: `_remediation` below keeps none)."""
        return self._keyed_tree(items, frozenset())

    def _keyed_tree(self, items: Items, opaque: Collection[str]) -> HConfig:
        """hier_config tree; a peer key shown as `password 7 C` (or `password 0 K`) is
        compared decoded (`password K`); the key of a neighbor in `opaque` (one the
        device shows undecodable) as `password (configured)`: presence only."""
        lines = []
        for depth, line in items:
            text = line
            if m := NB_PW.match(line):
                plain = m.group(3)
                if m.group(2) == "7":
                    plain = untype7(plain) or ""
                if m.group(1) in opaque or not plain:
                    plain = PW_MARK
                text = f"{m.group(1)} password {plain}"
            lines.append(" " * depth + text)
        return get_hconfig(self._hdriver, "\n".join(lines))

    def _remediation(self, running: Items, target: Items, names: set[str],
                     merge: bool = False) -> HConfig:
        if merge:       # the driver refuses merge candidates: none reaches here
            raise CandidateError("merge is not supported")
        owned = self._without_defaults(self._owned(running, names))
        opaque = self._opaque(owned)
        have = self._keyed_tree(owned, opaque)
        rem = have.config_to_get_to(self._keyed_tree(self._without_defaults(target), opaque))
        self._cascade(rem)
        return rem.set_order_weight()

    @staticmethod
    def _cascade(rem: HConfig) -> None:
        """`no neighbor X` / `no neighbor G peer-group` remove everything of X (or G):
        drop the other `no neighbor X ...` lines."""
        bgp = next((c for c in rem.children if c.text.startswith("router bgp ")), None)
        if bgp is None:
            return
        gone = {m.group(1) for c in bgp.children
                if (m := re.match(r"^no neighbor (\S+)(?: peer-group)?$", c.text))}
        if not gone:
            return
        views = [bgp, *(c for c in bgp.children if c.text.startswith("address-family "))]
        for view in views:
            for c in list(view.children):
                m = re.match(r"^no neighbor (\S+) ", c.text)
                if m and m.group(1) in gone and c.text != f"no neighbor {m.group(1)} peer-group":
                    c.delete()
        for view in views[1:]:
            if not view.children:
                view.delete()


_DIALECT = IosDialect()


def remediation(running: str, intended: str) -> str:
    """The lines a push of `intended` sends to a switch whose `show running-config` is
    `running`: the driver's `compare_config()` for them. Raises CandidateError for an
    intended config the driver would refuse."""
    return _DIALECT.remediation(running, intended)
