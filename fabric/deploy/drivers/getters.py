"""NAPALM getter shapes, once for every switch driver that builds them itself
(Comware, VRP8, and NX-OS's `get_bgp_neighbors_detail`), so that the same BGP state
reads the same on every vendor; and the community parsers (ntc-templates) by
platform and command.

The shapes are NAPALM's (napalm/base/base.py docstrings) with the semantics of
NAPALM's own `ios` driver, the reference the others are held to:
  * the address-family key is "ipv4";
  * `sent_prefixes` / `advertised_prefix_count` count the prefixes advertised to the
    peer; `received_prefixes`, `accepted_prefixes` and `sent_prefixes` are -1 for a
    peer that is not Established (NAPALM ios), `uptime` -1;
  * `remote_id` / `router_id` (detail) is the peer's BGP router ID;
  * `get_bgp_neighbors_detail` is {"global": {remote AS: [peer, ...]}}, `up` true for
    an Established peer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ntc_templates.parse import parse_output


def ntc(platform: str, command: str, text: str) -> list[dict[str, str]]:
    """The rows ntc-templates' template for `command` on `platform` parses out of
    `text` (raises textfsm's error on output the template does not know)."""
    return parse_output(platform=platform, command=command, data=text)


@dataclass
class Peer:
    """One BGP peer as a switch shows it, vendor-neutral."""
    address: str
    local_as: int
    remote_as: int
    state: str                      # "Established", "Idle", "Active", ...
    uptime: int = 0                 # seconds in the state (when Established)
    received: int = 0               # prefixes received from the peer
    sent: int = -1                  # prefixes advertised to it; -1 unknown
    remote_id: str = ""
    description: str = ""
    msgs_in: int = 0
    msgs_out: int = 0
    out_q: int = 0
    dynamic: bool = False

    @property
    def up(self) -> bool:
        return self.state == "Established"


def bgp_neighbors(router_id: str, peers: list[Peer]) -> dict[str, Any]:
    """NAPALM's `get_bgp_neighbors` shape."""
    out = {}
    for p in peers:
        out[p.address] = {
            "local_as": p.local_as, "remote_as": p.remote_as,
            "remote_id": p.remote_id if p.up else "0.0.0.0",
            "is_up": p.up, "is_enabled": True, "description": p.description,
            "uptime": p.uptime if p.up else -1,
            "address_family": {"ipv4": {
                "received_prefixes": p.received if p.up else -1,
                "accepted_prefixes": p.received if p.up else -1,
                "sent_prefixes": p.sent if p.up else -1}}}
    return {"global": {"router_id": router_id, "peers": out}}


def bgp_neighbors_detail(peers: list[Peer], address: str = "") -> dict[str, Any]:
    """NAPALM's `get_bgp_neighbors_detail` shape ({"global": {AS: [...]}}); the fields a
    device does not show are NAPALM ios's defaults (False, "", 0)."""
    table: dict[int, list[dict[str, Any]]] = {}
    for p in peers:
        if address and p.address != address:
            continue
        table.setdefault(p.remote_as, []).append({
            "up": p.up, "local_as": p.local_as, "remote_as": p.remote_as,
            "router_id": p.remote_id if p.up else "0.0.0.0", "local_address": "",
            "routing_table": "global", "local_address_configured": False,
            "local_port": 0, "remote_address": p.address, "remote_port": 0,
            "multihop": False, "multipath": False, "remove_private_as": False,
            "import_policy": "", "export_policy": "",
            "input_messages": p.msgs_in, "output_messages": p.msgs_out,
            "input_updates": 0, "output_updates": 0, "messages_queued_out": p.out_q,
            "connection_state": p.state, "previous_connection_state": "",
            "last_event": "", "suppress_4byte_as": False, "local_as_prepend": False,
            "holdtime": 0, "configured_holdtime": 0, "keepalive": 0,
            "configured_keepalive": 0,
            "active_prefix_count": p.received if p.up else 0,
            "received_prefix_count": p.received if p.up else 0,
            "accepted_prefix_count": p.received if p.up else 0,
            "suppressed_prefix_count": 0,
            "advertised_prefix_count": max(p.sent, 0) if p.up else 0,
            "flap_count": 0})
    return {"global": table} if table else {}


def facts(*, uptime: float, vendor: str, model: str, hostname: str, os_version: str,
          serial_number: str, interface_list: list[str], fqdn: str = "") -> dict[str, Any]:
    """NAPALM's `get_facts` shape (fqdn: the hostname when the device has no domain)."""
    return {"uptime": float(uptime), "vendor": vendor, "model": model,
            "hostname": hostname, "fqdn": fqdn or hostname, "os_version": os_version,
            "serial_number": serial_number, "interface_list": interface_list}
