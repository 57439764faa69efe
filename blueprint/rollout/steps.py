"""One environment's steps in a wave, run through the ship commands' public entry points, in parallel threads.

`review` is `blueprint changeset` (upload the package, create the change set, print and record its review)
and `deploy` is `blueprint deploy` (execute exactly the recorded change set, with every guard of deploy:
template and package unchanged since the review, dangerous replacements, drift on protected stacks).
`run_all` runs one step over a wave's environments, at most `max_parallel` at once, and once one fails
starts no other: the ones already running finish (CloudFormation would go on anyway).
"""
from __future__ import annotations

import threading
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from blueprint.errors import DeployFailed, Refused, UserError
from blueprint.rollout.capture import captured
from blueprint.ship import changeset, deploy, records
from blueprint.state import review_record_path


@dataclass
class Result:
    env: str
    ok: bool
    output: str = ""
    error: str = ""
    exit_code: int = 0
    started: bool = True
    record: records.ReviewRecord | None = None  # review: the recorded change set (None: no changes)


def _run(env: str, work: Callable[[], records.ReviewRecord | None]) -> Result:
    with captured() as buffer:
        try:
            record = work()
        except (UserError, DeployFailed) as exc:
            return Result(env, False, buffer.getvalue(), f"{exc.prefix}{exc}", exc.exit_code)
    return Result(env, True, buffer.getvalue(), record=record)


def review(root: Path, env: str, target: str, digest: str, reviewed: bool = False,
           role_arn: str | None = None) -> Result:
    """`blueprint changeset --env ENV`, then a check that it reviewed the rollout's package.

    `reviewed`: no new change set; the one recorded already (CI: the pull request's review, downloaded
    into .blueprint/) is the one to execute, and it must be of the rollout's package.
    """
    def work() -> records.ReviewRecord | None:
        if reviewed:
            record = records.read_record(root, target, env)
            print(f"reviewed change set {record.change_set_name} ({record.reviewed_at}): {record.summary}")
        else:
            changeset.main(Namespace(root=root, env=env, target=target, output="text", revert_drift=False,
                                     role_arn=role_arn, next_step="the rollout executes it with its wave's other "
                                                                   "change sets once all are reviewed"))
            if not review_record_path(root, target, env).exists():
                return None  # no changes: the stack runs this template and this package already
            record = records.read_record(root, target, env)
        if record.package_sha256 != digest:
            raise Refused(f"the change set of {env} uploads package {record.package_sha256[:12]}, not the rollout's "
                          f"{digest[:12]} (the handler changed while the rollout ran?): run the rollout again")
        return record
    return _run(env, work)


def execute(root: Path, env: str, target: str, allow_replace: list[str]) -> Result:
    """`blueprint deploy --env ENV`: exactly the change set `review` recorded."""
    def work() -> None:
        deploy.main(Namespace(root=root, env=env, target=target, output="text", allow_replace=list(allow_replace),
                              accept_drift=False))
        return None
    return _run(env, work)


def run_all(envs: tuple[str, ...], max_parallel: int, step: Callable[[str], Result]) -> list[Result]:
    """`step` on each environment, `max_parallel` at a time; after a failure the ones not started are skipped."""
    failed = threading.Event()

    def guarded(env: str) -> Result:
        if failed.is_set():
            return Result(env, False, started=False, error="not started: an environment of the wave failed first")
        result = step(env)
        if not result.ok:
            failed.set()
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(envs)))) as pool:
        return list(pool.map(guarded, envs))
