"""The project's rendered templates as the patch tests deploy them, and the canaries' verdict.

The patch tests deploy generated/<env>/template.yaml (or a variant made by editing its parsed dict)
through a change set to the patched local AWS. Plain moto cannot deploy the whole template (that is
what the patches are for), so a canary deploys `cut(template, id)`: that resource and what it depends
on, nothing more. A rendered stack's physical names are fixed (items-dev-items, ...), so each full
copy of one lives in a region of its own.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from blueprint.cfn import loader
from blueprint.cfn.refs import PSEUDO_PARAMETERS, dependencies, references

ROOT = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"
CODE_BUCKET = "blueprint-test-artifacts"
HANDLER = 'def lambda_handler(event, context):\n    return {"statusCode": 200, "body": "{}"}\n'


@functools.cache
def _parsed(env: str) -> dict[str, Any]:
    return loader.loads((ROOT / "generated" / env / "template.yaml").read_text(encoding="utf-8"))


def rendered(env: str = "dev") -> dict[str, Any]:
    """generated/<env>/template.yaml, parsed; a fresh copy to edit."""
    return copy.deepcopy(_parsed(env))


def logical_id(template: dict[str, Any], resource_type: str) -> str:
    """The one resource of a type (the Deployment's id, say, carries the API's hash)."""
    [found] = [name for name, r in template["Resources"].items() if r["Type"] == resource_type]
    return found


def cut(template: dict[str, Any], *logical_ids: str) -> dict[str, Any]:
    """The smallest template that deploys `logical_ids`: them and what they depend on, transitively, with
    the parameters they use and the outputs that refer to nothing else."""
    resources = template["Resources"]
    keep: set[str] = set()
    todo = list(logical_ids)
    while todo:
        name = todo.pop()
        if name in resources and name not in keep:
            keep.add(name)
            todo.extend(dependencies(resources[name]))
    used = set().union(*(dependencies(resources[name]) for name in keep))
    outputs = {k: o for k, o in (template.get("Outputs") or {}).items()
               if set(references(o["Value"])) - PSEUDO_PARAMETERS <= keep}
    parameters = {p: v for p, v in (template.get("Parameters") or {}).items() if p in used}
    sub = {"Parameters": parameters, "Resources": {name: r for name, r in resources.items() if name in keep},
           "Outputs": outputs}
    return copy.deepcopy({key: value for key, value in sub.items() if value})


def without_kms_gap(template: dict[str, Any]) -> dict[str, Any]:
    """The KMS keys without Tags and with their policy as a string: plain moto fails on both
    (kms_key_properties' gap), which would stop a canary about another gap before it got there."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"].pop("Tags", None)
            resource["Properties"]["KeyPolicy"] = json.dumps(resource["Properties"]["KeyPolicy"])
    return template


def handler_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


def upload_code(s3, region: str = REGION) -> dict[str, str]:
    """The handler zip in a bucket (as `blueprint package` would); returns the template's parameters."""
    code = handler_zip()
    key = f"handler/{hashlib.sha256(code).hexdigest()}.zip"
    try:
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=code)
    return {"ArtifactBucket": CODE_BUCKET, "CodeKey": key}


def body(t: dict[str, Any]) -> str:
    # Sorted keys put a resource before what it DependsOn (Deployment... before Method...), which is
    # the order moto would create them in without change_set_dependency_order.
    return json.dumps(t, indent=1, sort_keys=True)


def create_change_set(cfn, stack_name: str, t: dict[str, Any], kind: str,
                      parameters: dict[str, str] | None = None, wait: bool = True) -> str:
    name = f"cs-{time.time_ns()}"
    cfn.create_change_set(StackName=stack_name, ChangeSetName=name, TemplateBody=body(t), ChangeSetType=kind,
                          Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
                          Capabilities=["CAPABILITY_IAM"], Tags=[{"Key": "Environment", "Value": "dev"}])
    if wait:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack_name, ChangeSetName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return name


def deploy(cfn, stack_name: str, t: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """Create a change set, execute it, wait for the stack; returns describe_change_set (with values)."""
    try:
        cfn.describe_stacks(StackName=stack_name)
        kind = "UPDATE"
    except cfn.exceptions.ClientError:
        kind = "CREATE"
    name = create_change_set(cfn, stack_name, t, kind, parameters)
    described = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name, IncludePropertyValues=True)
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return described


def outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def physical_ids(cfn, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id; plain moto lists a resource it skipped without either (key None)."""
    res = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {r.get("LogicalResourceId"): r.get("PhysicalResourceId") for r in res}


def still_broken(gap_exists: bool, fixed: str, patch: str) -> None:
    """A canary's verdict: when plain moto no longer has the gap, say which patch to remove, and where."""
    from blueprint.local.patches import PATCHES  # importing the patches changes nothing in moto

    [service] = [p.service for p in PATCHES if p.name == patch]
    assert gap_exists, f"moto now {fixed} itself: remove patch {patch} (blueprint/local/patches/{service}.py)"
