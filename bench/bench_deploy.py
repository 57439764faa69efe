"""Benchmark the change-set turnaround: command start -> review printed, blueprint vs the AWS CLI.

Run from the project root:  .venv/bin/python bench/bench_deploy.py [--runs 5]

On a warm embedded local AWS (moto server on 127.0.0.1, started through blueprint.local in a
temporary copy of the project, bootstrap and dev stack already deployed), each run renders a new
table capacity into generated/dev/, then times, as fresh processes on the same server and template:
  - blueprint:  `python -m blueprint changeset --env dev --target local` (stale check, package build,
    uploads, CreateChangeSet, polling, DescribeChangeSet with values, the review);
  - awscli:     `aws cloudformation deploy --no-execute-changeset` (PyPI's awscli from
    requirements/awscli.txt, installed into .venv-awscli if missing), then, because `deploy` prints
    no review, `aws cloudformation describe-change-set` for it.
Finally it models the wait for a change set that AWS takes T seconds to create: the CLI's waiter
polls every 5 s, blueprint's 0.2 s growing by 1.5x to 2 s.
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

ROOT = Path(__file__).resolve().parents[1]
AWSCLI_VENV = ROOT / ".venv-awscli"
AWS = AWSCLI_VENV / "bin" / "aws"
sys.path.insert(0, str(ROOT))

from blueprint import scratch  # noqa: E402
from blueprint.local import process as local  # noqa: E402
from blueprint.state import env_state_dir  # noqa: E402


def ensure_awscli() -> None:
    if AWS.is_file():
        return
    print(f"installing the AWS CLI into {AWSCLI_VENV} from requirements/awscli.txt ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
    subprocess.run([str(AWSCLI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", str(ROOT / "requirements" / "awscli.txt")], check=True)


def blueprint(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blueprint", "--root", str(root), *argv],
                          capture_output=True, text=True, cwd=root)


def timed(cmd: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc


def set_capacity(root: Path, units: int) -> None:
    path = root / "envs" / "dev.yaml"
    text = re.sub(r"\ntable:\n  read_capacity: \d+\n", "\n", path.read_text())
    path.write_text(text + f"\ntable:\n  read_capacity: {units}\n")
    proc = blueprint(root, "render", "--env", "dev")
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)


def modelled_wait(seconds: float, first: float, growth: float, cap: float) -> float:
    """When a poller first sees a change set that is ready after `seconds` (its first call is at 0)."""
    t, delay = 0.0, first
    while t < seconds:
        t += delay
        delay = min(delay * growth, cap)
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ensure_awscli()
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    root = scratch.copy_project(ROOT, work)
    endpoint = local.ensure_running(root / ".blueprint")
    try:
        for step in (["render"], ["bootstrap", "--env", "dev", "--target", "local"],
                     ["changeset", "--env", "dev", "--target", "local"], ["deploy", "--env", "dev", "--target", "local"]):
            proc = blueprint(root, *step)
            if proc.returncode != 0:
                raise SystemExit(f"setup step {step} failed:\n{proc.stdout}{proc.stderr}")
        bucket = "blueprint-artifacts-123456789012-us-east-1"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
        settings = json.loads((root / "generated" / "dev" / "stack.json").read_text())
        tags = [f"{k}={v}" for k, v in sorted(settings["tags"].items())]
        ours, cli_deploy, cli_review = [], [], []
        for run in range(args.runs):
            set_capacity(root, 20 + run)
            elapsed, proc = timed([sys.executable, "-m", "blueprint", "--root", str(root), "changeset",
                                   "--env", "dev", "--target", "local"], cwd=root)
            assert "0 to add, 1 to modify, 0 to replace, 0 to remove" in proc.stdout, proc.stdout
            ours.append(elapsed)
            code_key = json.loads((env_state_dir(root, "local", "dev") / "changeset.json").read_text())["code_key"]
            elapsed, proc = timed([str(AWS), "--endpoint-url", endpoint, "cloudformation", "deploy",
                                   "--template-file", str(root / "generated" / "dev" / "template.yaml"),
                                   "--stack-name", "items-dev", "--no-execute-changeset",
                                   "--capabilities", "CAPABILITY_IAM", "--parameter-overrides",
                                   f"ArtifactBucket={bucket}", f"CodeKey={code_key}", "--tags", *tags],
                                  env=env, cwd=root)
            change_set = re.search(r"--change-set-name (\S+)", proc.stdout).group(1)
            cli_deploy.append(elapsed)
            elapsed, proc = timed([str(AWS), "--endpoint-url", endpoint, "cloudformation", "describe-change-set",
                                   "--change-set-name", change_set], env=env, cwd=root)
            cli_review.append(cli_deploy[-1] + elapsed)

        def row(name: str, values: list[float]) -> str:
            return (f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")

        print(f"\nchange-set turnaround on the local AWS ({args.runs} runs, seconds, fresh process each):")
        print("| command | median | min | max |\n|---|---|---|---|")
        print(row("blueprint changeset (review printed)", ours))
        print(row("aws cloudformation deploy --no-execute-changeset", cli_deploy))
        print(row("  + aws cloudformation describe-change-set (review printed)", cli_review))
        print(f"ratio awscli(review) / blueprint: {statistics.median(cli_review) / statistics.median(ours):.2f}x")
        print("\nmodelled wait until the change set is seen, when AWS takes T s to create it:")
        print("| T (s) | awscli waiter (5 s) | blueprint (0.2 s x1.5 to 2 s) |\n|---|---|---|")
        for seconds in (1, 2, 3, 5, 8, 15):
            print(f"| {seconds} | {modelled_wait(seconds, 5, 1, 5):.1f} | {modelled_wait(seconds, 0.2, 1.5, 2):.1f} |")
    finally:
        local.stop(root / ".blueprint")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
