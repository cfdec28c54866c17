"""NAPALM driver `fabric_ios`: this project's Cisco IOS / IOS-XE driver under NAPALM's
name lookup, so `napalm.get_network_driver("fabric_ios")` and NAPALM-based tooling
(napalm-ansible, Nornir) can use it by name."""

# NAPALM takes the first NetworkDriver subclass among the module's names (sorted):
# only the driver below may be one.
from fabric.platforms.cisco_ios.driver import CiscoIosDriver as _CiscoIos


class CiscoIosDriver(_CiscoIos):
    """The driver of fabric.platforms.cisco_ios.driver, under its NAPALM name."""

    # This project's platform name. NAPALM's IOSDriver sets its own `platform` ("ios")
    # on each instance, for its profiles: left as it is.
    platform = "cisco_ios"


__all__ = ["CiscoIosDriver"]
