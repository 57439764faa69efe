"""Watching a stack operation: its new events as CloudFormation writes them, until the operation ends.

`follow` prints each event as it arrives and returns the stack's final description; Ctrl-C stops the
watching, never the operation, and says how to pick it up again.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws
from blueprint.ship.stacks import poll_delays, stack_description, stack_version

# How long a stack operation is followed: its resources, plus the rollback triggers' monitoring window
# (up to 180 min) on top, which CloudFormation waits through before it completes.
STACK_TIMEOUT_S = 2 * 60 * 60


def stack_timeout_s(monitoring_minutes: int = 0) -> float:
    return STACK_TIMEOUT_S + 60 * max(monitoring_minutes, 0)


STACK_TYPE = "AWS::CloudFormation::Stack"


def follow_hint(env: str) -> str:
    return (f"CloudFormation keeps working on the stack; follow it with `make status ENV={env}` "
            f"(blueprint status --env {env})")


class EventStream:
    """New stack events since a marker, oldest first (DescribeStackEvents lists newest first).

    The marker is the newest event seen so far: each read stops there, so only new events are
    fetched. `settled` is true once the stack's own event (type AWS::CloudFormation::Stack, logical
    id = the stack name) newer than the first marker has a status that is not *_IN_PROGRESS.
    """

    def __init__(self, cfn: Any, stack_id: str):
        self.cfn, self.stack_id = cfn, stack_id
        self.stack_name = stack_id.split("/")[1] if stack_id.startswith("arn:") and "/" in stack_id else stack_id
        self.failures: list[dict[str, Any]] = []
        self.stack_status: str | None = None  # the newest stack-level event's status since the first marker
        self.busy: set[str] = set()  # resources whose newest event since the first marker is *_IN_PROGRESS
        self.completed: set[str] = set()  # resources whose newest event since the first marker is *_COMPLETE
        self.resources_seen = False  # any resource event since the first marker
        self.stack_reasons: list[dict[str, Any]] = []  # the stack's own events since the first marker
        self.started = time.monotonic()
        latest = self._read(stop_at=None, first_page_only=True)
        self.marker = latest[0]["EventId"] if latest else None

    def _read(self, stop_at: str | None, first_page_only: bool = False) -> list[dict[str, Any]]:
        """Events newer than `stop_at`, newest first; each once, though pages may overlap when
        events arrive between two page calls."""
        events: list[dict[str, Any]] = []
        ids: set[str] = set()
        kwargs: dict[str, Any] = {"StackName": self.stack_id}
        while True:
            page = self.cfn.describe_stack_events(**kwargs)
            for event in page.get("StackEvents", []):
                if event["EventId"] == stop_at:
                    return events
                if event["EventId"] not in ids:
                    ids.add(event["EventId"])
                    events.append(event)
            kwargs["NextToken"] = page.get("NextToken")
            if first_page_only or not kwargs["NextToken"]:
                return events

    def is_stack_event(self, event: dict[str, Any]) -> bool:
        return (event.get("ResourceType") == STACK_TYPE
                and event.get("LogicalResourceId") == (event.get("StackName") or self.stack_name))

    def new(self) -> list[dict[str, Any]]:
        fresh = self._read(stop_at=self.marker)
        if fresh:
            self.marker = fresh[0]["EventId"]
        fresh.reverse()
        for event in fresh:
            if self.is_stack_event(event):
                self.stack_status = event.get("ResourceStatus")
                self.stack_reasons.append(event)
            else:
                self.resources_seen = True
                lid, status = event.get("LogicalResourceId", ""), event.get("ResourceStatus", "")
                (self.busy.add if status.endswith("_IN_PROGRESS") else self.busy.discard)(lid)
                (self.completed.add if status.endswith("_COMPLETE") else self.completed.discard)(lid)
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                self.failures.append(event)
        return fresh

    @property
    def settled(self) -> bool:
        return self.stack_status is not None and not self.stack_status.endswith("_IN_PROGRESS")

    def line(self, event: dict[str, Any]) -> str:
        elapsed = time.monotonic() - self.started
        reason = event.get("ResourceStatusReason") or ""
        return (f"{elapsed:7.1f}s  {event.get('LogicalResourceId', ''):<30} {event.get('ResourceType', ''):<36} "
                f"{event.get('ResourceStatus', ''):<20} {reason}").rstrip()


def follow(cfn: Any, stack_id: str, events: EventStream, env: str, target_kind: str = "aws",
           before: dict[str, Any] | None = None, out: Any = None, on_poll: Callable[[], None] | None = None,
           timeout_s: float = STACK_TIMEOUT_S) -> dict[str, Any]:
    """Print events until the stack's operation ends; its final description. Ctrl-C leaves AWS working.
    `on_poll` runs after each read of the events (the rollback triggers' watch shows their alarms).

    The end is the stack's own event (newer than the marker) with a final status, confirmed by
    DescribeStacks: right after ExecuteChangeSet, DescribeStacks alone may still show the previous
    operation's *_COMPLETE. On the local AWS (where execution is synchronous) a DescribeStacks
    status that is final and differs from `before` (status and LastUpdatedTime) also ends it, in
    case an operation there leaves no stack event.
    """
    out = out or sys.stdout

    def show() -> None:
        for event in events.new():
            print(events.line(event), file=out, flush=True)

    try:
        with aws.translated(target_kind):
            for delay in poll_delays(timeout_s):
                show()
                if on_poll:
                    on_poll()
                if events.settled or target_kind == "local":
                    stack = stack_description(cfn, stack_id)
                    status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
                    changed = before is None or stack_version(stack) != stack_version(before)
                    if not status.endswith("_IN_PROGRESS") and (events.settled or changed):
                        if not events.settled:
                            show()
                        return stack or {"StackId": stack_id, "StackName": events.stack_name, "StackStatus": status}
                time.sleep(delay)
    except KeyboardInterrupt:
        print(f"\nstopped following; {follow_hint(env)}", file=sys.stderr)
        raise
    except aws.LocalAwsGone:
        raise  # nothing keeps working on a stack of a local AWS that is gone
    except (UserError, DeployFailed) as exc:
        # Expired credentials or throttling during a long operation stop only the following.
        raise type(exc)(f"{exc}\n{follow_hint(env)}") from None
    raise DeployFailed(f"stack {events.stack_name} was still in progress after {timeout_s / 60:.0f} min; "
                       f"{follow_hint(env)}")


def failure_message(stack: dict[str, Any], events: EventStream) -> str:
    """The failed resources' reasons first, then where the rollback ended."""
    lines = ["failed resources:"]
    for event in events.failures:
        lines.append(f"  {event.get('LogicalResourceId')} ({event.get('ResourceType')}) "
                     f"{event.get('ResourceStatus')}: {event.get('ResourceStatusReason') or 'no reason given'}")
    if not events.failures:
        lines.append(f"  (no failed resource events; stack reason: {stack.get('StackStatusReason') or 'none'})")
    lines.append(f"stack {stack.get('StackName', stack['StackId'])} ended {stack['StackStatus']}")
    return "\n".join(lines)
