"""Load the fabric model: the typed, validated view of `inventory/fabric.yaml`.

`load_model` runs the structural (JSON Schema) checks and then the semantic
checks in `checks.py`; it returns a `Model` only when both pass.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path as FsPath
from socket import inet_aton
from typing import Any

from fabric.errors import Diagnostics, Path
from fabric.model import DEFAULT_MODEL
from fabric.model.checks import check_model
from fabric.model.digest import section_digests
from fabric.model.schema import check_structure, describe
from fabric.model.source import load_yaml
from fabric.model.types import (
    Bfd,
    BgpDefaults,
    BmpCollector,
    Core,
    Discovery,
    Model,
    Node,
    ParsedModel,
    ParsedPools,
    ParsedRack,
    Pools,
    Rack,
    Rebalance,
    SecretRef,
    SwitchRR,
    Tor,
    Vip,
)


def parse_network(text: str, path: Path, diag: Diagnostics) -> IPv4Network | None:
    """A prefix that must be a network address; reports and returns None otherwise."""
    try:
        return IPv4Network(text)
    except ValueError:
        pass
    try:
        loose = IPv4Network(text, strict=False)
    except ValueError:
        diag.add(path, f"expected an IPv4 prefix such as 10.0.0.0/24, found {text!r}")
        return None
    diag.add(path, f"expected a network address (host bits zero), found {text!r}; "
                   f"did you mean '{loose}'?")
    return None


def load_model(file: str | FsPath = DEFAULT_MODEL, text: str | None = None) -> Model:
    """Load and validate; raise `InputError` with every problem found."""
    data, diag = load_yaml(file, text)
    if not isinstance(data, dict):
        found = "an empty document" if data is None else describe(data)
        diag.add((), f"expected a mapping with keys fabric, pools, cores, racks, found {found}")
        diag.raise_if_errors()
    check_structure(data, diag)
    diag.raise_if_errors()
    parsed = _parse(data, section_digests(data), diag)
    check_model(parsed)
    diag.raise_if_errors()
    return _validated(parsed)


def _validated(m: ParsedModel) -> Model:
    """The typed model of a parsed model nothing was reported on."""
    p = m.pools
    pools = Pools(pod=_parsed(p.pod), rack_prefix_length=p.rack_prefix_length,
                  block_prefix_length=p.block_prefix_length, blocks_per_node=p.blocks_per_node,
                  vip=_parsed(p.vip), links=_parsed(p.links), loopbacks=_parsed(p.loopbacks),
                  rack_asns=p.rack_asns, rebalance=p.rebalance)
    racks = tuple(Rack(name=r.name, subnet=_parsed(r.subnet), pod_pool=r.pod_pool, tor=r.tor,
                       discovery=r.discovery, rr_nodes=r.rr_nodes, rr_switches=r.rr_switches,
                       nodes=r.nodes, path=r.path, auth_nodes=r.auth_nodes)
                  for r in m.racks)
    return Model(file=m.file, name=m.name, bgp=m.bgp, auth_core_links=m.auth_core_links,
                 auth_nodes=m.auth_nodes, bmp=m.bmp, secrets=m.secrets, pools=pools,
                 cores=m.cores, racks=racks, vips=m.vips, digests=m.digests, diag=m.diag)


def _parsed(net: IPv4Network | None) -> IPv4Network:
    # parse_network reports every None it returns, and load_model raised on that report.
    if net is None:
        raise AssertionError("a prefix that did not parse, in a model without errors")
    return net


def _parse(d: dict[str, Any], digests: dict[str, str], diag: Diagnostics) -> ParsedModel:
    defaults = d.get("defaults", {})
    b = defaults.get("bgp", {})
    gr = b.get("graceful_restart", {})
    bfd = b.get("bfd", {})
    base = BgpDefaults()
    bgp = BgpDefaults(
        keepalive=b.get("keepalive", base.keepalive),
        hold=b.get("hold", base.hold),
        restart_time=gr.get("restart_time", base.restart_time),
        stalepath_time=gr.get("stalepath_time", base.stalepath_time),
        select_defer_time=gr.get("select_defer_time", base.select_defer_time),
        ecmp=b.get("ecmp", base.ecmp),
        max_prefixes=b.get("max_prefixes", base.max_prefixes),
        core_max_prefixes=b.get("core_max_prefixes", base.core_max_prefixes),
        max_prefix_restart=b.get("max_prefix_restart", base.max_prefix_restart),
        gtsm=b.get("gtsm", base.gtsm),
        listen_limit=b.get("listen_limit", base.listen_limit),
        bfd=Bfd(core_links=bfd.get("core_links", base.bfd.core_links),
                nodes=bfd.get("nodes", base.bfd.nodes),
                interval=bfd.get("interval", base.bfd.interval),
                multiplier=bfd.get("multiplier", base.bfd.multiplier)),
    )
    auth = defaults.get("auth", {})
    bmp = tuple(BmpCollector(c["name"], _ip(c["address"]), c["port"])
                for c in defaults.get("bmp", []))
    secrets = {k: SecretRef(k, v.get("env"), v.get("file"))
               for k, v in d.get("secrets", {}).items()}

    p = d["pools"]
    pod = p["pod"]
    asns = None
    if "rack_asns" in p:
        lo, hi = (int(x) for x in p["rack_asns"].split("-"))
        asns = (lo, hi)
    pools = ParsedPools(
        pod=parse_network(pod["supernet"], ("pools", "pod", "supernet"), diag),
        rack_prefix_length=pod["rack_prefix_length"],
        block_prefix_length=pod["block_prefix_length"],
        blocks_per_node=pod.get("blocks_per_node", 1),
        vip=parse_network(p["vip"], ("pools", "vip"), diag),
        links=parse_network(p["links"], ("pools", "links"), diag),
        loopbacks=parse_network(p["loopbacks"], ("pools", "loopbacks"), diag),
        rack_asns=asns,
        rebalance=Rebalance(**pod.get("rebalance", {})),
    )
    cores = tuple(
        Core(c["name"], c["platform"], c["asn"], _ip(c["mgmt"]),
             _addr(c.get("router_id")), ("cores", i))
        for i, c in enumerate(d["cores"])
    )
    core_names = tuple(c.name for c in cores)
    node_key = auth.get("nodes")
    racks = tuple(_rack(r, ("racks", i), pools, core_names, node_key, diag)
                  for i, r in enumerate(d["racks"]))
    vips = tuple(Vip(_ip(v["address"]), tuple(v["announcers"]), ("vips", i))
                 for i, v in enumerate(d.get("vips", [])))
    return ParsedModel(str(diag.file), d["fabric"], bgp, auth.get("core_links"), auth.get("nodes"),
                 bmp, secrets, pools, cores, racks, vips, digests, diag)


def _ip(text: str) -> IPv4Address:
    """An address the schema checked (dotted quad, no leading zeros): from its four
    bytes, five times faster than IPv4Address's own parse of the text."""
    return IPv4Address(inet_aton(text))


