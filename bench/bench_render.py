"""Wall time of `blueprint render` (validation and Python start-up included): 1, all, and 50 environments.

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


def timed(root: Path, args: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "blueprint", "--root", str(root), "render", *args],
                       check=True, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        small, big = Path(a), Path(b)
        copy_project(small)
        copy_project(big, synthetic=50)
        baseline = statistics.median(
            [(lambda s: (subprocess.run([sys.executable, "-c", "pass"], check=True), time.perf_counter() - s)[1])(time.perf_counter())
             for _ in range(RUNS)])
        rows = [
            ("python -c pass (interpreter start-up)", baseline),
            ("render --env prod (1 environment)", timed(small, ["--env", "prod"])),
            ("render (all 3 environments)", timed(small, [])),
            ("render (53 environments: 3 + 50 synthetic)", timed(big, [])),
        ]
    print(f"{'case':48} {'median s':>9}")
    for name, secs in rows:
        print(f"{name:48} {secs:9.3f}")
    per_env = (rows[3][1] - rows[1][1]) / 52
    print(f"marginal cost per environment: {per_env * 1000:.1f} ms")


if __name__ == "__main__":
    main()
