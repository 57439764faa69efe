"""Drift: the stack's resources against the template it runs; the `drift` command and deploy's guard.

Detection is CloudFormation's (DetectStackDrift, polled with stacks.poll_delays, then
DescribeStackResourceDrifts). What a stack-owned scaler manages is not drift: a table's capacity under
an AWS::ApplicationAutoScaling::ScalableTarget of the same template moves whenever it scales, so those
properties are left out (and named in a footnote). What is left is a `DriftReport`; drift_text words it.

`blueprint drift` exits 0 in sync, 1 drifted (errors.Drifted), 2 bad input. Before executing on a
protected environment, `deploy` runs the same detection and refuses (errors.Refused) to overwrite
drift unless told `--accept-drift`.
"""
from __future__ import annotations

import json
import re
import time
from argparse import Namespace
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from blueprint.cfn.refs import references
from blueprint.errors import DeployFailed, Drifted, Refused, UserError
from blueprint.render import settings as stack_settings
from blueprint.ship import aws
from blueprint.ship.changeset import template_of
from blueprint.ship.report import arrow
from blueprint.ship.stacks import BUSY_SUFFIX, STACK_POLL_MAX_S, poll_delays, stack_description

DRIFT_TIMEOUT_S = 10 * 60  # AWS: "can take up to several minutes, depending on the number of resources"
DRIFTED = ("MODIFIED", "DELETED")
# A scalable dimension of DynamoDB -> the table property paths its scaler sets (indexes: every index's).
SCALED_PATHS = {
    "dynamodb:table:ReadCapacityUnits": r"/ProvisionedThroughput/ReadCapacityUnits",
    "dynamodb:table:WriteCapacityUnits": r"/ProvisionedThroughput/WriteCapacityUnits",
    "dynamodb:index:ReadCapacityUnits": r"/GlobalSecondaryIndexes/[^/]+/ProvisionedThroughput/ReadCapacityUnits",
    "dynamodb:index:WriteCapacityUnits": r"/GlobalSecondaryIndexes/[^/]+/ProvisionedThroughput/WriteCapacityUnits",
}
ANY_CAPACITY = r"(/GlobalSecondaryIndexes/[^/]+)?/ProvisionedThroughput(/.*)?"  # a dimension not known here


@dataclass(frozen=True)
class Difference:
    """One property that differs: PropertyDifferences' path, values (as AWS gives them: text) and kind."""

    path: str
    expected: str | None
    actual: str | None
    kind: str  # NOT_EQUAL | ADD | REMOVE


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    type: str
    status: str  # MODIFIED | DELETED
    physical_id: str | None = None
    differences: list[Difference] = field(default_factory=list)


@dataclass(frozen=True)
class Managed:
    """A difference left out: a property the stack's own scaler (`by`) manages."""

    logical_id: str
    difference: Difference
    by: str


@dataclass
class DriftReport:
    stack_name: str
    target: str
    drifted: list[ResourceDrift]
    managed: list[Managed]
    counts: dict[str, int]  # every resource's status as AWS gave it -> how many
    checked_at: str | None = None
    failure: str | None = None  # DetectionStatusReason when detection failed for some resources

    @property
    def in_sync(self) -> bool:
        return not self.drifted and self.failure is None

    @property
    def status(self) -> str:
        return "DRIFTED" if self.drifted else "UNKNOWN" if self.failure else "IN_SYNC"


# --- what a scaler manages ----------------------------------------------------------------------

