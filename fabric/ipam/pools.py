"""Pools the allocator hands out from: equal-size prefixes, and numbers."""

from __future__ import annotations

from ipaddress import IPv4Network


class PrefixPool:
    """Equal-size children of a prefix, handed out lowest free first."""

    def __init__(self, parent: IPv4Network, length: int, skip_first: bool = False):
        self.parent = parent
        self.length = length
        self.base = int(parent.network_address)
        self.step = 1 << (32 - length)
        self.count = 1 << (length - parent.prefixlen) if length >= parent.prefixlen else 0
        self.used: set[int] = {0} if skip_first and self.count > 1 else set()
        self._cursor = 0

    def index(self, net: IPv4Network) -> int | None:
        """Index of `net` as a child of this pool, or None if it is not one."""
        if net.prefixlen != self.length or not net.subnet_of(self.parent):
            return None
        return (int(net.network_address) - self.base) // self.step

    def reserve(self, net: IPv4Network) -> bool:
        i = self.index(net)
        if i is None or i in self.used:
            return False
        self.used.add(i)
        return True

    def reserve_start(self, start: int) -> None:
        """Reserve the child starting at address `start` (an int, known to be one)."""
        self.used.add((start - self.base) // self.step)

    def block(self, net: IPv4Network) -> None:
        """Mark every child overlapping `net` (of any length) as used: a reserved
        prefix of another length must not be handed out again in part."""
        lo = max(int(net.network_address), self.base)
        hi = min(int(net.broadcast_address), int(self.parent.broadcast_address))
        if lo > hi or self.count == 0:
            return
        self.used.update(range((lo - self.base) // self.step, (hi - self.base) // self.step + 1))

    def release(self, net: IPv4Network) -> None:
        i = self.index(net)
        if i is not None:
            self.used.discard(i)
            self._cursor = min(self._cursor, i)

    def take(self) -> IPv4Network | None:
        while self._cursor < self.count and self._cursor in self.used:
            self._cursor += 1
        if self._cursor >= self.count:
            return None
        self.used.add(self._cursor)
        return IPv4Network((self.base + self._cursor * self.step, self.length))

    def take_checked(self) -> IPv4Network:
        """take() where the caller has checked `free`: exhaustion here is a bug."""
        net = self.take()
        if net is None:
            raise RuntimeError(f"{self.parent} exhausted although free was checked")
        return net

    @property
    def free(self) -> int:
        return self.count - len(self.used)


class NumberPool:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.used: set[int] = set()
        self._cursor = lo

    def reserve(self, n: int) -> bool:
        if not self.lo <= n <= self.hi or n in self.used:
            return False
        self.used.add(n)
        return True

    def take(self) -> int | None:
        while self._cursor <= self.hi and self._cursor in self.used:
            self._cursor += 1
        if self._cursor > self.hi:
            return None
        self.used.add(self._cursor)
        return self._cursor

    @property
    def free(self) -> int:
        return self.hi - self.lo + 1 - len(self.used)
