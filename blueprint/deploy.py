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
from typing import Any

from blueprint import aws, changeset
from blueprint.errors import DeployFailed, UserError

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"}
STACK_TIMEOUT_S = 2 * 60 * 60
OUTPUTS = "outputs.json"
LAST_EVENTS = 10


# --- events -------------------------------------------------------------------------------------

class EventStream:
    """New stack events since a marker, oldest first (DescribeStackEvents lists newest first)."""

    def __init__(self, cfn: Any, stack_id: str):
        self.cfn, self.stack_id = cfn, stack_id
        self.seen: set[str] = set()
        self.failures: list[dict[str, Any]] = []
        self.started = time.monotonic()
        latest = self._pages(stop_at=None, first_page_only=True)
        self.marker = latest[0]["EventId"] if latest else None

    def _pages(self, stop_at: str | None, first_page_only: bool = False) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": self.stack_id}
        while True:
            page = self.cfn.describe_stack_events(**kwargs)
            for event in page.get("StackEvents", []):
                if event["EventId"] == stop_at:
                    return events
                events.append(event)
            kwargs["NextToken"] = page.get("NextToken")
            if first_page_only or not kwargs["NextToken"]:
                return events

    def new(self) -> list[dict[str, Any]]:
        fresh = [e for e in self._pages(stop_at=self.marker) if e["EventId"] not in self.seen]
        fresh.reverse()
        for event in fresh:
            self.seen.add(event["EventId"])
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                self.failures.append(event)
        return fresh

    def line(self, event: dict[str, Any]) -> str:
        elapsed = time.monotonic() - self.started
        reason = event.get("ResourceStatusReason") or ""
        return (f"{elapsed:7.1f}s  {event.get('LogicalResourceId', ''):<30} {event.get('ResourceType', ''):<36} "
                f"{event.get('ResourceStatus', ''):<20} {reason}").rstrip()


def follow(cfn: Any, stack_id: str, events: EventStream, env: str, out: Any = None) -> dict[str, Any]:
    """Print events until the stack settles; its final description. Ctrl-C leaves AWS working."""
    out = out or sys.stdout
    try:
        for delay in changeset.poll_delays(STACK_TIMEOUT_S):
            for event in events.new():
                print(events.line(event), file=out, flush=True)
            stack = changeset.stack_description(cfn, stack_id)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if not status.endswith("_IN_PROGRESS"):
                for event in events.new():
                    print(events.line(event), file=out, flush=True)
                return stack or {"StackId": stack_id, "StackStatus": status}
            time.sleep(delay)
    except KeyboardInterrupt:
        print(f"\nstopped following; CloudFormation keeps working on the stack. Follow it with "
              f"`make status ENV={env}` (blueprint status --env {env})", file=sys.stderr)
        raise
    raise AssertionError("unreachable")


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


def execute(cfn: Any, change_set_id: str, stack_id: str, env: str) -> dict[str, Any]:
    """Execute a change set and follow it; DeployFailed (after the reasons) when it does not succeed."""
    events = EventStream(cfn, stack_id)
    cfn.execute_change_set(ChangeSetName=change_set_id)
    stack = follow(cfn, stack_id, events, env)
    if stack["StackStatus"] not in SUCCESS:
        raise DeployFailed(failure_message(stack, events))
    return stack


# --- outputs ------------------------------------------------------------------------------------

def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def show_outputs(root: Path, env: str, outputs: dict[str, str], output: str = "text") -> None:
    path = aws.state_dir(root) / env / OUTPUTS
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


# --- bootstrap ----------------------------------------------------------------------------------

