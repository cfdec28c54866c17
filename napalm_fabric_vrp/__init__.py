"""NAPALM driver `fabric_vrp`: this project's Huawei VRP8 driver under NAPALM's
name lookup (`napalm.get_network_driver("fabric_vrp")`)."""

# NAPALM takes the first NetworkDriver subclass among the module's names: keep the
# base class itself out of the namespace.
import napalm.base

from fabric.platforms.huawei_vrp.driver import VrpDriver as _Vrp


class VrpDriver(_Vrp, napalm.base.NetworkDriver):
    platform = "huawei_vrp"

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": getattr(self, "_conn", None) is not None}


__all__ = ["VrpDriver"]
