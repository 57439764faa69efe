"""Drift (issue 11 item 3): detection polled to its end, what a stack-owned scaler manages left out (and said so),
the table of drifted properties with expected → actual, JSON, and deploy's guard over a protected stack."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from blueprint.errors import Refused
from blueprint.ship import deploy, drift
from blueprint.ship.review import Change, Review
from tests.ship.stubs import STACK_ID, T0, stack, stubbed

SCALED = {"Resources": {
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"ProvisionedThroughput": {"ReadCapacityUnits": 5}}},
    "TableReadScalableTarget": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
        "ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
        "ResourceId": {"Fn::Sub": "table/${Table}"}}},
    "Other": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
}}


def resource_drift(lid, rtype, status, differences=(), physical=None):
    item = {"StackId": STACK_ID, "LogicalResourceId": lid, "ResourceType": rtype, "StackResourceDriftStatus": status,
            "Timestamp": T0, "PhysicalResourceId": physical or f"items-dev-{lid.lower()}"}
    if differences:
        item["PropertyDifferences"] = [{"PropertyPath": p, "ExpectedValue": e, "ActualValue": a, "DifferenceType": k}
                                       for p, e, a, k in differences]
    return item


def stub_detection(stub, drifts, template=SCALED, in_progress=0, detection="DETECTION_COMPLETE", reason=None):
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"}, {"StackName": STACK_ID})
    for _ in range(in_progress):
        stub.add_response("describe_stack_drift_detection_status", {
            "StackId": STACK_ID, "StackDriftDetectionId": "d-1", "DetectionStatus": "DETECTION_IN_PROGRESS",
            "Timestamp": T0}, {"StackDriftDetectionId": "d-1"})
    done = {"StackId": STACK_ID, "StackDriftDetectionId": "d-1", "DetectionStatus": detection,
            "StackDriftStatus": "DRIFTED" if drifts else "IN_SYNC", "Timestamp": T0 + timedelta(seconds=3)}
    if reason:
        done["DetectionStatusReason"] = reason
    stub.add_response("describe_stack_drift_detection_status", done)
    stub.add_response("get_template", {"TemplateBody": json.dumps(template)},
                      {"StackName": STACK_ID, "TemplateStage": "Original"})
    half = len(drifts) // 2
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": drifts[:half], "NextToken": "n"},
                      {"StackName": STACK_ID})
    stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": drifts[half:]},
                      {"StackName": STACK_ID, "NextToken": "n"})


DRIFTED = [
    resource_drift("Table", "AWS::DynamoDB::Table", "MODIFIED", [
        ("/ProvisionedThroughput/ReadCapacityUnits", "5", "9", "NOT_EQUAL")]),
    resource_drift("Function", "AWS::Lambda::Function", "MODIFIED", [
        ("/MemorySize", "256", "512", "NOT_EQUAL"), ("/Environment/Variables/DEBUG", "", "1", "ADD")],
        physical="items-dev-api"),
    resource_drift("FlowLogGroup", "AWS::Logs::LogGroup", "DELETED"),
    resource_drift("Vpc", "AWS::EC2::VPC", "NOT_CHECKED"),
    resource_drift("AccessLogGroup", "AWS::Logs::LogGroup", "IN_SYNC"),
]


def test_scaled_properties_are_the_tables_capacity_its_scalable_targets_set():
    assert drift.scaled_properties(SCALED) == {
        "Table": [("/ProvisionedThroughput/ReadCapacityUnits", "TableReadScalableTarget")]}
    unknown = {"Resources": {**SCALED["Resources"], "TableReadScalableTarget": {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {"ServiceNamespace": "dynamodb", "ScalableDimension": {"Ref": "D"}, "ResourceId": {
            "Fn::Join": ["/", ["table", {"Ref": "Table"}]]}}}}}
    [(pattern, by)] = drift.scaled_properties(unknown)["Table"]
    assert by == "TableReadScalableTarget" and drift._manager("/ProvisionedThroughput/WriteCapacityUnits", [(pattern, by)])
    assert drift.scaled_properties({"Resources": {"T": SCALED["Resources"]["Table"]}}) == {}


def test_detection_is_polled_to_its_end_and_the_scalers_capacity_is_not_drift(monkeypatch):
    slept = []
    monkeypatch.setattr(drift.time, "sleep", slept.append)
    cfn, stub = stubbed()
    stub_detection(stub, DRIFTED, in_progress=2)
    report = drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1")
    stub.assert_no_pending_responses()
    assert slept == pytest.approx([0.2, 0.3])  # stacks.poll_delays' pacing
    assert [(r.logical_id, r.status) for r in report.drifted] == [("FlowLogGroup", "DELETED"), ("Function", "MODIFIED")]
    assert report.counts == {"IN_SYNC": 2, "MODIFIED": 1, "DELETED": 1, "NOT_CHECKED": 1}  # Table: only scaled
    [managed] = report.managed
    assert (managed.logical_id, managed.difference.path, managed.by) == (
        "Table", "/ProvisionedThroughput/ReadCapacityUnits", "TableReadScalableTarget")
    assert report.checked_at == "2026-01-01 00:00:03 UTC" and report.status == "DRIFTED" and not report.in_sync


def test_the_table_names_each_property_with_expected_and_actual_and_a_footnote_for_the_scaler(monkeypatch):
    cfn, stub = stubbed()
    stub_detection(stub, DRIFTED)
    text = drift.drift_text(drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1"))
    assert text.splitlines() == [
        "Drift of stack items-dev (us-east-1) at 2026-01-01 00:00:03 UTC: DRIFTED",
        "  FlowLogGroup  AWS::Logs::LogGroup  items-dev-flowloggroup",
        "      deleted out of band: the stack still names it",
        "  Function  AWS::Lambda::Function  items-dev-api",
        "      /Environment/Variables/DEBUG  (none) → 1   (added out of band)",
        "      /MemorySize                   256 → 512",
        "resources: 1 modified, 1 deleted, 2 in sync, 1 not checked; values: the template's → the live resource's",
        "not drift: Table /ProvisionedThroughput/ReadCapacityUnits 5 → 9, set by its auto scaling "
        "(TableReadScalableTarget), which the stack owns",
    ]


def test_json_carries_the_drifted_resources_and_what_was_left_out():
    cfn, stub = stubbed()
    stub_detection(stub, DRIFTED)
    data = drift.to_json(drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1"))
    assert data["status"] == "DRIFTED" and data["in_sync"] is False
    function = [r for r in data["drifted"] if r["logical_id"] == "Function"][0]
    assert function["differences"][1] == {"path": "/MemorySize", "expected": "256", "actual": "512", "kind": "NOT_EQUAL"}
    assert data["not_drift"] == [{"logical_id": "Table", "path": "/ProvisionedThroughput/ReadCapacityUnits",
                                  "expected": "5", "actual": "9", "kind": "NOT_EQUAL",
                                  "managed_by": "TableReadScalableTarget"}]


def test_in_sync_and_a_failed_detection():
    cfn, stub = stubbed()
    stub_detection(stub, [resource_drift("Table", "AWS::DynamoDB::Table", "IN_SYNC")], template={"Resources": {}})
    report = drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1")
    assert report.in_sync and drift.drift_text(report).splitlines()[1:] == ["resources: 1 in sync"]
    stub_detection(stub, [], template={"Resources": {}}, detection="DETECTION_FAILED", reason="Function: timed out")
    failed = drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1")
    assert not failed.in_sync and failed.status == "UNKNOWN"
    assert "detection failed for some resources: Function: timed out" in drift.drift_text(failed)
    assert "whether they drifted is not known" in drift.drifted_message(failed, "dev", "aws")


def test_the_drifted_message_says_how_to_get_back_in_sync():
    cfn, stub = stubbed()
    stub_detection(stub, DRIFTED)
    report = drift.detect(cfn, stack("UPDATE_COMPLETE"), "us-east-1")
    text = drift.drifted_message(report, "dev", "local")
    assert text.startswith("items-dev has drifted: FlowLogGroup, Function differ from the template it runs.")
    assert "`make changeset ENV=dev TARGET=local REVERT_DRIFT=1` (on AWS: the local AWS ignores REVERT_DRIFT)" in text


def test_a_busy_or_missing_stack_is_bad_input():
    cfn, stub = stubbed()
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id items-dev does not exist")
    with pytest.raises(drift.UserError, match="not deployed: nothing to check for drift"):
        drift.deployed_stack(cfn, "items-dev", "dev", "aws")
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_IN_PROGRESS")]})
    with pytest.raises(drift.UserError, match="UPDATE_IN_PROGRESS: drift can be checked once it settles"):
        drift.deployed_stack(cfn, "items-dev", "dev", "aws")


def review(*changes: Change) -> Review:
    return Review("change set", "items-guard", "us-east-1", list(changes), "bp-1", "arn:cs", True, env="guard")


def test_the_guard_refuses_drift_and_marks_what_this_change_set_overwrites():
    cfn, stub = stubbed()
    stub_detection(stub, DRIFTED)
    with pytest.raises(Refused) as refused:
        drift.guard(cfn, stack("UPDATE_COMPLETE"), "us-east-1", "guard", "aws", "bp-1", ["Function"])
    text = str(refused.value)
    assert text.startswith("items-dev is a protected environment and it has drifted: resources were changed outside "
                           "CloudFormation; change set bp-1 was not executed. This change set modifies Function: ")
    assert "  Function  AWS::Lambda::Function  items-dev-api   <- this change set modifies it" in text
    assert "      /MemorySize                   256 → 512" in text
    assert "`make deploy ENV=guard ACCEPT_DRIFT=1` (blueprint deploy --env guard --accept-drift)" in text
    assert "To look first: `make drift ENV=guard`" in text


def test_deploy_checks_drift_unless_accepted_or_the_change_set_reverts_it(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(drift, "guard", lambda *args: calls.append(args))
    modify = Change("Modify", "Table", "AWS::DynamoDB::Table")
    deploy.check_drift(None, stack("UPDATE_COMPLETE"), {"ChangeSetName": "bp-1"}, review(modify), False, "guard", "aws")
    assert calls[0][-1] == ["Table"] and "drift: none on items-guard" in capsys.readouterr().out
    deploy.check_drift(None, {}, {"ChangeSetName": "bp-1"}, review(modify), True, "guard", "aws")
    assert "not checked (--accept-drift)" in capsys.readouterr().out
    deploy.check_drift(None, {}, {"ChangeSetName": "bp-1", "DeploymentMode": "REVERT_DRIFT"}, review(), False,
                       "guard", "aws")
    assert "drift-aware (REVERT_DRIFT)" in capsys.readouterr().out and len(calls) == 1


def test_the_cli_has_drift_and_the_drift_flags():
    from blueprint import cli

    parser = cli.build_parser()
    args = parser.parse_args(["drift", "--env", "dev", "--target", "local", "--output", "json"])
    assert (args.command, args.env, args.target, args.output) == ("drift", "dev", "local", "json")
    assert cli.COMMANDS["drift"] == ("blueprint.ship.drift", "main")
    assert parser.parse_args(["deploy", "--env", "prod", "--accept-drift"]).accept_drift is True
    assert parser.parse_args(["deploy", "--env", "prod"]).accept_drift is False
    assert parser.parse_args(["changeset", "--env", "prod", "--revert-drift"]).revert_drift is True
    with pytest.raises(SystemExit) as bad:  # argparse: exit 2 with a usage line
        parser.parse_args(["drift", "--env", "dev", "--accept-drift"])
    assert bad.value.code == 2
