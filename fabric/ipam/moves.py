"""Renamed racks, nodes and switches: recognised by what did not change, carried over.

An item that is new by name but matches one that is gone from the model and
holds allocations (by subnet, address or management address, or by an explicit
value equal to one allocated to the gone item) is a rename. So is an item whose
name the state holds for something else (its record there: another subnet,
address or management address) when it matches another item of the state: the
name would take over the allocations of the one it was named before. Rendering it as it
stands would give it new numbers and keep the old ones reserved, so `allocate`
refuses it (`find_renames`), unless asked to renumber; `rename_in_state` carries
the allocations over to the new name (`fabric ipam rename`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path as FsPath
from typing import Any, NoReturn

from fabric.errors import InputError, Path, Problem, format_path
from fabric.ipam.state import SECTIONS, STATE_FILE, dump_state, load_state, write_state
from fabric.model.source import load_yaml
from fabric.model.types import Model

State = dict[str, dict[str, Any]]
Holding = tuple[str, str, Any]           # (section, key, value)
KINDS = ("rack", "node", "switch")
_SHOWN = 6                               # names listed when OLD is not in the state


@dataclass(frozen=True)
class Rename:
    kind: str                            # rack | node | switch
    old: str
    new: str
    path: Path                           # where the new name is written in the model
    reason: str                          # "has the subnet 10.2.2.0/24 of rack 'r02'"
    held: tuple[Holding, ...]            # what the old one holds
    nodes: tuple[tuple[str, str], ...] = ()   # renamed nodes a rack rename carries along
    taken: tuple[Holding, ...] = ()      # what the state holds under the new name already
    was: str = ""                        # "subnet 10.2.4.0/24": what those were made for
    now_named: str | None = None         # the model's name of that item, if it is still there


# --- what the state holds for an item -------------------------------------

def _ident(stored: State, section: str) -> dict[str, Any]:
    return stored.get(section, {})


def _tor_of(stored: State, rack: str, model: Model | None = None) -> str:
    """The ToR name a rack's allocations are stored under."""
    if rack in _ident(stored, "racks"):
        return _ident(stored, "racks")[rack]["tor"]
    in_model = {r.name: r for r in model.racks} if model else {}
    return in_model[rack].tor.name if rack in in_model else f"{rack}-tor"


def switch_holdings(stored: State, name: str) -> list[Holding]:
    out: list[Holding] = []
    if name in stored["router_ids"]:
        out.append(("router_ids", name, stored["router_ids"][name]))
    out += [("links", k, v) for k, v in sorted(stored["links"].items()) if name in k.split("~")]
    return out


def rack_holdings(stored: State, rack: str, model: Model | None = None) -> list[Holding]:
    out = [(s, rack, stored[s][rack]) for s in ("rack_asns", "rack_pools") if rack in stored[s]]
    return out + switch_holdings(stored, _tor_of(stored, rack, model))


def node_holdings(stored: State, node: str) -> list[Holding]:
    blocks = stored["node_blocks"].get(node)
    return [("node_blocks", node, blocks)] if blocks is not None else []


def describe(held: tuple[Holding, ...] | list[Holding]) -> str:
    """`AS 65102, pod pool 172.16.16.0/20, router id 10.254.0.4, 2 link /31s`."""
    parts = []
    for section, _, value in held:
        if section == "rack_asns":
            parts.append(f"AS {value}")
        elif section == "rack_pools":
            parts.append(f"pod pool {value}")
        elif section == "router_ids":
            parts.append(f"router id {value}")
        elif section == "node_blocks":
            parts.append(f"pod blocks {', '.join(value)}")
    links = sum(1 for s, _, _ in held if s == "links")
    if links:
        parts.append(f"{links} link /31{'s' if links != 1 else ''}")
    return ", ".join(parts)


# --- finding renames --------------------------------------------------------

def find_renames(model: Model, stored: State) -> list[Rename]:
    racks = _rack_renames(model, stored)
    carried = {new for r in racks for _, new in r.nodes}
    tors = {model.rack(r.new).tor.name for r in racks}
    nodes = [n for n in _node_renames(model, stored) if n.new not in carried]
    switches = [s for s in _switch_renames(model, stored) if s.new not in tors]
    return racks + nodes + switches


