"""Benchmark the local API: throughput and p50/p99 latency of GET /items/{id}, throttling off and on.

    .venv/bin/python bench/bench_api.py [--env dev] [--threads 8] [--requests 5000] [--seconds 10]

Set-up, all in a throw-away copy of the project (so the developer's .blueprint/ and local AWS
are untouched): its own local AWS (moto server process), the environment's table created from
the rendered template's key schema with one item, and `python -m blueprint serve` as a
separate process pinned to one CPU core (the figure is "one core"); the load generator and
the local AWS share the other core. The load generator is bounded: each of --threads threads
keeps one HTTP/1.1 keep-alive connection (http.client) and stops at --requests in total or
after --seconds, whichever comes first. 200 warm-up requests are not counted.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = "bench-key-0123456789abcdefghijklmnopqrstuv"
WARM_UP = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(root: Path, env: str, endpoint: str, region: str) -> str:
    """Create the table the template defines and one item in it; return the item's id."""
    import boto3

    from blueprint.cfn import loader
    from blueprint.local import process as local

    doc = loader.loads((root / "generated" / env / "template.yaml").read_text())
    (props,) = [r["Properties"] for r in doc["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    ddb = boto3.client("dynamodb", region_name=region, **local.client_kwargs(endpoint))
    ddb.create_table(TableName=props["TableName"], KeySchema=props["KeySchema"],
                     AttributeDefinitions=props["AttributeDefinitions"],
                     ProvisionedThroughput=props["ProvisionedThroughput"])
    return props["TableName"]


def _start_server(root: Path, env: str, port: int, throttle: bool, core: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "blueprint", "--root", str(root), "serve", "--env", env, "--port", str(port),
           "--api-key", KEY, "--access-log", os.devnull]
    if not throttle:
        cmd.append("--no-throttle")
    # A file, not a pipe: nobody reads a pipe during the run, and a full one would block the server.
    log = open(root / f"serve-{port}.log", "w")  # noqa: SIM115 - closed with the process's end
    proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, {core})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the local API exited: {(root / f'serve-{port}.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the local API did not start within 30 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to show how busy the server's core was."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _create_item(port: int, stage: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", f"/{stage}/items", body=json.dumps({"name": "bench", "size": 42}),
                 headers={"x-api-key": KEY, "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 201:
        raise SystemExit(f"creating the bench item failed: {resp.status} {body[:300]!r}")
    return json.loads(body)["id"]


def summary(result) -> dict:
    """A load.LoadResult as the table's row."""
    return {
        "requests": result.calls, "seconds": round(result.seconds, 2), "req_per_s": round(result.rate(), 1),
        "ok_per_s": round(result.rate(200), 1),
        "p50_ms": round(result.percentile_ms(50), 2) if result.calls else None,
        "p99_ms": round(result.percentile_ms(99), 2) if result.calls else None,
        "statuses": result.statuses,
    }


def api_load(port: int, path: str, threads: int, total: int, seconds: float) -> dict:
    """Bounded closed-loop load: `threads` keep-alive clients, `total` requests or `seconds`, whichever first."""
    from blueprint.local import load

    return summary(load.bounded(load.http_calls("127.0.0.1", port, "GET", path, {"x-api-key": KEY}),
                                threads, total, seconds))


def local_aws_alone(endpoint: str, region: str, table: str, item_id: str, threads: int, total: int,
                    seconds: float) -> dict:
    """The ceiling the local AWS sets: boto3 GetItem straight to it, same concurrency and bounds."""
    import boto3

    from blueprint.local import load
    from blueprint.local import process as local

    def make_call(_: int):
        client = boto3.client("dynamodb", region_name=region, **local.client_kwargs(endpoint))
        return lambda: client.get_item(TableName=table, Key={"id": {"S": item_id}})["ResponseMetadata"]["HTTPStatusCode"]

    return {**summary(load.bounded(make_call, threads, total, seconds)), "busy": "(boto3 in the load generator's process)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    from blueprint import scratch
    from blueprint.local import process as local
    from blueprint.spec.validate import load_valid

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[0] if len(cores) > 1 else None
    if server_core is not None:
        os.sched_setaffinity(0, set(cores[1:]))  # the load generator (and the local AWS it starts) elsewhere
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        root = Path(tmp)
        scratch.copy_project(ROOT, root)
        region = load_valid(root, [args.env])[0].region
        state = local.state.state_dir(root)
        endpoint = local.ensure_running(state)
        try:
            table = _seed(root, args.env, endpoint, region)
            results = {}
            for label, throttle in (("throttling off", False), ("throttling on", True)):
                port = _free_port()
                server = _start_server(root, args.env, port, throttle, server_core)
                try:
                    stage = "v1"
                    item_id = _create_item(port, stage)
                    path = f"/{stage}/items/{item_id}"
                    api_load(port, path, min(args.threads, 4), WARM_UP, 30)
                    if throttle:
                        time.sleep(2.5)  # let the burst refill: measure from a full bucket, as after a quiet spell
                    if not throttle:
                        # The API's own ceiling: the same route, an id the handler refuses (400)
                        # before it calls DynamoDB, so the local AWS is out of the loop.
                        r = results["API without the table call"] = api_load(
                            port, f"/{stage}/items/not-a-uuid", args.threads, args.requests, args.seconds)
                        r["busy"] = "-"
                        results["local AWS GetItem alone"] = local_aws_alone(
                            endpoint, region, table, item_id, args.threads, args.requests, args.seconds)
                    aws_pid = (local.status(state) or {}).get("pid", 0)
                    cpu_before = _cpu_seconds(server.pid), _cpu_seconds(aws_pid), time.process_time()
                    r = results[label] = api_load(port, path, args.threads, args.requests, args.seconds)
                    cpu_after = _cpu_seconds(server.pid), _cpu_seconds(aws_pid), time.process_time()
                    r["busy"] = " ".join(f"{name} {(b - a) / r['seconds']:.0%}" for name, a, b in
                                         zip(("server", "local-AWS", "load-generator"), cpu_before, cpu_after))
                finally:
                    server.terminate()
                    server.wait(timeout=10)
        finally:
            local.stop(state)
    print(f"GET /items/{{id}} through `python -m blueprint serve --env {args.env}` "
          f"(server pinned to core {server_core}; {args.threads} keep-alive clients; "
          f"at most {args.requests} requests or {args.seconds:g} s)")
    print(f"{'':26} {'requests':>8} {'seconds':>8} {'req/s':>8} {'200/s':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for label, r in results.items():
        print(f"{label:26} {r['requests']:>8} {r['seconds']:>8} {r['req_per_s']:>8} {r['ok_per_s']:>8} "
              f"{r['p50_ms']:>8} {r['p99_ms']:>8}  {r['statuses']}")
        print(f"{'':26} CPU busy (share of one core): {r['busy']}")
    off = results["throttling off"]["req_per_s"]
    alone = results["local AWS GetItem alone"]["req_per_s"]
    bare = results["API without the table call"]["req_per_s"]
    print(f"target >= 500 req/s, throttling off: {off} req/s end to end "
          f"({'met' if off >= 500 else 'not met'}); the local AWS alone answers GetItem at {alone} req/s, "
          f"the local API without the table call serves {bare} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
