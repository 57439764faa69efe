"""Throttling: the token bucket's arithmetic with an injected clock, the gateway's 429s, one real-time run."""
from __future__ import annotations

import io

import pytest

from blueprint.local import load
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request
from blueprint.local.gateway.throttle import BucketSet, Quota, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_new_bucket_admits_the_burst_then_refuses():
    clock = FakeClock()
    bucket = TokenBucket(rate=50, burst=100, clock=clock)
    assert sum(bucket.take() for _ in range(150)) == 100


def test_the_bucket_refills_at_the_rate_but_never_above_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=50, burst=100, clock=clock)
    for _ in range(100):
        bucket.take()
    clock.advance(0.5)
    assert sum(bucket.take() for _ in range(100)) == 25
    clock.advance(3600)
    assert sum(bucket.take() for _ in range(1000)) == 100


@pytest.mark.parametrize("rate,burst,offered", [(50, 100, 200), (1000, 2000, 3000), (10, 5, 40)])
def test_sustained_load_is_admitted_at_the_configured_rate_within_10_percent(rate, burst, offered):
    clock = FakeClock()
    bucket = TokenBucket(rate=rate, burst=burst, clock=clock)
    step = 1.0 / offered
    for _ in range(int(offered * 2)):  # drain the burst first
        bucket.take()
        clock.advance(step)
    admitted, seconds = 0, 10
    for _ in range(offered * seconds):
        admitted += bucket.take()
        clock.advance(step)
    assert abs(admitted / seconds - rate) <= 0.10 * rate


def test_buckets_per_key_are_independent():
    clock = FakeClock()
    buckets = BucketSet(rate=1, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.take("b")


def test_the_quota_counts_per_period():
    from datetime import datetime, timezone

    now = [datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc)]
    quota = Quota(limit=2, period="MONTH", now=lambda: now[0])
    assert [quota.take("k") for _ in range(3)] == [True, True, False]
    now[0] = datetime(2026, 4, 1, 0, 1, tzinfo=timezone.utc)
    assert quota.take("k")


KEY = "k" * 40


def _gateway(api, clock):
    keys = [ApiKeyInfo(value=KEY, key_id="abc123", logical_id=next(iter(api.api_keys)))]
    return Gateway(api, None, keys=keys, api_id="a1b2c3d4e5", account_id="123456789012",
                   access_log=AccessLog(api.access_log_format, io.StringIO()), clock=clock)


def test_the_usage_plan_burst_per_key_gives_429_with_cors_headers(dev_api):
    plan = dev_api.usage_plans[0].throttle
    clock = FakeClock()
    gw = _gateway(dev_api, clock)
    statuses = [gw.handle(Request("GET", "/v1/items", [("x-api-key", KEY)])).status for _ in range(plan.burst_limit + 20)]
    # No function here: an admitted request ends as 502, a throttled one as 429.
    assert statuses.count(502) == plan.burst_limit
    assert statuses.count(429) == 20
    answer = gw.handle(Request("GET", "/v1/items", [("x-api-key", KEY), ("Origin", "http://localhost:3000")]))
    headers = dict(answer.headers)
    assert answer.status == 429 and headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert b'"THROTTLED"' in answer.body and b"Too Many Requests" in answer.body
    clock.advance(1.0)
    admitted = sum(gw.handle(Request("GET", "/v1/items", [("x-api-key", KEY)])).status == 502 for _ in range(200))
    assert admitted == int(plan.rate_limit)


def test_the_stage_throttles_each_method_separately(dev_api):
    limit = dev_api.method_throttle("/items", "OPTIONS")
    assert limit is not None
    gw = _gateway(dev_api, FakeClock())
    statuses = [gw.handle(Request("OPTIONS", "/v1/items", [])).status for _ in range(limit.burst_limit + 5)]
    assert statuses.count(204) == limit.burst_limit and statuses.count(429) == 5
    # Another method has its own bucket (AWS applies the /*/* settings per method).
    assert gw.handle(Request("OPTIONS", "/v1/items/x", [])).status == 204


def test_throttling_off_admits_everything(dev_api):
    gw = _gateway(dev_api, FakeClock())
    gw.throttling = False
    assert all(gw.handle(Request("OPTIONS", "/v1/items", [])).status == 204 for _ in range(500))


def test_real_time_burst_then_rate_over_http(moto_endpoint):
    """A fresh API with throttling on: a burst over the limit gets 429s, then the stage admits about its rate."""
    from tests.local.gateway.conftest import build_api

    api = build_api(moto_endpoint, throttling=True, log=io.StringIO())
    try:
        limit = api.api.method_throttle("/items", "OPTIONS")
        calls = load.http_calls(api.server.host, api.server.port, "OPTIONS", f"/{api.api.stage}/items",
                                keep_alive=False)
        burst = load.bounded(calls, 4, limit.burst_limit + 60)
        assert burst.statuses.get(429, 0) > 0 and burst.errors == 0
        assert burst.statuses[204] <= limit.burst_limit + limit.rate_limit * burst.seconds + 1

        # Sustained: the bucket is empty now; for 2 s every admitted request is the rate's.
        sustained = load.bounded(calls, 1, 10**6, seconds=2.0)
        assert abs(sustained.rate(204) - limit.rate_limit) <= 0.10 * limit.rate_limit + 1
    finally:
        api.stop()
