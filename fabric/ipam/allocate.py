"""IPAM: rack AS numbers, rack pod pools, node blocks, ToR–core /31s, router ids.

Allocations live in `inventory/state/ipam.yaml` (kept in git). A stored
allocation never moves: a change of the model that would move one (a renamed
rack, node or switch, a changed prefix length or pool, an explicit value over
an allocated one) is refused unless `renumber=True`. New items are allocated in
name order so the result does not depend on the order of the model file. Items
gone from the model keep their allocation (reserved) until `prune=True`.

Beside the allocations the state records what they were made for (`racks`:
subnet and ToR, `nodes`: address and rack, `switches`: management address), so
that a renamed item is recognised by what did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from socket import inet_aton
from typing import Any

from fabric.errors import Path
from fabric.ipam.moves import find_renames, rename_problem, renumbered_line
from fabric.ipam.pools import NumberPool, PrefixPool
from fabric.ipam.state import LIFE, SECTIONS
from fabric.model.types import Core, Model


@dataclass
class Allocation:
    """Every number the model did not spell out, plus what changed in the state."""

    rack_asns: dict[str, int] = field(default_factory=dict)
    rack_pools: dict[str, IPv4Network] = field(default_factory=dict)
    node_blocks: dict[str, tuple[IPv4Network, ...]] = field(default_factory=dict)
    links: dict[str, IPv4Network] = field(default_factory=dict)
    router_ids: dict[str, IPv4Address] = field(default_factory=dict)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    reserved: list[str] = field(default_factory=list)
    renumbered: list[str] = field(default_factory=list)   # moves asked for with renumber


@dataclass(frozen=True)
class Cause:
    """Why stored allocations would move: a problem at `path` of the model."""

    path: Path
    head: str      # "expected …, found …"
    hint: str      # how to keep them, or to move them on purpose


@dataclass(frozen=True)
class Move:
    section: str
    key: str
    old: Any
    cause: Cause


def link_key(tor: str, core: str) -> str:
    return f"{tor}~{core}"


def allocate(model: Model, stored: dict[str, dict[str, Any]], prune: bool = False,
             renumber: bool = False) -> Allocation:
    """Allocate everything the model leaves open; raise `InputError` on exhaustion,
    and on any change that would move a stored allocation unless `renumber`."""
    renames = find_renames(model, stored)
    if renames and not renumber:
        diag = model.diag.fresh()
        for r in renames:
            diag.add(r.path, rename_problem(r))
        diag.raise_if_errors()
    alloc = _Allocator(model, stored, prune, renumber).run()
    lines = [renumbered_line(r) for r in renames]
    alloc.renumbered[:0] = lines
    alloc.changes += lines
    return alloc


# What a moved value is called in a problem, per section.
_WORDS = {"rack_asns": "rack AS number", "rack_pools": "rack pool", "node_blocks": "node",
          "links": "link /31", "router_ids": "router id"}
_SHOWN = 3           # moves named in a problem; the rest are counted


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listing(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class _Allocator:
    def __init__(self, model: Model, stored: dict[str, dict[str, Any]], prune: bool,
                 renumber: bool = False):
        self.m = model
        self.stored = stored
        self.prune = prune
        self.renumber = renumber
        self.out = Allocation(state={s: {} for s in (*SECTIONS, LIFE)})
        self.moves: list[Move] = []
        self.pool_causes: dict[str, Cause] = {}     # rack → why its pool moves
        self.life: dict[str, Any] = {}              # block_states, as node blocks read them
        # IPAM's own problems, located in the model file (the model stays as loaded).
        self.diag = model.diag.fresh()

    def problem(self, path: Path, message: str) -> None:
        self.diag.add(path, message)

    def run(self) -> Allocation:
        self._asns()
        self._rack_pools()
        self._node_blocks()
        self._links()
        self._router_ids()
        self._identity()
        self._settle_moves()
        self.diag.raise_if_errors()
        return self.out

    def _keep_or_drop(self, section: str, key: str, wanted: bool) -> bool:
        """For a stored key no longer in the model: keep it reserved unless pruning."""
        if wanted:
            return True
        if self.prune:
            self.out.changes.append(f"released {section} {key}: {self.stored[section][key]}")
        else:
            self.out.state[section][key] = self.stored[section][key]
            self.out.reserved.append(f"{section} {key}")
        return False

    # --- moves: refused, or with renumber listed ---------------------------
    def _moved(self, section: str, key: str, old: Any, cause: Cause) -> None:
        self.moves.append(Move(section, key, old, cause))

    def _pinned(self, section: str, key: str, old: Any, given: Any, cause: Cause) -> None:
        """An explicit value where the state holds an allocation: the same value keeps
        the entry (it stays if the explicit value is removed again), another one moves,
        even onto a value the state holds for someone else (two explicit values swapped
        move both; a clash with an allocated one is reported instead, see _settle_moves)."""
        if str(given) == str(old):
            self.out.state[section][key] = old
        else:
            self._moved(section, key, old, cause)

    def _now(self, section: str, key: str) -> Any:
        if section == "node_blocks":
            return self.out.state[section].get(key)
        value = getattr(self.out, section).get(key)
        return None if value is None else (value if section == "rack_asns" else str(value))

    def _settle_moves(self) -> None:
        if self.renumber:
            # A moved key's new value is said once: renumbered, not also allocated.
            moved = {f"allocated {mv.section} {mv.key}" for mv in self.moves}
            self.out.changes = [c for c in self.out.changes
                                if c.split(": ", 1)[0] not in moved]
            lines = [self._renumbered(mv) for mv in sorted(
                self.moves, key=lambda mv: (SECTIONS.index(mv.section), mv.key))]
            self.out.renumbered += lines
            self.out.changes += lines
            return
        if self.diag.errors:
            return      # moves that follow from a clash or an exhaustion would be noise
        groups: dict[Cause, list[Move]] = {}
        for mv in self.moves:
            groups.setdefault(mv.cause, []).append(mv)
        for cause, moves in groups.items():
            self.problem(cause.path, f"{cause.head}: {self._summary(moves)} would move "
                                     f"({self._examples(moves)}); {cause.hint}")

    def _renumbered(self, mv: Move) -> str:
        now = self._now(mv.section, mv.key)
        if not now:
            return f"renumbered {mv.section} {mv.key}: {mv.old} released, none allocated anew"
        return f"renumbered {mv.section} {mv.key}: {mv.old} → {now}"

    @staticmethod
    def _summary(moves: list[Move]) -> str:
        counts = {s: sum(1 for mv in moves if mv.section == s) for s in SECTIONS}
        parts = [(f"the pod blocks of {_plural(n, 'node')}" if s == "node_blocks"
                  else _plural(n, _WORDS[s])) for s, n in counts.items() if n]
        return _listing(parts)

    def _examples(self, moves: list[Move]) -> str:
        shown = []
        for mv in sorted(moves, key=lambda mv: (SECTIONS.index(mv.section), mv.key))[:_SHOWN]:
            owner = {"rack_asns": f"rack {mv.key} AS", "rack_pools": f"rack {mv.key} pool",
                     "node_blocks": f"node {mv.key}", "links": f"link {mv.key.replace('~', '–')}",
                     "router_ids": f"{mv.key} router id"}[mv.section]
            now = self._now(mv.section, mv.key)
            shown.append(f"{owner} {mv.old}" + ("" if now is None else f" → {now}"))
        more = len(moves) - len(shown)
        return ", ".join(shown) + (f", and {more} more" if more > 0 else "")

    # --- what the allocations were made for --------------------------------
    def _identity(self) -> None:
        m = self.m
        now: dict[str, dict[str, Any]] = {
            "racks": {r.name: {"subnet": str(r.subnet), "tor": r.tor.name} for r in m.racks},
            "nodes": {n.name: {"ip": str(n.ip), "rack": r.name} for r in m.racks for n in r.nodes},
            "switches": {c.name: str(c.mgmt) for c in m.cores},
        }
        for r in m.racks:
            now["switches"][r.tor.name] = str(r.tor.mgmt)
            now["switches"].update({s.name: str(s.mgmt) for s in r.rr_switches})
        for section, records in now.items():
            gone = {} if self.prune else {k: v for k, v in self.stored.get(section, {}).items()
                                          if k not in records}
            self.out.state[section] = {**gone, **records}

    # --- rack AS numbers -------------------------------------------------
    def _asns(self) -> None:
        m = self.m
        lo, hi = m.pools.rack_asns or (1, 0)
        pool = NumberPool(lo, hi)
        cores: dict[int, Core] = {}
        for c in m.cores:
            pool.reserve(c.asn)
            cores.setdefault(c.asn, c)
        racks = {r.name: r for r in m.racks}
        explicit = {r.name for r in m.racks if r.tor.asn is not None}
        claimed = {r.tor.asn for r in m.racks if r.tor.asn is not None}
        for r in m.racks:
            if r.tor.asn is not None:
                pool.reserve(r.tor.asn)
                self.out.rack_asns[r.name] = r.tor.asn
                self._clash("rack_asns", r.name, r.tor.asn, (*r.tor.path, "asn"), "AS number",
                            explicit)
        for key, asn in sorted(self.stored["rack_asns"].items()):
            rack = racks.get(key)
            if rack is not None and rack.tor.asn is not None:
                self._pinned("rack_asns", key, asn, rack.tor.asn, Cause(
                    (*rack.tor.path, "asn"), f"expected {asn}, the AS allocated to rack {key} in "
                    f"the IPAM state, found {rack.tor.asn}",
                    f"remove tor.asn or set it to {asn}, or render with --renumber to move it"))
                continue
            if not self._keep_or_drop("rack_asns", key, rack is not None):
                pool.reserve(asn)
                continue
            if pool.reserve(asn):
                self.out.rack_asns[key] = asn
                self.out.state["rack_asns"][key] = asn
            elif asn not in claimed:       # claimed: the clash is reported as such
                self._moved("rack_asns", key, asn, self._asn_cause(key, asn, cores))
        for name in sorted(r.name for r in m.racks if r.name not in self.out.rack_asns):
            asn = pool.take()
            if asn is None:
                self.problem(("pools", "rack_asns"), f"rack AS range exhausted: rack {name} "
                             f"needs 1 AS number, 0 left in {lo}-{hi}")
                continue
            self.out.rack_asns[name] = asn
            self.out.state["rack_asns"][name] = asn
            self.out.changes.append(f"allocated rack_asns {name}: {asn}")

    def _asn_cause(self, key: str, asn: int, cores: dict[int, Any]) -> Cause:
        lo, hi = self.m.pools.rack_asns or (1, 0)
        again = "or render with --renumber to allocate anew"
        if asn in cores:
            c = cores[asn]
            return Cause((*c.path, "asn"), f"expected an AS not allocated to a rack, found {asn}, "
                         f"the AS of rack {key} in the IPAM state",
                         f"give core {c.name} another AS, {again}")
        if not lo <= asn <= hi:
            return Cause(("pools", "rack_asns"), "expected a range holding the rack AS numbers "
                         f"in the IPAM state, found {lo}-{hi}", f"widen the range, {again}")
        return self._generic("rack_asns", self.m.rack(key).path)

    @staticmethod
    def _generic(section: str, path: Path) -> Cause:
        """A stored value that fits its pool and still cannot be kept: held twice
        (a hand-edited state file)."""
        return Cause(path, f"expected each {_WORDS[section]} once in the IPAM state, found one "
                     "held twice", "fix the state file, or render with --renumber to allocate "
                     "anew")

    # --- rack pod pools --------------------------------------------------
    def _rack_pools(self) -> None:
        m = self.m
        p = m.pools
        pool = PrefixPool(p.pod, p.rack_prefix_length)
        racks = {r.name: r for r in m.racks}
        for r in m.racks:
            if r.pod_pool is not None:
                pool.reserve(r.pod_pool)
                self.out.rack_pools[r.name] = r.pod_pool
        claimed = {r.pod_pool for r in m.racks if r.pod_pool is not None}
        for key, text in sorted(self.stored["rack_pools"].items()):
            net = IPv4Network(text)
            rack = racks.get(key)
            if rack is not None and rack.pod_pool is not None:
                cause = Cause((*rack.path, "pod_pool"), f"expected {net}, the pool allocated to "
                              f"rack {key} in the IPAM state, found {rack.pod_pool}",
                              f"remove pod_pool or set it to {net}, or render with --renumber "
                              "to move it")
                if rack.pod_pool != net:
                    self.pool_causes[key] = cause
                self._pinned("rack_pools", key, text, rack.pod_pool, cause)
                continue
            if not self._keep_or_drop("rack_pools", key, rack is not None):
                if not pool.reserve(net):
                    pool.block(net)
                continue
            if pool.reserve(net):
                self.out.rack_pools[key] = net
                self.out.state["rack_pools"][key] = str(net)
            elif net not in claimed:       # claimed: the clash is reported as such
                self.pool_causes[key] = self._pool_cause(key, net, racks)
                self._moved("rack_pools", key, text, self.pool_causes[key])
        self._explicit_pool_clashes(racks)
        missing = sorted(r.name for r in m.racks if r.name not in self.out.rack_pools)
        for i, name in enumerate(missing):
            taken = pool.take()
            if taken is None:
                self.problem(racks[name].path, f"pod supernet {p.pod} exhausted: rack {name} "
                             f"needs a /{p.rack_prefix_length} rack pool, 0 left "
                             f"({len(missing) - i} rack(s) without one)")
                break
            self.out.rack_pools[name] = taken
            self.out.state["rack_pools"][name] = str(taken)
            self.out.changes.append(f"allocated rack_pools {name}: {taken}")

    def _pool_cause(self, key: str, net: IPv4Network, racks: dict[str, Any]) -> Cause:
        p = self.m.pools
        again = "or render with --renumber to allocate anew"
        if net.prefixlen != p.rack_prefix_length:
            return Cause(("pools", "pod", "rack_prefix_length"),
                         f"expected {net.prefixlen}, the length of the rack pools in the IPAM "
                         f"state, found {p.rack_prefix_length}",
                         f"keep {net.prefixlen}, {again}")
        if p.pod is not None and not net.subnet_of(p.pod):
            return Cause(("pools", "pod", "supernet"), "expected a supernet holding the rack "
                         f"pools in the IPAM state, found {p.pod}",
                         f"keep one that holds them, {again}")
        over = next((r for r in racks.values() if r.pod_pool and r.pod_pool.overlaps(net)), None)
        if over is not None:
            return Cause((*over.path, "pod_pool"), "expected a pool clear of the rack pools in "
                         f"the IPAM state, found {over.pod_pool}, overlapping rack {key}'s {net}",
                         f"choose another pool, {again}")
        return self._generic("rack_pools", racks[key].path)

    def _explicit_pool_clashes(self, racks: dict[str, Any]) -> None:
        for r in racks.values():
            if r.pod_pool:
                self._clash("rack_pools", r.name, str(r.pod_pool), (*r.path, "pod_pool"),
                            "rack pool", {k for k, o in racks.items() if o.pod_pool})

    def _clash(self, section: str, me: str, value: object, path: Path, what: str,
               explicit: set[str]) -> None:
        """An explicit value must not take what the state holds for someone else
        (whose own allocation would otherwise move, silently)."""
        kind = "" if section == "router_ids" else "rack "
        for owner, held in self.stored[section].items():
            if held == value and owner != me and owner not in explicit:
                self.problem(path, f"{kind}{me}: expected a free {what}, found {value} "
                                   f"allocated to {kind}{owner} in the IPAM state")

    # --- node blocks -----------------------------------------------------
    def _node_blocks(self) -> None:
        """A node holds the blocks the state gives it, at least its pod_blocks. Blocks
        above that count stay announced until `fabric ipam rebalance` finds them empty
        and releases them: an address may be in use, so neither a smaller pod_blocks nor
        --prune takes a block from a node still in the model. A withdrawn block is held
        (never handed out again) but not the node's to use."""
        m = self.m
        p = m.pools
        if p.pod is None:
            return
        pools = {name: PrefixPool(net, p.block_prefix_length)
                 for name, net in self.out.rack_pools.items()}
        nodes = {n.name: n for r in m.racks for n in r.nodes}
        self.life = life = dict(self.stored.get(LIFE, {}))
        kept: dict[str, list[IPv4Network]] = {}
        kept_texts: dict[str, list[str]] = {}      # the same blocks as the state spells them
        for key, texts in sorted(self.stored["node_blocks"].items()):
            blocks = [_network(t) for t in texts]
            n = nodes.get(key)
            if n is None:       # no longer in the model
                self._keep_or_drop("node_blocks", key, wanted=False)
                self._keep_life(texts, kept=not self.prune)
                for b in blocks:
                    for pl in pools.values():
                        if not pl.reserve(b):
                            pl.block(b)
                continue
            pool = pools.get(n.rack)
            if pool is None:
                continue        # the rack has no pool: its exhaustion is reported
            mine = [b for b in blocks if pool.reserve(b)]
            if len(mine) < len(blocks):
                self._moved("node_blocks", key, texts, self._block_cause(n, blocks))
            kept[key] = mine
            kept_texts[key] = list(texts) if len(mine) == len(blocks) else list(map(str, mine))
        # Kept as networks: a str() per block and lookup costs seconds at 80,000 nodes.
        withdrawn = {IPv4Network(b) for b, v in life.items() if "withdrawn" in v}

        def active(name: str) -> list[IPv4Network]:
            held = kept.get(name, [])
            return [b for b in held if b not in withdrawn] if withdrawn else held

        for r in sorted(m.racks, key=lambda r: r.name):
            pool = pools.get(r.name)
            if pool is None:
                continue
            for n in r.nodes:       # below pod_blocks: its withdrawn blocks come back first
                back = [b for b in kept.get(n.name, []) if b in withdrawn]
                while back and len(active(n.name)) < n.pod_blocks:
                    b = back.pop()
                    del life[str(b)]
                    withdrawn.discard(b)
                    self.out.changes.append(f"reinstated node_blocks {n.name}: {b} (withdrawn, "
                                            f"and the node needs {n.pod_blocks})")
            need = sum(max(0, n.pod_blocks - len(active(n.name))) for n in r.nodes)
            if need > pool.free:
                self.problem((*r.path, "nodes"), f"rack {r.name} pod pool {pool.parent} "
                             f"exhausted: needs {need} more /{p.block_prefix_length} block(s), "
                             f"{pool.free} left")
                continue
            for n in sorted(r.nodes, key=lambda n: n.name):
                added = [pool.take_checked()
                         for _ in range(n.pod_blocks - len(active(n.name)))]
                if added:
                    self.out.changes.append(f"allocated node_blocks {n.name}: "
                                            f"{[str(b) for b in added]}")
                texts = kept_texts.get(n.name, [])
                self._keep_life(texts, kept=True)
                self.out.state["node_blocks"][n.name] = texts + [str(b) for b in added]
                self.out.node_blocks[n.name] = (*active(n.name), *added)

    def _keep_life(self, blocks: list[str], kept: bool) -> None:
        """Carry the rebalance record of blocks still held."""
        if kept:
            self.out.state[LIFE].update({b: self.life[b] for b in blocks if b in self.life})

    def _block_cause(self, n: Any, blocks: list[IPv4Network]) -> Cause:
        p = self.m.pools
        again = "or render with --renumber to allocate anew"
        if n.rack in self.pool_causes:
            return self.pool_causes[n.rack]      # its rack's pool moves, and the blocks with it
        if any(b.prefixlen != p.block_prefix_length for b in blocks):
            old = next(b.prefixlen for b in blocks if b.prefixlen != p.block_prefix_length)
            return Cause(("pools", "pod", "block_prefix_length"),
                         f"expected {old}, the length of the node blocks in the IPAM state, "
                         f"found {p.block_prefix_length}", f"keep {old}, {again}")
        home = next((k for k, t in sorted(self.stored["rack_pools"].items())
                     if k != n.rack and any(b.subnet_of(IPv4Network(t)) for b in blocks)), None)
        if home is not None:
            return Cause((*n.path, "name"), f"expected node {n.name} in rack {home}, whose pool "
                         f"holds its pod blocks in the IPAM state, found it in rack {n.rack}",
                         f"move it back, {again}")
        return self._generic("node_blocks", n.path)

    # --- ToR–core links --------------------------------------------------
    def _links(self) -> None:
        m = self.m
        pool = PrefixPool(m.pools.links, 31)
        wanted = sorted(link_key(r.tor.name, up) for r in m.racks for up in r.tor.uplinks)
        self._simple("links", wanted, pool, ("pools", "links"), "ToR–core /31 link")

    # --- router ids ------------------------------------------------------
    def _router_ids(self) -> None:
        m = self.m
        pool = PrefixPool(m.pools.loopbacks, 32, skip_first=True)
        given: dict[str, tuple[IPv4Address | None, Path]] = {
            c.name: (c.router_id, c.path) for c in m.cores}
        for r in m.racks:
            given[r.tor.name] = (r.tor.router_id, r.tor.path)
            given.update({s.name: (s.router_id, s.path) for s in r.rr_switches})
        pinned = {k: (rid, path) for k, (rid, path) in given.items() if rid is not None}
        explicit = {k: (*path, "router_id") for k, (_, path) in pinned.items()}
        for name in sorted(pinned):
            rid, path = pinned[name]
            pool.reserve(IPv4Network(rid))
            self.out.router_ids[name] = rid
            self._clash("router_ids", name, str(rid), (*path, "router_id"), "router id",
                        set(explicit))
        wanted = sorted(k for k in given if k not in explicit)
        self._simple("router_ids", wanted, pool, ("pools", "loopbacks"), "router id", explicit)

    def _simple(self, section: str, wanted: list[str], pool: PrefixPool, path: Path,
                what: str, explicit: dict[str, Path] | None = None) -> None:
        """One prefix per key from one pool (links, router ids); keys in `explicit`
        have a value in the model (at that path) that replaces their stored one."""
        explicit = explicit or {}
        claimed = {str(self.out.router_ids[k]) for k in explicit}
        for key, text in sorted(self.stored[section].items()):
            net = IPv4Network(text if "/" in str(text) else f"{text}/32")
            if key in explicit:
                self._pinned(section, key, text, self.out.router_ids[key], Cause(
                    explicit[key], f"expected {text}, the router id allocated to {key} in the "
                    f"IPAM state, found {self.out.router_ids[key]}",
                    f"remove router_id or set it to {text}, or render with --renumber to "
                    "move it"))
                continue
            if not self._keep_or_drop(section, key, key in wanted):
                if not pool.reserve(net):
                    pool.block(net)
                continue
            if pool.reserve(net):
                self._record(section, key, net)
            elif str(text) not in claimed:       # a clash is reported as such
                self._moved(section, key, text, self._simple_cause(section, key, net, pool, path))
        missing = [k for k in wanted if k not in self.out.state[section]]
        for i, key in enumerate(missing):
            taken = pool.take()
            if taken is None:
                label = key.replace("~", "–")
                self.problem(path, f"{pool.parent} exhausted: {label} needs a {what}, 0 left "
                             f"({len(missing) - i} still without one)")
                return
            self._record(section, key, taken)
            self.out.changes.append(f"allocated {section} {key}: {self.out.state[section][key]}")

    def _simple_cause(self, section: str, key: str, net: IPv4Network, pool: PrefixPool,
                      path: Path) -> Cause:
        if not net.subnet_of(pool.parent):
            words = "link /31s" if section == "links" else "router ids"
            return Cause(path, f"expected a prefix holding the {words} in the IPAM state, "
                         f"found {pool.parent}", "keep one that holds them, or render with "
                         "--renumber to allocate anew")
        return self._generic(section, path)

    def _record(self, section: str, key: str, net: IPv4Network) -> None:
        if section == "links":
            self.out.links[key] = net
            self.out.state[section][key] = str(net)
        else:
            self.out.router_ids[key] = net.network_address
            self.out.state[section][key] = str(net.network_address)


def _network(text: str) -> IPv4Network:
    """A prefix the state file was checked to hold (`state._PREFIX`, host bits zero),
    from its bytes: IPv4Network's parse of the text costs seconds at 80,000 nodes."""
    address, _, length = text.partition("/")
    return IPv4Network((inet_aton(address), int(length)))
