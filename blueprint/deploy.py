"""Execute reviewed change sets and look after the stack: bootstrap, deploy, status, outputs, destroy.

`deploy` runs exactly the change set `blueprint changeset` recorded, after checking that the
template and package are still the reviewed ones and that no stateful resource is replaced or
removed without `--allow-replace`. Stack events stream while CloudFormation works.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
from argparse import Namespace
from pathlib import Path
from typing import Any, Callable

from blueprint import aws, changeset
from blueprint.errors import DeployFailed, UserError

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"}
STACK_TIMEOUT_S = 2 * 60 * 60
OUTPUTS = "outputs.json"
LAST_EVENTS = 10
STACK_TYPE = "AWS::CloudFormation::Stack"
# What a Delete leaves behind: the resource itself, or (Snapshot) a final snapshot of it.
RETAINED_POLICIES = ("Retain", "RetainExceptOnCreate")


def _follow_hint(env: str) -> str:
    return (f"CloudFormation keeps working on the stack; follow it with `make status ENV={env}` "
            f"(blueprint status --env {env})")


# --- events -------------------------------------------------------------------------------------

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
           before: dict[str, Any] | None = None, out: Any = None) -> dict[str, Any]:
    """Print events until the stack's operation ends; its final description. Ctrl-C leaves AWS working.

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
            for delay in changeset.poll_delays(STACK_TIMEOUT_S):
                show()
                if events.settled or target_kind == "local":
                    stack = changeset.stack_description(cfn, stack_id)
                    status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
                    changed = before is None or changeset.stack_version(stack) != changeset.stack_version(before)
                    if not status.endswith("_IN_PROGRESS") and (events.settled or changed):
                        if not events.settled:
                            show()
                        return stack or {"StackId": stack_id, "StackName": events.stack_name, "StackStatus": status}
                time.sleep(delay)
    except KeyboardInterrupt:
        print(f"\nstopped following; {_follow_hint(env)}", file=sys.stderr)
        raise
    except (UserError, DeployFailed) as exc:
        # Expired credentials or throttling during a long operation stop only the following.
        raise type(exc)(f"{exc}\n{_follow_hint(env)}") from None
    raise DeployFailed(f"stack {events.stack_name} was still in progress after {STACK_TIMEOUT_S // 3600} h; "
                       f"{_follow_hint(env)}")


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


# --- outputs ------------------------------------------------------------------------------------

def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def outputs_path(root: Path, target_kind: str, env: str) -> Path:
    return aws.env_state_dir(root, target_kind, env) / OUTPUTS


