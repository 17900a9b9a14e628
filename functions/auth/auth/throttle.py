"""Sign-in throttling rules (pure): what the failed-sign-in counters allow, and for how long they refuse.

Three counters, each over a window that opens at its first failure (docs/decisions/0008-sign-in-throttling.md):

- an address from one client IP: after ACCOUNT_IP_LIMIT failures that IP is refused for that address until the
  window ends; the owner elsewhere is not affected;
- one client IP across the addresses of a scope: after IP_LIMIT failures that IP is refused for all of them;
- an address from anywhere: after SLOWDOWN_AFTER failures its password checks are spaced out, 1 s, 2 s, 4 s ...
  up to MAX_DELAY apart (never a block), except from an IP the address signed in from lately.

Unknown addresses are counted and refused exactly like known ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from riveredge.db.identity import Bundle
from riveredge.db.models import LoginThrottle

WINDOW = timedelta(minutes=15)
ACCOUNT_IP_LIMIT = 5
IP_LIMIT = 50
SLOWDOWN_AFTER = 10
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(seconds=60)
KNOWN_ADDRESS_FOR = timedelta(days=30)
NO_IP = "unknown"  # a request without a source IP (a direct invocation) shares one bucket
_DOUBLINGS_TO_CAP = 6  # 2**6 s is past MAX_DELAY already
THROTTLED = "too many failed sign-ins; try again later"


@dataclass(frozen=True)
class Counter:
    """A counter as read: the failures of its open window (none when no window is open)."""

    failures: int = 0
    window_ends: datetime | None = None
    next_check_at: datetime | None = None
    closed: bool = False  # an item whose window is over: the next failure opens a new window

    @classmethod
    def of(cls, item: LoginThrottle | None, now: datetime) -> Counter:
        if item is None or item.window_started is None:
            return cls()
        ends = item.window_started + WINDOW
        if ends <= now:
            return cls(closed=True)
        return cls(int(item.failures or 0), ends, item.next_check_at)


@dataclass(frozen=True)
class Counters:
    """The three counters of one sign-in attempt, and whether its IP is one the address signed in from."""

    account: Counter
    account_ip: Counter
    ip: Counter
    known_address: bool

    @classmethod
    def of(cls, state: Bundle, now: datetime) -> Counters:
        known = state.known_address
        return cls(
            Counter.of(state.throttle_account, now),
            Counter.of(state.throttle_account_ip, now),
            Counter.of(state.throttle_ip, now),
            known is not None and known.ttl is not None and known.ttl > now,
        )

    def blocked_until(self) -> datetime | None:
        """When this IP may try this address again, if it has used up its guesses (per address, or in all)."""
        ends = [
            counter.window_ends
            for counter, limit in ((self.account_ip, ACCOUNT_IP_LIMIT), (self.ip, IP_LIMIT))
            if counter.failures >= limit and counter.window_ends is not None
        ]
        return max(ends, default=None)

    def delay(self) -> timedelta | None:
        """The gap the address requires between password checks from this IP (None: not slowed down)."""
        failures = self.account.failures
        if failures < SLOWDOWN_AFTER or self.known_address:
            return None
        doublings = min(failures - SLOWDOWN_AFTER, _DOUBLINGS_TO_CAP)
        return min(FIRST_DELAY * (1 << doublings), MAX_DELAY)

    def next_check(self, delay: timedelta, now: datetime) -> datetime:
        """When the address's next check opens, as read (or a whole `delay` on, if someone just took it)."""
        due = self.account.next_check_at
        return due if due is not None and due > now else now + delay


def retry_after(until: datetime, now: datetime) -> int:
    """Whole seconds until `until`, at least one (the Retry-After header)."""
    return max(1, math.ceil((until - now).total_seconds()))