def scaled_properties(template: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Table logical id -> [(property path pattern, the ScalableTarget's logical id)] for the template's scalers."""
    resources = template.get("Resources") or {}
    out: dict[str, list[tuple[str, str]]] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::ApplicationAutoScaling::ScalableTarget" or \
                props.get("ServiceNamespace") != "dynamodb":
            continue
        dimension = props.get("ScalableDimension")
        pattern = SCALED_PATHS.get(dimension, ANY_CAPACITY) if isinstance(dimension, str) else ANY_CAPACITY
        for name in dict.fromkeys(references(props.get("ResourceId"))):
            if (resources.get(name) or {}).get("Type") == "AWS::DynamoDB::Table":
                out.setdefault(name, []).append((pattern, logical_id))
    return out


def _manager(path: str, scaled: list[tuple[str, str]]) -> str | None:
    return next((by for pattern, by in scaled if re.fullmatch(pattern, path)), None)


# --- detection ----------------------------------------------------------------------------------

def _value(text: Any) -> str | None:
    return None if text in (None, "") else str(text)


def _resource_drifts(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": stack_id}
    while True:
        page = cfn.describe_stack_resource_drifts(**kwargs)
        found.extend(page.get("StackResourceDrifts", []))
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def wait_detected(cfn: Any, detection_id: str, stack_name: str) -> dict[str, Any]:
    """Poll DescribeStackDriftDetectionStatus until the detection is no longer in progress."""
    for delay in poll_delays(DRIFT_TIMEOUT_S, STACK_POLL_MAX_S):
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            return status
        time.sleep(delay)
    raise DeployFailed(f"drift detection {detection_id} of {stack_name} was not done after {DRIFT_TIMEOUT_S // 60} "
                       "min: look at the stack's drifts in the CloudFormation console")


def detect(cfn: Any, stack: dict[str, Any], target: str) -> DriftReport:
    """Detect the stack's drift, wait for it, and keep what is drift (not what its scalers manage)."""
    detection_id = cfn.detect_stack_drift(StackName=stack["StackId"])["StackDriftDetectionId"]
    status = wait_detected(cfn, detection_id, stack["StackName"])
    scaled = scaled_properties(template_of(cfn, stack) or {})
    drifted, managed, counts = [], [], {}
    for item in _resource_drifts(cfn, stack["StackId"]):
        state = item.get("StackResourceDriftStatus", "UNKNOWN")
        logical_id = item["LogicalResourceId"]
        kept = []
        for d in item.get("PropertyDifferences") or []:
            difference = Difference(d["PropertyPath"], _value(d.get("ExpectedValue")), _value(d.get("ActualValue")),
                                    d.get("DifferenceType", "NOT_EQUAL"))
            by = _manager(difference.path, scaled.get(logical_id, []))
            if by and state == "MODIFIED":
                managed.append(Managed(logical_id, difference, by))
            else:
                kept.append(difference)
        if state == "MODIFIED" and not kept:
            state = "IN_SYNC"  # only what its scaler set differs
        counts[state] = counts.get(state, 0) + 1
        if state in DRIFTED:
            drifted.append(ResourceDrift(logical_id, item.get("ResourceType", ""), state,
                                         item.get("PhysicalResourceId"), sorted(kept, key=lambda d: d.path)))
    failed = status["DetectionStatus"] == "DETECTION_FAILED"
    checked = status.get("Timestamp")
    return DriftReport(stack["StackName"], target, sorted(drifted, key=lambda r: r.logical_id), managed, counts,
                       f"{checked.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC" if isinstance(checked, datetime)
                       else checked,
                       (status.get("DetectionStatusReason") or "detection failed") if failed else None)


# --- words ----------------------------------------------------------------------------------------

VALUE_WIDTH = 120  # a longer value (a policy document, say) is shortened in text; JSON has it whole


def _shown(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= VALUE_WIDTH else f"{value[:VALUE_WIDTH - 3]}... ({len(value)} characters)"


def difference_text(d: Difference, arrow: str = "→") -> str:
    note = {"ADD": "   (added out of band)", "REMOVE": "   (removed out of band)"}.get(d.kind, "")
    return f"{_shown(d.expected)} {arrow} {_shown(d.actual)}{note}"


def counts_line(report: DriftReport, arrow: str = "→") -> str:
    c = report.counts
    parts = [f"{c[k]} {word}" for k, word in (("MODIFIED", "modified"), ("DELETED", "deleted"), ("IN_SYNC", "in sync"),
                                               ("NOT_CHECKED", "not checked"), ("UNKNOWN", "unknown")) if c.get(k)]
    line = "resources: " + (", ".join(parts) if parts else "none")
    return line + (f"; values: the template's {arrow} the live resource's" if report.drifted else "")


def table_lines(report: DriftReport, arrow: str = "→", touched: frozenset[str] = frozenset()) -> list[str]:
    """Each drifted resource, then under it each property's path and expected → actual value.

    `touched`: resources a change set modifies, marked as the ones a deploy overwrites.
    """
    lines = []
    for r in report.drifted:
        mark = "   <- this change set modifies it: its drift is overwritten" if r.logical_id in touched else ""
        lines.append(f"  {r.logical_id}  {r.type}  {r.physical_id or ''}".rstrip() + mark)
        if r.status == "DELETED":
            lines.append("      deleted out of band: the stack still names it")
        width = max((len(d.path) for d in r.differences), default=0)
        lines.extend(f"      {d.path:<{width}}  {difference_text(d, arrow)}" for d in r.differences)
    return lines


def footnotes(report: DriftReport, arrow: str = "→") -> list[str]:
    lines = [f"not drift: {m.logical_id} {m.difference.path} {difference_text(m.difference, arrow)}, set by its "
             f"auto scaling ({m.by}), which the stack owns" for m in report.managed]
    if report.failure:
        lines.append(f"detection failed for some resources: {report.failure}")
    return lines


def drift_text(report: DriftReport, arrow: str = "→") -> str:
    when = f" at {report.checked_at}" if report.checked_at else ""
    head = f"Drift of stack {report.stack_name} ({report.target}){when}: {report.status}"
    return "\n".join([head, *table_lines(report, arrow), counts_line(report, arrow), *footnotes(report, arrow)])


def to_json(report: DriftReport) -> dict[str, Any]:
    return {"stack": report.stack_name, "target": report.target, "status": report.status,
            "in_sync": report.in_sync, "checked_at": report.checked_at, "failure": report.failure,
            "drifted": [asdict(r) for r in report.drifted],
            "not_drift": [{**asdict(m.difference), "logical_id": m.logical_id, "managed_by": m.by}
                          for m in report.managed],
            "counts": report.counts}


# --- the command and deploy's guard ---------------------------------------------------------------

def deployed_stack(cfn: Any, stack_name: str, env: str, target_kind: str) -> dict[str, Any]:
    """The stack to check: UserError when it is not deployed or busy (CloudFormation cannot check it then)."""
    stack = stack_description(cfn, stack_name)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise UserError(f"stack {stack_name} is not deployed: nothing to check for drift; run "
                        f"`{aws.make_command('changeset', env, target_kind)}` then "
                        f"`{aws.make_command('deploy', env, target_kind)}`")
    if stack["StackStatus"].endswith(BUSY_SUFFIX):
        raise UserError(f"stack {stack_name} is {stack['StackStatus']}: drift can be checked once it settles "
                        f"(`{aws.make_command('status', env, target_kind)}`)")
    return stack


def drifted_message(report: DriftReport, env: str, target_kind: str) -> str:
    """The drift command's exit-1 line: what drifted and the ways back into sync."""
    if not report.drifted:
        return (f"drift detection of {report.stack_name} failed for some resources ({report.failure}): whether they "
                "drifted is not known; retry, or look at the stack's drifts in the CloudFormation console")
    ids = ", ".join(r.logical_id for r in report.drifted)
    verb = "differs" if len(report.drifted) == 1 else "differ"
    return (f"{report.stack_name} has drifted: {ids} {verb} from the template it runs. To keep a change, put it in "
            f"the spec (envs/{env}.yaml) and review it; to undo it, change it back by hand, or review "
            f"{revert_command(env, target_kind)} and deploy it; a deploy that modifies a drifted resource "
            "overwrites its drift")


def revert_command(env: str, target_kind: str) -> str:
    """The drift-aware review, quoted, with a word on the local AWS, which ignores it."""
    command = f"`{aws.make_command('changeset', env, target_kind)} REVERT_DRIFT=1`"
    return command + (" (on AWS: the local AWS ignores REVERT_DRIFT)" if target_kind == "local" else "")


def guard(cfn: Any, stack: dict[str, Any], target: str, env: str, target_kind: str, change_set_name: str,
          modified: list[str]) -> DriftReport:
    """Refuse (Refused) to execute over drift; `modified`: the resources the change set modifies or removes."""
    report = detect(cfn, stack, target)
    if report.in_sync:
        return report
    touched = frozenset(modified) & {r.logical_id for r in report.drifted}
    overwritten = (f"This change set modifies {', '.join(sorted(touched))}: deploying it overwrites the drift marked "
                   "below with the template's values; the other resources' drift stays" if touched else
                   "This change set modifies none of the drifted resources: their drift stays, until a deploy "
                   "modifies them")
    unknown = report.failure and not report.drifted
    lines = [
        f"{report.stack_name} is a protected environment and " +
        (f"drift detection failed for some resources ({report.failure})" if unknown else
         "it has drifted: resources were changed outside CloudFormation") +
        f"; change set {change_set_name} was not executed. {overwritten}.",
        *table_lines(report, arrow(), touched), *footnotes(report, arrow()),
        f"To deploy anyway: `{aws.make_command('deploy', env, target_kind)} ACCEPT_DRIFT=1` (blueprint deploy --env "
        f"{env} --accept-drift). To look first: `{aws.make_command('drift', env, target_kind)}`. To keep a change, put "
        f"it in the spec and review again; to undo it, change it back by hand, or review "
        f"{revert_command(env, target_kind)} and deploy that.",
    ]
    raise Refused("\n".join(lines))


def main(args: Namespace) -> int:
    """`blueprint drift --env E`: detect, print the table (or JSON); exit 0 in sync, 1 drifted (Drifted).

    It only reads (detection changes no resource), so like `status` it takes no lock.
    """
    env, kind = args.env, args.target
    settings = stack_settings.read(args.root, env)
    with aws.translated(kind):
        session = aws.session_for(settings.region, kind, args.root)
        aws.check_account(session, settings.account_id, env)
        cfn = session.client("cloudformation")
        stack = deployed_stack(cfn, settings.stack_name, env, kind)
        report = detect(cfn, stack, session.target.describe())
    if args.output == "json":
        print(json.dumps(to_json(report), indent=2, sort_keys=True, default=str))
    else:
        print(drift_text(report, arrow()))
    if not report.in_sync:
        raise Drifted(drifted_message(report, env, kind))
    return 0