def _stored_racks(stored: State) -> set[str]:
    return set(stored["rack_asns"]) | set(stored["rack_pools"]) | set(_ident(stored, "racks"))


def _stored_nodes(stored: State) -> set[str]:
    return set(stored["node_blocks"]) | set(_ident(stored, "nodes"))


def _stored_switches(stored: State) -> set[str]:
    linked = {part for k in stored["links"] for part in k.split("~")}
    return set(stored["router_ids"]) | linked | set(_ident(stored, "switches"))


def _renamed_over(records: dict[str, Any], field: str | None,
                  model_items: dict[str, str]) -> set[str]:
    """Names in the model whose record in the state (`field` of it, or the record
    itself) says they were made for another subnet, address or management address."""
    return {name for name, now in model_items.items() if name in records
            and (records[name] if field is None else records[name][field]) != now}


def _taken(stored: State, kind: str, name: str, field: str | None, words: str,
           held: list[Holding], model_items: dict[str, str]) -> dict[str, Any]:
    """The Rename fields for a name that already holds allocations of another item."""
    if not held:
        return {}
    record = _ident(stored, f"{kind}es" if kind == "switch" else f"{kind}s")[name]
    was = record if field is None else record[field]
    now_named = next((n for n, v in sorted(model_items.items()) if v == was), None)
    return {"taken": tuple(held), "was": f"{words} {was}", "now_named": now_named}


def _rack_renames(model: Model, stored: State) -> list[Rename]:
    known = _stored_racks(stored)
    subnets = {r.name: str(r.subnet) for r in model.racks}
    over = _renamed_over(_ident(stored, "racks"), "subnet", subnets)
    gone = [g for g in sorted((known - set(subnets)) | over) if rack_holdings(stored, g)]
    out: list[Rename] = []
    for r in sorted((r for r in model.racks if r.name not in known or r.name in over),
                    key=lambda r: r.name):
        for g in (g for g in gone if g != r.name):
            reason = _rack_reason(r, g, stored)
            if reason:
                taken = _taken(stored, "rack", r.name, "subnet", "subnet",
                               rack_holdings(stored, r.name) if r.name in over else [], subnets)
                out.append(Rename("rack", g, r.name, (*r.path, "name"), reason,
                                  tuple(rack_holdings(stored, g)), _carried(model, r, g, stored),
                                  **taken))
                gone.remove(g)
                break
    return out


def _rack_reason(r: Any, g: str, stored: State) -> str | None:
    ident = _ident(stored, "racks").get(g, {})
    tor = _tor_of(stored, g)
    if ident.get("subnet") == str(r.subnet):
        return f"has the subnet {r.subnet} of rack '{g}'"
    if _ident(stored, "switches").get(tor) == str(r.tor.mgmt):
        return f"has the ToR management address {r.tor.mgmt} of rack '{g}'"
    if r.tor.asn is not None and stored["rack_asns"].get(g) == r.tor.asn:
        return f"has the AS {r.tor.asn} of rack '{g}'"
    if r.pod_pool is not None and stored["rack_pools"].get(g) == str(r.pod_pool):
        return f"has the pod pool {r.pod_pool} of rack '{g}'"
    if r.tor.router_id is not None and stored["router_ids"].get(tor) == str(r.tor.router_id):
        return f"has the ToR router id {r.tor.router_id} of rack '{g}'"
    kept = sorted(n.name for n in r.nodes if _node_was_in(stored, n.name, g))
    if kept:
        return f"holds node{'s' if len(kept) > 1 else ''} {', '.join(kept)} of rack '{g}'"
    return None


def _node_was_in(stored: State, node: str, rack: str) -> bool:
    """Whether the state has `node` in `rack`: its record says so, or (a state written
    before the records) its pod blocks lie in the rack's pool."""
    record = _ident(stored, "nodes").get(node)
    if record is not None:
        return record["rack"] == rack
    pool, blocks = stored["rack_pools"].get(rack), stored["node_blocks"].get(node)
    if not pool or not blocks:
        return False
    return all(IPv4Network(b).subnet_of(IPv4Network(pool)) for b in blocks)


