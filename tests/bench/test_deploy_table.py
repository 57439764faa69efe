"""bench/deploy_table.py, the pure part of `make bench-deploy`: overhead over the local AWS's time, cells, the table."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import deploy_table as dt  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_the_stack_operation_spans_its_events_without_the_review_event():
    events = [(T0, "REVIEW_IN_PROGRESS"), (T0 + timedelta(seconds=3), "CREATE_IN_PROGRESS"),
              (T0 + timedelta(seconds=12.5), "CREATE_COMPLETE"), (T0 + timedelta(seconds=4), "CREATE_COMPLETE")]
    assert dt.event_span(events) == pytest.approx(9.5)
    assert dt.event_span([]) == 0.0
    assert dt.engine_seconds(0.5, True, 9.5) == pytest.approx(10.0)
    assert dt.engine_seconds(0.5, False, 0.0) == 0.0


def test_cells_take_medians_and_the_overhead_is_wall_minus_the_local_aws():
    cell = dt.cell([dt.Sample(12.0, 10.0, 0), dt.Sample(13.0, 10.2, 0), dt.Sample(11.5, 10.1, 0)])
    assert (cell.runs, cell.wall, cell.wall_min, cell.wall_max) == (3, 12.0, 11.5, 13.0)
    assert cell.engine == pytest.approx(10.1) and cell.overhead == pytest.approx(2.0)
    assert (cell.overhead_min, cell.overhead_max, cell.codes) == (pytest.approx(1.4), pytest.approx(2.8), (0,))
    with pytest.raises(ValueError):
        dt.cell([])


def test_the_target_compares_with_the_best_peer_that_succeeded():
    table = dt.cells({
        ("bp", "create"): [dt.Sample(10.5, 10.0, 0)], ("bp", "no-op"): [dt.Sample(0.8, 0.0, 0)],
        ("a", "create"): [dt.Sample(13.0, 10.0, 0)], ("b", "create"): [dt.Sample(14.0, 10.0, 0)],
        ("a", "no-op"): [dt.Sample(0.5, 0.0, 255)], ("b", "no-op"): [dt.Sample(0.7, 0.0, 0)],
        ("a", "update"): [],
    })
    rows = dt.target_rows(table, "bp", ["a", "b"])
    assert rows == [("create", 0.5, "a", 3.0, True), ("no-op", pytest.approx(0.8), "b", pytest.approx(0.7), False)]
    text = dt.target_table(rows, "bp")
    assert "| create | 0.50 | a | 3.00 | 0.17 | yes |" in text and "| no-op |" in text
    rendered = dt.markdown_table(table, ["bp", "a"])
    assert "| a | no-op | 1 | 0.50 (0.50-0.50) | 0.00 | 0.50 (0.50-0.50) | 255 |" in rendered
    assert "| b |" not in rendered and "update" not in rendered


def test_poll_schedules_and_the_latency_they_cost():
    times = dt.geometric(0.2, 1.5, 1.0)()
    assert [round(next(times), 3) for _ in range(7)] == [0.0, 0.2, 0.5, 0.95, 1.625, 2.625, 3.625]
    assert dt.seen_after(10.0, dt.every(30.0)()) == 20.0
    assert dt.seen_after(3.0, dt.every(5.0, first_at=5.0)()) == 2.0
    assert dt.mean_latency(100.0, dt.every(4.0)) == pytest.approx(2.0, abs=0.1)
    assert dt.mean_latency(0.0, dt.every(4.0)) == 0.0
