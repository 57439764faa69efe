"""Running a reviewed change set: the replacement guard, then ExecuteChangeSet, followed to its end.

Deploy and bootstrap both execute through here, so both refuse the same dangerous changes.
"""
from __future__ import annotations

from typing import Any, Callable

from blueprint.errors import DeployFailed
from blueprint.ship.events import EventStream, failure_message, follow
from blueprint.ship.review import Review

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"}


def check_dangerous(review: Review, allowed: list[str], env: str, command: str = "deploy") -> None:
    """Refuse replacing or removing stateful resources that were not allowed by name."""
    refused = [lid for lid in review.dangerous if lid not in allowed]
    if refused:
        ids = ",".join(refused)
        raise DeployFailed(
            f"change set {review.change_set_name} replaces or removes stateful resource(s) {', '.join(refused)} "
            f"(their data would be lost); nothing was executed. If that is intended, run "
            f"`make {command} ENV={env} ALLOW_REPLACE={ids}` "
            f"(blueprint {command} --env {env} " + " ".join(f"--allow-replace {i}" for i in refused) + ")")


def execute(cfn: Any, change_set_id: str, stack_id: str, env: str, target_kind: str = "aws",
            before: dict[str, Any] | None = None, started: Callable[[], None] | None = None) -> dict[str, Any]:
    """Execute a change set and follow it; DeployFailed (after the reasons) when it does not succeed.

    `started` runs once CloudFormation accepted the execution (the change set cannot run again).
    """
    events = EventStream(cfn, stack_id)
    cfn.execute_change_set(ChangeSetName=change_set_id)
    if started:
        started()
    stack = follow(cfn, stack_id, events, env, target_kind, before)
    if stack["StackStatus"] not in SUCCESS:
        raise DeployFailed(failure_message(stack, events))
    return stack
