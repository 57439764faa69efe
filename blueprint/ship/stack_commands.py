"""The stack commands around a deploy: `status`, `outputs` and `destroy` (a protected stack only when its first create failed).

They read generated/<env>/stack.json (render's StackSettings) for the stack's name, region and
account pin, and never render.
"""
from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path
from typing import Any

from blueprint.cfn import loader
from blueprint.errors import DeployFailed, Refused, UserError
from blueprint.render import settings as stack_settings
from blueprint.render.settings import StackSettings
from blueprint.ship import aws, lock, records
from blueprint.ship.events import EventStream, failure_message, follow
from blueprint.ship.stacks import NEVER_CREATED, stack_description

LAST_EVENTS = 10
# What a Delete leaves behind: the resource itself, or (Snapshot) a final snapshot of it.
RETAINED_POLICIES = ("Retain", "RetainExceptOnCreate")


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def show_outputs(root: Path, target_kind: str, env: str, outputs: dict[str, str], output: str = "text") -> None:
    """Print the outputs (text or JSON) and keep them in the environment's outputs file."""
    path = records.write_outputs(root, target_kind, env, outputs)
    if output == "json":
        print(json.dumps(outputs, indent=2, sort_keys=True))
        return
    width = max((len(k) for k in outputs), default=0)
    print("outputs:")
    for key in sorted(outputs):
        print(f"  {key:<{width}}  {outputs[key]}")
    print(f"(written to {path})")


def _session(args: Namespace) -> tuple[StackSettings, aws.Session, Any]:
    settings = stack_settings.read(args.root, args.env)
    session = aws.session_for(settings.region, args.target, args.root)
    aws.check_account(session, settings.account_id, args.env)
    return settings, session, session.client("cloudformation")
def status_main(args: Namespace) -> int:
    with aws.translated(args.target):
        settings, session, cfn = _session(args)
        stack = stack_description(cfn, settings.stack_name)
        if stack is None:
            print(f"stack {settings.stack_name} is not deployed in {session.target.describe()}")
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
        stack = stack_description(cfn, settings.stack_name)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise UserError(f"stack {settings.stack_name} is not deployed in {session.target.describe()}: "
                        f"run `make changeset ENV={args.env}` then `make deploy ENV={args.env}`")
    show_outputs(Path(args.root), session.target.kind, args.env, outputs_of(stack), args.output)
    return 0


def retained_resources(cfn: Any, stack_id: str) -> tuple[list[str], list[str]]:
    """What a delete leaves behind, with physical ids: (kept: DeletionPolicy Retain or
    RetainExceptOnCreate, deleted after a final snapshot: DeletionPolicy Snapshot)."""
    template = loader.parse_body(cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"])
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
    stack_settings.read(root, env)  # a missing stack.json is named before the lock is taken
    # Held until the state files are forgotten: a review made meanwhile would be of a stack being deleted.
    with lock.env_stack(root, kind, env, "destroy"):
        return _destroy(args, root, env, kind)


def _refuse_protected(settings: StackSettings, stack: dict[str, Any], env: str) -> None:
    """A protected environment's stack is not deleted by blueprint, unless its first create failed: then it
    never ran, holds nothing anyone used, and must go before the create can be tried again."""
    if settings.termination_protection and stack["StackStatus"] not in NEVER_CREATED:
        raise Refused(f"{settings.stack_name} is a protected environment (envs/{env}.yaml protected: true) and "
                        f"its stack is {stack['StackStatus']}: blueprint does not delete it; do it deliberately in the "
                        "CloudFormation console (blueprint deletes a protected stack only when its first create "
                        "failed: ROLLBACK_COMPLETE or ROLLBACK_FAILED)")


def clear_failed_create(session: aws.Session, cfn: Any, stack: dict[str, Any], env: str) -> None:
    """What a failed first create's rollback could not delete (ROLLBACK_FAILED): an empty table kept by its
    deletion protection is deleted (protection off first; its DeletionPolicy would keep it past DeleteStack and
    its fixed name would block the retry); a table with items is refused, as it is not what a failed create left."""
    if stack.get("EnableTerminationProtection"):
        cfn.update_termination_protection(StackName=stack["StackId"], EnableTerminationProtection=False)
        print(f"termination protection off: {stack['StackName']} never ran (its first create failed)")
    if stack["StackStatus"] != "ROLLBACK_FAILED":
        return
    for resource in cfn.describe_stack_resources(StackName=stack["StackId"])["StackResources"]:
        table = resource.get("PhysicalResourceId")
        if resource.get("ResourceType") != "AWS::DynamoDB::Table" or not table or \
                resource.get("ResourceStatus") == "DELETE_COMPLETE":
            continue
        items = aws.table_items(session, table)
        if items is None:
            continue
        if items:
            raise Refused(f"table {table} ({resource['LogicalResourceId']}) of {stack['StackName']} holds items, though "
                          f"the stack's first create failed: nothing was deleted. Look at it and back it up; delete it "
                          f"yourself if it is not needed, then run `{aws.make_command('destroy', env, session.target.kind)}`"
                          " again")
        aws.delete_empty_table(session, table)
        print(f"deleted the empty table {table} ({resource['LogicalResourceId']}) that the failed create's rollback left "
              "(its deletion protection turned off first): it would outlive the stack and block the retry")


def _destroy(args: Namespace, root: Path, env: str, kind: str) -> int:
    with aws.translated(kind):
        settings, session, cfn = _session(args)
        stack = stack_description(cfn, settings.stack_name)
        if stack is None:
            print(f"stack {settings.stack_name} does not exist in {session.target.describe()}: nothing to delete")
            return 0
        _refuse_protected(settings, stack, env)
        never_created = stack["StackStatus"] in NEVER_CREATED
        if stack.get("EnableTerminationProtection") and not never_created:
            raise UserError(f"stack {settings.stack_name} has termination protection on: blueprint will not delete it")
        # A stack that never ran keeps nothing by its DeletionPolicy worth naming: its rollback removed what it made.
        retained, snapshots = (retained_resources(cfn, stack["StackId"])
                               if stack["StackStatus"] not in ("REVIEW_IN_PROGRESS", *NEVER_CREATED) else ([], []))
        print(f"deleting stack {settings.stack_name} in {session.target.describe()}")
        if never_created:
            print(f"{settings.stack_name} is {stack['StackStatus']}: its first create failed, so it never ran "
                  f"(deleted although {env} is protected){': ' + stack['StackStatusReason'] if stack.get('StackStatusReason') else ''}")
        else:
            print("retained (DeletionPolicy Retain or RetainExceptOnCreate): "
                  + (", ".join(retained) if retained else "nothing"))
        if snapshots:
            print("deleted after a final snapshot (DeletionPolicy Snapshot): " + ", ".join(snapshots))
        if not getattr(args, "yes", False) and not confirm(settings.stack_name):
            print("not confirmed: nothing deleted")
            return 0
        if never_created:
            clear_failed_create(session, cfn, stack, env)
        events = EventStream(cfn, stack["StackId"])
        cfn.delete_stack(StackName=stack["StackId"])
        final = follow(cfn, stack["StackId"], events, env, kind, stack)
    if final["StackStatus"] != "DELETE_COMPLETE":
        raise DeployFailed(failure_message(final, events))  # the state files still describe what is left
    records.forget(root, kind, env)
    print(f"stack {settings.stack_name} deleted")
    return 0