def bootstrap_main(args: Namespace) -> int:
    from blueprint import review

    root, env = Path(args.root), args.env
    prepared = changeset.prepare(root, env, bootstrap=True)
    with aws.translated(args.target):
        session = aws.session_for(prepared.settings, args.target, root)
        aws.check_account(session, prepared.settings, env)
        cfn = session.client("cloudformation")
        done = changeset.submit(session, prepared, {}, {"TemplateBody": prepared.template_text})
        if done.no_changes:
            print(f"bootstrap stack {prepared.stack_name} is up to date in {session.target.describe()}: no changes")
            return 0
        review.emit(done.review, "text")
        stack = execute(cfn, done.described["ChangeSetId"], done.described["StackId"], env)
    print(f"bootstrap stack {prepared.stack_name} is {stack['StackStatus']}")
    for key, value in sorted(outputs_of(stack).items()):
        print(f"  {key}  {value}")
    return 0


# --- deploy -------------------------------------------------------------------------------------

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
    settings = json.loads((root / "generated" / env / "stack.json").read_text(encoding="utf-8"))
    function = settings["function"]
    built = package.build_package(root, function["runtime"], function["architecture"], root / "build" / "package")
    if built.sha256 != record["package_sha256"]:
        raise UserError(f"the handler package changed since change set {record['change_set_name']} was reviewed "
                        f"(sha256 {record['package_sha256'][:12]} -> {built.sha256[:12]}): "
                        f"run `make changeset ENV={env}` and review the new one")


def check_dangerous(record: dict[str, Any], allowed: list[str], env: str) -> None:
    """Refuse replacing or removing stateful resources that were not allowed by name."""
    refused = [lid for lid in record.get("dangerous", []) if lid not in allowed]
    if refused:
        ids = ",".join(refused)
        raise DeployFailed(
            f"change set {record['change_set_name']} replaces or removes stateful resource(s) {', '.join(refused)} "
            f"(their data would be lost); nothing was executed. If that is intended, run "
            f"`make deploy ENV={env} ALLOW_REPLACE={ids}` "
            f"(blueprint deploy --env {env} " + " ".join(f"--allow-replace {i}" for i in refused) + ")")


def check_available(cfn: Any, record: dict[str, Any], env: str) -> None:
    import botocore.exceptions as bx

    try:
        described = cfn.describe_change_set(ChangeSetName=record["change_set_id"])
    except bx.ClientError as exc:
        raise UserError(f"change set {record['change_set_name']} is gone ({aws.error_message(exc)}): "
                        f"run `make changeset ENV={env}` again") from None
    if described["Status"] != "CREATE_COMPLETE" or described.get("ExecutionStatus") != "AVAILABLE":
        raise UserError(f"change set {record['change_set_name']} is {described['Status']}/"
                        f"{described.get('ExecutionStatus')}, no longer executable (the stack changed since, or it "
                        f"ran already): run `make changeset ENV={env}` again")


