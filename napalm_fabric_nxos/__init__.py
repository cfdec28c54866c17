"""NAPALM driver `fabric_nxos`: this project's Cisco NX-OS driver under NAPALM's name
lookup, so `napalm.get_network_driver("fabric_nxos")` and NAPALM-based tooling
(napalm-ansible, Nornir) can use it by name."""

# NAPALM takes the first NetworkDriver subclass among the module's names: keep the
# base class itself out of the namespace.
import napalm.base

from fabric.platforms.cisco_nxos.driver import CiscoNxosDriver as _Nxos


class CiscoNxosDriver(_Nxos, napalm.base.NetworkDriver):
    platform = "cisco_nxos"

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": getattr(self, "_napalm", None) is not None}


__all__ = ["CiscoNxosDriver"]
