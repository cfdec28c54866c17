"""`fabric verify`: every expectation comes from the intent, never from what the
devices say; each is checked against what the speakers report, from both ends.

Checks: every session Established on both speakers with the expected ASes and
graceful restart negotiated both ways, and BFD Up on it where it has BFD (on
speakers whose driver reads BFD: FRR); each node has its rack peers' blocks
with the peer as next hop, a default via the ToR and no off-rack specifics;
each ToR has its nodes' blocks via the nodes; each core has every rack pool
via that rack's ToR; each VIP has one next hop per announcer on the ToR and
one per announcing rack on the cores (ECMP).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from ipaddress import IPv4Network

from fabric.intent.types import Discovery, Intent, Rack
from fabric.observed import Neighbor, Route


@dataclass(frozen=True)
class Result:
    check: str          # session | graceful-restart | bfd | route | no-off-rack | ecmp
    device: str
    subject: str        # neighbor address or prefix
    expected: str
    seen: str
    ok: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Observed:
    neighbors: dict[str, Neighbor]
    routes: dict[str, Route]
    error: str = ""


Collector = Callable[[str], tuple[list[Neighbor], dict[str, Route]]]


def collect(intent: Intent, collector: Collector, concurrency: int = 8) -> dict[str, Observed]:
    def one(name: str) -> tuple[str, Observed]:
        try:
            ns, routes = collector(name)
            return name, Observed({n.address: n for n in ns}, routes)
        except Exception as exc:
            return name, Observed({}, {}, str(exc).splitlines()[0] if str(exc) else repr(exc))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return dict(pool.map(one, intent.devices))


def evaluate(intent: Intent, obs: dict[str, Observed]) -> list[Result]:
    out: list[Result] = []
    out += _sessions(intent, obs)
    out += _routes(intent, obs)
    return out


def _sessions(intent: Intent, obs: dict[str, Observed]) -> list[Result]:
    out = []
    # (device, peer address) of every session end that runs BFD: static peers, the
    # ToR–core links where BFD is rendered.
    bfd_ends = {(d.name, p.address) for d in intent.devices.values() for p in d.peers
                if p.bfd}
    for s in intent.sessions:
        for dev, peer_addr, peer_as, local_as, peer in (
                (s.a, s.b_address, s.b_as, s.a_as, s.b),
                (s.b, s.a_address, s.a_as, s.b_as, s.a)):
            o = obs[dev]
            n = o.neighbors.get(str(peer_addr))
            want = f"Established with {peer} AS {peer_as}"
            if o.error:
                seen = f"unreachable: {o.error}"
            elif n is None:
                seen = "no such neighbor"
            else:
                seen = f"{n.state} AS {n.remote_as}"
            ok = (n is not None and n.established and n.remote_as == peer_as
                  and n.local_as in (0, local_as))
            out.append(Result("session", dev, str(peer_addr), want, seen, ok))
            if n is not None and n.established:
                gr_ok = n.gr_advertised and n.gr_received
                seen_gr = (f"advertised={'yes' if n.gr_advertised else 'no'} "
                           f"received={'yes' if n.gr_received else 'no'}")
                out.append(Result("graceful-restart", dev, str(peer_addr),
                                  "advertised and received", seen_gr, gr_ok))
            # BFD where the intent has it and the speaker's driver reads it.
            if n is not None and n.bfd is not None and (dev, peer_addr) in bfd_ends:
                out.append(Result("bfd", dev, str(peer_addr), "Up", n.bfd,
                                  n.bfd.lower() == "up"))
    return out


def _route(device: str, o: Observed, prefix: str, hops: set[str], exact: bool,
           check: str = "route") -> Result:
    r = o.routes.get(prefix)
    want = ("via " if len(hops) == 1 else f"{len(hops)} next hops: ") + ", ".join(sorted(hops))
    if o.error:
        return Result(check, device, prefix, want, f"unreachable: {o.error}", False)
    if r is None:
        return Result(check, device, prefix, want, "missing", False)
    seen_hops = set(r.nexthops)
    ok = seen_hops == hops if exact else bool(seen_hops) and seen_hops <= hops
    seen = ", ".join(r.nexthops) + (" (stale)" if r.stale else "")
    return Result(check, device, prefix, want, seen, ok)


def _every_path(intent: Intent, rack: Rack) -> bool:
    """Whether the rack's ToR holds one path per announcer: it peers with the nodes
    itself, or every route reflector passes on all its paths (add-path). Otherwise
    each reflector passes on its best, and the ToR sees a subset."""
    return rack.discovery == Discovery.DYNAMIC or all(
        any(p.name == rack.tor and p.add_paths for p in intent.devices[rr].peers)
        for rr in rack.route_reflectors)


def _routes(intent: Intent, obs: dict[str, Observed]) -> list[Result]:
    devs = intent.devices
    out: list[Result] = []
    pod = intent.pools.pod
    for rack in intent.racks.values():
        tor = devs[rack.tor]
        pool = rack.pool
        nodes = [devs[n] for n in rack.nodes]
        blocks = {n: [str(b) for b in intent.node_blocks[n]] for n in rack.nodes}
        for n in nodes:
            o = obs[n.name]
            for peer in nodes:
                if peer.name != n.name:
                    out += [_route(n.name, o, b, {str(peer.router_id)}, True)
                            for b in blocks[peer.name]]
            out.append(_route(n.name, o, "0.0.0.0/0", {str(rack.gateway)}, True))
            off = sorted(p for p in o.routes if p != "0.0.0.0/0" and
                         IPv4Network(p).subnet_of(pod) and not IPv4Network(p).subnet_of(pool))
            out.append(Result("no-off-rack", n.name, str(pod), f"only {pool} specifics",
                              ", ".join(off) or "none", not off and not o.error))
        for n in nodes:
            out += [_route(tor.name, obs[tor.name], b, {str(n.router_id)}, True)
                    for b in blocks[n.name]]
        for up, link in rack.uplinks.items():
            out.append(_route(up, obs[up], str(pool), {str(link.network_address + 1)}, True))
    for v in intent.vips:
        prefix = f"{v.address}/32"
        by_rack: dict[str, set[str]] = {}
        for who in v.announcers:
            by_rack.setdefault(devs[who].rack_name, set()).add(str(devs[who].router_id))
        for rack_name, hops in sorted(by_rack.items()):
            rack = intent.racks[rack_name]
            exact = _every_path(intent, rack)
            out.append(_route(rack.tor, obs[rack.tor], prefix, hops, exact, "ecmp"))
        for core in intent.cores:
            hops = {str(intent.racks[r].uplinks[core].network_address + 1)
                    for r in by_rack if core in intent.racks[r].uplinks}
            if hops:
                out.append(_route(core, obs[core], prefix, hops, True, "ecmp"))
    return out


def verify(intent: Intent, collector: Collector, wait: float = 0, interval: float = 1.0,
           concurrency: int = 8) -> list[Result]:
    """Collect and evaluate until every check passes or `wait` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        results = evaluate(intent, collect(intent, collector, concurrency))
        if all(r.ok for r in results) or time.monotonic() >= deadline:
            return results
        time.sleep(interval)


def table(results: list[Result], failures_only: bool = False) -> str:
    rows = [r for r in results if not (failures_only and r.ok)]
    head = ("", "check", "device", "subject", "expected", "seen")
    body = [("ok" if r.ok else "FAIL", r.check, r.device, r.subject, r.expected, r.seen)
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row).rstrip() for row in [head, *body])


def summary(results: list[Result]) -> str:
    by_check: dict[str, list[int]] = {}
    for r in results:
        c = by_check.setdefault(r.check, [0, 0])
        c[0 if r.ok else 1] += 1
    parts = [f"{k}: {ok} ok" + (f", {bad} FAILED" if bad else "")
             for k, (ok, bad) in by_check.items()]
    failed = sum(not r.ok for r in results)
    return ("PASS" if not failed else f"FAIL ({failed} of {len(results)} checks)") + \
        " — " + "; ".join(parts)