def protect(cfn: Any, stack_id: str, settings: dict[str, Any], target: str) -> None:
    """Prod: termination protection and the stack policy that refuses replacing the table (G2)."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    if settings.get("stack_policy"):
        cfn.set_stack_policy(StackName=stack_id, StackPolicyBody=json.dumps(settings["stack_policy"]))
        print("stack policy set (refuses Update:Replace and Update:Delete of the table)")
    if settings.get("termination_protection"):
        try:
            cfn.update_termination_protection(StackName=stack_id, EnableTerminationProtection=True)
            print("termination protection on")
        except (bx.ClientError, ResponseParserError):
            if target != "local":
                raise
            # moto 5.2.5 has no UpdateTerminationProtection (it answers HTTP 500).
            print("note: the local AWS has no termination protection; on AWS it is switched on here")


def deploy_main(args: Namespace) -> int:
    root, env = Path(args.root), args.env
    record = changeset.read_record(root, env)
    check_reviewed(root, env, record, args.target)
    check_dangerous(record, args.allow_replace or [], env)
    settings = json.loads((root / "generated" / env / "stack.json").read_text(encoding="utf-8"))
    # With --output json, stdout carries only the outputs' JSON; the progress goes to stderr.
    progress = contextlib.redirect_stdout(sys.stderr) if args.output == "json" else contextlib.nullcontext()
    with progress, aws.translated(args.target):
        session = aws.session_for(settings, args.target, root)
        aws.check_account(session, settings, env)
        cfn = session.client("cloudformation")
        check_available(cfn, record, env)
        print(f"executing change set {record['change_set_name']} on {record['stack_name']} "
              f"({session.target.describe()}): {record.get('summary', '')}", flush=True)
        try:
            stack = execute(cfn, record["change_set_id"], record["stack_id"], env)
        finally:
            changeset.record_path(root, env).unlink(missing_ok=True)  # executed (or failed): not again
        protect(cfn, stack["StackId"], settings, session.target.kind)
        print(f"stack {record['stack_name']} is {stack['StackStatus']}")
    show_outputs(root, env, outputs_of(stack), args.output)
    return 0


# --- status, outputs, destroy -------------------------------------------------------------------

def _settings(root: Path, env: str) -> dict[str, Any]:
    path = Path(root) / "generated" / env / "stack.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} is missing: run `make render ENV={env}` (is envs/{env}.yaml there?)") from None


def _session(args: Namespace) -> tuple[dict[str, Any], aws.Session, Any]:
    settings = _settings(args.root, args.env)
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
    show_outputs(Path(args.root), args.env, outputs_of(stack), args.output)
    return 0


def retained_resources(cfn: Any, stack_id: str) -> list[str]:
    """Resources a delete leaves behind (DeletionPolicy Retain), with their physical ids."""
    from blueprint import plan

    template = plan.parse_template_body(cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"])
    retained = [lid for lid, r in (template.get("Resources") or {}).items() if r.get("DeletionPolicy") == "Retain"]
    physical = {}
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.list_stack_resources(**kwargs)
        physical.update({r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in page["StackResourceSummaries"]})
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return [f"{lid} ({physical.get(lid, 'not created')})" for lid in retained]


def confirm(stack_name: str) -> bool:
    try:
        answer = input(f"type the stack name ({stack_name}) to delete it: ")
    except EOFError:
        raise UserError("no terminal to confirm on: pass --yes to delete without asking") from None
    return answer.strip() == stack_name


def destroy_main(args: Namespace) -> int:
    root, env = Path(args.root), args.env
    settings = _settings(root, env)
    if settings.get("termination_protection"):
        raise UserError(f"{settings['stack_name']} is a protected environment (envs/{env}.yaml protected: true): "
                        "blueprint does not delete it; do it deliberately in the CloudFormation console")
    with aws.translated(args.target):
        settings, session, cfn = _session(args)
        stack = changeset.stack_description(cfn, settings["stack_name"])
        if stack is None:
            print(f"stack {settings['stack_name']} does not exist in {session.target.describe()}: nothing to delete")
            return 0
        if stack.get("EnableTerminationProtection"):
            raise UserError(f"stack {settings['stack_name']} has termination protection on: blueprint will not delete it")
        retained = retained_resources(cfn, stack["StackId"]) if stack["StackStatus"] != "REVIEW_IN_PROGRESS" else []
        print(f"deleting stack {settings['stack_name']} in {session.target.describe()}")
        print("retained (DeletionPolicy Retain): " + (", ".join(retained) if retained else "nothing"))
        if not getattr(args, "yes", False) and not confirm(settings["stack_name"]):
            print("not confirmed: nothing deleted")
            return 1
        events = EventStream(cfn, stack["StackId"])
        cfn.delete_stack(StackName=stack["StackId"])
        final = follow(cfn, stack["StackId"], events, env)
    for name in (changeset.RECORD, OUTPUTS):
        (aws.state_dir(root) / env / name).unlink(missing_ok=True)
    if final["StackStatus"] != "DELETE_COMPLETE":
        raise DeployFailed(failure_message(final, events))
    print(f"stack {settings['stack_name']} deleted")
    return 0
