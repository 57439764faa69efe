"""Create a change set for a prepared template, wait for it, and build its review; the `changeset` command.

The same machinery (`submit`) creates the bootstrap stack's change sets. The reviewed change set is
recorded (blueprint.ship.records) with the hashes of what was reviewed, so `blueprint deploy`
executes exactly it and nothing else. A change set that creates the stack also names the
environment's stacks under other names (a renamed `service` leaves the old one running), in the
text and, under `previous_stacks`, in the JSON.
"""
from __future__ import annotations

import re
import secrets
import sys
import time
from argparse import Namespace
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from blueprint.cfn import loader
from blueprint.cfn.diff import diff_templates
from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws, concurrency, guard as guards, lock, records, report
from blueprint.ship.guard import Guard
from blueprint.ship.prepare import Prepared, prepare
from blueprint.ship.protect import protect
from blueprint.ship.review import Review, from_change_set, summary_line
from blueprint.ship.stacks import (CHANGE_SET_POLL_MAX_S, CHANGE_SET_TIMEOUT_S, environment_stacks, existing_stack,
                                   poll_delays, stack_description, stack_version)
from blueprint.ship.upload import bootstrap_bucket, template_source, upload_package

REVERT_DRIFT = "REVERT_DRIFT"  # CreateChangeSet's DeploymentMode for a drift-aware change set
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
NAMED_IAM_PROPERTIES = {
    "AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def capabilities(template: dict[str, Any]) -> list[str]:
    """CAPABILITY_IAM, plus CAPABILITY_NAMED_IAM when an IAM resource is given a name."""
    named = any(NAMED_IAM_PROPERTIES.get(r.get("Type", "")) in (r.get("Properties") or {})
                for r in (template.get("Resources") or {}).values())
    return ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"] if named else ["CAPABILITY_IAM"]


def change_set_name(template_sha256: str) -> str:
    """bp-<UTC time>-<template hash>-<random>: unique even for two reviews within one second."""
    return f"bp-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{template_sha256[:8]}-{secrets.token_hex(4)}"


def create(cfn: Any, prepared: Prepared, source: dict[str, str], parameters: dict[str, str],
           exists: bool, package_sha256: str | None = None, revert_drift: bool = False,
           rollback: dict[str, Any] | None = None, role_arn: str | None = None) -> str:
    """CreateChangeSet; returns its ARN. `revert_drift` makes an update's change set drift-aware; `rollback`
    is its RollbackConfiguration (blueprint.ship.guard), left out when None: an empty list would clear triggers.
    `role_arn` is the service role CloudFormation acts with (CI's deploy roles hold no rights of their own);
    without it CloudFormation keeps the role the stack already has, or uses the caller's credentials.

    DeploymentMode is sent only when asked for and only on an UPDATE: a stack not created yet has no
    drift, and an older CloudFormation endpoint need never see the parameter.
    """
    description = f"blueprint: template sha256 {prepared.template_sha256[:16]}"
    if package_sha256:
        description += f", package sha256 {package_sha256[:16]}"
    mode: dict[str, Any] = {"DeploymentMode": REVERT_DRIFT} if revert_drift and exists else {}
    if rollback is not None:
        mode["RollbackConfiguration"] = rollback
    if role_arn:
        mode["RoleARN"] = role_arn
    response = cfn.create_change_set(
        StackName=prepared.stack_name,
        ChangeSetName=change_set_name(prepared.template_sha256),
        ChangeSetType="UPDATE" if exists else "CREATE",
        Description=description,
        Capabilities=capabilities(prepared.template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": k, "Value": v} for k, v in sorted(prepared.tags.items())],
        IncludeNestedStacks=False,
        **mode,
        **source,
    )
    return response["Id"]


def wait_created(cfn: Any, change_set_id: str) -> dict[str, Any]:
    """Poll DescribeChangeSet until it leaves CREATE_PENDING/IN_PROGRESS (fast: not botocore's 30 s waiter)."""
    for delay in poll_delays(CHANGE_SET_TIMEOUT_S, CHANGE_SET_POLL_MAX_S):
        described = cfn.describe_change_set(ChangeSetName=change_set_id)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"):
            return described
        time.sleep(delay)
    raise DeployFailed(f"change set {change_set_id} was not ready after {CHANGE_SET_TIMEOUT_S // 60} min: "
                       "look at it in the CloudFormation console")


def describe_all(cfn: Any, change_set_id: str) -> dict[str, Any]:
    """DescribeChangeSet with property values, every page of Changes merged into the first."""
    described = cfn.describe_change_set(ChangeSetName=change_set_id, IncludePropertyValues=True)
    token = described.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=change_set_id, IncludePropertyValues=True, NextToken=token)
        described["Changes"].extend(page.get("Changes", []))
        token = page.get("NextToken")
    return described


def is_no_changes(described: dict[str, Any]) -> bool:
    reason = described.get("StatusReason") or ""
    return described["Status"] == "FAILED" and any(text in reason for text in NO_CHANGES)


def template_of(cfn: Any, stack: dict[str, Any] | None) -> dict[str, Any] | None:
    """The template a described stack was last given (Stage Original); None when it has none yet."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return None  # a stack that only holds unexecuted change sets has no template yet
    body = cfn.get_template(StackName=stack["StackId"], TemplateStage="Original")["TemplateBody"]
    return loader.parse_body(body)


def review_of(cfn: Any, described: dict[str, Any], old_template: dict[str, Any] | None, new_template: dict[str, Any],
              target: str, env: str) -> Review:
    """The review of a described change set, with the template diff's prediction beside the target's answer."""
    return from_change_set(described.get("StackName", ""), target, describe_all(cfn, described["ChangeSetId"]),
                           diff_templates(old_template, new_template), old_template is not None, env)


@dataclass
class Submitted:
    described: dict[str, Any]
    review: Review
    exists: bool
    no_changes: bool
    stack: dict[str, Any] | None = None  # the stack as it was before the change set (None: created)
    guard: Guard | None = None  # the rollback triggers it carries (None: not decided, as for bootstrap)


def submit(session: aws.Session, prepared: Prepared, parameters: dict[str, str], source: dict[str, str],
           package_sha256: str | None = None, revert_drift: bool = False,
           guarded: Callable[[dict[str, Any] | None], Guard] | None = None, role_arn: str | None = None) -> Submitted:
    """Create the change set, wait for it, and build its review (plan prediction included); `guarded`
    decides its rollback triggers from the stack as it is (blueprint.ship.guard.decide)."""
    import botocore.exceptions as bx

    cfn = session.client("cloudformation")
    stack = existing_stack(cfn, prepared.stack_name, prepared.env, session.target.kind, prepared.bootstrap)
    old_template = template_of(cfn, stack)
    guard = guarded(stack) if guarded else None
    try:
        change_set_id = create(cfn, prepared, source, parameters, stack is not None, package_sha256, revert_drift,
                               guard.configuration() if guard else None, role_arn)
    except bx.ClientError as exc:
        # Some endpoints refuse an empty change set outright instead of creating a FAILED one.
        if not any(text in aws.error_message(exc) for text in NO_CHANGES):
            raise
        change_set_id, described = None, {"Status": "FAILED", "StatusReason": aws.error_message(exc)}
    else:
        described = wait_created(cfn, change_set_id)
    if is_no_changes(described):
        if change_set_id:
            cfn.delete_change_set(ChangeSetName=change_set_id)
        empty = Review("change set", prepared.stack_name, session.target.describe(), [],
                       described.get("ChangeSetName"), change_set_id, stack is not None)
        return Submitted(described, empty, stack is not None, True, stack, guard)
    if described["Status"] != "CREATE_COMPLETE":
        raise DeployFailed(f"change set {described.get('ChangeSetName')} for {prepared.stack_name} is "
                           f"{described['Status']}: {described.get('StatusReason', 'no reason given')}")
    result = review_of(cfn, {**described, "StackName": prepared.stack_name}, old_template, prepared.template,
                       session.target.describe(), prepared.env)
    return Submitted(described, result, stack is not None, False, stack, guard)


def previous_stacks(cfn: Any, prepared: Prepared, target_kind: str) -> list[dict[str, Any]]:
    """The environment's stacks under other names (stacks.environment_stacks), with the commands that delete them."""
    region = cfn.meta.region_name
    endpoint = f" --endpoint-url {cfn.meta.endpoint_url}" if target_kind == "local" else ""
    found = []
    for stack in environment_stacks(cfn, prepared.env, prepared.tags.get("Environment", prepared.env),
                                    prepared.stack_name):
        where = f"--stack-name {stack['StackName']} --region {region}{endpoint}"
        found.append({
            "stack": stack["StackName"], "status": stack["StackStatus"], "region": region,
            "delete_command": f"aws cloudformation delete-stack {where}",
            "unprotect_command": f"aws cloudformation update-termination-protection "
                                 f"--no-enable-termination-protection {where}"
                                 if stack.get("EnableTerminationProtection") else None,
        })
    return found


def previous_note(prepared: Prepared, previous: dict[str, Any]) -> str:
    """What a reviewer of a CREATE is told of a stack of the same environment under another name."""
    unprotect = (f" It has termination protection: `{previous['unprotect_command']}` first."
                 if previous["unprotect_command"] else "")
    return (f"NOTE: this change set creates a new stack, {prepared.stack_name}, while {previous['stack']} "
            f"({previous['status']}) runs in {previous['region']}: a blueprint stack of environment {prepared.env} "
            f"(its Environment tag, its outputs) under another name. If `service` was renamed, that is this "
            f"environment's old stack: deploying creates the new one beside it (with a new, empty table) and "
            f"leaves {previous['stack']} running, its table and data included. Once the new stack serves and "
            f"the data you need is copied, delete the old one: `{previous['delete_command']}` (`make destroy` "
            f"deletes only the stack the spec names now).{unprotect} If it is another service's stack, ignore this.")


def discard_change_set(cfn: Any, record: records.ReviewRecord, region: str) -> None:
    """Delete the change set a replaced record named, so reviews leave no change sets behind in AWS."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    if record.region != region:
        return
    try:
        cfn.delete_change_set(ChangeSetName=record.change_set_id)
    except bx.ClientError as exc:
        if aws.error_code(exc) in ("ChangeSetNotFound", "ChangeSetNotFoundException") or \
                "does not exist" in aws.error_message(exc):
            return  # executed or deleted since: nothing left behind
        print(f"note: could not delete the previously reviewed change set {record.change_set_name} "
              f"({aws.error_code(exc)}: {aws.error_message(exc)}); delete it in the CloudFormation console",
              file=sys.stderr)
    except ResponseParserError:
        pass  # the local AWS answers HTTP 500 for a change set it no longer has


def check_revert_drift(cfn: Any) -> None:
    """UserError when the installed SDK cannot send DeploymentMode (botocore before drift-aware change sets)."""
    import botocore

    members = cfn.meta.service_model.operation_model("CreateChangeSet").input_shape.members
    if "DeploymentMode" not in members:
        raise UserError(f"--revert-drift needs CreateChangeSet's DeploymentMode, which botocore {botocore.__version__} "
                        "does not have: run `make install` (requirements/dev.txt pins one that has it)")


def revert_drift_note(exists: bool, target_kind: str) -> str:
    """What --revert-drift did: a drift-aware change set, or why it is an ordinary one."""
    if not exists:
        return "note: --revert-drift: the stack does not exist yet, so it has no drift; this is an ordinary change set"
    if target_kind == "local":
        return ("note: --revert-drift: DeploymentMode=REVERT_DRIFT was sent, but the local AWS ignores it: this is an "
                "ordinary change set here, and drift is put back only where the template changes a property. On AWS "
                "the change set also puts every drifted property back to the template's value")
    return ("note: --revert-drift: a drift-aware change set (DeploymentMode=REVERT_DRIFT): executing it also puts "
            "drifted properties back to the template's values; the changes marked (drifted: ...) are those")


ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


def service_role(role_arn: str | None) -> str | None:
    """--role-arn, checked before anything is uploaded: CloudFormation would refuse a malformed one late."""
    if role_arn is not None and not ROLE_ARN.fullmatch(role_arn):
        raise UserError(f"--role-arn: {role_arn!r} is not an IAM role's ARN (expected "
                        "arn:aws:iam::ACCOUNT_ID:role/NAME, e.g. the account stack's role blueprint-cloudformation)")
    return role_arn


def main(args: Namespace) -> int:
    """`blueprint changeset --env E`: upload, create the change set, print and record its review.

    It holds the environment's stack lock: it replaces the review record and deletes the change set the
    previous review named, which must not happen under a deploy running that change set.
    """
    root, env, kind = Path(args.root), args.env, args.target
    role_arn = service_role(getattr(args, "role_arn", None))
    with lock.env_stack(root, kind, env, "changeset"):
        return _changeset(args, root, env, kind, role_arn)


def _changeset(args: Namespace, root: Path, env: str, kind: str, role_arn: str | None) -> int:
    # With --output json, stdout carries only the review's JSON; notes go to stderr.
    out = sys.stderr if args.output == "json" else sys.stdout
    prepared = prepare(root, env)
    try:
        previous = records.take_record(root, kind, env)
        with aws.translated(kind):
            session = aws.session_for(prepared.settings.region, kind, root)
            aws.check_account(session, prepared.settings.account_id, env)
            cfn, s3 = session.client("cloudformation"), session.client("s3")
            if previous:
                discard_change_set(cfn, previous, session.target.region)
            revert = bool(getattr(args, "revert_drift", False))
            if revert:
                check_revert_drift(cfn)
            # Before anything is uploaded or created: a reservation Lambda would refuse fails the create late.
            concurrency.check(session, prepared.template, stack_description(cfn, prepared.stack_name), env, out)
            bucket = bootstrap_bucket(cfn, prepared, session.target.kind)
            package = prepared.package()
            code_key = upload_package(package, s3, bucket)
            source = template_source(s3, bucket, prepared, session.target.kind)
            scale = aws.local_time_scale(root) if session.target.kind == "local" else 1.0
            done = submit(session, prepared, {"ArtifactBucket": bucket, "CodeKey": code_key}, source, package.sha256,
                          revert, lambda stack: guards.decide(session, prepared.settings, stack, scale), role_arn)
            if done.no_changes and done.stack is not None:
                protect(cfn, done.stack, prepared.settings, session.target.kind, out)
            creates = not done.exists and not done.no_changes
            previous = previous_stacks(cfn, prepared, session.target.kind) if creates else []
    finally:
        prepared.settle()
    if revert:
        print(revert_drift_note(done.exists, session.target.kind), file=out)
    if done.no_changes:
        if args.output == "json":
            report.emit(done.review, "json", {"previous_stacks": previous})
        else:
            print(f"no changes: {prepared.stack_name} already runs this template and package in "
                  f"{session.target.describe()} (the empty change set was deleted)")
        return 0
    # previous_stacks and rollback are always in the JSON, so CI can read them; text gets a note each below.
    rollback = done.guard.to_json() if done.guard else None
    report.emit(done.review, args.output, {"previous_stacks": previous, "rollback": rollback})
    if done.guard and args.output != "json":
        for line in done.guard.lines(env):
            print(line)
    for stack in previous:
        print(previous_note(prepared, stack), file=out)
    records.write_record(root, env, records.ReviewRecord(
        change_set_id=done.described["ChangeSetId"], change_set_name=done.described["ChangeSetName"],
        stack_id=done.described.get("StackId"), stack_name=prepared.stack_name,
        stack_version=stack_version(done.stack) if done.stack else "REVIEW_IN_PROGRESS",
        create=not done.exists, target=session.target.kind, region=session.target.region,
        template_file=prepared.template_file, template_sha256=prepared.template_sha256,
        package_sha256=package.sha256, code_key=code_key, settings=prepared.settings,
        summary=summary_line(done.review.changes),
        reviewed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), spec_files=prepared.spec_files))
    if args.output != "json":
        # The rollout executes its waves' change sets itself, and says so instead.
        print(getattr(args, "next_step", None) or
              f"review it, then run `{aws.make_command('deploy', env, session.target.kind)}` to execute exactly this "
              "change set")
    return 0