def _carried(model: Model, r: Any, g: str, stored: State) -> tuple[tuple[str, str], ...]:
    """Nodes of rack `r` renamed along with it: new by name (or by a name the state
    holds for another address), with the address of a node of the gone rack `g`
    that holds pod blocks."""
    addresses = _node_addresses(model)
    over = _renamed_over(_ident(stored, "nodes"), "ip", addresses)
    known = _stored_nodes(stored) - over
    by_ip = {v["ip"]: k for k, v in sorted(_ident(stored, "nodes").items())
             if v["rack"] == g and (k not in addresses or k in over)
             and k in stored["node_blocks"]}
    return tuple((by_ip[str(n.ip)], n.name) for n in sorted(r.nodes, key=lambda n: n.name)
                 if n.name not in known and by_ip.get(str(n.ip), n.name) != n.name)


def _node_addresses(model: Model) -> dict[str, str]:
    return {n.name: str(n.ip) for r in model.racks for n in r.nodes}


def _node_renames(model: Model, stored: State) -> list[Rename]:
    present = {n.name: n for r in model.racks for n in r.nodes}
    addresses = _node_addresses(model)
    over = _renamed_over(_ident(stored, "nodes"), "ip", addresses)
    known = _stored_nodes(stored)
    by_ip = {v["ip"]: k for k, v in sorted(_ident(stored, "nodes").items())
             if (k not in present or k in over) and k in stored["node_blocks"]}
    out = []
    for name in sorted((set(present) - known) | over):
        n = present[name]
        old = by_ip.pop(str(n.ip), None)
        if old is not None:
            taken = _taken(stored, "node", name, "ip", "address",
                           node_holdings(stored, name) if name in over else [], addresses)
            out.append(Rename("node", old, name, (*n.path, "name"),
                              f"has the address {n.ip} of node '{old}'",
                              tuple(node_holdings(stored, old)), **taken))
    return out


def _model_switches(model: Model) -> list[tuple[str, str, Any, Path]]:
    """(name, management address, explicit router id, path) of every switch."""
    out = [(c.name, str(c.mgmt), c.router_id, c.path) for c in model.cores]
    for r in model.racks:
        out.append((r.tor.name, str(r.tor.mgmt), r.tor.router_id, r.tor.path))
        out += [(s.name, str(s.mgmt), s.router_id, s.path) for s in r.rr_switches]
    return out


def _switch_renames(model: Model, stored: State) -> list[Rename]:
    switches = _model_switches(model)
    addresses = {s[0]: s[1] for s in switches}
    mgmt = _ident(stored, "switches")
    over = _renamed_over(mgmt, None, addresses)
    known = _stored_switches(stored)
    gone = [g for g in sorted((known - set(addresses)) | over) if switch_holdings(stored, g)]
    out = []
    for name, address, rid, path in sorted(s for s in switches
                                           if s[0] not in known or s[0] in over):
        for g in (g for g in gone if g != name):
            if mgmt.get(g) == address:
                reason = f"has the management address {address} of switch '{g}'"
            elif rid is not None and stored["router_ids"].get(g) == str(rid):
                reason = f"has the router id {rid} of switch '{g}'"
            else:
                continue
            taken = _taken(stored, "switch", name, None, "management address",
                           switch_holdings(stored, name) if name in over else [], addresses)
            out.append(Rename("switch", g, name, (*path, "name"), reason,
                              tuple(switch_holdings(stored, g)), **taken))
            gone.remove(g)
            break
    return out


