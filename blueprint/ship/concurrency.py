"""Reserved concurrency against the account's Lambda quota, checked before a change set is created.

Lambda refuses a reservation that leaves fewer than 100 concurrent executions unreserved (below a quota
of 100, fewer than the whole quota: AWS reports `[10]`, `[50]` for new accounts at those quotas), and new
accounts often have a quota of 10 to 50. CloudFormation finds that out only while it executes, when the
first create fails and rolls back. Here GetAccountSettings is read first and the change set refused
(errors.Refused, exit 1) with what is free, what the spec asks, and both ways out: a quota increase
(Service Quotas, "Concurrent executions") or a smaller `function.reserved_concurrency`.

What this stack's functions reserve now counts as free: an update re-reserves its own units.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

from blueprint.errors import Refused
from blueprint.ship import aws

# Lambda keeps this many executions unreserved (PutFunctionConcurrency's documentation), or the whole
# quota where the quota is smaller (inferred from AWS's error texts: docs/local-target.md).
UNRESERVED_FLOOR = 100
QUOTA_CODE = "L-B99A9384"  # Service Quotas' code for AWS Lambda "Concurrent executions"
DEFAULT_QUOTA = 1000  # what AWS gives an account that is not new
SPEC_MINIMUM = 1  # the schema's least function.reserved_concurrency


@dataclass(frozen=True)
class Reservation:
    """One function of the template and what it reserves: asked by the template, held now by the stack."""

    logical_id: str
    asked: int
    held: int = 0


@dataclass(frozen=True)
class Account:
    """The account's concurrency in one region, as GetAccountSettings gives it."""

    region: str
    quota: int  # AccountLimit.ConcurrentExecutions
    unreserved: int  # AccountLimit.UnreservedConcurrentExecutions: the quota minus every reservation

    @property
    def floor(self) -> int:
        return min(UNRESERVED_FLOOR, self.quota)


def asked(template: dict[str, Any]) -> list[Reservation]:
    """The template's functions that reserve concurrency (ReservedConcurrentExecutions a number)."""
    out = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        value = (resource.get("Properties") or {}).get("ReservedConcurrentExecutions")
        if resource.get("Type") == "AWS::Lambda::Function" and isinstance(value, int) and not isinstance(value, bool):
            out.append(Reservation(logical_id, value))
    return out


def free(account: Account, reservations: list[Reservation]) -> int:
    """What the template's functions can reserve: the unreserved above the floor, plus what they hold now."""
    return max(0, account.unreserved + sum(r.held for r in reservations) - account.floor)


def needed_quota(account: Account, reservations: list[Reservation]) -> int:
    """The least quota at which the reservations fit: theirs, the other functions', and 100 unreserved."""
    others = account.quota - account.unreserved - sum(r.held for r in reservations)
    return sum(r.asked for r in reservations) + UNRESERVED_FLOOR + max(0, others)


def refusal(account: Account, reservations: list[Reservation], env: str, target_kind: str) -> str:
    """What a person is told when the reservations do not fit: the figures, then both ways out."""
    total, available = sum(r.asked for r in reservations), free(account, reservations)
    held = sum(r.held for r in reservations)
    others = max(0, account.quota - account.unreserved - held)
    functions = (f"{reservations[0].logical_id}'s" if len(reservations) == 1 else
                 ", ".join(f"{r.logical_id} {r.asked}" for r in reservations))
    region = account.region
    desired = max(needed_quota(account, reservations), DEFAULT_QUOTA)
    floor_why = ("Lambda keeps 100 unreserved" if account.floor == UNRESERVED_FLOOR else
                 "the whole quota: below 100, Lambda keeps all of it unreserved")
    lines = [
        f"function.reserved_concurrency does not fit the account's Lambda concurrency in {region}: "
        f"the template reserves {total} ({functions} ReservedConcurrentExecutions), only {available} can be "
        f"reserved, and Lambda would refuse it while the change set runs. Nothing was created.",
        f"  account quota (concurrent executions)   {account.quota}",
        f"  reserved by other functions             {others}",
        f"  kept unreserved                         {account.floor}   ({floor_why})",
        f"  reserved by this stack's functions now  {held}   (an update re-reserves them)",
        f"  free to reserve                         {available}",
        f"  asked by the spec                       {total}",
        f"Raise the quota to at least {needed_quota(account, reservations)}: Service Quotas > AWS Lambda > "
        f"\"Concurrent executions\" ({QUOTA_CODE}) in {region}, "
        f"https://{region}.console.aws.amazon.com/servicequotas/home/services/lambda/quotas/{QUOTA_CODE}, or "
        f"`aws service-quotas request-service-quota-increase --service-code lambda --quota-code {QUOTA_CODE} "
        f"--desired-value {desired} --region {region}` (new accounts are raised on request, or as they are used).",
    ]
    again = aws.make_command("changeset", env, target_kind)
    if available >= SPEC_MINIMUM and len(reservations) == 1:
        lines.append(f"Or lower function.reserved_concurrency to {available} or less for {env} (envs/{env}.yaml "
                     f"overrides blueprint.yaml), then `make render ENV={env}` and `{again}`.")
    else:
        lines.append(f"Lowering function.reserved_concurrency cannot help here: {available} is free and the spec "
                     f"reserves at least {SPEC_MINIMUM} per function. Once the quota is raised, run `{again}`.")
    return "\n".join(lines)


def _held(cfn: Any, lam: Any, stack_id: str, logical_id: str) -> int:
    """What the stack's function behind `logical_id` reserves now (0: not created yet, or gone)."""
    import botocore.exceptions as bx

    try:
        physical = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_id)[
            "StackResourceDetail"].get("PhysicalResourceId")
        if not physical:
            return 0
        return int(lam.get_function_concurrency(FunctionName=physical).get("ReservedConcurrentExecutions") or 0)
    except bx.ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException" or "does not exist" in aws.error_message(exc):
            return 0  # a new function, or one deleted out of band: it holds nothing
        raise


def check(session: aws.Session, template: dict[str, Any], stack: dict[str, Any] | None, env: str,
          out: TextIO | None = None) -> None:
    """Refuse (Refused) a template whose reservations do not fit the account's concurrency in its region.

    `stack` is the stack as it is now (None: it does not exist yet). Credentials that may not read the
    account's settings only skip the check, with a note: the change set is then what tells.
    """
    import botocore.exceptions as bx

    reservations = asked(template)
    if not reservations:
        return
    lam, cfn = session.client("lambda"), session.client("cloudformation")
    try:
        limit = lam.get_account_settings()["AccountLimit"]
        if stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
            reservations = [Reservation(r.logical_id, r.asked, _held(cfn, lam, stack["StackId"], r.logical_id))
                            for r in reservations]
    except bx.ClientError as exc:
        if aws.error_code(exc) not in aws.DENIED:
            raise
        print(f"note: the account's Lambda concurrency could not be read ({aws.error_code(exc)} on "
              f"{getattr(exc, 'operation_name', 'the call')}), so whether function.reserved_concurrency fits is "
              "not checked; allow lambda:GetAccountSettings and lambda:GetFunctionConcurrency to check it",
              file=out or sys.stdout)
        return
    account = Account(session.target.region, int(limit["ConcurrentExecutions"]),
                      int(limit["UnreservedConcurrentExecutions"]))
    if sum(r.asked for r in reservations) > free(account, reservations):
        raise Refused(refusal(account, reservations, env, session.target.kind))
