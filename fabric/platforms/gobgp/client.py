"""GoBGP over its gRPC API (a Unix socket per node in the lab)."""

from __future__ import annotations

import time
from ipaddress import IPv4Network
from pathlib import Path

import grpc

from fabric.observed import Neighbor, Route
from fabric.platforms.gobgp.api import modules

_STATES = {0: "Unknown", 1: "Idle", 2: "Connect", 3: "Active", 4: "OpenSent",
           5: "OpenConfirm", 6: "Established"}


class GobgpClient:
    def __init__(self, socket: Path | str, timeout: float = 5.0):
        self.pb, grpc_mod, self.attr, self.cap = modules()
        self.timeout = timeout
        self.channel = grpc.insecure_channel(f"unix://{socket}")
        self.stub = grpc_mod.GobgpApiStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> GobgpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _family(self):
        return self.pb.Family(afi=self.pb.Family.AFI_IP, safi=self.pb.Family.SAFI_UNICAST)

    def wait_ready(self, deadline: float) -> None:
        """Block until gobgpd has started BGP from its config (the API socket comes up
        before that), or the deadline passes."""
        while True:
            try:
                if getattr(self.stub.GetBgp(self.pb.GetBgpRequest(), timeout=1),
                           "global").asn:
                    return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError("gobgpd did not start BGP in time")
            time.sleep(0.1)

    def neighbors(self) -> list[Neighbor]:
        out = []
        now = time.time()
        for resp in self.stub.ListPeer(self.pb.ListPeerRequest(), timeout=self.timeout):
            p = resp.peer
            st = p.state
            state = _STATES.get(st.session_state, str(st.session_state))
            uptime = 0.0
            if state == "Established" and p.timers.state.uptime.seconds:
                uptime = max(0.0, now - p.timers.state.uptime.seconds)
            received = sum(a.state.received for a in p.afi_safis)
            out.append(Neighbor(
                address=st.neighbor_address, local_as=p.conf.local_asn or st.local_asn,
                remote_as=st.peer_asn, state=state, uptime=uptime,
                gr_advertised=self._has_gr(st.local_cap), gr_received=self._has_gr(st.remote_cap),
                prefixes_received=received))
        return out

    def over_limit(self) -> list[str]:
        """Peers GoBGP shut for exceeding their prefix limit. GoBGP 3.10 keeps a static
        peer so (admin state PFX_CT) until it is enabled again: it has no restart
        timer and ignores prefix-limit `restart-timer` (pkg/server/fsm.go)."""
        pfx_ct = self.pb.PeerState.PFX_CT
        return [r.peer.state.neighbor_address
                for r in self.stub.ListPeer(self.pb.ListPeerRequest(), timeout=self.timeout)
                if r.peer.state.admin_state == pfx_ct]

    def enable(self, address: str) -> None:
        """Administratively start a peer again (after a prefix-limit shutdown)."""
        self.stub.EnablePeer(self.pb.EnablePeerRequest(address=address), timeout=self.timeout)

    def _has_gr(self, caps) -> bool:
        return any(c.Is(self.cap.GracefulRestartCapability.DESCRIPTOR) for c in caps)

    def routes(self) -> dict[str, Route]:
        req = self.pb.ListPathRequest(table_type=self.pb.GLOBAL, family=self._family())
        out: dict[str, Route] = {}
        for resp in self.stub.ListPath(req, timeout=self.timeout):
            d = resp.destination
            paths = sorted(d.paths, key=lambda p: not p.best)
            hops = tuple(self._nexthop(p) for p in paths if not p.filtered)
            if not hops:
                continue
            out[d.prefix] = Route(d.prefix, hops, stale=any(p.stale for p in paths),
                                  local=any(not p.neighbor_ip or p.neighbor_ip == "<nil>"
                                            for p in paths))
        return out

    def _nexthop(self, path) -> str:
        for a in path.pattrs:
            if a.Is(self.attr.NextHopAttribute.DESCRIPTOR):
                nh = self.attr.NextHopAttribute()
                a.Unpack(nh)
                return nh.next_hop
        return ""

    def _path(self, prefix: str, nexthop: str):
        net = IPv4Network(prefix)
        nlri, origin, hop = (self._any(m) for m in (
            self.attr.IPAddressPrefix(prefix_len=net.prefixlen, prefix=str(net.network_address)),
            self.attr.OriginAttribute(origin=2),     # incomplete, like a redistributed route
            self.attr.NextHopAttribute(next_hop=nexthop)))
        return self.pb.Path(nlri=nlri, pattrs=[origin, hop], family=self._family())

    @staticmethod
    def _any(message):
        from google.protobuf.any_pb2 import Any

        a = Any()
        a.Pack(message)
        return a

    def add_path(self, prefix: str, nexthop: str) -> None:
        self.stub.AddPath(self.pb.AddPathRequest(table_type=self.pb.GLOBAL,
                                                 path=self._path(prefix, nexthop)),
                          timeout=self.timeout)

    def delete_path(self, prefix: str, nexthop: str) -> None:
        self.stub.DeletePath(self.pb.DeletePathRequest(table_type=self.pb.GLOBAL,
                                                       family=self._family(),
                                                       path=self._path(prefix, nexthop)),
                             timeout=self.timeout)

    def local_prefixes(self) -> dict[str, str]:
        """Prefixes this speaker originates → their next hop."""
        return {p: r.nexthops[0] for p, r in self.routes().items() if r.local}
