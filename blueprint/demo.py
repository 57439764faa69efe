"""`make demo`: the whole flow on the embedded local AWS, with no AWS account, in under a minute.

render -> a scratch copy of the project (dev's alarms turned on) -> local AWS -> bootstrap -> change set
(review, unguarded: it creates the alarms) -> deploy -> a spec change, its change set guarded by the health
alarm -> deploy watched through the monitoring window -> drift check -> outputs -> local API -> a scripted client (create, read, list, update, delete an
item; 403 without the key; a CORS preflight; 429 past the burst) -> stop everything it started.

The render runs on the project itself (`blueprint render`, as `make render` does: idempotent,
it only brings generated/ up to date with the spec). Everything after it runs on a scratch copy
of the project in a temporary folder (`--root <copy>`), with its own local AWS whose state lives
in the copy's `.blueprint/`: the project's `.blueprint/` (change-set records, outputs, a local AWS
the user is running) is never read, written or stopped. The handler's downloaded dependencies
are shared through the project's build/pip-cache, a cache. The shipping steps run through the
CLI (`blueprint.cli.main`) exactly as a person would type them, with --target local and env dev;
the demo exits non-zero at the first failed step, and removes the copy when it passes.
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blueprint import cli, demo_auth, scratch, state
from blueprint.errors import UserError
from blueprint.local import load, process, serve

ENV = "dev"
ORIGIN_FALLBACK = "http://localhost:3000"
# The demo's local AWS keeps its own time at this scale: the local target's one-minute monitoring window of a
# guarded deploy lasts 3 s (with timing off, nothing else waits).
TIME_SCALE = "0.05"
ALARMS_ON = "alarms:\n  enabled: true  # the demo turns dev's alarms on: the health alarm guards its second deploy\n"


class StepFailed(Exception):
    """A demo step did not do what it should; the message says what happened instead."""


class Demo:
    def __init__(self, project: Path, out: Any = sys.stdout, *, keep: bool = False):
        self.project = project  # the user's project: rendered, copied, otherwise left alone
        self.root: Path | None = None  # the scratch copy every later step runs on
        self.keep = keep
        self.out = out
        self.step_no = 0
        self.started = time.monotonic()
        self.api: Any = None
        self.log = io.StringIO()

    # -- presentation --------------------------------------------------------------------------

    def heading(self, title: str) -> None:
        self.step_no += 1
        elapsed = time.monotonic() - self.started
        self.out.write(f"\n=== {self.step_no}. {title} {'=' * max(3, 66 - len(title))} [{elapsed:5.1f}s]\n")
        self.out.flush()

    def say(self, text: str) -> None:
        self.out.write(f"    {text}\n")
        self.out.flush()

    # -- steps ----------------------------------------------------------------------------------

    def cli(self, *argv: str, root: Path | None = None) -> None:
        root = root or self.scratch
        shown = " ".join(argv)
        self.say(f"$ blueprint --root {root} {shown}")
        code = cli.main(["--root", str(root), *argv])
        if code != 0:
            raise StepFailed(f"`blueprint {shown}` exited with {code}")

    @property
    def scratch(self) -> Path:
        if self.root is None:
            raise StepFailed("the scratch copy of the project was not made")
        return self.root

    def copy_project(self) -> None:
        """The project's spec, generated/ and handler in a temporary folder: its own `.blueprint/`
        state, so the user's change-set records, outputs and local AWS are never touched."""
        self.root = Path(tempfile.mkdtemp(prefix="blueprint-demo-")).resolve()
        cache = self.project / "build" / "pip-cache"
        try:
            scratch.copy_project(self.project, self.root)
        except OSError as exc:
            raise StepFailed(f"cannot copy the project to {self.root}: {exc}") from None
        self.say(f"scratch copy: {self.root}")
        self.say(f"  {', '.join([*scratch.FILES, *(d + '/' for d in scratch.DIRS)])} copied; "
                 f"build/pip-cache -> {cache}")
        self.say(f"  its state folder: {self.root / '.blueprint'} "
                 f"(the project's {self.project / '.blueprint'} is not touched)")

    def spec_change(self, extra: str, why: str) -> None:
        """Append YAML to the scratch copy's envs/dev.yaml and render the copy (the user's project is untouched)."""
        path = self.scratch / "envs" / f"{ENV}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
        self.say(f"{why}: appended to {path}:")
        for line in extra.splitlines():
            self.say(f"  {line}")
        self.cli("render", "--env", ENV)

    def start_api(self) -> None:
        endpoint = process.ensure_running(state.state_dir(self.scratch))
        self.api = serve.build(self.scratch, ENV, port=0, access_log=self.log, endpoint=endpoint,
                               function_log=lambda text: self.say(f"[function] {text}")).start()
        for line in serve.describe(self.api, endpoint, "kept for the last step").splitlines():
            self.say(line)
        if not self.api.deployed.deployed:
            raise StepFailed("the local API found no deployed API key: the deploy did not leave the stack's outputs")

    def request(self, method: str, path: str, *, key: bool = True, body: Any = None,
                headers: dict[str, str] | None = None, show: bool = True) -> tuple[int, dict[str, str], Any]:
        h = dict(headers or {})
        if key:
            h["x-api-key"] = self.api.api_key
        payload = None
        if body is not None:
            payload = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.api.server.host, self.api.server.port, timeout=30)
        try:
            conn.request(method, f"/{self.api.api.stage}{path}", body=payload, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            status, resp_headers = resp.status, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        data = json.loads(raw) if raw and "json" in resp_headers.get("content-type", "") else raw.decode()
        if show:
            shown = {k: v for k, v in h.items() if k != "x-api-key"}
            self.say(f"{method} {self.api.url}{path}" + (" (with x-api-key)" if key else " (no x-api-key)")
                     + (f" {shown}" if shown else "") + (f" {payload}" if payload else ""))
            text = data if isinstance(data, str) else json.dumps(data)
            self.say(f"  -> {status} {text}")
        return status, resp_headers, data

    def expect(self, status: int, wanted: int, what: str) -> None:
        if status != wanted:
            raise StepFailed(f"{what}: expected {wanted}, got {status}")

    def crud(self) -> str:
        status, headers, item = self.request("POST", "/items", body={"name": "demo widget", "colour": "teal"})
        self.expect(status, 201, "create")
        item_id = item["id"]
        self.say(f"  Location: {headers.get('location')}  ETag: {headers.get('etag')}")
        status, _, got = self.request("GET", f"/items/{item_id}")
        self.expect(status, 200, "read")
        status, _, listed = self.request("GET", "/items?limit=10", show=False)
        self.expect(status, 200, "list")
        self.say(f"GET {self.api.url}/items?limit=10 (with x-api-key)")
        self.say(f"  -> {status}, {len(listed['items'])} item(s): {[i['id'] for i in listed['items']]}")
        if item_id not in [i["id"] for i in listed["items"]]:
            raise StepFailed("list: the new item is not listed")
        status, _, updated = self.request("PUT", f"/items/{item_id}", body={"name": "demo widget", "colour": "amber"},
                                          headers={"If-Match": headers.get("etag", "*")})
        self.expect(status, 200, "update")
        if updated.get("version") != 2:
            raise StepFailed(f"update: expected version 2, got {updated.get('version')}")
        status, _, _ = self.request("DELETE", f"/items/{item_id}")
        self.expect(status, 204, "delete")
        status, _, _ = self.request("GET", f"/items/{item_id}")
        self.expect(status, 404, "read after delete")
        return item_id

    def forbidden(self) -> None:
        origin = self.allowed_origin()
        status, headers, _ = self.request("GET", "/items", key=False, headers={"Origin": origin})
        self.expect(status, 403, "no key")
        cors = {k: v for k, v in headers.items() if k.startswith("access-control-")}
        self.say(f"  CORS headers on the gateway's 403: {cors}")
        if "access-control-allow-origin" not in headers:
            raise StepFailed("the 403 carries no Access-Control-Allow-Origin (GatewayResponse DEFAULT_4XX)")

    def allowed_origin(self) -> str:
        fn = self.api.api.function
        origins = str(fn.environment.get("ALLOWED_ORIGINS", "")) if fn else ""
        return origins.split(",")[0].strip() or ORIGIN_FALLBACK

    def preflight(self) -> None:
        origin = self.allowed_origin()
        status, headers, _ = self.request("OPTIONS", "/items", key=False,
                                          headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type,x-api-key"})
        self.expect(status, 204, "preflight")
        for name in ("access-control-allow-origin", "access-control-allow-methods",
                     "access-control-allow-headers", "access-control-max-age"):
            self.say(f"  {name}: {headers.get(name)}")
        if headers.get("access-control-allow-origin") != origin:
            raise StepFailed(f"preflight: the allowed origin {origin} was not echoed")
        status, headers, _ = self.request("OPTIONS", "/items", key=False, headers={"Origin": "https://evil.example"})
        self.say(f"  access-control-allow-origin for a foreign origin: {headers.get('access-control-allow-origin')}")
        if "access-control-allow-origin" in headers:
            raise StepFailed("preflight: a foreign origin was echoed")

    def burst(self) -> None:
        plan = self.api.api.usage_plans[0].throttle if self.api.api.usage_plans else None
        if plan is None:
            raise StepFailed("the template has no usage-plan throttle to exceed")
        threads = 8
        total = -(-(plan.burst_limit + 80) // threads) * threads  # a multiple of the thread count
        self.say(f"usage plan: {plan.rate_limit:g} req/s, burst {plan.burst_limit} per key; sending {total} requests "
                 f"from {threads} keep-alive connections at once")
        result = load.bounded(load.http_calls(self.api.server.host, self.api.server.port, "GET",
                                              f"/{self.api.api.stage}/items?limit=1",
                                              {"x-api-key": self.api.api_key}, timeout=30), threads, total)
        counts = result.statuses
        self.say(f"  -> in {result.seconds:.2f}s: " + ", ".join(f"{n} x {s}" for s, n in sorted(counts.items())))
        if not counts.get(429):
            raise StepFailed("no request was throttled (429) past the burst")
        _, _, body = self.request("GET", "/items?limit=1", show=False)
        if isinstance(body, dict) and "error" in body:
            self.say(f"  a 429's body: {json.dumps(body)}")

    def show_access_log(self) -> None:
        lines = self.log.getvalue().splitlines()
        self.say(f"{len(lines)} access-log lines in the stage's format; the first and a throttled one:")
        if lines:
            self.say(lines[0])
        throttled = next((line for line in lines if '"429"' in line), None)
        if throttled:
            self.say(throttled)

    def stop(self, passed: bool) -> None:
        if self.api is not None:
            self.api.stop()
            self.say("local API stopped")
            self.api = None
        if self.root is None:
            return
        if process.stop(state.state_dir(self.root)):
            self.say("the demo's local AWS stopped (its resources lived in memory: they are gone)")
        if passed and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
            self.say(f"removed the scratch copy {self.root}")
        else:
            self.say(f"kept the scratch copy {self.root} (its local AWS log: "
                     f"{state.state_dir(self.root) / process.LOG_FILE})")

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> int:
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("Render the templates (blueprint.yaml + envs/*.yaml -> generated/)",
             lambda: self.cli("render", root=self.project)),
            ("Copy the project to a scratch folder (the demo's own state)", self.copy_project),
            ("Start the demo's local AWS (moto server on 127.0.0.1, its clock at 1/20)",
             lambda: self.cli("local", "up", "--time-scale", TIME_SCALE)),
            ("Turn dev's alarms on in the scratch copy", lambda: self.spec_change(ALARMS_ON, "alarms on")),
            ("Bootstrap the account (artifacts bucket, API Gateway logging role, the stack roles' boundary)",
             lambda: self.cli("bootstrap", "--env", ENV, "--target", "local")),
            ("Create the change set and review it (it creates the alarms: unguarded)",
             lambda: self.cli("changeset", "--env", ENV, "--target", "local")),
            ("Deploy the reviewed change set", lambda: self.cli("deploy", "--env", ENV, "--target", "local")),
            ("Change the spec and review: the health alarm now guards the change set",
             lambda: (self.spec_change("table:\n  read_capacity: 6\n", "a change to ship"),
                      self.cli("changeset", "--env", ENV, "--target", "local"))),
            ("Deploy, watched by the health alarm through the monitoring window",
             lambda: self.cli("deploy", "--env", ENV, "--target", "local")),
            ("Drift check: does the live stack match its template?",
             lambda: self.cli("drift", "--env", ENV, "--target", "local")),
            ("Stack outputs", lambda: self.cli("outputs", "--env", ENV, "--target", "local")),
            ("Serve the API locally, as the rendered template defines it", self.start_api),
            ("Create, read, list, update and delete an item with the key", self.crud),
            ("Without the key: API Gateway's 403, with CORS headers", self.forbidden),
            ("CORS preflight (OPTIONS, no key)", self.preflight),
            ("With api.auth cognito: a call with a token and one without", lambda: demo_auth.token_and_no_token(self, ENV)),
            ("Exceed the burst: 429 Too Many Requests", self.burst),
            ("Access log", self.show_access_log),
        ]
        passed = False
        try:
            for title, step in steps:
                self.heading(title)
                step()
            passed = True
        except (StepFailed, UserError) as exc:
            self.out.write(f"\nDEMO FAILED at step {self.step_no}: {exc}\n")
            return 1
        except KeyboardInterrupt:
            self.out.write("\ninterrupted\n")
            return 130
        finally:
            self.heading("Stop what the demo started")
            self.stop(passed)
        self.out.write(f"\ndemo passed in {time.monotonic() - self.started:.1f}s\n")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blueprint.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the project folder (default: here)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy of the project afterwards")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "blueprint.yaml").is_file():
        print(f"error: {root} has no blueprint.yaml; run the demo from the project folder (make demo)", file=sys.stderr)
        return 2
    try:
        return Demo(root, keep=args.keep).run()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
