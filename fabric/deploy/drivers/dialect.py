"""The part of a switch driver without I/O: a CLI's config text, the sections the
tool owns, the settings the device never shows, and the remediation hier_config
computes from them (`Dialect`); `UndoDialect` adds what CLIs that negate with
`undo`/`no` line by line share (Comware, VRP8). A platform's `dialect.py` builds on
these, and its pure `remediation(running, intended)` is what the driver's
`compare_config` shows for that running config: tested from files, no device.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import cached_property
from typing import Any, ClassVar

from hier_config import HConfig, get_hconfig
from hier_config.child import HConfigChild
from hier_config.models import MatchRule, OrderingRule, PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverBase, HConfigDriverRules

from fabric.deploy.drivers.errors import CandidateError
from fabric.deploy.secrets import replace_tokens

Items = list[tuple[int, str]]
PW_MARK = "(configured)"       # a key the device shows only as a cipher: compared on presence
PW_NEW = "(new)"               # a key to push although one is there (a rotation)


# ---------------------------------------------------------------------- secrets


def redact(text: str, secret: re.Pattern[str], secrets: Iterable[str] = ()) -> str:
    """Mask what follows a key word (`secret`'s group 1 is kept) and every known
    secret."""
    text = secret.sub(r"\1******", text)
    return replace_tokens(text, dict.fromkeys((s for s in secrets if s), "******"))


# ---------------------------------------------------------------------- config text


def sections(items: Items) -> list[Items]:
    """The items grouped by top-level line (each with the lines under it)."""
    out: list[Items] = []
    for depth, line in items:
        if depth == 0 or not out:
            out.append([(depth, line)])
        else:
            out[-1].append((depth, line))
    return out


# ---------------------------------------------------------------------- the dialect


class Dialect:
    """A switch CLI as text, without I/O: how its config reads (`config_items`),
    which top-level sections the tool owns (`owned_kind`), its key forms (`SECRET`),
    the settings it never shows (`DEFAULTS`), its hier_config driver, and the
    remediation from a running config to a candidate computed from those. A
    platform's dialect subclasses it; a driver derives from it (through
    `SwitchSession`, or from the platform's dialect class directly), so what the
    driver pushes is what the pure `remediation` computes from the same texts."""

    SECRET: ClassVar[re.Pattern[str]]           # (key word + space)(the secret)
    compare_is_diff: ClassVar[bool] = False     # compare_config gives the commands to push
    owned_text: ClassVar[str]                   # what is owned, for the refusal message
    # Lines in the BGP section that set the device's default: the device does not show
    # them, so a comparison drops them on both sides (else a plan never ends).
    DEFAULTS: ClassVar[frozenset[str]] = frozenset()
    INDENT: ClassVar[int] = 1                   # spaces per level in hier_config's text
    # Key values to push even where the device shows a key already (a rotation, on a
    # device that shows keys only as ciphers): `optional_args["rekey"]`.
    rekey: frozenset[str] = frozenset()
    # Lines that open a view even with nothing configured under it (VRP's `bfd`).
    EMPTY_VIEWS: ClassVar[frozenset[str]] = frozenset()
    hier_driver: ClassVar[type[HConfigDriverBase]]  # the hier_config driver class

    # Per vendor, the module's functions as `staticmethod(config_items)`.
    @staticmethod
    def config_items(text: str) -> Items:
        """A config text as (depth, line) items."""
        raise NotImplementedError

    @staticmethod
    def owned_kind(head: str) -> str | None:
        """The kind of an owned top-level line: "pl:NAME", another kind, or None."""
        raise NotImplementedError

    @cached_property
    def _hdriver(self) -> Any:
        """The hier_config driver, made once per object (a driver may set its own)."""
        return self.hier_driver()

    def remediation(self, running: str, intended: str) -> str:
        """The lines a replace of the owned sections of `running` by `intended` pushes,
        in push order and indented by view: what `compare_config` shows for that
        running config and candidate ("" when nothing changes). Raises CandidateError
        for an intended config that the driver would refuse to load."""
        items, names = self._check_candidate(self.config_items(intended))
        return self.compare(running, items, names)

    def compare(self, running: str, target: Items, names: set[str],
                merge: bool = False) -> str:
        """The remediation from a running config text to a loaded candidate, rendered."""
        return self._render(self._remediation(self.config_items(running), target, names,
                                              merge))

    def _check_candidate(self, items: Items) -> tuple[Items, set[str]]:
        """The candidate's items and the prefix-list names it owns. Refused
        (CandidateError, without the device's name): a line outside what this tool
        owns, or a text hier_config cannot read."""
        names: set[str] = set()
        foreign = []
        for section in sections(items):
            kind = self.owned_kind(section[0][1]) if section[0][0] == 0 else None
            if kind is None:
                foreign.append(section[0][1])
            elif kind.startswith("pl:"):
                names.add(kind[3:])
        if foreign:
            raise CandidateError(redact(
                "the candidate has lines outside what this tool owns "
                f"({self.owned_text}): " + "; ".join(repr(f) for f in foreign[:5]),
                self.SECRET))
        try:
            self._tree(items)
        except Exception as exc:    # a duplicate line, a section hier_config cannot read
            raise CandidateError(redact(f"the candidate cannot be read: {exc}",
                                        self.SECRET)) from None
        return items, names

    def _presence_only(self, line: str, path: list[str]) -> str | None:
        """A key line the device shows only as a cipher, in the form compared on
        presence (`... password (configured)`); None for any other line. `path` holds
        the lines of the views above it (per vendor; none by default)."""
        return None

    def _tree(self, items: Items, originals: dict[tuple[str, ...], str] | None = None
              ) -> HConfig:
        """hier_config tree of a config; key lines in their presence-only form, the
        original line kept in `originals` (by path) for the remediation to push."""
        lines = []
        path: list[str] = []
        for depth, line in items:
            del path[depth:]
            text = self._presence_only(line, path) or line
            if originals is not None and text != line and any(v in line for v in self.rekey):
                text = text.replace(PW_MARK, PW_NEW)    # differs from the running one
            path.append(text)
            if originals is not None and text != line:
                originals[tuple(path)] = line
            lines.append(" " * (self.INDENT * depth) + text)
        return get_hconfig(self._hdriver, "\n".join(lines))

    def _adjust(self, rem: HConfig, have: HConfig, want: HConfig, merge: bool) -> None:
        """Per vendor: what the device does that hier_config does not know (what a
        removal takes with it; a merge keeps only additions)."""

    def _remediation(self, running: Items, target: Items, names: set[str],
                     merge: bool = False) -> HConfig:
        """The lines that turn the owned sections of `running` into `target`, settings
        at the device's defaults left out of both, keys pushed as the candidate has them."""
        originals: dict[tuple[str, ...], str] = {}
        have = self._tree(self._without_defaults(self._owned(running, names)))
        want = self._tree(self._without_defaults(target), originals)
        rem = have.config_to_get_to(want)
        self._adjust(rem, have, want, merge)
        for child in rem.all_children():
            if (orig := originals.get(tuple(child.path()))) is not None:
                child.text = orig
        return rem.set_order_weight()

    @staticmethod
    def _render(rem: HConfig) -> str:
        """A remediation as the lines to push, in order, indented by view."""
        return "\n".join(c.cisco_style_text() for c in rem.all_children_sorted())

    def _without_defaults(self, items: Items) -> Items:
        """`items` less the leaf lines of the BGP section that are in `DEFAULTS`."""
        out: Items = []
        in_bgp = False
        for i, (depth, line) in enumerate(items):
            if depth == 0:
                in_bgp = self.owned_kind(line) == "bgp"
            leaf = i + 1 == len(items) or items[i + 1][0] <= depth
            if not (in_bgp and depth and leaf and line in self.DEFAULTS):
                out.append((depth, line))
        return out

    def _owned(self, items: Items, names: set[str]) -> Items:
        """The owned sections of a config: every owned kind but prefix lists, and the
        prefix lists named in `names`."""
        out: Items = []
        for section in sections(items):
            kind = self.owned_kind(section[0][1])
            if kind is not None and (not kind.startswith("pl:") or kind[3:] in names):
                out += section
        return out


# ---------------------------------------------------------------------- displays


def asn(text: str) -> int:
    """An AS number as a display shows it, asplain or asdot (`1.10` → 65546)."""
    hi, _, lo = text.partition(".")
    return int(hi) * 65536 + int(lo) if lo else int(hi)


def seconds(updown: str) -> int:
    """`08:30:47`, `0286h47m`, `12d03h`, `00h09m54s` → seconds (the forms seen in
    captures)."""
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    if m := re.fullmatch(r"(\d+)h(\d+)m(?:(\d+)s)?", updown):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    if m := re.fullmatch(r"(\d+)d(\d+)h", updown):
        return int(m[1]) * 86400 + int(m[2]) * 3600
    return 0


_UNIT = {"year": 31536000, "week": 604800, "day": 86400, "hour": 3600, "minute": 60,
         "second": 1}


def uptime_seconds(text: str) -> int:
    """`0 weeks, 1 day, 2 hours, 5 minutes` (a `display version` uptime) → seconds."""
    return sum(int(n) * _UNIT[unit] for n, unit in
               re.findall(r"(\d+)\s+(year|week|day|hour|minute|second)s?", text))


# ---------------------------------------------------------------------- hier_config


class ShortUndoMixin:
    """Put before a hier_config driver (which gives `negation_prefix`): `undo_forms` are
    (pattern on "undo <line>", replacement), the first match wins; `idempotent` are
    patterns whose groups say which earlier line a line overwrites in place."""

    undo_forms: ClassVar[list[tuple[re.Pattern[str], str]]] = []
    idempotent: ClassVar[list[re.Pattern[str]]] = []
    negation_prefix: str

    def swap_negation(self, child: HConfigChild) -> HConfigChild:
        if child.text.startswith(self.negation_prefix):
            child.text = child.text.removeprefix(self.negation_prefix)
            return child
        text = f"{self.negation_prefix}{child.text}"
        for pattern, repl in self.undo_forms:
            if pattern.match(text):
                text = pattern.sub(repl, text)
                break
        child.text = text
        return child

    def _idem_key(self, text: str) -> tuple[str, ...] | None:
        for pattern in self.idempotent:
            if m := pattern.match(text):
                return (pattern.pattern, *m.groups())
        return None

    def idempotent_for(self, config: HConfigChild,
                       other_children: Iterable[HConfigChild]) -> HConfigChild | None:
        key = self._idem_key(config.text)
        if key is None:
            return None
        for other in other_children:
            if other.text != config.text and self._idem_key(other.text) == key:
                return other
        return None


def hier_rules(*, comments: str, first: str | tuple[str, ...], last: tuple[str, ...],
               peer: str, af: str) -> HConfigDriverRules:
    """One space per level, comment lines (`comments`) and `return` dropped, and the push
    order: top-level lines starting with `first` (prefix lists...) before the BGP view,
    removals starting with `last` after it; in the BGP view deleted peers/groups first,
    then other undos, groups, peers (`peer` is the vendor's `peer X` pattern), their
    settings, and the address family (`af`) last."""
    def at(*rules: MatchRule, weight: int) -> OrderingRule:
        return OrderingRule(match_rules=rules, weight=weight)

    any_, bgp, family = (MatchRule(re_search="."), MatchRule(startswith="bgp "),
                         MatchRule(startswith=af))
    delete = rf"^undo (?:{peer}|group \S+)$"
    return HConfigDriverRules(
        indentation=1,
        per_line_sub=[PerLineSubRule(search=comments, replace=""),
                      PerLineSubRule(search=r"^return$", replace="")],
        # hier_config's default weight is 0 and the last matching rule wins:
        # everything starts at 500, then the rules below move lines earlier/later.
        ordering=[
            at(any_, weight=500), at(any_, any_, weight=500),
            at(any_, any_, any_, weight=500),
            at(MatchRule(startswith="undo bgp "), weight=100),
            at(MatchRule(startswith=first), weight=300),
            at(MatchRule(startswith=last), weight=700),
            at(bgp, MatchRule(re_search=delete), weight=100),
            at(bgp, MatchRule(startswith="undo "), weight=200),
            at(bgp, MatchRule(startswith="group "), weight=300),
            at(bgp, MatchRule(re_search=rf"^{peer} (?:as-number|group) "), weight=400),
            at(bgp, family, weight=600),
            at(bgp, family, MatchRule(startswith="undo "), weight=200),
        ],
    )


def _drop_negations(node: HConfig | HConfigChild) -> None:
    """Merge: keep only additions and overwrites; drop the views left empty."""
    for child in list(node.children):
        if child.text.startswith("undo "):
            child.delete()
            continue
        had = bool(child.children)
        _drop_negations(child)
        if had and not child.children and not child.new_in_config:
            child.delete()


# ---------------------------------------------------------------------- the dialect


class UndoDialect(Dialect):
    """The text of a CLI that configures with `undo` (see the module doc); a vendor's
    dialect sets the attributes below and the parsers of its displays."""

    # ----- device text
    PROMPT: ClassVar[str]                       # a prompt at the end of the output
    QUESTION: ClassVar[str]                     # a [Y/N] question at the end
    PROMPT_LINE: ClassVar[re.Pattern[str]]      # a line that is only a prompt
    PEER_ID: ClassVar[str]                      # pattern of X in `peer X ...`
    AF: ClassVar[str]                           # how the address-family view starts
    MEMBER_END: ClassVar[str]                   # what may follow `peer X group G`
    # ----- peer tables
    ROUTER_ID: ClassVar[re.Pattern[str]]        # in the summary
    LOCAL_AS: ClassVar[re.Pattern[str]]         # in the summary
    VERBOSE_PEER: ClassVar[re.Pattern[str]]     # starts a peer's block: group 1 address
    REMOTE_ID: ClassVar[re.Pattern[str]]        # the remote router ID in it

    def _errors(self, lines: list[str]) -> list[str]:
        """The device's error lines in an answer (per vendor)."""
        raise NotImplementedError

    def _summary_rows(self, text: str) -> list[dict[str, Any]]:
        """The rows of the vendor's peer table (per vendor: its ntc-template), each
        with address, remote_as, prefixes, uptime, state, msgs_in, msgs_out, out_q,
        dynamic."""
        raise NotImplementedError

    def _group_range(self, line: str) -> tuple[ipaddress.IPv4Network, str] | None:
        """(addresses, group) if a BGP-view line puts peers into a group (per vendor)."""
        raise NotImplementedError

    def _presence_only(self, line: str, path: list[str]) -> str | None:
        if m := re.match(rf"^(peer {self.PEER_ID}) password (?:simple|cipher) \S+$", line):
            return f"{m.group(1)} password {PW_MARK}"
        return None

    def _adjust(self, rem: HConfig, have: HConfig, want: HConfig, merge: bool) -> None:
        if merge:
            _drop_negations(rem)
        else:
            self._cascade(rem, have, want)

    def _peer_of(self, text: str) -> str | None:
        m = re.match(rf"^(?:undo )?peer ({self.PEER_ID}) ", text)
        return m.group(1) if m else None

    def _af(self, bgp: HConfigChild | None) -> HConfigChild | None:
        if bgp is None:
            return None
        return next((c for c in bgp.children if c.text.startswith(self.AF)), None)

    def _cascade(self, rem: HConfig, have: HConfig, want: HConfig) -> None:
        """After `undo peer X` / `undo group G` the device has dropped everything of X (or
        of G and its members): remove the now-pointless `undo peer X ...` lines, and push
        every wanted line of a peer or group that is being re-created."""
        rbgp, hbgp, wbgp = _bgp(rem), _bgp(have), _bgp(want)
        if rbgp is None or hbgp is None or wbgp is None or rbgp.text != hbgp.text:
            return
        gone: set[str] = set()
        for c in rbgp.children:
            if m := re.match(rf"^undo peer ({self.PEER_ID})$", c.text):
                gone.add(m.group(1))
            elif m := re.match(r"^undo group (\S+)$", c.text):
                group = m.group(1)
                gone.add(group)
                member = rf"^peer {self.PEER_ID} group {re.escape(group)}{self.MEMBER_END}"
                for h in hbgp.children:
                    if re.match(member, h.text):
                        gone.add(self._peer_of(h.text) or "")
        if not gone:
            return
        raf = self._af(rbgp)
        for view in (rbgp, raf):
            if view is None:
                continue
            for c in list(view.children):
                if c.text.startswith("undo peer ") and self._peer_of(c.text) in gone and \
                        not re.match(rf"^undo peer {self.PEER_ID}$", c.text):
                    c.delete()
        waf = self._af(wbgp)
        for peer in sorted(gone):
            for c in wbgp.children:
                if (self._peer_of(c.text) == peer or c.text.split()[:2] == ["group", peer]) \
                        and rbgp.children.get(c.text) is None:
                    rbgp.add_child(c.text).new_in_config = True
            if waf is None:
                continue
            for c in waf.children:
                if self._peer_of(c.text) == peer:
                    if raf is None:
                        raf = rbgp.add_child(waf.text)
                    if raf.children.get(c.text) is None:
                        raf.add_child(c.text).new_in_config = True
        if raf is not None and not raf.children:
            raf.delete()


# ---------------------------------------------------------------------- BGP sections


def _bgp(tree: HConfig | HConfigChild) -> HConfigChild | None:
    return next((c for c in tree.children if c.text.startswith("bgp ")), None)
