"""`blueprint bootstrap`: the per-account, per-region stack (artifacts bucket, API Gateway's logging role).

Reviewed and executed in one command: it is the same for every environment of the account, and
a stateful change to it (the bucket) is refused like any other unless named.
"""
from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import Any

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import aws, lock, report
from blueprint.ship.changeset import submit
from blueprint.ship.execute import check_dangerous, execute
from blueprint.ship.prepare import prepare
from blueprint.ship.stack_commands import outputs_of
from blueprint.ship.stacks import stack_description, stackset_instances


def check_not_stackset(cfn: Any, name: str, where: str) -> None:
    """A second bootstrap stack beside the StackSet's would claim the same fixed-name bucket and fail late."""
    instances = [] if stack_description(cfn, name) else stackset_instances(cfn, name)
    if instances:
        raise UserError(f"{where} is bootstrapped by the StackSet {name} (its stack {instances[0]}): change it "
                        f"there, from the organization's management account (`blueprint bootstrap --stackset`), "
                        "not with a second bootstrap stack")


def main(args: Namespace) -> int:
    root, env, kind = Path(args.root), args.env, args.target
    prepared = prepare(root, env, bootstrap=True)
    # Every environment of the region shares the bootstrap stack: its lock is the region's, not the env's.
    with lock.bootstrap_stack(root, kind, prepared.settings.region, env), aws.translated(kind):
        session = aws.session_for(prepared.settings.region, kind, root)
        aws.check_account(session, prepared.settings.account_id, env)
        cfn = session.client("cloudformation")
        check_not_stackset(cfn, prepared.stack_name, session.target.describe())
        done = submit(session, prepared, {}, {"TemplateBody": prepared.template_text})
        if done.no_changes:
            print(f"bootstrap stack {prepared.stack_name} is up to date in {session.target.describe()}: no changes")
            return 0
        report.emit(done.review, "text")
        try:
            check_dangerous(done.review, getattr(args, "allow_replace", None) or [], env, command="bootstrap")
        except DeployFailed:
            cfn.delete_change_set(ChangeSetName=done.described["ChangeSetId"])  # refused: leave nothing behind
            raise
        stack = execute(cfn, done.described["ChangeSetId"], done.described["StackId"], env, kind, done.stack,
                        review_command="bootstrap", create=not done.exists)
    print(f"bootstrap stack {prepared.stack_name} is {stack['StackStatus']}")
    for key, value in sorted(outputs_of(stack).items()):
        print(f"  {key}  {value}")
    return 0
