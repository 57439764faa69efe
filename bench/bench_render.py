"""Wall time of `blueprint render` (validation and Python start-up included): 1, all, and 50 environments;
and of `blueprint validate` on two oversized specs (a 1 MB environment file, 16,000 tag keys), which
are refused (exit 2) but must be read, merged and checked in linear time to get there.

Run: make bench-render   (or .venv/bin/python bench/bench_render.py)
Each figure is the median of 7 runs of a fresh process on a temporary copy of the project.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7


def copy_project(dest: Path, synthetic: int = 0) -> None:
    shutil.copy(ROOT / "blueprint.yaml", dest / "blueprint.yaml")
    shutil.copytree(ROOT / "envs", dest / "envs")
    for i in range(synthetic):
        (dest / "envs" / f"syn{i:02d}.yaml").write_text(
            f"environment_tag: synthetic{i}\nnetwork:\n  vpc_cidr: 10.{100 + i}.0.0/16\n"
            f"table:\n  read_capacity: {5 + i}\napi:\n  throttle:\n    rate_limit: {10 + i}\n    burst_limit: {20 + 2 * i}\n")


def big_specs(dest: Path) -> None:
    """envs/mb.yaml: 1 MB of routes (16,950); envs/keys.yaml: 16,000 tag keys. Both are refused."""
    routes = []
    size, i = 0, 0
    while size < 1_000_000:
        line = f"    - path: /r{i:05d}/{{id}}\n      methods: [GET, PUT, DELETE]\n"
        routes.append(line)
        size += len(line)
        i += 1
    (dest / "envs" / "mb.yaml").write_text("environment_tag: big\nnetwork:\n  vpc_cidr: 10.90.0.0/16\napi:\n  routes:\n"
                                           + "".join(routes))
    (dest / "envs" / "keys.yaml").write_text("environment_tag: keys\nnetwork:\n  vpc_cidr: 10.91.0.0/16\ntags:\n"
                                             + "".join(f"  Key{n}: value{n}\n" for n in range(16_000)))


def timed(root: Path, args: list[str], command: str = "render", expect: int = 0) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "blueprint", "--root", str(root), command, *args],
                              capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{command} {args}: exit {done.returncode}, expected {expect}:\n{done.stderr.decode()[-2000:]}")
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, tempfile.TemporaryDirectory() as c:
        small, big, huge = Path(a), Path(b), Path(c)
        copy_project(small)
        copy_project(big, synthetic=50)
        copy_project(huge)
        big_specs(huge)
        baseline = statistics.median(
            [(lambda s: (subprocess.run([sys.executable, "-c", "pass"], check=True), time.perf_counter() - s)[1])(time.perf_counter())
             for _ in range(RUNS)])
        rows = [
            ("python -c pass (interpreter start-up)", baseline),
            ("render --env prod (1 environment)", timed(small, ["--env", "prod"])),
            ("render (all 3 environments)", timed(small, [])),
            ("render (53 environments: 3 + 50 synthetic)", timed(big, [])),
            ("validate --env mb (1 MB spec, 16,950 routes; refused)", timed(huge, ["--env", "mb"], "validate", 2)),
            ("validate --env keys (16,000 tag keys; refused)", timed(huge, ["--env", "keys"], "validate", 2)),
        ]
    print(f"{'case':58} {'median s':>9}")
    for name, secs in rows:
        print(f"{name:58} {secs:9.3f}")
    per_env = (rows[3][1] - rows[1][1]) / 52
    print(f"marginal cost per environment: {per_env * 1000:.1f} ms")


if __name__ == "__main__":
    main()
