"""Token buckets and usage-plan quotas, as API Gateway applies them.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; each request takes
one or is throttled (429). The clock is injectable so the arithmetic is tested without sleeping.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

Clock = Callable[[], float]


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic):
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(self.burst)  # a new bucket is full, like a freshly deployed stage
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token: True when the request is admitted."""
        with self._lock:
            now = self._clock()
            elapsed = now - self._last
            if elapsed > 0:
                self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
                self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class BucketSet:
    """Buckets made on first use per key (an API key, a method), all with the same limits."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[object, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            with self._lock:
                bucket = self._buckets.setdefault(key, TokenBucket(self.rate, self.burst, self._clock))
        return bucket.take()


def period_start(period: str, now: datetime, offset: int = 0) -> datetime:
    """The start (UTC) of the quota period that holds `now`; offset shifts it by days (WEEK: 0 = Monday)."""
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        return day
    if period == "WEEK":
        return day - timedelta(days=(day.weekday() - offset) % 7)
    first = day.replace(day=1)
    return first + timedelta(days=offset) if day >= first + timedelta(days=offset) else \
        (first - timedelta(days=1)).replace(day=1) + timedelta(days=offset)


class Quota:
    """Requests per key per period (DAY, WEEK, MONTH); counted in memory for this run."""

    def __init__(self, limit: int, period: str, offset: int = 0, now: Callable[[], datetime] | None = None):
        self.limit, self.period, self.offset = limit, period, offset
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._used: dict[object, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> bool:
        start = period_start(self.period, self._now(), self.offset)
        with self._lock:
            began, used = self._used.get(key, (start, 0))
            if began != start:
                used = 0
            if used >= self.limit:
                return False
            self._used[key] = (start, used + 1)
            return True
