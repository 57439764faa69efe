"""What the engine's tests share: a local AWS of their own with a chosen timing, waiting for a stack to settle,
its events read back, and the rendered templates with a failure injected or other deletion policies."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3

from blueprint.cfn.refs import dependencies
from blueprint.local import process as local
from blueprint.local.timing import Timing

import stack as S

FAILS = "Blueprint::Test::Fails"
# The rendered prod template's resources with DeletionPolicy Retain and a fixed physical name (or no name).
RETAINED = ("KmsKey", "Table", "DeadLetterQueue", "FunctionLogGroup", "AccessLogGroup", "FlowLogGroup", "WafLogGroup")


class Server:
    """A local AWS started for one test module with its own timing (stopped by `close`)."""

    def __init__(self, folder: Path, timing: Timing):
        self.folder = folder
        self.endpoint = local.ensure_running(folder, timing)

    def client(self, service: str, region: str = S.REGION) -> Any:
        return boto3.client(service, region_name=region, **local.client_kwargs(self.endpoint))

    def close(self) -> None:
        local.stop(self.folder)


def settled(cfn: Any, stack: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """The stack once no operation works on it (DescribeStacks by name or id)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        status = found["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or status == "REVIEW_IN_PROGRESS":
            return found
        assert time.monotonic() < deadline, f"{stack} still {status} after {timeout_s} s"
        time.sleep(0.05)


def events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, oldest first."""
    return cfn.describe_stack_events(StackName=stack)["StackEvents"][::-1]


def statuses(cfn: Any, stack: str, logical_id: str) -> list[str]:
    return [e["ResourceStatus"] for e in events(cfn, stack) if e["LogicalResourceId"] == logical_id]


def stack_statuses(cfn: Any, stack: str) -> list[str]:
    return [e["ResourceStatus"] for e in events(cfn, stack) if e["ResourceType"] == "AWS::CloudFormation::Stack"]


def ship(cfn: Any, stack: str, template: dict[str, Any], parameters: dict[str, str] | None = None,
         kind: str = "CREATE", wait: bool = True, **execute: Any) -> dict[str, Any]:
    """Create a change set, execute it (ExecuteChangeSet's keyword arguments), and return the settled stack."""
    name = S.create_change_set(cfn, stack, template, kind, parameters)
    cfn.execute_change_set(StackName=stack, ChangeSetName=name, **execute)
    return settled(cfn, stack) if wait else {"ChangeSetName": name}


def with_failure(template: dict[str, Any], after: list[str] | tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """The template with a resource `Boom` that fails (FailOn Create unless told), once `after` exist."""
    template["Resources"]["Boom"] = {"Type": FAILS, "Properties": properties, **({"DependsOn": list(after)} if after else {})}
    return template


def deletion_policy(template: dict[str, Any], policy: str) -> dict[str, Any]:
    """Every kept resource of the template (DeletionPolicy Retain or RetainExceptOnCreate) made `policy`."""
    for resource in template["Resources"].values():
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
            resource["DeletionPolicy"] = policy
    return template


def out_of_order(template: dict[str, Any], records: list[dict[str, Any]], done: str, started: str,
                 reverse: bool = False) -> list[str]:
    """Pairs whose order the events break: a resource's first `started` event must come after the `done` event
    of each resource it depends on (reverse: of each resource that depends on it, as deletion goes)."""
    index: dict[tuple[str, str], int] = {}
    for i, event in enumerate(records):
        index.setdefault((event["LogicalResourceId"], event["ResourceStatus"]), i)
    wrong = []
    for name, resource in template["Resources"].items():
        for dep in dependencies(resource) & set(template["Resources"]):
            first, then = (name, dep) if reverse else (dep, name)
            if (first, done) in index and (then, started) in index and index[(then, started)] < index[(first, done)]:
                wrong.append(f"{then} {started} before {first} {done}")
    return wrong