def rename_problem(r: Rename) -> str:
    carry = ""
    if r.nodes:
        carry = (" (which carries its renamed nodes too: "
                 + ", ".join(f"{a} → {b}" for a, b in r.nodes) + ")")
    head = f"{r.kind} '{r.new}' {r.reason}, which holds allocations ({describe(r.held)})"
    rename = f"`fabric ipam rename {r.kind} {r.old} {r.new}`{carry}"
    if not r.taken:
        return f"{head}; rename it with {rename}, or render with --renumber to allocate anew"
    theirs = f"{r.kind} {r.new} ({r.was}: {describe(r.taken)})"
    again = f"or render with --renumber to give it {r.new}'s"
    if r.now_named is not None:
        return (f"{head}, but '{r.new}' holds the allocations of {theirs}, which the model "
                f"names '{r.now_named}'; give both their names back, {again}")
    return (f"{head}, but '{r.new}' holds the allocations of the removed {theirs}; to carry "
            f"{r.old}'s over, release {r.new}'s with `fabric render --prune` while the model "
            f"names it {r.old}, then {rename}, {again}")


def renumbered_line(r: Rename) -> str:
    theirs = f"{r.kind} {r.old}'s ({describe(r.held)})"
    if r.taken:
        return (f"renumbered {r.kind} {r.new}: given the allocations of {r.kind} {r.new} "
                f"({r.was}: {describe(r.taken)}), not {theirs}"
                + ("" if r.now_named else ", which stay reserved until `fabric render --prune`"))
    return (f"renumbered {r.kind} {r.new}: allocated anew, not {theirs}, which stay "
            "reserved until `fabric render --prune`")


# --- fabric ipam rename -------------------------------------------------------

Step = tuple[str, str, str]              # (section, old key, new key)


