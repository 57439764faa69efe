"""A bounded closed-loop load on a local server: the one loop the demo, the tests and the benchmarks drive.

Each of `threads` threads makes calls through its own client (a keep-alive HTTP connection, or any
callable) until `total` calls are made or `seconds` have passed, whichever comes first (or
`per_thread` calls each: per_thread=1 is a burst of simultaneous connections), and records each
call's status and latency, or the kind of error it raised. Only loopback servers are ever loaded
(see the callers).
"""
from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

Call = Callable[[], int]  # one request; returns its HTTP status (or any label counted like one)


@dataclass
class LoadResult:
    statuses: dict[int, int]
    latencies: list[float] = field(repr=False)  # seconds per call, sorted
    seconds: float
    errors: int = 0  # calls that raised (reset, timed out) instead of answering
    error_kinds: dict[str, int] = field(default_factory=dict)  # those calls by exception name

    @property
    def calls(self) -> int:
        return len(self.latencies)

    def rate(self, status: int | None = None) -> float:
        """Calls per second, or answers with `status` per second."""
        n = self.calls if status is None else self.statuses.get(status, 0)
        return n / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        if q == 50:
            return statistics.median(self.latencies) * 1000
        return self.latencies[min(self.calls - 1, int(self.calls * q / 100))] * 1000


def bounded(make_call: Callable[[int], Call], threads: int, total: int, seconds: float = 60.0,
            per_thread: int | None = None) -> LoadResult:
    """`total` calls (or as many as `seconds` allow, at most `per_thread` each) spread over `threads`
    threads, all started at once."""
    remaining = [total]
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: list[dict[int, int]] = [{} for _ in range(threads)]
    errors: list[dict[str, int]] = [{} for _ in range(threads)]
    start = threading.Barrier(threads + 1, timeout=30)  # every client made before the clock starts
    stop_at = time.monotonic() + seconds

    def worker(i: int) -> None:
        call = make_call(i)
        start.wait()
        made = 0
        while time.monotonic() < stop_at and (per_thread is None or made < per_thread):
            made += 1
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                status = call()
            except (OSError, http.client.HTTPException) as exc:
                errors[i][type(exc).__name__] = errors[i].get(type(exc).__name__, 0) + 1
                continue
            latencies[i].append(time.perf_counter() - t0)
            statuses[i][status] = statuses[i].get(status, 0) + 1

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    seconds_taken = time.perf_counter() - began
    merged: dict[int, int] = {}
    for counts in statuses:
        for status, n in counts.items():
            merged[status] = merged.get(status, 0) + n
    kinds: dict[str, int] = {}
    for counts in errors:
        for kind, n in counts.items():
            kinds[kind] = kinds.get(kind, 0) + n
    return LoadResult(dict(sorted(merged.items())), sorted(x for lst in latencies for x in lst),
                      seconds_taken, sum(kinds.values()), dict(sorted(kinds.items())))


def http_calls(host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None,
               timeout: float = 35.0, keep_alive: bool = True, body: bytes | None = None) -> Callable[[int], Call]:
    """A `make_call` for `bounded`: each thread its own HTTP/1.1 connection (one per call without keep-alive)."""

    def make(_: int) -> Call:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

        def call() -> int:
            nonlocal conn
            if not keep_alive:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()  # a fresh connection for the next call
                raise
            return resp.status

        return call

    return make
