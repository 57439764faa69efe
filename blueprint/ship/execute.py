"""Running a reviewed change set: the replacement guard, then ExecuteChangeSet, followed to its end.

Deploy and bootstrap both execute through here, so both refuse the same dangerous changes.
"""
from __future__ import annotations

from typing import Any, Callable

from blueprint.errors import DeployFailed, Refused
from blueprint.ship import aws
from blueprint.ship.events import STACK_TIMEOUT_S, EventStream, failure_message, follow
from blueprint.ship.monitor import Watch
from blueprint.ship.review import Review

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"}


def check_dangerous(review: Review, allowed: list[str], env: str, command: str = "deploy") -> None:
    """Refuse replacing or removing stateful resources that were not allowed by name."""
    refused = [lid for lid in review.dangerous if lid not in allowed]
    if refused:
        ids = ",".join(refused)
        raise Refused(
            f"change set {review.change_set_name} replaces or removes stateful resource(s) {', '.join(refused)} "
            f"(their data would be lost); nothing was executed. If that is intended, run "
            f"`make {command} ENV={env} ALLOW_REPLACE={ids}` "
            f"(blueprint {command} --env {env} " + " ".join(f"--allow-replace {i}" for i in refused) + ")")


def change_set_label(change_set_id: str) -> str:
    """A change set's name from its ARN (arn:...:changeSet/<name>/<uuid>); anything else as it is."""
    return change_set_id.split(":changeSet/", 1)[-1].split("/", 1)[0]


def execute(cfn: Any, change_set_id: str, stack_id: str, env: str, target_kind: str = "aws",
            before: dict[str, Any] | None = None, started: Callable[[], None] | None = None,
            review_command: str = "changeset", create: bool = False, watch: Watch | None = None,
            timeout_s: float = STACK_TIMEOUT_S) -> dict[str, Any]:
    """Execute a change set and follow it; DeployFailed (after the reasons) when it does not succeed.

    `started` runs once CloudFormation accepted the execution (the change set cannot run again);
    `review_command` is the make target that makes a new one (changeset, or bootstrap). A `create` is
    executed with RetainExceptOnCreate: if it fails, its rollback deletes even what DeletionPolicy Retain
    keeps, so no fixed-name resource is left to block the retry. `watch` shows the rollback triggers' alarms
    as it waits and names the one that rolled the deploy back.
    """
    import botocore.exceptions as bx

    events = EventStream(cfn, stack_id)
    try:
        cfn.execute_change_set(ChangeSetName=change_set_id, **({"RetainExceptOnCreate": True} if create else {}))
    except bx.ClientError as exc:
        if aws.error_code(exc) != "InvalidChangeSetStatus":
            raise
        # Checked as AVAILABLE moments ago: something else (another checkout, the console) ran it since.
        raise Refused(
            f"CloudFormation refused to execute change set {change_set_label(change_set_id)}: "
            f"{aws.error_message(exc)}. It ran already or the stack changed since the check, started by "
            f"something else; this command executed nothing. See `{aws.make_command('status', env, target_kind)}`, "
            f"then run `{aws.make_command(review_command, env, target_kind)}` for a new review") from None
    if started:
        started()
    stack = follow(cfn, stack_id, events, env, target_kind, before,
                   on_poll=(lambda: watch.poll(events)) if watch else None, timeout_s=timeout_s)
    if stack["StackStatus"] not in SUCCESS:
        fired = watch.fired(stack, events) if watch else None
        if fired:
            raise DeployFailed(watch.failure(fired, stack, env) + "\n" + failure_message(stack, events))
        raise DeployFailed(failure_message(stack, events))
    return stack
