"""IPAM: rack AS numbers, rack pod pools, node blocks, ToR–core /31s, router ids.

Allocations live in `inventory/state/ipam.yaml` (kept in git). A stored
allocation never moves while it stays valid; new items are allocated in name
order so the result does not depend on the order of the model file. Items gone
from the model keep their allocation (reserved) until `prune=True`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import Path
from .model import Model

STATE_FILE = "ipam.yaml"
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SECTIONS = ("rack_asns", "rack_pools", "node_blocks", "links", "router_ids")


class PrefixPool:
    """Equal-size children of a prefix, handed out lowest free first."""

    def __init__(self, parent: IPv4Network, length: int, skip_first: bool = False):
        self.parent = parent
        self.length = length
        self.base = int(parent.network_address)
        self.step = 1 << (32 - length)
        self.count = 1 << (length - parent.prefixlen) if length >= parent.prefixlen else 0
        self.used: set[int] = {0} if skip_first and self.count > 1 else set()
        self._cursor = 0

    def index(self, net: IPv4Network) -> int | None:
        """Index of `net` as a child of this pool, or None if it is not one."""
        if net.prefixlen != self.length or not net.subnet_of(self.parent):
            return None
        return (int(net.network_address) - self.base) // self.step

    def reserve(self, net: IPv4Network) -> bool:
        i = self.index(net)
        if i is None or i in self.used:
            return False
        self.used.add(i)
        return True

    def release(self, net: IPv4Network) -> None:
        i = self.index(net)
        if i is not None:
            self.used.discard(i)
            self._cursor = min(self._cursor, i)

    def take(self) -> IPv4Network | None:
        while self._cursor < self.count and self._cursor in self.used:
            self._cursor += 1
        if self._cursor >= self.count:
            return None
        self.used.add(self._cursor)
        return IPv4Network((self.base + self._cursor * self.step, self.length))

    @property
    def free(self) -> int:
        return self.count - len(self.used)


class NumberPool:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.used: set[int] = set()
        self._cursor = lo

    def reserve(self, n: int) -> bool:
        if not self.lo <= n <= self.hi or n in self.used:
            return False
        self.used.add(n)
        return True

    def take(self) -> int | None:
        while self._cursor <= self.hi and self._cursor in self.used:
            self._cursor += 1
        if self._cursor > self.hi:
            return None
        self.used.add(self._cursor)
        return self._cursor

    @property
    def free(self) -> int:
        return self.hi - self.lo + 1 - len(self.used)


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


def link_key(tor: str, core: str) -> str:
    return f"{tor}~{core}"


def _is_network(value: Any) -> bool:
    try:
        return isinstance(value, str) and "/" in value and bool(IPv4Network(value))
    except ValueError:
        return False


def _is_address(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(IPv4Address(value))
    except ValueError:
        return False


# What each state section holds: (check, words for the error).
_ENTRY = {
    "rack_asns": (lambda v: type(v) is int and 1 <= v <= 4294967294, "an AS number"),
    "rack_pools": (_is_network, "a prefix such as 172.16.0.0/20"),
    "node_blocks": (lambda v: isinstance(v, list) and all(map(_is_network, v)),
                    "a list of prefixes"),
    "links": (_is_network, "a /31 prefix"),
    "router_ids": (_is_address, "an IPv4 address"),
}


def load_state(state_dir: FsPath) -> dict[str, dict[str, Any]]:
    """The stored allocations; a hand-edited file that went wrong is bad input (exit 2)."""
    from .schema import describe
    from .yamlsource import load_yaml

    file = state_dir / STATE_FILE
    if not file.exists():
        return {s: {} for s in SECTIONS}
    data, diag = load_yaml(file)
    if not isinstance(data, dict) or data.get("version") != 1:
        diag.add(("version",), "expected an IPAM state file with version: 1")
        diag.raise_if_errors()
    out: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        body = data.get(section) or {}
        if not isinstance(body, dict):
            diag.add((section,), f"expected a mapping of names to allocations, found "
                                 f"{describe(body)}")
            continue
        ok, words = _ENTRY[section]
        for key, value in body.items():
            if not ok(value):
                diag.add((section, key), f"expected {words}, found {describe(value)}")
        out[section] = dict(body)
    diag.raise_if_errors()
    return out


def dump_state(model: Model, state: dict[str, dict[str, Any]]) -> str:
    head = (f"# IPAM state of fabric {model.name}: written by `fabric render`, kept in git.\n"
            "# Allocations here never move; remove an entry only with `fabric render --prune`.\n")
    body: dict[str, Any] = {"version": 1}
    for s in SECTIONS:
        body[s] = {k: state[s][k] for k in sorted(state[s])}
    return head + yaml.dump(body, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                            width=120)


def write_state(state_dir: FsPath, text: str) -> bool:
    """Atomic write; returns False when the file already holds `text`."""
    file = state_dir / STATE_FILE
    if file.exists() and file.read_text() == text:
        return False
    state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(file, text)
    return True


def atomic_write(file: FsPath, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; these are plain shared files
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, file)
    except BaseException:
        FsPath(tmp).unlink(missing_ok=True)
        raise


def allocate(model: Model, stored: dict[str, dict[str, Any]], prune: bool = False) -> Allocation:
    """Allocate everything the model leaves open; raise `InputError` on exhaustion."""
    return _Allocator(model, stored, prune).run()


class _Allocator:
    def __init__(self, model: Model, stored: dict[str, dict[str, Any]], prune: bool):
        self.m = model
        self.stored = stored
        self.prune = prune
        self.out = Allocation(state={s: {} for s in SECTIONS})

    def problem(self, path: Path, message: str) -> None:
        self.m.diag.add(path, message)

    def run(self) -> Allocation:
        self._asns()
        self._rack_pools()
        self._node_blocks()
        self._links()
        self._router_ids()
        self.m.diag.raise_if_errors()
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

    # --- rack AS numbers -------------------------------------------------
    def _asns(self) -> None:
        m = self.m
        lo, hi = m.pools.rack_asns or (1, 0)
        pool = NumberPool(lo, hi)
        for c in m.cores:
            pool.reserve(c.asn)
        racks = {r.name: r for r in m.racks}
        explicit = {r.name for r in m.racks if r.tor.asn is not None}
        for r in m.racks:
            if r.tor.asn is not None:
                pool.reserve(r.tor.asn)
                self.out.rack_asns[r.name] = r.tor.asn
                self._clash("rack_asns", r.name, r.tor.asn, (*r.tor.path, "asn"), "AS number",
                            explicit)
        for key, asn in sorted(self.stored["rack_asns"].items()):
            r = racks.get(key)
            if r is not None and r.tor.asn is not None:
                continue  # explicit value wins; the stored one is released
            if not self._keep_or_drop("rack_asns", key, r is not None):
                pool.reserve(asn)
                continue
            if pool.reserve(asn):
                self.out.rack_asns[key] = asn
                self.out.state["rack_asns"][key] = asn
        for name in sorted(r.name for r in m.racks if r.name not in self.out.rack_asns):
            asn = pool.take()
            if asn is None:
                self.problem(("pools", "rack_asns"), f"rack AS range exhausted: rack {name} "
                             f"needs 1 AS number, 0 left in {lo}-{hi}")
                continue
            self.out.rack_asns[name] = asn
            self.out.state["rack_asns"][name] = asn
            self.out.changes.append(f"allocated rack_asns {name}: {asn}")

    # --- rack pod pools --------------------------------------------------
    def _rack_pools(self) -> None:
        m = self.m
        p = m.pools
        if p.pod is None:
            return
        pool = PrefixPool(p.pod, p.rack_prefix_length)
        racks = {r.name: r for r in m.racks}
        for r in m.racks:
            if r.pod_pool is not None:
                pool.reserve(r.pod_pool)
                self.out.rack_pools[r.name] = r.pod_pool
        for key, text in sorted(self.stored["rack_pools"].items()):
            net = IPv4Network(text)
            r = racks.get(key)
            if r is not None and r.pod_pool is not None:
                if r.pod_pool != net:
                    self.out.changes.append(f"replaced rack_pools {key}: {net} → {r.pod_pool}")
                continue
            if not self._keep_or_drop("rack_pools", key, r is not None):
                pool.reserve(net)
                continue
            if pool.reserve(net):
                self.out.rack_pools[key] = net
                self.out.state["rack_pools"][key] = str(net)
            else:
                self.out.changes.append(f"dropped rack_pools {key}: {net} (no longer valid)")
        self._explicit_pool_clashes(racks)
        missing = sorted(r.name for r in m.racks if r.name not in self.out.rack_pools)
        for i, name in enumerate(missing):
            net = pool.take()
            if net is None:
                self.problem(racks[name].path, f"pod supernet {p.pod} exhausted: rack {name} "
                             f"needs a /{p.rack_prefix_length} rack pool, 0 left "
                             f"({len(missing) - i} rack(s) without one)")
                break
            self.out.rack_pools[name] = net
            self.out.state["rack_pools"][name] = str(net)
            self.out.changes.append(f"allocated rack_pools {name}: {net}")

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
        m = self.m
        p = m.pools
        if p.pod is None:
            return
        pools = {name: PrefixPool(net, p.block_prefix_length)
                 for name, net in self.out.rack_pools.items()}
        nodes = {n.name: n for r in m.racks for n in r.nodes}
        kept: dict[str, list[IPv4Network]] = {}
        for key, texts in sorted(self.stored["node_blocks"].items()):
            blocks = [IPv4Network(t) for t in texts]
            n = nodes.get(key)
            if not self._keep_or_drop("node_blocks", key, n is not None):
                for b in blocks:
                    for pl in pools.values():
                        pl.reserve(b)
                continue
            pool = pools.get(n.rack)
            mine = [b for b in blocks if pool is not None and pool.reserve(b)]
            if len(mine) < len(blocks):
                self.out.changes.append(f"dropped node_blocks {key}: "
                                        f"{[str(b) for b in blocks if b not in mine]} "
                                        f"(outside rack {n.rack} pool)")
            if len(mine) > n.pod_blocks and self.prune:
                for b in mine[n.pod_blocks:]:
                    pool.release(b)
                self.out.changes.append(f"released node_blocks {key}: "
                                        f"{[str(b) for b in mine[n.pod_blocks:]]}")
                mine = mine[:n.pod_blocks]
            elif len(mine) > n.pod_blocks:
                self.out.reserved.append(f"node_blocks {key}: {len(mine) - n.pod_blocks} "
                                         "extra block(s)")
            kept[key] = mine
        for r in sorted(m.racks, key=lambda r: r.name):
            pool = pools.get(r.name)
            if pool is None:
                continue
            need = sum(max(0, n.pod_blocks - len(kept.get(n.name, []))) for n in r.nodes)
            if need > pool.free:
                self.problem((*r.path, "nodes"), f"rack {r.name} pod pool {pool.parent} "
                             f"exhausted: needs {need} more /{p.block_prefix_length} block(s), "
                             f"{pool.free} left")
                continue
            for n in sorted(r.nodes, key=lambda n: n.name):
                blocks = kept.get(n.name, [])
                added = [pool.take() for _ in range(n.pod_blocks - len(blocks))]
                if added:
                    self.out.changes.append(f"allocated node_blocks {n.name}: "
                                            f"{[str(b) for b in added]}")
                blocks = blocks + added
                self.out.state["node_blocks"][n.name] = [str(b) for b in blocks]
                self.out.node_blocks[n.name] = tuple(blocks[:n.pod_blocks])

    # --- ToR–core links --------------------------------------------------
    def _links(self) -> None:
        m = self.m
        if m.pools.links is None:
            return
        pool = PrefixPool(m.pools.links, 31)
        wanted = sorted(link_key(r.tor.name, up) for r in m.racks for up in r.tor.uplinks)
        self._simple("links", wanted, pool, ("pools", "links"), "ToR–core /31 link")

    # --- router ids ------------------------------------------------------
    def _router_ids(self) -> None:
        m = self.m
        if m.pools.loopbacks is None:
            return
        pool = PrefixPool(m.pools.loopbacks, 32, skip_first=True)
        given: dict[str, tuple[IPv4Address | None, Path]] = {
            c.name: (c.router_id, c.path) for c in m.cores}
        for r in m.racks:
            given[r.tor.name] = (r.tor.router_id, r.tor.path)
            given.update({s.name: (s.router_id, s.path) for s in r.rr_switches})
        explicit = {k for k, (rid, _) in given.items() if rid is not None}
        for name in sorted(explicit):
            rid, path = given[name]
            pool.reserve(IPv4Network(rid))
            self.out.router_ids[name] = rid
            self._clash("router_ids", name, str(rid), (*path, "router_id"), "router id",
                        explicit)
        wanted = sorted(k for k in given if k not in explicit)
        self._simple("router_ids", wanted, pool, ("pools", "loopbacks"), "router id", explicit)

    def _simple(self, section: str, wanted: list[str], pool: PrefixPool, path: Path,
                what: str, explicit: set[str] = frozenset()) -> None:
        """One prefix per key from one pool (links, router ids); keys in `explicit`
        have a value in the model that replaces their stored one."""
        for key, text in sorted(self.stored[section].items()):
            net = IPv4Network(text if "/" in str(text) else f"{text}/32")
            if key in explicit:
                if str(self.out.router_ids.get(key)) != str(text):
                    self.out.changes.append(f"replaced {section} {key}: {text} → "
                                            f"{self.out.router_ids[key]}")
                continue
            if not self._keep_or_drop(section, key, key in wanted):
                pool.reserve(net)
                continue
            if pool.reserve(net):
                self._record(section, key, net)
            else:
                self.out.changes.append(f"dropped {section} {key}: {text} (no longer valid)")
        missing = [k for k in wanted if k not in self.out.state[section]]
        for i, key in enumerate(missing):
            net = pool.take()
            if net is None:
                label = key.replace("~", "–")
                self.problem(path, f"{pool.parent} exhausted: {label} needs a {what}, 0 left "
                             f"({len(missing) - i} still without one)")
                return
            self._record(section, key, net)
            self.out.changes.append(f"allocated {section} {key}: {self.out.state[section][key]}")

    def _record(self, section: str, key: str, net: IPv4Network) -> None:
        if section == "links":
            self.out.links[key] = net
            self.out.state[section][key] = str(net)
        else:
            self.out.router_ids[key] = net.network_address
            self.out.state[section][key] = str(net.network_address)
