"""Deploy timings against the peers on one timed local AWS: create, update (one capacity change), no-op.

Run:  make bench-deploy   (= .venv/bin/python bench/bench_deploy.py [--runs 3] [--time-scale 0.04])

One local AWS (blueprint's embedded moto server, `--timing aws --time-scale F`) in a scratch copy of the
project, the bootstrap stack deployed once. Then, in each of --runs rounds, each tool in turn creates the
dev stack, updates it (Table ReadCapacityUnits + 1), deploys it again unchanged (no-op), and the stack is
deleted (untimed: the template's physical names allow one such stack at a time). Each tool is a fresh
process from its own venv (bench/peers.py: awscli, sam, sceptre through AWS_ENDPOINT_URL) with the same
template (generated/dev/template.yaml as blueprint renders it, base and updated) and the same package
(the handler zip blueprint uploaded: ArtifactBucket, CodeKey). blueprint is `changeset` then `deploy`
(--target local: the same server, found through the copy's .blueprint/); its no-op is `changeset` alone,
which answers "no changes". The spec edit and `blueprint render` before an operation are not timed (the
render is timed below, and the peers get the rendered file).

The local AWS's own time for an operation = the change set's creation (measured once: --time-scale x 10 s
of AWS time), when the tool made one that the engine timed, + the stack operation from its first event
to its last. Overhead = wall - that (bench/deploy_table.py). Then rendering: `blueprint render` (all
environments; one) beside `sceptre generate` of the same stack, and 53 environments.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import deploy_table as dt  # noqa: E402
import peers  # noqa: E402
from bench_render import copy_project as render_project  # noqa: E402

DEFAULT_SCALE = 0.04
TOOLS = ("blueprint", "awscli", "sam", "sceptre")
# Which operations send the engine a change set it takes time over. sceptre calls CreateStack/UpdateStack.
# An unchanged template sent as TemplateBody with the same parameters is refused by moto at CreateChangeSet
# ("No updates are to be performed.", no time taken: blueprint, awscli); sam sends a TemplateURL, which moto
# compares later, so its empty change set is created and goes FAILED after the change set's time, as on AWS.
TIMED_CHANGE_SET = {("blueprint", "create"), ("blueprint", "update"), ("awscli", "create"), ("awscli", "update"),
                    ("sam", "create"), ("sam", "update"), ("sam", "no-op")}
STACK = "items-dev"
# How each tool polls (a model, for AWS's own time): the change set, then the stack; `after`: a sleep it
# takes after it has seen the stack done. blueprint's are blueprint.ship.stacks' (as before 1.0 s caps too).
PEER_SCHEDULES = {
    "awscli": (dt.every(5.0), dt.every(30.0), 0.0),       # botocore waiters: Delay 5 (change set), 30 (stack)
    "sam": (dt.every(5.0), dt.every(5.0, first_at=5.0), 0.0),  # SAM_CLI_POLL_DELAY 5 s, slept before the first
    "sceptre": (None, dt.every(4.0), 4.0),                # no change set; sleeps 4 s after every poll
}


def schedules() -> dict[str, tuple]:
    from blueprint.ship import stacks

    def ours(cs_cap: float, stack_cap: float) -> tuple:
        return (dt.geometric(stacks.POLL_FIRST_S, stacks.POLL_GROWTH, cs_cap),
                dt.geometric(stacks.POLL_FIRST_S, stacks.POLL_GROWTH, stack_cap), 0.0)

    return {"blueprint": ours(stacks.CHANGE_SET_POLL_MAX_S, stacks.STACK_POLL_MAX_S),
            "blueprint, caps 2 s / 5 s (before)": ours(2.0, 5.0), **PEER_SCHEDULES}


def modelled_latency(table: dict, cs_seconds: float, scale: float) -> str:
    """Mean polling latency at AWS's time: this run's change set and stack durations divided by the scale."""
    durations = {op: ((table[("blueprint", op)].engine - cs_seconds) / scale) for op in ("create", "update")
                 if ("blueprint", op) in table}
    cs_aws = cs_seconds / scale
    head = " | ".join(f"{op} (change set {cs_aws:.0f} s + stack {d:.0f} s)" for op, d in durations.items())
    lines = [f"| tool | {head} |", "|---|" + "---:|" * len(durations)]
    for tool, (cs, stack, after) in schedules().items():
        cells = [(dt.mean_latency(cs_aws, cs) if cs else 0.0) + dt.mean_latency(d, stack) + after
                 for d in durations.values()]
        lines.append(f"| {tool} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    return "\n".join(lines)


def blueprint_run(root: Path, env: dict[str, str], *argv: str) -> peers.PeerRun:
    return peers._run([sys.executable, "-m", "blueprint", "--root", str(root), *argv], env, root, peers.RUN_TIMEOUT_S)


def set_spec_capacity(root: Path, units: int | None) -> None:
    """envs/dev.yaml with table.read_capacity = units (None: as the project has it), rendered."""
    path = root / "envs" / "dev.yaml"
    text = re.sub(r"\ntable:\n  read_capacity: \d+\n", "\n", path.read_text())
    path.write_text(text if units is None else text.rstrip("\n") + f"\ntable:\n  read_capacity: {units}\n")
    done = blueprint_run(root, dict(os.environ), "render", "--env", "dev")
    if done.code:
        raise SystemExit(f"render failed:\n{done.tail}")


def events_after(cfn, stack: str, marker: str | None) -> list[dict]:
    """The stack's events newer than the event `marker` (all of them for None)."""
    found = []
    try:
        for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
            for event in page["StackEvents"]:
                if event["EventId"] == marker:
                    return found
                found.append(event)
    except cfn.exceptions.ClientError as exc:
        if "does not exist" not in str(exc):
            raise
    return found