def show_outputs(root: Path, target_kind: str, env: str, outputs: dict[str, str], output: str = "text") -> None:
    path = outputs_path(root, target_kind, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if output == "json":
        print(json.dumps(outputs, indent=2, sort_keys=True))
        return
    width = max((len(k) for k in outputs), default=0)
    print("outputs:")
    for key in sorted(outputs):
        print(f"  {key:<{width}}  {outputs[key]}")
    print(f"(written to {path})")


# --- refusals -----------------------------------------------------------------------------------

def check_reviewed(root: Path, env: str, record: dict[str, Any], target: str) -> None:
    """Refuse when the target, template or package is not what was reviewed."""
    from blueprint import package

    if record.get("target") != target:
        raise UserError(f"the reviewed change set of {env} is for --target {record.get('target')}, not {target}: "
                        f"run `make changeset ENV={env} TARGET={target}` first")
    template = root / record["template_file"]
    if not template.is_file() or changeset.sha256_text(template.read_text(encoding="utf-8")) != record["template_sha256"]:
        raise UserError(f"{record['template_file']} changed since change set {record['change_set_name']} was "
                        f"reviewed: run `make changeset ENV={env}` and review the new one")
    function = changeset.read_settings(root, env)["function"]
    built = package.build_package(root, function["runtime"], function["architecture"], root / "build" / "package")
    if built.sha256 != record["package_sha256"]:
        raise UserError(f"the handler package changed since change set {record['change_set_name']} was reviewed "
                        f"(sha256 {record['package_sha256'][:12]} -> {built.sha256[:12]}): "
                        f"run `make changeset ENV={env}` and review the new one")


def check_dangerous(record: dict[str, Any], allowed: list[str], env: str, command: str = "deploy") -> None:
    """Refuse replacing or removing stateful resources that were not allowed by name."""
    refused = [lid for lid in record.get("dangerous", []) if lid not in allowed]
    if refused:
        ids = ",".join(refused)
        raise DeployFailed(
            f"change set {record['change_set_name']} replaces or removes stateful resource(s) {', '.join(refused)} "
            f"(their data would be lost); nothing was executed. If that is intended, run "
            f"`make {command} ENV={env} ALLOW_REPLACE={ids}` "
            f"(blueprint {command} --env {env} " + " ".join(f"--allow-replace {i}" for i in refused) + ")")


def _change_sets(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.list_change_sets(**kwargs)
        summaries.extend(page.get("Summaries", []))
        if not page.get("NextToken"):
            return summaries
        kwargs["NextToken"] = page["NextToken"]


def check_available(cfn: Any, record: dict[str, Any], env: str) -> dict[str, Any]:
    """Refuse a change set that can no longer run as reviewed; the stack's current description.

    Refused: a change set that is gone or not AVAILABLE (AWS marks it OBSOLETE once the stack
    changed), one that another change set was created after (a second review of the stack since),
    and one whose stack changed since the review (the local AWS marks nothing OBSOLETE).
    """
    import botocore.exceptions as bx

    name = record["change_set_name"]
    again = f"run `make changeset ENV={env}` again"
    try:
        described = cfn.describe_change_set(ChangeSetName=record["change_set_id"])
    except bx.ClientError as exc:
        raise UserError(f"change set {name} is gone ({aws.error_message(exc)}): {again}") from None
    if described["Status"] != "CREATE_COMPLETE" or described.get("ExecutionStatus") != "AVAILABLE":
        raise UserError(f"change set {name} is {described['Status']}/{described.get('ExecutionStatus')}, no longer "
                        f"executable (the stack changed since, or it ran already): {again}")
    stack_id = described.get("StackId") or record["stack_id"]
    created = described.get("CreationTime")
    newer = [s for s in _change_sets(cfn, stack_id)
             if s.get("ChangeSetId") != record["change_set_id"] and s.get("StackId", stack_id) == stack_id
             and s.get("Status") != "FAILED" and created is not None and s.get("CreationTime") is not None
             and s["CreationTime"] > created]
    if newer:
        names = ", ".join(sorted(s.get("ChangeSetName", "?") for s in newer))
        raise UserError(f"change set(s) {names} were created on stack {record['stack_name']} after the reviewed "
                        f"{name}: the stack is being reviewed again elsewhere, so {name} may not be what will be "
                        f"applied; nothing was executed. Delete the other change set(s) if they are stale, or {again}")
    stack = changeset.stack_description(cfn, stack_id)
    current = changeset.stack_version(stack)
    expected = record.get("stack_version")
    if record.get("create"):
        changed = stack is None or stack["StackStatus"] != "REVIEW_IN_PROGRESS"
    else:
        changed = expected is not None and current != expected
    if changed or stack is None:
        raise UserError(f"stack {record['stack_name']} changed since change set {name} was reviewed "
                        f"(now {current}): {again}")
    return stack


# --- bootstrap ----------------------------------------------------------------------------------

def bootstrap_main(args: Namespace) -> int:
    from blueprint import review

    root, env, kind = Path(args.root), args.env, args.target
    prepared = changeset.prepare(root, env, bootstrap=True)
    with aws.translated(kind):
        session = aws.session_for(prepared.settings, kind, root)
        aws.check_account(session, prepared.settings, env)
        cfn = session.client("cloudformation")
        done = changeset.submit(session, prepared, {}, {"TemplateBody": prepared.template_text})
        if done.no_changes:
            print(f"bootstrap stack {prepared.stack_name} is up to date in {session.target.describe()}: no changes")
            return 0
        review.emit(done.review, "text")
        try:
            check_dangerous({"change_set_name": done.described["ChangeSetName"], "dangerous": done.review.dangerous},
                            getattr(args, "allow_replace", None) or [], env, command="bootstrap")
        except DeployFailed:
            cfn.delete_change_set(ChangeSetName=done.described["ChangeSetId"])  # refused: leave nothing behind
            raise
        stack = execute(cfn, done.described["ChangeSetId"], done.described["StackId"], env, kind, done.stack)
    print(f"bootstrap stack {prepared.stack_name} is {stack['StackStatus']}")
    for key, value in sorted(outputs_of(stack).items()):
        print(f"  {key}  {value}")
    return 0


# --- deploy -------------------------------------------------------------------------------------

def deploy_main(args: Namespace) -> int:
    root, env, kind = Path(args.root), args.env, args.target
    record = changeset.read_record(root, kind, env)
    check_reviewed(root, env, record, kind)
    check_dangerous(record, args.allow_replace or [], env)
    settings = changeset.read_settings(root, env)
    # With --output json, stdout carries only the outputs' JSON; the progress goes to stderr.
    progress = contextlib.redirect_stdout(sys.stderr) if args.output == "json" else contextlib.nullcontext()
    with progress, aws.translated(kind):
        session = aws.session_for(settings, kind, root)
        aws.check_account(session, settings, env)
        cfn = session.client("cloudformation")
        before = check_available(cfn, record, env)
        if not record.get("create"):
            # Before executing, so that the stack policy governs this very update.
            changeset.protect(cfn, before, settings, session.target.kind)
        print(f"executing change set {record['change_set_name']} on {record['stack_name']} "
              f"({session.target.describe()}): {record.get('summary', '')}", flush=True)
        record_file = changeset.record_path(root, kind, env)
        stack = execute(cfn, record["change_set_id"], before["StackId"], env, kind, before,
                        started=lambda: record_file.unlink(missing_ok=True))  # executed: never again
        if record.get("create"):
            changeset.protect(cfn, stack, settings, session.target.kind)  # the new stack's first chance
        print(f"stack {record['stack_name']} is {stack['StackStatus']}")
    show_outputs(root, kind, env, outputs_of(stack), args.output)
    return 0


# --- status, outputs, destroy -------------------------------------------------------------------

def _session(args: Namespace) -> tuple[dict[str, Any], aws.Session, Any]:
    settings = changeset.read_settings(args.root, args.env)
    session = aws.session_for(settings, args.target, args.root)
    aws.check_account(session, settings, args.env)
    return settings, session, session.client("cloudformation")


def status_main(args: Namespace) -> int:
    with aws.translated(args.target):
        settings, session, cfn = _session(args)
        stack = changeset.stack_description(cfn, settings["stack_name"])
        if stack is None:
            print(f"stack {settings['stack_name']} is not deployed in {session.target.describe()}")
            return 0
        events = cfn.describe_stack_events(StackName=stack["StackId"])["StackEvents"][:LAST_EVENTS]
    reason = f" ({stack['StackStatusReason']})" if stack.get("StackStatusReason") else ""
    print(f"stack {stack['StackName']}: {stack['StackStatus']}{reason} in {session.target.describe()}")
    print(f"last {len(events)} events, oldest first:")
    for event in reversed(events):
        print(f"  {event['Timestamp']:%Y-%m-%d %H:%M:%S}  {event.get('LogicalResourceId', ''):<30} "
              f"{event.get('ResourceStatus', ''):<20} {event.get('ResourceStatusReason') or ''}".rstrip())
    return 0


def outputs_main(args: Namespace) -> int:
    with aws.translated(args.target):
        settings, session, cfn = _session(args)
        stack = changeset.stack_description(cfn, settings["stack_name"])
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise UserError(f"stack {settings['stack_name']} is not deployed in {session.target.describe()}: "
                        f"run `make changeset ENV={args.env}` then `make deploy ENV={args.env}`")
    show_outputs(Path(args.root), session.target.kind, args.env, outputs_of(stack), args.output)
    return 0


def retained_resources(cfn: Any, stack_id: str) -> tuple[list[str], list[str]]:
    """What a delete leaves behind, with physical ids: (kept: DeletionPolicy Retain or
    RetainExceptOnCreate, deleted after a final snapshot: DeletionPolicy Snapshot)."""
    from blueprint import plan

    template = plan.parse_template_body(cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"])
    resources = template.get("Resources") or {}
    physical = {}
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.list_stack_resources(**kwargs)
        physical.update({r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in page["StackResourceSummaries"]})
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]

    def named(policies: tuple[str, ...]) -> list[str]:
        return [f"{lid} ({physical.get(lid, 'not created')})" for lid, r in resources.items()
                if r.get("DeletionPolicy") in policies]

    return named(RETAINED_POLICIES), named(("Snapshot",))


def confirm(stack_name: str) -> bool:
    try:
        answer = input(f"type the stack name ({stack_name}) to delete it: ")
    except EOFError:
        raise UserError("no terminal to confirm on: pass --yes to delete without asking") from None
    return answer.strip() == stack_name


def destroy_main(args: Namespace) -> int:
    root, env, kind = Path(args.root), args.env, args.target
    settings = changeset.read_settings(root, env)
    if settings.get("termination_protection"):
        raise UserError(f"{settings['stack_name']} is a protected environment (envs/{env}.yaml protected: true): "
                        "blueprint does not delete it; do it deliberately in the CloudFormation console")
    with aws.translated(kind):
        settings, session, cfn = _session(args)
        stack = changeset.stack_description(cfn, settings["stack_name"])
        if stack is None:
            print(f"stack {settings['stack_name']} does not exist in {session.target.describe()}: nothing to delete")
            return 0
        if stack.get("EnableTerminationProtection"):
            raise UserError(f"stack {settings['stack_name']} has termination protection on: blueprint will not delete it")
        retained, snapshots = (retained_resources(cfn, stack["StackId"]) if stack["StackStatus"] != "REVIEW_IN_PROGRESS"
                               else ([], []))
        print(f"deleting stack {settings['stack_name']} in {session.target.describe()}")
        print("retained (DeletionPolicy Retain or RetainExceptOnCreate): "
              + (", ".join(retained) if retained else "nothing"))
        if snapshots:
            print("deleted after a final snapshot (DeletionPolicy Snapshot): " + ", ".join(snapshots))
        if not getattr(args, "yes", False) and not confirm(settings["stack_name"]):
            print("not confirmed: nothing deleted")
            return 0
        events = EventStream(cfn, stack["StackId"])
        cfn.delete_stack(StackName=stack["StackId"])
        final = follow(cfn, stack["StackId"], events, env, kind, stack)
    if final["StackStatus"] != "DELETE_COMPLETE":
        raise DeployFailed(failure_message(final, events))  # the state files still describe what is left
    changeset.record_path(root, kind, env).unlink(missing_ok=True)
    outputs_path(root, kind, env).unlink(missing_ok=True)
    print(f"stack {settings['stack_name']} deleted")
    return 0
