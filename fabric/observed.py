"""What a speaker says about itself, in one vendor-neutral shape.

Drivers (FRR, GoBGP, later the switch drivers) parse their device's output into
these; `verify` compares them with expectations derived from the intent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Neighbor:
    address: str
    local_as: int
    remote_as: int
    state: str                     # "Established", "Active", "Idle", ...
    uptime: float                  # seconds in the current state when Established, else 0
    gr_advertised: bool            # we sent the graceful-restart capability
    gr_received: bool              # the peer sent it
    prefixes_received: int = 0
    # BFD with this peer as the speaker reports it ("Up", "Down", "none": not
    # configured); None where the speaker's driver does not read BFD.
    bfd: str | None = None

    @property
    def established(self) -> bool:
        return self.state == "Established"


@dataclass(frozen=True)
class Route:
    prefix: str
    nexthops: tuple[str, ...]      # every next hop installed for multipath, best first
    stale: bool = False            # kept by graceful restart
    local: bool = False            # originated by this speaker
