"""`blueprint bootstrap --stackset --ou OU [--region R ...]`: the bootstrap stack in every account of AWS
Organizations units, as a service-managed StackSet.

Run with credentials of the organization's management account (or a delegated administrator, with
`--delegated-admin`). The StackSet `blueprint-bootstrap` is created (or updated) from the checked
generated/bootstrap/template.yaml with PermissionModel SERVICE_MANAGED and automatic deployment to accounts
that join the units later (their stacks kept when an account leaves: the bucket holds the packages); then
stack instances are created for the units' accounts in each region (CreateStackInstances with
DeploymentTargets.OrganizationalUnitIds) and the operation is followed to its end. Without `--stackset`
the command is `blueprint bootstrap` as it always was (blueprint.ship.bootstrap).
"""
from __future__ import annotations

import re
import time
from argparse import Namespace
from pathlib import Path
from typing import Any

from blueprint.cfn import loader
from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws, bootstrap
from blueprint.ship.changeset import capabilities
from blueprint.ship.prepare import prepare
from blueprint.spec import ecma, schema

OU_ID = re.compile(r"(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})")
DONE = ("SUCCEEDED", "FAILED", "STOPPED")
OPERATION_TIMEOUT_S = 3600
PREFERENCES = {"RegionConcurrencyType": "PARALLEL", "MaxConcurrentPercentage": 25, "FailureTolerancePercentage": 0}


def bootstrap_main(args: Namespace) -> int:
    """`blueprint bootstrap`: with --stackset, the StackSet; otherwise the one account's stack."""
    if not getattr(args, "stackset", False):
        given = [flag for flag, value in (("--ou", getattr(args, "ou", None)), ("--region", getattr(args, "region", None)),
                                          ("--delegated-admin", getattr(args, "delegated_admin", False))) if value]
        if given:
            raise UserError(f"{', '.join(given)} only with --stackset: without it, bootstrap deploys this account's "
                            "stack in the spec's region (add --stackset to deploy to organizational units)")
        return bootstrap.main(args)
    return stackset(args)


def targets(args: Namespace, default_region: str) -> tuple[list[str], list[str]]:
    ous = list(getattr(args, "ou", None) or [])
    if not ous:
        raise UserError("--stackset needs the organizational units to deploy to: --ou ou-abcd-12345678 (repeatable; "
                        "r-xxxx for the whole organization)")
    bad = [ou for ou in ous if not OU_ID.fullmatch(ou)]
    if bad:
        raise UserError(f"--ou {', '.join(bad)}: not an organizational unit id (ou-<root>-<id>, or a root r-<id>)")
    regions = list(getattr(args, "region", None) or [default_region])
    region = re.compile(ecma.translate(schema.schema()["properties"]["region"]["pattern"]))  # the spec's own rule
    wrong = [repr(r) for r in regions if not region.match(r)]
    if wrong:
        raise UserError(f"--region {', '.join(wrong)}: not an AWS region name (e.g. eu-west-1)")
    return list(dict.fromkeys(ous)), list(dict.fromkeys(regions))  # each once, in the order given


def upsert(cfn: Any, name: str, body: str, call_as: str) -> str:
    """Create the StackSet, or update it to the template when it exists; the operation to follow or None."""
    import botocore.exceptions as bx

    # The capabilities a change set of the same template asks (a named IAM resource: CAPABILITY_NAMED_IAM).
    common = {"StackSetName": name, "TemplateBody": body, "Capabilities": capabilities(loader.loads(body)),
              "CallAs": call_as,
              "Tags": [{"Key": "ManagedBy", "Value": "blueprint"}]}
    auto = {"Enabled": True, "RetainStacksOnAccountRemoval": True}
    try:
        cfn.describe_stack_set(StackSetName=name, CallAs=call_as)
    except bx.ClientError as exc:
        if aws.error_code(exc) not in ("StackSetNotFoundException", "StackSetNotFound"):
            raise
        cfn.create_stack_set(**common, PermissionModel="SERVICE_MANAGED", AutoDeployment=auto,
                             ManagedExecution={"Active": True},
                             Description="blueprint bootstrap: artifacts bucket, API Gateway's logging role, the "
                                         "stack roles' permissions boundary")
        print(f"created StackSet {name} (SERVICE_MANAGED, automatic deployment to accounts joining the units)")
        return ""
    done = cfn.update_stack_set(**common, PermissionModel="SERVICE_MANAGED", AutoDeployment=auto,
                                OperationPreferences=PREFERENCES)
    print(f"updated StackSet {name} to the template (operation {done.get('OperationId')})")
    return str(done.get("OperationId") or "")


def follow(cfn: Any, name: str, operation: str, call_as: str, sleep=time.sleep) -> None:
    """Wait for a StackSet operation; DeployFailed naming the accounts and regions that failed."""
    waited = 0.0
    while True:
        found = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation, CallAs=call_as)
        status = found["StackSetOperation"]["Status"]
        if status in DONE:
            break
        if waited > OPERATION_TIMEOUT_S:
            raise DeployFailed(f"StackSet operation {operation} is still {status} after an hour: follow it in the "
                               "CloudFormation console (StackSets)")
        sleep(10)
        waited += 10
    if status != "SUCCEEDED":
        results = cfn.list_stack_set_operation_results(StackSetName=name, OperationId=operation, CallAs=call_as)
        failed = [f"{r.get('Account')}/{r.get('Region')}: {r.get('StatusReason', r.get('Status'))}"
                  for r in results.get("Summaries", []) if r.get("Status") != "SUCCEEDED"]
        raise DeployFailed(f"StackSet {name} operation {operation} {status}: {'; '.join(failed) or 'no details'}")
    print(f"StackSet {name}: operation {operation} SUCCEEDED")


def stackset(args: Namespace) -> int:
    root, env, kind = Path(args.root), args.env, args.target
    prepared = prepare(root, env, bootstrap=True)  # the checked, fresh generated/bootstrap/template.yaml
    ous, regions = targets(args, prepared.settings.region)
    call_as = "DELEGATED_ADMIN" if getattr(args, "delegated_admin", False) else "SELF"
    name = prepared.stack_name
    with aws.translated(kind):
        cfn = aws.session_for(prepared.settings.region, kind, root).client("cloudformation")
        operation = upsert(cfn, name, prepared.template_text, call_as)
        if operation:
            follow(cfn, name, operation, call_as)
        done = cfn.create_stack_instances(StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": ous},
                                          Regions=regions, OperationPreferences=PREFERENCES, CallAs=call_as)
        print(f"creating stack instances of {name} in the accounts of {', '.join(ous)}, regions {', '.join(regions)}")
        follow(cfn, name, done["OperationId"], call_as)
    print(f"bootstrap StackSet {name} is deployed to {', '.join(ous)} in {', '.join(regions)}; accounts that join "
          "these units get it automatically")
    return 0