def _addr(text: str | None) -> IPv4Address | None:
    return _ip(text) if text else None


def _rack(r: dict[str, Any], path: Path, pools: ParsedPools, cores: tuple[str, ...],
          node_key: str | None, diag: Diagnostics) -> ParsedRack:
    name = r["name"]
    subnet = parse_network(r["subnet"], (*path, "subnet"), diag)
    pod_pool = None
    if "pod_pool" in r:
        pod_pool = parse_network(r["pod_pool"], (*path, "pod_pool"), diag)
    t = r["tor"]
    # network + 1; 255.255.255.255/32 has none after it (the checks refuse a /32 anyway)
    default_gw = (IPv4Address(min(int(subnet.network_address) + 1, 2**32 - 1)) if subnet
                  else IPv4Address(0))
    tor = Tor(
        name=t.get("name", f"{name}-tor"),
        platform=t["platform"],
        asn=t.get("asn"),
        mgmt=_ip(t["mgmt"]),
        router_id=_addr(t.get("router_id")),
        gateway=_addr(t.get("gateway")) or default_gw,
        uplinks=tuple(t.get("uplinks", cores)),
        path=(*path, "tor"),
    )
    nodes = tuple(
        Node(n["name"], _ip(n["ip"]), n.get("pod_blocks", pools.blocks_per_node), name,
             (*path, "nodes", j))
        for j, n in enumerate(r["nodes"])
    )
    rr_nodes: list[str] = []
    rr_switches: list[SwitchRR] = []
    for j, rr in enumerate(r.get("route_reflectors", [])):
        if isinstance(rr, str):
            rr_nodes.append(rr)
        else:
            rr_switches.append(SwitchRR(rr["name"], rr["platform"], _ip(rr["ip"]),
                                        _ip(rr["mgmt"]), _addr(rr.get("router_id")),
                                        name, (*path, "route_reflectors", j)))
    discovery = Discovery(r.get("discovery", Discovery.DYNAMIC))
    return ParsedRack(name, subnet, pod_pool, tor, discovery, tuple(rr_nodes),
                      tuple(rr_switches), nodes, path,
                      r.get("auth", {}).get("nodes", node_key))
