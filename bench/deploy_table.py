"""The pure part of bench/bench_deploy.py: a tool's overhead over the local AWS's own time, cells, the table.

A Sample is one operation of one tool: its wall time (the tool's processes, start to exit), the local
AWS's own time for that operation (the change set's creation, when the tool made one that the engine
timed, plus the stack operation from its first event to its last) and the exit code. The overhead is
wall - engine: start-up, the tool's API calls and uploads, and the latency of its polling (how long
after the stack was done the tool noticed). No I/O here, so tests/bench/ can check it.
"""
from __future__ import annotations

import statistics
from datetime import datetime
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

OPERATIONS = ("create", "update", "no-op")


class Sample(NamedTuple):
    wall: float
    engine: float
    code: int

    @property
    def overhead(self) -> float:
        return self.wall - self.engine


class Cell(NamedTuple):
    """Median (and range) of a tool's samples for one operation."""
    runs: int
    wall: float
    wall_min: float
    wall_max: float
    engine: float
    overhead: float
    overhead_min: float
    overhead_max: float
    codes: tuple[int, ...]


def event_span(events: Iterable[tuple[datetime, str]]) -> float:
    """Seconds from the first to the last of an operation's stack events, as (timestamp, status); 0 for none.

    REVIEW_IN_PROGRESS (written when a CREATE change set makes the stack) is left out: from it to the
    execution is the change set's time and the tool's own wait for it, not the stack operation's.
    """
    stamps = sorted(stamp for stamp, status in events if status != "REVIEW_IN_PROGRESS")
    return (stamps[-1] - stamps[0]).total_seconds() if stamps else 0.0


def engine_seconds(change_set_seconds: float, made_change_set: bool, span: float) -> float:
    """The local AWS's own time for one operation: the timed change set (if any) + the stack events' span."""
    return (change_set_seconds if made_change_set else 0.0) + span


def cell(samples: Sequence[Sample]) -> Cell:
    if not samples:
        raise ValueError("a cell needs at least one sample")
    walls = [s.wall for s in samples]
    overheads = [s.overhead for s in samples]
    return Cell(len(samples), statistics.median(walls), min(walls), max(walls),
                statistics.median(s.engine for s in samples), statistics.median(overheads),
                min(overheads), max(overheads), tuple(sorted({s.code for s in samples})))


def cells(samples: Mapping[tuple[str, str], Sequence[Sample]]) -> dict[tuple[str, str], Cell]:
    return {key: cell(values) for key, values in samples.items() if values}


def _codes(codes: tuple[int, ...]) -> str:
    return "/".join(str(c) for c in codes)


def markdown_table(table: Mapping[tuple[str, str], Cell], tools: Sequence[str]) -> str:
    """One row per tool and operation: wall and overhead (median, min-max), the engine's time, exit codes."""
    lines = ["| tool | operation | runs | wall s median (min-max) | local AWS s | overhead s median (min-max) | exit |",
             "|---|---|---:|---|---:|---|---|"]
    for tool in tools:
        for op in OPERATIONS:
            c = table.get((tool, op))
            if c is None:
                continue
            lines.append(f"| {tool} | {op} | {c.runs} | {c.wall:.2f} ({c.wall_min:.2f}-{c.wall_max:.2f}) | "
                         f"{c.engine:.2f} | {c.overhead:.2f} ({c.overhead_min:.2f}-{c.overhead_max:.2f}) | "
                         f"{_codes(c.codes)} |")
    return "\n".join(lines)


def target_rows(table: Mapping[tuple[str, str], Cell], ours: str, peers: Sequence[str],
                limit_s: float = 1.0, fraction: float = 0.2) -> list[tuple[str, float, str, float, bool]]:
    """Per operation: (op, our median overhead, best peer, its median overhead, target met).

    The target: our overhead under `limit_s` and at most `fraction` of the best peer's. A peer whose
    operation did not exit 0 in every run is not a candidate for best (its figure is of a failure).
    """
    rows = []
    for op in OPERATIONS:
        mine = table.get((ours, op))
        candidates = [(table[(p, op)].overhead, p) for p in peers
                      if (p, op) in table and table[(p, op)].codes == (0,)]
        if mine is None or not candidates:
            continue
        best, peer = min(candidates)
        met = mine.overhead < limit_s and mine.overhead <= fraction * best
        rows.append((op, mine.overhead, peer, best, met))
    return rows


def target_table(rows: Sequence[tuple[str, float, str, float, bool]], ours: str) -> str:
    lines = [f"| operation | {ours} overhead s | best peer | its overhead s | ratio | < 1 s and <= 1/5 |",
             "|---|---:|---|---:|---:|---|"]
    for op, mine, peer, best, met in rows:
        ratio = f"{mine / best:.2f}" if best > 0 else "-"
        lines.append(f"| {op} | {mine:.2f} | {peer} | {best:.2f} | {ratio} | {'yes' if met else 'no'} |")
    return "\n".join(lines)


# --- polling latency at AWS's own time (a model: the local AWS runs scaled down) --------------------
def geometric(first: float, growth: float, cap: float) -> Callable[[], Iterator[float]]:
    """Poll times of a poller that calls at once, then sleeps `first`, growing by `growth` up to `cap`."""
    def times() -> Iterator[float]:
        t, delay = 0.0, first
        while True:
            yield t
            t, delay = t + delay, min(delay * growth, cap)
    return times


def every(interval: float, first_at: float = 0.0) -> Callable[[], Iterator[float]]:
    """Poll times of a poller that first calls at `first_at`, then every `interval` seconds."""
    def times() -> Iterator[float]:
        t = first_at
        while True:
            yield t
            t += interval
    return times


def seen_after(done_at: float, times: Iterator[float]) -> float:
    """How long after `done_at` the first poll at or after it comes."""
    return next(t for t in times if t >= done_at) - done_at


def mean_latency(duration: float, schedule: Callable[[], Iterator[float]], spread: float = 0.2,
                 samples: int = 201) -> float:
    """The mean of seen_after over durations spread ±`spread` around `duration` (a poll's phase is luck)."""
    if duration <= 0:
        return 0.0
    points = [duration * (1 - spread + 2 * spread * i / (samples - 1)) for i in range(samples)]
    return statistics.mean(seen_after(d, schedule()) for d in points)
