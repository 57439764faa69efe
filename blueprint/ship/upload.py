"""What a change set needs in S3 first: the artifacts bucket, the handler package and (when large) the template.

Keys are content hashes, so an object already there is never uploaded again.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from blueprint.errors import UserError
from blueprint.render.bootstrap_contract import BOOTSTRAP_VERSION
from blueprint.ship import aws
from blueprint.ship.package import Package
from blueprint.ship.prepare import Prepared
from blueprint.ship.stacks import bootstrap_stack

TEMPLATE_BODY_LIMIT = 51_200  # CloudFormation's TemplateBody limit; larger ones go through S3
BOOTSTRAP_READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")


def bootstrap_outputs(cfn: Any, bootstrap_name: str) -> tuple[dict[str, str] | None, str, str]:
    """(the ready bootstrap stack's outputs or None, its name, its status or `not deployed`)."""
    stack = bootstrap_stack(cfn, bootstrap_name)
    if stack is None:
        return None, bootstrap_name, "not deployed"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    ready = stack["StackStatus"] in BOOTSTRAP_READY and "ArtifactBucketName" in outputs
    return (outputs if ready else None), stack["StackName"], stack["StackStatus"]


def artifact_bucket(cfn: Any, bootstrap_name: str) -> str | None:
    """The artifacts bucket of the region's bootstrap stack; None while it has none ready."""
    outputs, _, _ = bootstrap_outputs(cfn, bootstrap_name)
    return outputs["ArtifactBucketName"] if outputs else None


def _bootstrap_fix(stack_name: str, env: str, target_kind: str) -> str:
    if stack_name.startswith("StackSet-"):  # a member account's: changed only through its StackSet
        return ("update the StackSet from the organization's management account "
                f"(`blueprint bootstrap --env {env} --stackset --ou ...`)")
    return f"run `{aws.make_command('bootstrap', env, target_kind)}`"


def bootstrap_bucket(cfn: Any, prepared: Prepared, target_kind: str) -> str:
    """The artifacts bucket from the bootstrap stack's outputs; UserError when it is not deployed, or older
    than what this tool's stacks rely on (BootstrapVersion: the stack roles' permissions boundary)."""
    outputs, name, status = bootstrap_outputs(cfn, prepared.settings.bootstrap_stack)
    region, env = prepared.settings.region, prepared.env
    fix = _bootstrap_fix(name, env, target_kind)
    if outputs is None:
        raise UserError(f"the bootstrap stack {name} is {status} in {region}: {fix} first")
    version = outputs.get("BootstrapVersion", "1")
    if not version.isdigit() or int(version) < BOOTSTRAP_VERSION:
        raise UserError(f"the bootstrap stack {name} in {region} is version {version}, and this template needs "
                        f"version {BOOTSTRAP_VERSION} (the permissions boundary its roles carry): {fix} to update "
                        "it, and where CI deploys through the account stack, update that too "
                        "(generated/account/template.yaml: its service role sets the boundary); then run this again. "
                        "Nothing was uploaded or created")
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
    # A content-hashed key is written once, never over: the CI roles may only put with If-None-Match, so a
    # pull request's job cannot replace the package a reviewed change set points to.
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
    except bx.ClientError as exc:
        if aws.error_code(exc) not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise
        return False  # written meanwhile by another run: the same content, by its key
    return True


def code_key(package: Package) -> str:
    return f"handler/{package.sha256}.zip"


def upload_package(package: Package, s3: Any, bucket: str) -> str:
    """Upload the built handler zip to handler/<sha256>.zip unless it is there; its key."""
    key = code_key(package)
    upload_if_missing(s3, bucket, key, package.path.read_bytes())
    return key


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
    """TemplateBody, or TemplateURL of an S3 copy when the body is over CloudFormation's limit."""
    body = prepared.template_text.encode("utf-8")
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": prepared.template_text}
    key = f"templates/{prepared.stack_name}/{prepared.template_sha256}.yaml"
    upload_if_missing(s3, bucket, key, body)
    return {"TemplateURL": template_url(s3, bucket, key, target_kind)}
