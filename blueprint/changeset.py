"""`blueprint changeset`: upload the package and template, create a change set, print and record its review.

The same machinery (`submit`) creates the bootstrap stack's change sets. The reviewed change set
is recorded in `.blueprint/<target>/<env>/changeset.json` (see `aws.env_state_dir`) with the hashes
of what was reviewed, so `blueprint deploy` executes exactly it and nothing else.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sys
import time
from argparse import Namespace
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from blueprint import aws
from blueprint.errors import DeployFailed, UserError

TEMPLATE_BODY_LIMIT = 51_200  # G6: CloudFormation's TemplateBody limit; larger ones go through S3
# Poll fast, then back off: a change set is usually ready in seconds (botocore's waiter sleeps 5-30 s
# between calls); a stack update can take many minutes, so its events are polled up to every 5 s.
POLL_FIRST_S, POLL_GROWTH = 0.2, 1.5
CHANGE_SET_POLL_MAX_S, STACK_POLL_MAX_S = 2.0, 5.0
CHANGE_SET_TIMEOUT_S = 15 * 60
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
BUSY_SUFFIX = "_IN_PROGRESS"
RECORD = "changeset.json"
NAMED_IAM_PROPERTIES = {
    "AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


@dataclass(frozen=True)
class Prepared:
    """A rendered template that matches the spec, with what the deploy step needs beside it."""

    env: str
    stack_name: str
    settings: dict[str, Any]
    template_text: str
    template: dict[str, Any]
    template_sha256: str
    template_file: str
    tags: dict[str, str]
    bootstrap: bool = False  # the account's bootstrap stack, not the environment's


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fresh_outputs(root: Path, env: str) -> dict[str, str]:
    """The generated files of `env` as a fresh render gives them; UserError when generated/ differs."""
    from blueprint import render
    from blueprint.commands import load_valid

    specs = load_valid(root, [env])
    outputs = render.render_all(root, specs)
    stale = render.stale_files(root, outputs)
    if stale:
        raise UserError(f"generated/ is stale for {env}: {', '.join(stale)} differ from a fresh render of the "
                        f"spec; run `make render` (blueprint render --env {env}), review and commit it, then retry")
    return outputs


def read_settings(root: Path, env: str) -> dict[str, Any]:
    """generated/<env>/stack.json; UserError (not a traceback) when it is missing or unreadable."""
    path = Path(root) / "generated" / env / "stack.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} is missing: run `make render ENV={env}` (is envs/{env}.yaml there?)") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is unreadable ({exc}): run `make render ENV={env}` again") from None


def prepare(root: Path, env: str, bootstrap: bool = False) -> Prepared:
    """The environment's (or, with bootstrap, the account's bootstrap) template, refused when stale."""
    from blueprint import cfnyaml, render

    outputs = _fresh_outputs(root, env)
    settings = json.loads(outputs[f"{render.GENERATED}/{env}/stack.json"])
    rel = f"{render.GENERATED}/{render.BOOTSTRAP if bootstrap else env}/template.yaml"
    text = outputs[rel]
    stack = settings["bootstrap_stack"] if bootstrap else settings["stack_name"]
    # The bootstrap stack is the account's, shared by every environment: it carries no env's tags.
    tags = {"ManagedBy": "blueprint"} if bootstrap else dict(settings["tags"])
    return Prepared(env, stack, settings, text, cfnyaml.loads(text), sha256_text(text), rel, tags, bootstrap)


# --- stack, bucket, uploads ---------------------------------------------------------------------

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


def bootstrap_bucket(cfn: Any, settings: dict[str, Any], env: str, target_kind: str) -> str:
    """The artifacts bucket from the bootstrap stack's outputs; UserError when it is not deployed."""
    stack = stack_description(cfn, settings["bootstrap_stack"])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
    if not stack or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE") \
            or "ArtifactBucketName" not in outputs:
        state = stack["StackStatus"] if stack else "not deployed"
        raise UserError(f"the bootstrap stack {settings['bootstrap_stack']} is {state} in {settings['region']}: "
                        f"run `{aws.make_command('bootstrap', env, target_kind)}` first")
    return outputs["ArtifactBucketName"]


