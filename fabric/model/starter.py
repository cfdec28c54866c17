"""`fabric init`: a valid starter model of any size (also what benchmarks use)."""

from __future__ import annotations

import math
from ipaddress import IPv4Address

from fabric.platforms import SWITCH_PLATFORMS

SUBNETS = IPv4Address("10.64.0.0")      # rack node subnets: one /24 per rack
MGMT = IPv4Address("198.18.0.0")        # management addresses (benchmark range)


def starter_model(racks: int, nodes_per_rack: int, platform: str = "frr",
                  name: str = "lab") -> str:
    if not 1 <= racks <= 16000:
        raise ValueError("--racks must be between 1 and 16000")
    if not 1 <= nodes_per_rack <= 240:
        raise ValueError("--nodes-per-rack must be between 1 and 240")
    block = 26
    rack_bits = math.ceil(math.log2(racks))
    # Room for twice the nodes, so racks can grow without a new pool, where the
    # starter supernet 10.128.0.0/9 holds that; else room for the nodes given.
    for room in (nodes_per_rack * 2, nodes_per_rack):
        rack_len = block - max(1, math.ceil(math.log2(room)))
        pod_len = rack_len - rack_bits
        if pod_len >= 9:
            break
    else:
        raise ValueError("too many racks × nodes for the starter pod supernet 10.128.0.0/9")
    lines = [
        "# yaml-language-server: $schema=../fabric/schema/fabric.schema.json",
        f"# Starter fabric: {racks} racks × {nodes_per_rack} nodes, written by `fabric init`.",
        f"fabric: {name}",
        "",
        "defaults:",
        "  bgp:",
        "    keepalive: 3",
        "    hold: 9",
        "    graceful_restart: {restart_time: 120, stalepath_time: 360}",
        "    ecmp: 8",
        "    listen_limit: 250",
        "  auth:",
        "    nodes: bgp_nodes        # MD5 on every node session",
        "",
        "secrets:",
        "  bgp_nodes: {env: FABRIC_BGP_NODES_KEY}",
        "",
        "pools:",
        f"  pod: {{supernet: 10.128.0.0/{pod_len}, "
        f"rack_prefix_length: {rack_len}, block_prefix_length: {block}}}",
        "  vip: 10.61.0.0/24",
        "  links: 10.63.0.0/16",
        "  loopbacks: 10.62.0.0/16",
        f"  rack_asns: 4200000001-{4200000000 + max(racks, 1000)}",
        "",
        "cores:",
        f"  - {{name: core1, platform: {_platform(platform, 0)}, asn: 65001, mgmt: {MGMT + 1}}}",
        f"  - {{name: core2, platform: {_platform(platform, 1)}, asn: 65002, mgmt: {MGMT + 2}}}",
        "",
        "racks:",
    ]
    for i in range(racks):
        subnet = SUBNETS + i * 256
        rack = f"r{i + 1:0{max(2, len(str(racks)))}d}"
        lines += [
            f"  - name: {rack}",
            f"    subnet: {subnet}/24",
            f"    tor: {{platform: {_platform(platform, i)}, mgmt: {MGMT + 256 + i}}}",
            "    nodes:",
        ]
        lines += [f"      - {{name: {rack}-n{j + 1}, ip: {subnet + 11 + j}}}"
                  for j in range(nodes_per_rack)]
    first = "r" + "1".zfill(max(2, len(str(racks)))) + "-n1"
    last = f"r{racks:0{max(2, len(str(racks)))}d}-n1"
    lines += ["", "vips:", f"  - {{address: 10.61.0.10, announcers: [{first}, {last}]}}"
              if first != last else f"  - {{address: 10.61.0.10, announcers: [{first}]}}", ""]
    return "\n".join(lines)


def _platform(platform: str, i: int) -> str:
    return SWITCH_PLATFORMS[i % len(SWITCH_PLATFORMS)] if platform == "mixed" else platform
