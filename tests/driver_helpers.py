"""Helpers the netmiko switch-driver tests share (test_comware_driver.py,
test_vrp_driver.py): building and opening a driver against a simulator, comparing the
owned sections of two configs, waiting on the device, and checking that no secret
leaked into logs or exceptions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from netmiko import ConnectHandler

D = TypeVar("D")
Items = list[tuple[int, str]]


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def keyless(items: Iterable[tuple[int, str]]) -> Items:
    """Sorted, with every peer key replaced by `K` (the device stores it encrypted)."""
    return sorted((d, re.sub(r"password (?:simple|cipher) \S+$", "password K", ln))
                  for d, ln in items)


def owned_sorted(items: Items, owned: Callable[[str], bool]) -> Items:
    """The (depth, line)s of the top-level sections whose first line is `owned`,
    order-insensitive."""
    out, keep = [], False
    for depth, line in items:
        if depth == 0:
            keep = owned(line)
        if keep:
            out.append((depth, line))
    return sorted(out)


def write_known_hosts(sim: Any, tmp_path: Path) -> Path:
    """A known_hosts file that trusts the simulator's key."""
    path = tmp_path / "known_hosts"
    path.write_text(sim.known_hosts_line() + "\n")
    return path


def make_driver(cls: Callable[..., D], sim: Any, known_hosts: Path | None, password: str,
                **extra: object) -> D:
    return cls("127.0.0.1", "admin", password, timeout=10,
               optional_args={"port": sim.port, "known_hosts": known_hosts, **extra})


def opened(driver: Any) -> Iterator[Any]:
    """A fixture's body: the driver, open for the test, closed after it."""
    driver.open()
    yield driver
    driver.close()


def connect(device_type: str, sim: Any, password: str, known_hosts: Path) -> Any:
    """A plain netmiko session to the simulator, trusting only `known_hosts`."""
    return ConnectHandler(device_type=device_type, host="127.0.0.1", port=sim.port,
                          username="admin", password=password, ssh_strict=True,
                          alt_host_keys=True, alt_key_file=str(known_hosts),
                          allow_agent=False, use_keys=False)


def assert_no_secrets(caplog: pytest.LogCaptureFixture, errors: list[BaseException],
                      secrets: Iterable[str]) -> None:
    """Traffic was logged, masked, and no secret is in a log record or an exception."""
    assert "write_channel" in caplog.text or "read_channel" in caplog.text  # traffic was logged
    assert "******" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in r.getMessage() for r in caplog.records)
        for e in errors:
            assert secret not in str(e) and secret not in repr(e)
            assert secret not in str(getattr(e, "line", "")) + str(getattr(e, "device_message", ""))
