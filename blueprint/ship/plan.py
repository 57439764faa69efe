"""`blueprint plan`: the offline diff of the rendered template against the deployed one, printed as a review.

No change set is created: the replacement prediction comes from the provider schemas alone, and a
new handler package shows only in a change set.
"""
from __future__ import annotations

from argparse import Namespace

from blueprint.cfn.diff import diff_templates
from blueprint.ship import aws, report
from blueprint.ship.changeset import template_of
from blueprint.ship.prepare import prepare
from blueprint.ship.review import from_plan
from blueprint.ship.stacks import stack_description


def main(args: Namespace) -> int:
    prepared = prepare(args.root, args.env, with_package=False)
    with aws.translated(args.target):
        session = aws.session_for(prepared.settings.region, args.target, args.root)
        aws.check_account(session, prepared.settings.account_id, args.env)
        cfn = session.client("cloudformation")
        old = template_of(cfn, stack_description(cfn, prepared.stack_name))
    diffs = diff_templates(old, prepared.template)
    result = from_plan(prepared.stack_name, session.target.describe(), diffs, stack_exists=old is not None,
                       env=prepared.env)
    report.emit(result, args.output)
    return 0
