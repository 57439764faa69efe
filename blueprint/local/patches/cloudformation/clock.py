"""The engine's clock: the timing the server was started with, scaled and bounded waits, and the background
threads stack operations run in, which a server stop ends.

Every wait goes through `wait_until`, which sleeps in short slices on STOP: a server stop (SIGTERM) sets
it, and each background thread then returns at its next check instead of finishing its operation.
Threads are daemons and registered here, so `stop` can also wait a moment for them to go.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from blueprint.local.patches.cloudformation import durations
from blueprint.local.timing import Timing

log = logging.getLogger(__name__)

# How often a wait looks at STOP and at what it polls (rollback triggers' alarms): short enough that a
# test's set_alarm_state is seen within a tenth of a second, long enough to cost nothing.
TICK_S = 0.1
STOP = threading.Event()

_timing = Timing()
_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


def configure(timing: Timing) -> None:
    """Set the timing (the server calls this once, before it serves)."""
    global _timing
    _timing = timing


def current() -> Timing:
    return _timing


def timed() -> bool:
    """True under the timing model: operations run in the background and take AWS's time."""
    return _timing.mode == "aws"


def scaled(aws_seconds: float) -> float:
    """Real seconds for `aws_seconds` of AWS time."""
    return max(aws_seconds, 0.0) * _timing.scale


def step_seconds(resource_type: str, action: str) -> float:
    """Real seconds a resource's Create/Update/Delete takes: its AWS duration, scaled; 0 when timing is off."""
    return scaled(durations.seconds(resource_type, action)) if timed() else 0.0


def change_set_seconds(status: str) -> float:
    """Real seconds a change set stays in CREATE_PENDING / CREATE_IN_PROGRESS (0 when timing is off)."""
    return scaled(durations.CHANGE_SET[status]) if timed() else 0.0


def monitoring_seconds(minutes: int) -> float:
    """Real seconds of a rollback-trigger monitoring window: waited for even with timing off (scaled)."""
    return scaled(60.0 * minutes)


def now() -> float:
    return time.monotonic()


def wait_until(deadline: float, poll: Callable[[], bool] | None = None) -> str:
    """Sleep until `deadline` (time.monotonic); "stop" when the server stops first, "poll" as soon as
    `poll()` is true (checked at once and every TICK_S), else "time"."""
    while True:
        if STOP.is_set():
            return "stop"
        if poll is not None and poll():
            return "poll"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "time"
        if STOP.wait(min(TICK_S, remaining)):
            return "stop"


def spawn(name: str, target: Callable[[], None]) -> threading.Thread:
    """Run `target` in a background daemon thread of its own, logged if it raises; it ends with `target`."""
    def run() -> None:
        try:
            target()
        except Exception:  # noqa: BLE001 - a thread's error must reach the server log, not vanish
            log.exception("background operation %s failed", name)
        finally:
            with _threads_lock:
                _threads.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"cfn: {name}", daemon=True)
    with _threads_lock:
        _threads.add(thread)
    thread.start()
    return thread


def running() -> list[str]:
    """The names of the background operations still running."""
    with _threads_lock:
        return sorted(t.name for t in _threads)


def stop(timeout_s: float = 2.0) -> None:
    """End every background operation (server shutdown): set STOP and give the threads a moment to return."""
    STOP.set()
    deadline = time.monotonic() + timeout_s
    with _threads_lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