def newest_event(cfn, stack: str) -> str | None:
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except cfn.exceptions.ClientError:
        return None
    return events[0]["EventId"] if events else None


def change_set_seconds(cfn) -> float:
    """The engine's time to create a change set, measured: a one-queue stack's CREATE change set, polled every 10 ms."""
    body = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    start = time.perf_counter()
    cs = cfn.create_change_set(StackName="bench-calibrate", ChangeSetName="calibrate", TemplateBody=body,
                               ChangeSetType="CREATE")
    while cfn.describe_change_set(ChangeSetName=cs["Id"])["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    cfn.delete_change_set(ChangeSetName=cs["Id"])
    cfn.delete_stack(StackName="bench-calibrate")
    return seconds


class Bench:
    def __init__(self, root: Path, endpoint: str, region: str, cs_seconds: float, templates: dict[str, Path],
                 params: dict[str, str], tags: dict[str, str], capacities: dict[str, int]):
        self.root, self.endpoint, self.region, self.cs_seconds = root, endpoint, region, cs_seconds
        self.templates, self.params, self.tags, self.capacities = templates, params, tags, capacities
        self.cfn, _ = peers._clients(endpoint, region)
        self.env = peers.peer_env(root, endpoint, region)
        self.samples: dict[tuple[str, str], list[dt.Sample]] = {(t, op): [] for t in TOOLS for op in dt.OPERATIONS}
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.splits: list[tuple[str, float, float]] = []  # blueprint's (operation, changeset s, deploy s)

    def _blueprint(self, op: str) -> peers.PeerRun:
        set_spec_capacity(self.root, self.capacities["update"] if op != "create" else None)  # untimed
        first = blueprint_run(self.root, self.env, "changeset", "--env", "dev", "--target", "local")
        if op == "no-op" or first.code:
            return first
        second = blueprint_run(self.root, self.env, "deploy", "--env", "dev", "--target", "local")
        self.splits.append((op, first.seconds, second.seconds))
        return peers.PeerRun(first.seconds + second.seconds, second.code, first.tail[-300:] + second.tail)

    def _peer(self, tool: str, stack: str, op: str) -> peers.PeerRun:
        template = self.root / ".peers" / "template.yaml"
        shutil.copyfile(self.templates["update" if op != "create" else "create"], template)
        return peers.PEERS[tool](self.root, self.endpoint, self.region, stack, template, self.params, self.tags)

    def operation(self, tool: str, stack: str, op: str) -> None:
        before = peers.stack_state(self.endpoint, self.region, stack)
        marker = newest_event(self.cfn, stack) if before else None
        run = self._blueprint(op) if tool == "blueprint" else self._peer(tool, stack, op)
        span = dt.event_span((e["Timestamp"], e["ResourceStatus"]) for e in events_after(self.cfn, stack, marker))
        engine = dt.engine_seconds(self.cs_seconds, (tool, op) in TIMED_CHANGE_SET, span)
        self.samples[(tool, op)].append(dt.Sample(run.seconds, engine, run.code))
        read = self.capacities["update" if op != "create" else "create"]
        verdict = peers._verify(op, before, peers.stack_state(self.endpoint, self.region, stack), read,
                                self.params, self.tags)
        refused = run.code != 0 and op == "no-op" and "No updates are to be performed" in run.tail
        if refused:
            self.notes.append(f"{tool} no-op exit {run.code}: the local AWS refused the empty change set at "
                              "CreateChangeSet (AWS creates it FAILED)")
        elif run.code != 0 or verdict != "ok":
            self.problems.append(f"{tool} {op}: exit {run.code}, {verdict}\n{run.tail[-800:]}")
        print(f"  {tool:9} {op:6} wall {run.seconds:6.2f}  local AWS {engine:6.2f}  overhead {run.seconds - engine:6.2f}"
              f"  exit {run.code}  {verdict}", flush=True)

    def round(self, number: int, suffix: str) -> None:
        for tool in TOOLS:
            stack = STACK if tool == "blueprint" else f"peer-{tool}-{suffix}-{number}"
            for op in dt.OPERATIONS:
                self.operation(tool, stack, op)
            peers.delete_stack(self.endpoint, self.region, stack, timeout=120)


def local_endpoint(root: Path) -> str:
    from blueprint.local import process as local

    return local.status(root / ".blueprint")["endpoint"]


def setup(root: Path) -> tuple[dict[str, Path], dict[str, int], dict[str, str]]:
    """Render the base and the updated template (kept for the peers), deploy the bootstrap; the package's key."""
    from blueprint.state import env_state_dir

    keep = root / ".bench"
    keep.mkdir()
    template = root / "generated" / "dev" / "template.yaml"
    set_spec_capacity(root, None)
    base = int(re.search(r"ReadCapacityUnits: (\d+)", template.read_text()).group(1))
    shutil.copyfile(template, keep / "create.yaml")
    set_spec_capacity(root, base + 1)
    shutil.copyfile(template, keep / "update.yaml")
    changed = [a for a, b in zip((keep / "create.yaml").read_text().splitlines(),
                                 (keep / "update.yaml").read_text().splitlines()) if a != b]
    if len(changed) != 1 or "ReadCapacityUnits" not in changed[0]:
        raise SystemExit(f"the update should change one ReadCapacityUnits line, it changes: {changed}")
    set_spec_capacity(root, None)
    env = dict(os.environ)
    for step in ("bootstrap", "changeset"):  # the changeset builds and uploads the package (untimed warm-up)
        done = blueprint_run(root, env, step, "--env", "dev", "--target", "local")
        if done.code:
            raise SystemExit(f"blueprint {step} failed:\n{done.tail}")
    code_key = json.loads((env_state_dir(root, "local", "dev") / "changeset.json").read_text())["code_key"]
    settings = json.loads((root / "generated" / "dev" / "stack.json").read_text())
    endpoint = local_endpoint(root)
    peers.delete_stack(endpoint, settings["region"], STACK)  # the warm-up's REVIEW_IN_PROGRESS stack
    return {"create": keep / "create.yaml", "update": keep / "update.yaml"}, \
        {"create": base, "update": base + 1}, {"CodeKey": code_key}


def render_bench(root: Path, endpoint: str, region: str, params: dict, tags: dict, template: Path,
                 runs: int) -> list[tuple[str, list[float]]]:
    """Rendering: blueprint's (all environments, one, 53) and sceptre generate of the dev stack."""
    env = dict(os.environ)

    def times(make) -> list[float]:
        out = []
        for _ in range(runs):
            run = make()
            if run.code:
                raise SystemExit(f"render step failed ({run.code}):\n{run.tail}")
            out.append(run.seconds)
        return out

    many = Path(tempfile.mkdtemp(prefix="bench-render-53-"))
    try:
        render_project(many, synthetic=50)
        return [
            ("`blueprint render` (all 3 environments + bootstrap)", times(lambda: blueprint_run(root, env, "render"))),
            ("`blueprint render --env dev` (the stack sceptre generates)",
             times(lambda: blueprint_run(root, env, "render", "--env", "dev"))),
            ("`sceptre generate` (file handler, `.yaml`)",
             times(lambda: peers.sceptre_generate(root, endpoint, region, "bench-render", template, params, tags))),
            ("`sceptre generate` (Jinja, `.yaml.j2`)",
             times(lambda: peers.sceptre_generate(root, endpoint, region, "bench-render", template, params, tags,
                                                  jinja=True))),
            ("`blueprint render` (53 environments: 3 + 50 synthetic)",
             times(lambda: blueprint_run(many, env, "render"))),
        ]
    finally:
        shutil.rmtree(many, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (each tool creates, updates, no-ops once per round)")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_SCALE, help="the local AWS's time scale")
    parser.add_argument("--render-runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the raw samples here")
    args = parser.parse_args()

    from blueprint import scratch
    from blueprint.local import process as local
    from blueprint.local.timing import Timing

    started = time.perf_counter()
    for tool in peers.TOOLS:
        peers.ensure_tool(tool)
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    root = scratch.copy_project(ROOT, work / "project")
    try:
        endpoint = local.ensure_running(root / ".blueprint", Timing("aws", args.time_scale))
        settings = json.loads((root / "generated" / "dev" / "stack.json").read_text())
        region, tags = settings["region"], settings["tags"]
        templates, capacities, params = setup(root)
        cfn, _ = peers._clients(endpoint, region)
        outputs = cfn.describe_stacks(StackName=settings["bootstrap_stack"])["Stacks"][0]["Outputs"]
        params = {"ArtifactBucket": next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ArtifactBucketName"),
                  **params}
        cs_seconds = statistics.median(change_set_seconds(cfn) for _ in range(3))
        print(f"local AWS {endpoint} (timing aws, time scale {args.time_scale:g}); change set creation "
              f"{cs_seconds:.3f} s; package s3://{params['ArtifactBucket']}/{params['CodeKey']}", flush=True)
        bench = Bench(root, endpoint, region, cs_seconds, templates, params, tags, capacities)
        suffix = time.strftime("%H%M%S")
        for number in range(1, args.runs + 1):
            print(f"round {number}/{args.runs} ({time.perf_counter() - started:.0f} s, load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
            bench.round(number, suffix)
        deploy_done = time.perf_counter() - started
        local.stop(root / ".blueprint")  # rendering needs no AWS: nothing else runs while it is timed
        renders = render_bench(root, endpoint, region, params, tags, templates["create"], args.render_runs)
    finally:
        local.stop(root / ".blueprint")
        shutil.rmtree(work, ignore_errors=True)

    table = dt.cells(bench.samples)
    print(f"\ndeploy on the timed local AWS (time scale {args.time_scale:g}, {args.runs} runs per cell, "
          f"change set creation {cs_seconds:.2f} s; seconds):")
    print(dt.markdown_table(table, TOOLS))
    print("\ntarget: blueprint's overhead under 1 s and at most a fifth of the best peer's (exit 0 in every run)")
    print(dt.target_table(dt.target_rows(table, "blueprint", TOOLS[1:]), "blueprint"))
    print("\nmodelled polling latency at AWS's time (time scale 1), mean seconds from done to seen, per operation:")
    print(modelled_latency(table, cs_seconds, args.time_scale))
    print(f"\nrender ({args.render_runs} runs each, fresh processes, seconds):")
    print("| command | median s | min-max |\n|---|---:|---|")
    for name, values in renders:
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f}-{max(values):.2f} |")
    for op in ("create", "update"):
        pairs = [(c, d) for o, c, d in bench.splits if o == op]
        if pairs:
            print(f"blueprint {op}: `changeset` {statistics.median(c for c, _ in pairs):.2f} s + "
                  f"`deploy` {statistics.median(d for _, d in pairs):.2f} s (medians)")
    total = time.perf_counter() - started
    print(f"\nwhole bench {total:.0f} s (deploys {deploy_done:.0f} s), load average at the end "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for note in sorted(set(bench.notes)):
        print(f"note: {note}")
    if args.json:
        args.json.write_text(json.dumps({"time_scale": args.time_scale, "change_set_s": cs_seconds,
                                         "samples": {f"{t} {op}": [s._asdict() for s in v]
                                                     for (t, op), v in bench.samples.items()},
                                         "blueprint_splits": bench.splits, "render": dict(renders)}, indent=1))
    if bench.problems:
        print("\nPROBLEMS:\n" + "\n".join(bench.problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
