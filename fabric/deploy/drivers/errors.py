"""One error hierarchy for every switch driver, shaped on NAPALM's
(napalm/base/exceptions.py: ConnectionException ⊃ ConnectAuthError,
ReplaceConfigException, CommitError), so a caller catches a kind of failure
whichever vendor it drives. Every message names the device and is masked."""

from __future__ import annotations

from fabric.errors import OperationalError


class DriverError(OperationalError):
    """A switch driver failed: the device, the link or the driver itself."""


class DeviceConnectionError(DriverError):
    """The device could not be reached or logged in to (NAPALM: ConnectionException)."""


class AuthenticationError(DeviceConnectionError):
    """The device refused the login (NAPALM: ConnectAuthError)."""


class HostKeyError(DeviceConnectionError):
    """The device's SSH host key is unknown or does not match known_hosts."""


class CandidateError(DriverError):
    """The candidate cannot be loaded or touches what the tool does not own
    (NAPALM: ReplaceConfigException)."""


class CommitError(DriverError):
    """The device refused a pushed line or the commit (NAPALM: CommitError): `line`
    (the first refused line) and `device_message` (both masked)."""

    def __init__(self, message: str, line: str = "", device_message: str = ""):
        super().__init__(message)
        self.line = line
        self.device_message = device_message
