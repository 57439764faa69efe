"""Benchmark the items handler: cold init, warm latency against raw boto3, and the package size.

Run from the project root:  .venv/bin/python bench/bench_handler.py [--requests 1000] [--cold-runs 5]

Starts moto's server on 127.0.0.1 (a random free port) so every DynamoDB call goes over HTTP,
creates the table, then measures:
  - cold init: a fresh interpreter imports handler/app.py and serves its first GET
    (the interpreter's own start-up is reported apart);
  - warm p50/p99 per request for GET and PUT through lambda_handler, next to the raw boto3
    call the route makes (get_item, ConsistentRead) and the raw put_item / update_item;
  - the deployment package's size (python3.14/arm64; needs PyPI or build/pip-cache).
The moto server runs in this process, so its work shares the GIL with the code measured:
absolute numbers are moto's, the difference between rows is the handler's overhead.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "handler"
TABLE = "items-bench"
ENV = {
    "TABLE_NAME": TABLE,
    "TTL_ATTRIBUTE": "expiresAt",
    "TTL_DAYS": "30",
    "ALLOWED_ORIGINS": "http://localhost:3000",
    "LOG_LEVEL": "INFO",
    "ENVIRONMENT": "bench",
    "MAX_BODY_BYTES": "65536",
    "POWERTOOLS_SERVICE_NAME": "items-bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}

COLD_SNIPPET = r"""
import time, json, sys
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
sys.path.insert(0, {tests!r})
from events import api_event, LambdaContext
resp = app.lambda_handler(api_event("GET", "/items/{item_id}"), LambdaContext())
t2 = time.perf_counter()
assert resp["statusCode"] == 200, resp
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3}}))
"""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="warm requests per row (default 1000)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters for cold init (default 5)")
    args = parser.parse_args()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access-log line per request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ.update(ENV)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            os.environ.pop(name, None)
        return run(args, endpoint)
    finally:
        server.stop()


def run(args, endpoint: str) -> int:
    import boto3

    raw = boto3.client("dynamodb")
    raw.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    raw.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True})

    sys.path[:0] = [str(HANDLER), str(ROOT / "tests" / "handler")]
    from events import LambdaContext, api_event

    # -- cold init: fresh interpreters ----------------------------------------------------------
    seed = raw.put_item  # an item for the cold GET to find
    seed_id = "00000000-0000-4000-8000-00000000c01d"
    now = int(time.time())
    seed(TableName=TABLE, Item={"id": {"S": seed_id}, "data": {"M": {"name": {"S": "cold"}}},
                                "createdAt": {"S": "2025-01-01T00:00:00.000Z"}, "updatedAt": {"S": "2025-01-01T00:00:00.000Z"},
                                "version": {"N": "1"}, "expiresAt": {"N": str(now + 86400)}})
    cold, interp = [], []
    code = COLD_SNIPPET.format(tests=str(ROOT / "tests" / "handler"), item_id=seed_id)
    for _ in range(args.cold_runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=HANDLER, env=os.environ.copy(),
                             capture_output=True, text=True, check=True)
        wall = (time.perf_counter() - t) * 1e3
        cold.append(json.loads(out.stdout.strip().splitlines()[-1]))
        interp.append(wall)
    bare = [(lambda t: (subprocess.run([sys.executable, "-c", "pass"], check=True), (time.perf_counter() - t) * 1e3)[1])(
        time.perf_counter()) for _ in range(args.cold_runs)]

    # -- warm: in this process ------------------------------------------------------------------
    import app

    ctx = LambdaContext()
    item = json.loads(app.lambda_handler(api_event("POST", "/items", body={"name": "bench", "n": 1}), ctx)["body"])
    item_id = item["id"]
    get_event = api_event("GET", f"/items/{item_id}")
    put_event = api_event("PUT", f"/items/{item_id}", body={"name": "bench", "n": 2, "tags": ["a", "b"]})
    data = {"M": {"name": {"S": "bench"}, "n": {"N": "2"}, "tags": {"L": [{"S": "a"}, {"S": "b"}]}}}
    key = {"id": {"S": item_id}}

    def handler_get():
        assert app.lambda_handler(get_event, ctx)["statusCode"] == 200

    def handler_put():
        assert app.lambda_handler(put_event, ctx)["statusCode"] == 200

    client = app.STORE.client  # the handler's own client: same connection pool and config

    def raw_get():
        client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)

    def raw_put():
        client.put_item(TableName=TABLE, Item={"id": {"S": item_id}, "data": data, "createdAt": {"S": "x"},
                                               "updatedAt": {"S": "x"}, "version": {"N": "1"},
                                               "expiresAt": {"N": str(now + 86400)}})

    def raw_update():
        client.update_item(
            TableName=TABLE, Key=key,
            UpdateExpression="SET #d = :d, #u = :u, #v = #v + :one, #t = :t",
            ConditionExpression="attribute_exists(#id) AND (attribute_not_exists(#t) OR #t > :now)",
            ExpressionAttributeNames={"#d": "data", "#u": "updatedAt", "#v": "version", "#t": "expiresAt", "#id": "id"},
            ExpressionAttributeValues={":d": data, ":u": {"S": "x"}, ":one": {"N": "1"}, ":t": {"N": str(now + 86400)},
                                       ":now": {"N": str(now)}},
            ReturnValues="ALL_NEW")

    rows = {"GET  lambda_handler": handler_get, "GET  raw get_item": raw_get,
            "PUT  lambda_handler": handler_put, "PUT  raw put_item": raw_put, "PUT  raw update_item (same request)": raw_update}
    for fn in rows.values():  # warm up connections and code paths
        timed(fn, 50)
    samples: dict[str, list[float]] = {name: [] for name in rows}
    rounds = 5  # interleave the rows so drift (GC, moto's table growth) hits them alike
    for _ in range(rounds):
        for name, fn in rows.items():
            samples[name] += timed(fn, max(1, args.requests // rounds))

    # -- package ----------------------------------------------------------------------------------
    try:
        from blueprint.ship.package import build_package

        pkg = build_package(ROOT, "python3.14", "arm64", ROOT / "build" / "package")
        package_line = f"{pkg.size:,} bytes ({pkg.size / 1024 / 1024:.2f} MiB)  {pkg.path.relative_to(ROOT)}"
    except Exception as exc:  # noqa: BLE001 - report, do not fail the benchmark
        package_line = f"n/a ({exc})"

    print(f"items handler benchmark  (python {sys.version.split()[0]}, moto server at {endpoint}, "
          f"{args.requests} warm requests per row)")
    print()
    print("cold init (fresh interpreter, median of %d)" % args.cold_runs)
    print(f"  import app (config, client, resolver)      {statistics.median(c['import_ms'] for c in cold):8.1f} ms")
    print(f"  first request (GET, over HTTP to moto)     {statistics.median(c['first_ms'] for c in cold):8.1f} ms")
    print(f"  whole subprocess, wall                     {statistics.median(interp):8.1f} ms"
          f"   (bare `python -c pass`: {statistics.median(bare):.1f} ms)")
    print()
    print(f"{'warm, per request':40} {'p50 ms':>8} {'p99 ms':>8}")
    for name, s in samples.items():
        print(f"  {name:38} {pct(s, 0.50):8.3f} {pct(s, 0.99):8.3f}")
    print()
    g = pct(samples["GET  lambda_handler"], .5) - pct(samples["GET  raw get_item"], .5)
    p = pct(samples["PUT  lambda_handler"], .5) - pct(samples["PUT  raw put_item"], .5)
    u = pct(samples["PUT  lambda_handler"], .5) - pct(samples["PUT  raw update_item (same request)"], .5)
    print(f"handler overhead at p50: GET {g:+.3f} ms over get_item; PUT {p:+.3f} ms over put_item, "
          f"{u:+.3f} ms over the same update_item")
    print(f"package (python3.14, arm64): {package_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
