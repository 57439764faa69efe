"""`blueprint changeset`: upload the package and template, create a change set, print and record its review.

The same machinery (`submit`) creates the bootstrap stack's change sets. The reviewed change set
is recorded in `.blueprint/<env>/changeset.json` with the hashes of what was reviewed, so
`blueprint deploy` executes exactly it and nothing else.
"""
from __future__ import annotations

import hashlib
import json
import time
from argparse import Namespace
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
    return Prepared(env, stack, settings, text, cfnyaml.loads(text), sha256_text(text), rel, tags)


# --- stack, bucket, uploads ---------------------------------------------------------------------

def stack_description(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """DescribeStacks' entry for the stack, or None when it does not exist."""
    import botocore.exceptions as bx

    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except bx.ClientError as exc:
        if "does not exist" in aws.error_message(exc):
            return None
        raise
    return stacks[0] if stacks else None


def bootstrap_bucket(cfn: Any, settings: dict[str, Any], env: str) -> str:
    """The artifacts bucket from the bootstrap stack's outputs; UserError when it is not deployed."""
    stack = stack_description(cfn, settings["bootstrap_stack"])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
    if not stack or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE") \
            or "ArtifactBucketName" not in outputs:
        state = stack["StackStatus"] if stack else "not deployed"
        raise UserError(f"the bootstrap stack {settings['bootstrap_stack']} is {state} in {settings['region']}: "
                        f"run `make bootstrap ENV={env}` (blueprint bootstrap --env {env}) first")
    return outputs["ArtifactBucketName"]


def upload_if_missing(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """Put the object unless it is there already (keys are content hashes); True when uploaded."""
    import botocore.exceptions as bx

    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except bx.ClientError as exc:
        if aws.error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return True


def start_package(root: Path, env: str) -> Future:
    """Build the handler zip in a thread while the spec is checked and AWS is asked (zlib frees the GIL).

    The runtime and architecture come from generated/<env>/stack.json; `prepare` then checks that
    file is fresh, so a stale one fails the command before anything is uploaded.
    """
    from blueprint import package

    try:
        function = json.loads((root / "generated" / env / "stack.json").read_text(encoding="utf-8"))["function"]
    except (OSError, ValueError, KeyError):
        function = None
    pool = ThreadPoolExecutor(max_workers=1)
    if function is None:
        future: Future = Future()
        future.set_exception(UserError(f"generated/{env}/stack.json is missing or unreadable: run `make render`"))
    else:
        future = pool.submit(package.build_package, root, function["runtime"], function["architecture"],
                             root / "build" / "package")
    pool.shutdown(wait=False)
    return future


def upload_package(built: Any, s3: Any, bucket: str) -> tuple[str, str]:
    """Upload the built handler zip to handler/<sha256>.zip unless it is there; (key, sha256)."""
    key = f"handler/{built.sha256}.zip"
    upload_if_missing(s3, bucket, key, built.path.read_bytes())
    return key, built.sha256


def template_source(s3: Any, bucket: str, prepared: Prepared, region: str) -> dict[str, str]:
    """TemplateBody, or TemplateURL of an S3 copy when the body is over CloudFormation's limit (G6)."""
    body = prepared.template_text.encode("utf-8")
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": prepared.template_text}
    key = f"templates/{prepared.stack_name}/{prepared.template_sha256}.yaml"
    upload_if_missing(s3, bucket, key, body)
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def capabilities(template: dict[str, Any]) -> list[str]:
    """CAPABILITY_IAM, plus CAPABILITY_NAMED_IAM when an IAM resource is given a name."""
    named = any(NAMED_IAM_PROPERTIES.get(r.get("Type", "")) in (r.get("Properties") or {})
                for r in (template.get("Resources") or {}).values())
    return ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"] if named else ["CAPABILITY_IAM"]


# --- the change set -----------------------------------------------------------------------------

def existing_stack(cfn: Any, stack_name: str, env: str) -> dict[str, Any] | None:
    """The stack to UPDATE, or None to CREATE; refuses stacks that can take no change set now."""
    stack = stack_description(cfn, stack_name)
    if stack is None:
        return None
    status = stack["StackStatus"]
    if status == "REVIEW_IN_PROGRESS":
        # Only unexecuted change sets, no resources: remove it, so a new CREATE starts clean
        # (the local AWS would otherwise keep two stacks of one name).
        cfn.delete_stack(StackName=stack["StackId"])
        wait_stack_gone(cfn, stack["StackId"])
        return None
    if status == "ROLLBACK_COMPLETE":
        raise UserError(f"stack {stack_name} is ROLLBACK_COMPLETE: its first create failed and it holds no resources; "
                        f"delete it with `make destroy ENV={env}` and create the change set again")
    if status.endswith(BUSY_SUFFIX) or status == "DELETE_FAILED":
        raise UserError(f"stack {stack_name} is {status}: wait for it to settle (`make status ENV={env}`) and retry")
    return stack


def wait_stack_gone(cfn: Any, stack_id: str) -> None:
    for delay in poll_delays(CHANGE_SET_TIMEOUT_S):
        stack = stack_description(cfn, stack_id)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return
        if stack["StackStatus"] == "DELETE_FAILED":
            raise DeployFailed(f"could not delete the pending stack {stack_id}: {stack.get('StackStatusReason', '')}")
        time.sleep(delay)


def poll_delays(timeout_s: float, max_s: float = STACK_POLL_MAX_S):
    """Sleep lengths for a poll loop: 0.2 s growing by half to `max_s`, until the timeout (then DeployFailed)."""
    deadline = time.monotonic() + timeout_s
    delay = POLL_FIRST_S
    while time.monotonic() < deadline:
        yield delay
        delay = min(delay * POLL_GROWTH, max_s)
    raise DeployFailed(f"gave up waiting after {timeout_s:.0f} s")


def change_set_name(template_sha256: str) -> str:
    return f"bp-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{template_sha256[:8]}"


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
    raise AssertionError("unreachable")


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


def submit(session: aws.Session, prepared: Prepared, parameters: dict[str, str], source: dict[str, str],
           package_sha256: str | None = None) -> Submitted:
    """Create the change set, wait for it, and build its review (plan prediction included)."""
    import botocore.exceptions as bx

    from blueprint import plan, review

    cfn = session.client("cloudformation")
    stack = existing_stack(cfn, prepared.stack_name, prepared.env)
    old_template = plan.deployed_template(cfn, prepared.stack_name) if stack else None
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
        return Submitted(described, empty, stack is not None, True)
    if described["Status"] != "CREATE_COMPLETE":
        raise DeployFailed(f"change set {described.get('ChangeSetName')} for {prepared.stack_name} is "
                           f"{described['Status']}: {described.get('StatusReason', 'no reason given')}")
    described = describe_all(cfn, change_set_id)
    diffs = plan.diff_templates(old_template, prepared.template)
    result = review.from_change_set(prepared.stack_name, session.target.describe(), described, diffs,
                                    stack is not None, prepared.env)
    return Submitted(described, result, stack is not None, False)


# --- the record of the reviewed change set ------------------------------------------------------

def record_path(root: Path, env: str) -> Path:
    return aws.state_dir(root) / env / RECORD


def write_record(root: Path, env: str, data: dict[str, Any]) -> Path:
    path = record_path(root, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_record(root: Path, env: str) -> dict[str, Any]:
    path = record_path(root, env)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"no reviewed change set for {env} ({path} is missing): run `make changeset ENV={env}`, "
                        "review it, then deploy") from None
    except ValueError:
        raise UserError(f"{path} is not valid JSON: run `make changeset ENV={env}` again") from None


# --- command ------------------------------------------------------------------------------------

def main(args: Namespace) -> int:
    from blueprint import review

    root, env = Path(args.root), args.env
    building = start_package(root, env)
    try:
        prepared = prepare(root, env)
        record_path(root, env).unlink(missing_ok=True)  # a new review replaces the old one, even if it fails
        with aws.translated(args.target):
            session = aws.session_for(prepared.settings, args.target, root)
            aws.check_account(session, prepared.settings, env)
            cfn, s3 = session.client("cloudformation"), session.client("s3")
            bucket = bootstrap_bucket(cfn, prepared.settings, env)
            code_key, package_sha = upload_package(building.result(), s3, bucket)
            source = template_source(s3, bucket, prepared, session.target.region)
            done = submit(session, prepared, {"ArtifactBucket": bucket, "CodeKey": code_key}, source, package_sha)
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
    write_record(root, env, {
        "change_set_id": done.described["ChangeSetId"],
        "change_set_name": done.described["ChangeSetName"],
        "stack_id": done.described.get("StackId"),
        "stack_name": prepared.stack_name,
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
        print(f"review it, then run `make deploy ENV={env}` to execute exactly this change set")
    return 0
