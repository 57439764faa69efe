"""What each environment's step prints, kept apart while a wave's environments run in parallel threads.

The ship commands print to sys.stdout and sys.stderr. While a wave runs, both are a `Router` that sends
each thread's writes to that thread's buffer (and any other thread's to the real stream), so every
environment's review and events are shown whole, one environment after the other.
"""
from __future__ import annotations

import contextlib
import io
import sys
import threading
from typing import Any, Iterator


class Router(io.TextIOBase):
    """A text stream writing to the calling thread's buffer when it has one, else to `fallback`."""

    def __init__(self, fallback: Any):
        super().__init__()
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        return (buffer or self.fallback).write(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def routed() -> Iterator[None]:
    """sys.stdout and sys.stderr as Routers for as long as a wave runs."""
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Router(old_out), Router(old_err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """In a worker thread under `routed`: everything it prints, to both streams, in the order printed."""
    buffer = io.StringIO()
    routers = [s for s in (sys.stdout, sys.stderr) if isinstance(s, Router)]
    for router in routers:
        router.local.buffer = buffer
    try:
        yield buffer
    finally:
        for router in routers:
            router.local.buffer = None
