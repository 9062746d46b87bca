"""Failed console logins, counted so that guessing is slow and nobody can lock someone else out.

Two counters, both with delays that double after a few free failures:

- per (user name, client address): guessing one account's password from one place slows down, while
  the real owner, logging in from elsewhere, is never refused because of it;
- per client address: one place trying many names slows down too.

Counts live in memory (the desk is one process) in LRU-capped maps: an entry is forgotten an hour
after its last failure, and past ``capacity`` entries the stalest go first, so a spray of made-up
names or addresses cannot grow the process. IPv6 clients are counted per /64, the block one
subscriber usually holds.
"""

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

NAME_FREE, ADDRESS_FREE = 5, 20
BASE_DELAY, MAX_DELAY = 30.0, 900.0
FORGET_AFTER = 3600.0
CAPACITY = 10_000
MAX_NAME = 64  # the longest user name an account can have


@dataclass
class _Failures:
    count: int
    last: float


def _address_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class _Counter:
    """Failures per key with a doubling delay past ``free`` failures, in at most ``capacity`` entries."""

    def __init__(self, free: int, capacity: int, clock: Callable[[], float]) -> None:
        self._free, self._capacity, self._clock = free, capacity, clock
        self._entries: OrderedDict[tuple[str, ...], _Failures] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _prune(self, now: float) -> None:
        # entries are kept in order of their last failure: the stale ones are at the front
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.last < FORGET_AFTER and len(self._entries) <= self._capacity:
                break
            self._entries.popitem(last=False)

    def wait(self, key: tuple[str, ...]) -> float:
        """Seconds before the next try under ``key`` is heard."""
        entry, now = self._entries.get(key), self._clock()
        if entry is None or now - entry.last >= FORGET_AFTER or entry.count < self._free:
            return 0.0
        delay = min(BASE_DELAY * 2 ** (entry.count - self._free), MAX_DELAY)
        return max(0.0, entry.last + delay - now)

    def fail(self, key: tuple[str, ...]) -> None:
        now = self._clock()
        entry = self._entries.pop(key, None)
        if entry is None or now - entry.last >= FORGET_AFTER:
            entry = _Failures(0, now)
        entry.count, entry.last = entry.count + 1, now
        self._entries[key] = entry
        self._prune(now)

    def forget(self, key: tuple[str, ...]) -> None:
        self._entries.pop(key, None)


class LoginThrottle:
    """Decides whether a login attempt is heard, and counts the failed ones."""

    def __init__(self, capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic) -> None:
        self._names = _Counter(NAME_FREE, capacity, clock)
        self._addresses = _Counter(ADDRESS_FREE, capacity, clock)

    def __len__(self) -> int:
        return len(self._names) + len(self._addresses)

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        where = _address_key(address)
        return (username.strip().lower()[:MAX_NAME], where), (where,)

    def wait(self, username: str, address: str) -> float:
        """Seconds until ``username`` may be tried again from ``address``; 0 when it may be now."""
        name_key, address_key = self._keys(username, address)
        return max(self._names.wait(name_key), self._addresses.wait(address_key))

    def failed(self, username: str, address: str) -> None:
        name_key, address_key = self._keys(username, address)
        self._names.fail(name_key)
        self._addresses.fail(address_key)

    def succeeded(self, username: str, address: str) -> None:
        """Clears that name's count from that address; the address's own count stays, or an attacker
        holding any one account could reset it between guesses."""
        self._names.forget(self._keys(username, address)[0])
