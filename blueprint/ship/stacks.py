"""Looking at a stack: the one DescribeStacks lookup, the bootstrap stack (ours or a StackSet's), whether a
stack can take a change set now, poll pacing, and the stacks of an environment left under an older name."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws

# Poll fast, then back off to once a second: a change set is usually ready in seconds (botocore's waiter
# sleeps 5-30 s between calls), and a stack is seen done on average half a poll after it is (bench/README.md,
# "Deploy": at 5 s that was 2.5 s of every deploy). Once a second is what the CDK's stack monitor polls at.
POLL_FIRST_S, POLL_GROWTH = 0.2, 1.5
CHANGE_SET_POLL_MAX_S, STACK_POLL_MAX_S = 1.0, 1.0
CHANGE_SET_TIMEOUT_S = 15 * 60
BUSY_SUFFIX = "_IN_PROGRESS"
# A first create that failed and rolled back: the stack can only be deleted (then created again).
NEVER_CREATED = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
# The outputs every environment's stack has (templates/outputs): with the Environment tag and the
# `-<env>` suffix of its name, what tells a blueprint stack of the environment from any other stack.
ENVIRONMENT_OUTPUTS = frozenset({"ApiEndpoint", "TableName", "FunctionName", "ApiKeyId"})


def poll_delays(timeout_s: float, max_s: float = STACK_POLL_MAX_S) -> Iterator[float]:
    """Sleep lengths for a poll loop: 0.2 s growing by half to `max_s`, until the timeout (the caller
    then says what it gave up waiting for)."""
    deadline = time.monotonic() + timeout_s
    delay = POLL_FIRST_S
    while time.monotonic() < deadline:
        yield delay
        delay = min(delay * POLL_GROWTH, max_s)


def stack_description(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """DescribeStacks' entry for the stack (by name or id), or None when it does not exist.

    The one stack lookup: the plan, the change set, deploy, status and destroy all use it.
    """
    import botocore.exceptions as bx

    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except bx.ClientError as exc:
        if "does not exist" in aws.error_message(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stackset_instances(cfn: Any, stackset: str) -> list[str]:
    """The stacks a StackSet named `stackset` made in this account and region, by name (deleted ones left out).

    CloudFormation names a StackSet's stack instance `StackSet-<stackset>-<uuid>`: the one way to tell it
    from the stacks of the account without the StackSet's administrator account. The whole name is matched,
    so the StackSet `blueprint-bootstrap-eu`'s stacks are not `blueprint-bootstrap`'s.
    """
    name = re.compile(rf"StackSet-{re.escape(stackset)}-[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}")
    names: list[str] = []
    for page in cfn.get_paginator("list_stacks").paginate():
        names += [s["StackName"] for s in page.get("StackSummaries", [])
                  if name.fullmatch(s["StackName"]) and s["StackStatus"] != "DELETE_COMPLETE"]
    return sorted(set(names))


def bootstrap_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """The region's bootstrap stack: `name` (made by `blueprint bootstrap`), else the stack instance of the
    StackSet `name` (made by `blueprint bootstrap --stackset` in every account of the units); None if neither."""
    stack = stack_description(cfn, name)
    if stack is not None:
        return stack
    instances = stackset_instances(cfn, name)
    if len(instances) > 1:
        raise UserError(f"the StackSet {name} has {len(instances)} stacks in this account and region "
                        f"({', '.join(instances)}), and one bootstrap stack is expected: delete the extra stack "
                        "instances from the StackSet")
    return stack_description(cfn, instances[0]) if instances else None


def stack_version(stack: dict[str, Any] | None) -> str:
    """What changes whenever the stack does: its status and the time of its last update."""
    if stack is None:
        return "DELETE_COMPLETE"
    return f"{stack['StackStatus']} {stack.get('LastUpdatedTime') or ''}".rstrip()


def wait_stack_gone(cfn: Any, stack_id: str) -> None:
    for delay in poll_delays(CHANGE_SET_TIMEOUT_S):
        stack = stack_description(cfn, stack_id)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return
        if stack["StackStatus"] == "DELETE_FAILED":
            raise DeployFailed(f"could not delete the pending stack {stack_id}: {stack.get('StackStatusReason', '')}")
        time.sleep(delay)
    raise DeployFailed(f"the pending stack {stack_id} was still being deleted after {CHANGE_SET_TIMEOUT_S // 60} min")


def never_created_message(cfn: Any, stack: dict[str, Any], env: str, target_kind: str, bootstrap: bool) -> str:
    """What to do with a stack whose first create failed: it must be deleted before the create is retried."""
    name, status = stack["StackName"], stack["StackStatus"]
    held = ("it holds no resources" if status == "ROLLBACK_COMPLETE" else
            f"its rollback could not delete everything ({stack.get('StackStatusReason') or 'see its events'})")
    if bootstrap:
        endpoint = f" --endpoint-url {cfn.meta.endpoint_url}" if target_kind == "local" else ""
        return (f"the bootstrap stack {name} is {status}: its first create failed and {held}; delete it with "
                f"`aws cloudformation delete-stack --stack-name {name} --region {cfn.meta.region_name}{endpoint}` "
                f"and run `make bootstrap ENV={env}` again")
    return (f"stack {name} is {status}: its first create failed and {held}; it was never live, and CloudFormation "
            f"takes no change set on it until it is deleted: run `{aws.make_command('destroy', env, target_kind)}` "
            f"(allowed for a protected environment too, since nothing of it ever ran), then "
            f"`{aws.make_command('changeset', env, target_kind)}` again")


def existing_stack(cfn: Any, stack_name: str, env: str, target_kind: str = "aws",
                   bootstrap: bool = False) -> dict[str, Any] | None:
    """The stack to UPDATE, or None to CREATE; refuses stacks that can take no change set now."""
    stack = stack_description(cfn, stack_name)
    if stack is None:
        return None
    status = stack["StackStatus"]
    if status == "REVIEW_IN_PROGRESS":
        # Only unexecuted change sets, no resources: a CREATE change set on it is what AWS expects.
        # moto, though, adds a second stack of the same name for it, so locally the pending stack is
        # deleted first and the CREATE starts clean.
        if target_kind == "local":
            cfn.delete_stack(StackName=stack["StackId"])
            wait_stack_gone(cfn, stack["StackId"])
        return None
    if status in NEVER_CREATED:
        raise UserError(never_created_message(cfn, stack, env, target_kind, bootstrap))
    if status.endswith(BUSY_SUFFIX) or status == "DELETE_FAILED":
        raise UserError(f"stack {stack_name} is {status}: wait for it to settle (`make status ENV={env}`) and retry")
    return stack


def environment_stacks(cfn: Any, env: str, environment_tag: str, except_name: str) -> list[dict[str, Any]]:
    """The region's stacks, other than `except_name`, that are blueprint stacks of this environment.

    A stack named `<something>-<env>`, tagged Environment=<environment_tag>, with the outputs every
    environment's stack has: what a renamed `service` leaves running beside the stack it now creates.
    Decided from DescribeStacks alone (tags and outputs), so no rendered template carries a marker for it.
    """
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = cfn.describe_stacks(**kwargs)
        for stack in page.get("Stacks", []):
            tags = {t.get("Key"): t.get("Value") for t in stack.get("Tags", [])}
            outputs = {o.get("OutputKey") for o in stack.get("Outputs", [])}
            if (stack["StackName"] != except_name and stack["StackName"].endswith(f"-{env}")
                    and tags.get("Environment") == environment_tag and ENVIRONMENT_OUTPUTS <= outputs
                    and stack["StackStatus"] not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")):
                found.append(stack)
        if not page.get("NextToken"):
            return sorted(found, key=lambda s: s["StackName"])
        kwargs["NextToken"] = page["NextToken"]