@dataclass
class Renamed:
    state_file: FsPath
    kind: str
    old: str
    new: str
    moved: list[tuple[str, str, str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "state": str(self.state_file), "kind": self.kind, "old": self.old,
                "new": self.new, "written": self.written, "notes": self.notes,
                "moved": [{"section": s, "from": a, "to": b, "value": v}
                          for s, a, b, v in self.moved]}

    def text(self) -> str:
        lines = [f"renamed {self.kind} {self.old} → {self.new} in {self.state_file}:"]
        lines += [f"  {s} {a} → {b}: {v}" for s, a, b, v in self.moved]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def rename_in_state(state_dir: FsPath, model: Model, kind: str, old: str,
                    new: str) -> Renamed:
    """Carry `old`'s allocations over to `new` in the state file, written atomically;
    `InputError` (located in the state file) when there is nothing to carry or
    `new` already holds allocations."""
    stored = load_state(state_dir)
    file = state_dir / STATE_FILE
    where = _Locator(file)
    if old == new:
        where.fail(((),), f"expected a new name, found {kind} '{old}' twice")
    steps, notes = _steps(model, stored, kind, old, new, where)
    for section, _, b in steps:
        if b in stored.get(section, {}):
            owner, held = _held_by(stored, section, b, model)
            where.fail(((section, b),), f"expected no allocations for {owner}, found "
                                        f"{held or 'an entry'} in the IPAM state: {kind} "
                                        f"'{old}' cannot be renamed onto it")
    state = copy.deepcopy(stored)
    done = Renamed(file, kind, old, new, notes=notes)
    for section, a, b in steps:
        state[section][b] = state[section].pop(a)
        if section in SECTIONS:        # the identity records follow, unlisted
            done.moved.append((section, a, b, state[section][b]))
    _retarget(state, kind, old, new, steps)
    done.written = write_state(state_dir, dump_state(model, state))
    return done


def _holdings(stored: State, kind: str, name: str, model: Model) -> list[Holding]:
    return {"rack": lambda: rack_holdings(stored, name, model),
            "node": lambda: node_holdings(stored, name),
            "switch": lambda: switch_holdings(stored, name)}[kind]()


def _held_by(stored: State, section: str, key: str, model: Model) -> tuple[str, str]:
    """Who holds `key` of `section`, and what it holds."""
    if section == "links":
        return f"link '{key.replace('~', '–')}'", f"link /31 {stored['links'][key]}"
    kind = {"rack_asns": "rack", "rack_pools": "rack", "racks": "rack", "node_blocks": "node",
            "nodes": "node"}.get(section, "switch")
    return f"{kind} '{key}'", describe(_holdings(stored, kind, key, model))


def _steps(model: Model, stored: State, kind: str, old: str, new: str,
           where: _Locator) -> tuple[list[Step], list[str]]:
    """The keys to move, checked: `old` must hold allocations in the state."""
    known = {"rack": _stored_racks, "node": _stored_nodes, "switch": _stored_switches}[kind](stored)
    if old not in known or not _holdings(stored, kind, old, model):
        names = sorted(n for n in known if _holdings(stored, kind, n, model))
        shown = ", ".join(names[:_SHOWN]) + (", …" if len(names) > _SHOWN else "")
        section = {"rack": "rack_asns", "node": "node_blocks", "switch": "router_ids"}[kind]
        where.fail(((section,), ()), f"expected a {kind} with allocations in the IPAM state, "
                                     f"found none for '{old}'"
                                     + (f" ({kind}s there: {shown})" if names else ""))
    in_model = _model_names(model, kind)
    notes = []
    if old in in_model:
        notes.append(f"{kind} {old} is still in the model: rename it there to {new} before "
                     "`fabric render`, or it is allocated anew")
    if kind == "node":
        return [(s, old, new) for s in ("node_blocks", "nodes") if old in stored.get(s, {})], notes
    if kind == "switch":
        return _switch_steps(stored, old, new), notes
    steps = [(s, old, new) for s in ("rack_asns", "rack_pools", "racks")
             if old in stored.get(s, {})]
    old_tor, new_tor = _tor_of(stored, old, model), _new_tor(model, old, new, stored)
    if new_tor != old_tor:
        steps += _switch_steps(stored, old_tor, new_tor)
    if new in in_model:          # the model already says `new`: its renamed nodes come along
        for a, b in _carried(model, model.rack(new), old, stored):
            steps += [(s, a, b) for s in ("node_blocks", "nodes")]
    return steps, notes


def _model_names(model: Model, kind: str) -> set[str]:
    if kind == "rack":
        return {r.name for r in model.racks}
    if kind == "node":
        return {n.name for r in model.racks for n in r.nodes}
    return {s[0] for s in _model_switches(model)}


def _new_tor(model: Model, old: str, new: str, stored: State) -> str:
    """The ToR name after the rename: the model's if it names the rack `new`; else a
    ToR named after its rack (`old-tor`) follows the rack, a ToR named otherwise stays."""
    racks = {r.name: r for r in model.racks}
    if new in racks:
        return racks[new].tor.name
    old_tor = _tor_of(stored, old, model)
    return f"{new}-tor" if old_tor == f"{old}-tor" else old_tor


def _switch_steps(stored: State, old: str, new: str) -> list[Step]:
    steps = [(s, old, new) for s in ("router_ids", "switches") if old in stored.get(s, {})]
    for key in sorted(stored["links"]):
        parts = key.split("~")
        if old in parts:
            steps.append(("links", key, "~".join(new if p == old else p for p in parts)))
    return steps


def _retarget(state: State, kind: str, old: str, new: str, steps: list[Step]) -> None:
    """Records that name the renamed item: nodes name their rack, racks their ToR."""
    if kind == "rack":
        for record in state.get("nodes", {}).values():
            if record["rack"] == old:
                record["rack"] = new
    tors = {a: b for s, a, b in steps if s == "router_ids" or s == "switches"}
    for record in state.get("racks", {}).values():
        record["tor"] = tors.get(record["tor"], record["tor"])


class _Locator:
    """Problems of `ipam rename`, located in the state file (its first candidate path
    that exists, else line 1); the file is read for positions only when one fails."""

    def __init__(self, file: FsPath):
        self.file = file

    def fail(self, paths: tuple[Path, ...], message: str) -> NoReturn:
        positions = load_yaml(self.file)[1].positions if self.file.exists() else {}
        path = next((p for p in paths if p in positions), paths[-1])
        line, col = positions.get(path, (1, 1))
        raise InputError([Problem(str(self.file), line, col, format_path(path), message)])