def upload_if_missing(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """Put the object unless it is there already (keys are content hashes); True when uploaded."""
    import botocore.exceptions as bx

    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except bx.ClientError as exc:
        code = aws.error_code(exc)
        if code in ("403", "Forbidden", "AccessDenied"):
            # HeadObject has no body, so S3 says only 403; without s3:ListBucket a missing key is 403 too.
            raise UserError(f"S3 refused to look at s3://{bucket}/{key} (403 on HeadObject): the credentials in use "
                            f"need s3:ListBucket and s3:GetObject (and s3:PutObject) on the artifacts bucket "
                            f"{bucket}; use a role allowed to deploy") from None
        if code not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return True


def start_package(root: Path, env: str) -> Future:
    """Build the handler zip in a thread while the spec is checked and AWS is asked (zlib frees the GIL).

    The runtime and architecture come from generated/<env>/stack.json; `prepare` then checks that
    file is fresh, so a stale one fails the command before anything is uploaded.
    """
    from blueprint import package

    future: Future
    try:
        function = read_settings(root, env)["function"]
        runtime, architecture = function["runtime"], function["architecture"]
    except UserError as exc:
        future = Future()
        future.set_exception(exc)
        return future
    except (KeyError, TypeError):
        future = Future()
        future.set_exception(UserError(f"generated/{env}/stack.json has no function runtime/architecture: "
                                       f"run `make render ENV={env}`"))
        return future
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(package.build_package, root, runtime, architecture, root / "build" / "package")
    pool.shutdown(wait=False)
    return future


def upload_package(built: Any, s3: Any, bucket: str) -> tuple[str, str]:
    """Upload the built handler zip to handler/<sha256>.zip unless it is there; (key, sha256)."""
    key = f"handler/{built.sha256}.zip"
    upload_if_missing(s3, bucket, key, built.path.read_bytes())
    return key, built.sha256


def template_url(s3: Any, bucket: str, key: str, target_kind: str) -> str:
    """A path-style URL of the object on the S3 client's own endpoint, so any partition works
    (amazonaws.com, amazonaws.com.cn, GovCloud) without naming its domain here."""
    endpoint = str(s3.meta.endpoint_url).rstrip("/")
    if target_kind == "local":
        # moto reads a TemplateURL from its own S3 and parses a path-style URL only when its host is
        # `localhost` (it would take `127.0.0.1` for a virtual-hosted bucket named "127").
        endpoint = endpoint.replace("://127.0.0.1", "://localhost", 1)
    return f"{endpoint}/{bucket}/{quote(key)}"


def template_source(s3: Any, bucket: str, prepared: Prepared, target_kind: str) -> dict[str, str]:
    """TemplateBody, or TemplateURL of an S3 copy when the body is over CloudFormation's limit (G6)."""
    body = prepared.template_text.encode("utf-8")
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": prepared.template_text}
    key = f"templates/{prepared.stack_name}/{prepared.template_sha256}.yaml"
    upload_if_missing(s3, bucket, key, body)
    return {"TemplateURL": template_url(s3, bucket, key, target_kind)}


def capabilities(template: dict[str, Any]) -> list[str]:
    """CAPABILITY_IAM, plus CAPABILITY_NAMED_IAM when an IAM resource is given a name."""
    named = any(NAMED_IAM_PROPERTIES.get(r.get("Type", "")) in (r.get("Properties") or {})
                for r in (template.get("Resources") or {}).values())
    return ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"] if named else ["CAPABILITY_IAM"]


# --- the change set -----------------------------------------------------------------------------

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
    if status == "ROLLBACK_COMPLETE":
        if bootstrap:
            endpoint = f" --endpoint-url {cfn.meta.endpoint_url}" if target_kind == "local" else ""
            raise UserError(
                f"the bootstrap stack {stack_name} is ROLLBACK_COMPLETE: its first create failed and it holds no "
                f"resources; delete it with `aws cloudformation delete-stack --stack-name {stack_name} "
                f"--region {cfn.meta.region_name}{endpoint}` and run `make bootstrap ENV={env}` again")
        raise UserError(f"stack {stack_name} is ROLLBACK_COMPLETE: its first create failed and it holds no resources; "
                        f"delete it with `make destroy ENV={env}` and create the change set again")
    if status.endswith(BUSY_SUFFIX) or status == "DELETE_FAILED":
        raise UserError(f"stack {stack_name} is {status}: wait for it to settle (`make status ENV={env}`) and retry")
    return stack


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


def poll_delays(timeout_s: float, max_s: float = STACK_POLL_MAX_S) -> Iterator[float]:
    """Sleep lengths for a poll loop: 0.2 s growing by half to `max_s`, until the timeout (the caller
    then says what it gave up waiting for)."""
    deadline = time.monotonic() + timeout_s
    delay = POLL_FIRST_S
    while time.monotonic() < deadline:
        yield delay
        delay = min(delay * POLL_GROWTH, max_s)


def change_set_name(template_sha256: str) -> str:
    """bp-<UTC time>-<template hash>-<random>: unique even for two reviews within one second."""
    return f"bp-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{template_sha256[:8]}-{secrets.token_hex(4)}"


def create(cfn: Any, prepared: Prepared, source: dict[str, str], parameters: dict[str, str],
           exists: bool, package_sha256: str | None = None) -> str:
    """CreateChangeSet; returns its ARN."""
    description = f"blueprint: template sha256 {prepared.template_sha256[:16]}"
    if package_sha256:
        description += f", package sha256 {package_sha256[:16]}"
    response = cfn.create_change_set(
        StackName=prepared.stack_name,
        ChangeSetName=change_set_name(prepared.template_sha256),
        ChangeSetType="UPDATE" if exists else "CREATE",
        Description=description,
        Capabilities=capabilities(prepared.template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": k, "Value": v} for k, v in sorted(prepared.tags.items())],
        IncludeNestedStacks=False,
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


@dataclass
class Submitted:
    described: dict[str, Any]
    review: Any  # review.Review
    exists: bool
    no_changes: bool
    stack: dict[str, Any] | None = None  # the stack as it was before the change set (None: created)


def submit(session: aws.Session, prepared: Prepared, parameters: dict[str, str], source: dict[str, str],
           package_sha256: str | None = None) -> Submitted:
    """Create the change set, wait for it, and build its review (plan prediction included)."""
    import botocore.exceptions as bx

    from blueprint import plan, review

    cfn = session.client("cloudformation")
    stack = existing_stack(cfn, prepared.stack_name, prepared.env, session.target.kind, prepared.bootstrap)
    old_template = plan.template_of(cfn, stack)
    try:
        change_set_id = create(cfn, prepared, source, parameters, stack is not None, package_sha256)
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
        empty = review.Review("change set", prepared.stack_name, session.target.describe(), [],
                              described.get("ChangeSetName"), change_set_id, stack is not None)
        return Submitted(described, empty, stack is not None, True, stack)
    if described["Status"] != "CREATE_COMPLETE":
        raise DeployFailed(f"change set {described.get('ChangeSetName')} for {prepared.stack_name} is "
                           f"{described['Status']}: {described.get('StatusReason', 'no reason given')}")
    described = describe_all(cfn, change_set_id)
    diffs = plan.diff_templates(old_template, prepared.template)
    result = review.from_change_set(prepared.stack_name, session.target.describe(), described, diffs,
                                    stack is not None, prepared.env)
    return Submitted(described, result, stack is not None, False, stack)


def protect(cfn: Any, stack: dict[str, Any], settings: dict[str, Any], target_kind: str, out: Any = None) -> None:
    """Prod: the stack policy that refuses replacing the table (G2), and termination protection.

    Idempotent (it sets only what is missing), so it runs before every update (the policy then governs
    that update), after a create, and on a "no changes" review: a deploy stopped before it could
    protect the stack is protected by the next command.
    """
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    out = out or sys.stdout
    policy = settings.get("stack_policy")
    if policy:
        body = cfn.get_stack_policy(StackName=stack["StackId"]).get("StackPolicyBody")
        try:
            current = json.loads(body) if body else None
        except ValueError:
            current = None
        if current != policy:
            cfn.set_stack_policy(StackName=stack["StackId"], StackPolicyBody=json.dumps(policy))
            print("stack policy set (refuses Update:Replace and Update:Delete of the table)", file=out)
    if settings.get("termination_protection") and not stack.get("EnableTerminationProtection"):
        try:
            cfn.update_termination_protection(StackName=stack["StackId"], EnableTerminationProtection=True)
            print("termination protection on", file=out)
        except (bx.ClientError, ResponseParserError):
            if target_kind != "local":
                raise
            # moto 5.2.5 has no UpdateTerminationProtection (it answers HTTP 500).
            print("note: the local AWS has no termination protection; on AWS it is switched on here", file=out)


# --- the record of the reviewed change set ------------------------------------------------------

def record_path(root: Path, target_kind: str, env: str) -> Path:
    return aws.env_state_dir(root, target_kind, env) / RECORD


def write_record(root: Path, target_kind: str, env: str, data: dict[str, Any]) -> Path:
    path = record_path(root, target_kind, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_record(root: Path, target_kind: str, env: str) -> dict[str, Any]:
    path = record_path(root, target_kind, env)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"no reviewed change set for {env} ({path} is missing): run `make changeset ENV={env}`, "
                        "review it, then deploy") from None
    except ValueError:
        raise UserError(f"{path} is not valid JSON: run `make changeset ENV={env}` again") from None


def take_record(root: Path, target_kind: str, env: str) -> dict[str, Any] | None:
    """Remove the previous record (a new review replaces it, even if it fails); what it held, if readable."""
    path = record_path(root, target_kind, env)
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    path.unlink(missing_ok=True)
    return previous if isinstance(previous, dict) else None


def discard_change_set(cfn: Any, record: dict[str, Any], region: str) -> None:
    """Delete the change set a replaced record named, so reviews leave no change sets behind in AWS."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    if not record.get("change_set_id") or record.get("region") != region:
        return
    try:
        cfn.delete_change_set(ChangeSetName=record["change_set_id"])
    except bx.ClientError as exc:
        if aws.error_code(exc) in ("ChangeSetNotFound", "ChangeSetNotFoundException") or \
                "does not exist" in aws.error_message(exc):
            return  # executed or deleted since: nothing left behind
        print(f"note: could not delete the previously reviewed change set {record.get('change_set_name')} "
              f"({aws.error_code(exc)}: {aws.error_message(exc)}); delete it in the CloudFormation console",
              file=sys.stderr)
    except ResponseParserError:
        pass  # the local AWS answers HTTP 500 for a change set it no longer has


# --- command ------------------------------------------------------------------------------------

def main(args: Namespace) -> int:
    from blueprint import review

    root, env, kind = Path(args.root), args.env, args.target
    # With --output json, stdout carries only the review's JSON; notes go to stderr.
    out = sys.stderr if args.output == "json" else sys.stdout
    building = start_package(root, env)
    try:
        prepared = prepare(root, env)
        previous = take_record(root, kind, env)
        with aws.translated(kind):
            session = aws.session_for(prepared.settings, kind, root)
            aws.check_account(session, prepared.settings, env)
            cfn, s3 = session.client("cloudformation"), session.client("s3")
            if previous:
                discard_change_set(cfn, previous, session.target.region)
            bucket = bootstrap_bucket(cfn, prepared.settings, env, session.target.kind)
            code_key, package_sha = upload_package(building.result(), s3, bucket)
            source = template_source(s3, bucket, prepared, session.target.kind)
            done = submit(session, prepared, {"ArtifactBucket": bucket, "CodeKey": code_key}, source, package_sha)
            if done.no_changes and done.stack is not None:
                protect(cfn, done.stack, prepared.settings, session.target.kind, out)
    finally:
        wait([building])  # a refused command must not leave a build writing into build/ behind it
    if done.no_changes:
        if args.output == "json":
            review.emit(done.review, "json")
        else:
            print(f"no changes: {prepared.stack_name} already runs this template and package in "
                  f"{session.target.describe()} (the empty change set was deleted)")
        return 0
    review.emit(done.review, args.output)
    write_record(root, kind, env, {
        "change_set_id": done.described["ChangeSetId"],
        "change_set_name": done.described["ChangeSetName"],
        "stack_id": done.described.get("StackId"),
        "stack_name": prepared.stack_name,
        "stack_version": stack_version(done.stack) if done.stack else "REVIEW_IN_PROGRESS",
        "create": not done.exists,
        "target": session.target.kind,
        "region": session.target.region,
        "template_file": prepared.template_file,
        "template_sha256": prepared.template_sha256,
        "package_sha256": package_sha,
        "code_key": code_key,
        "dangerous": done.review.dangerous,
        "summary": review.summary_line(done.review.changes),
        "reviewed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    if args.output != "json":
        print(f"review it, then run `{aws.make_command('deploy', env, session.target.kind)}` to execute exactly this change set")
    return 0
