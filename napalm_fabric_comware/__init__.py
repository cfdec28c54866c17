"""NAPALM driver `fabric_comware`: this project's H3C Comware V7 driver under
NAPALM's name lookup, so `napalm.get_network_driver("fabric_comware")` and
NAPALM-based tooling (napalm-ansible, Nornir) can use it by name."""

# NAPALM takes the first NetworkDriver subclass among the module's names: keep the
# base class itself out of the namespace.
import napalm.base

from fabric.platforms.h3c_comware.driver import ComwareDriver as _Comware


class ComwareDriver(_Comware, napalm.base.NetworkDriver):
    platform = "h3c_comware"

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": getattr(self, "_conn", None) is not None}


__all__ = ["ComwareDriver"]
