"""blueprint/local/patches/drift.py: the rendered dev stack, deployed through a change set, is IN_SYNC; changed out of
band through the services' APIs (table capacity, function memory and environment, log retention, stage and
usage-plan throttles, a deleted log group) it is DRIFTED, each change MODIFIED (or DELETED) with its property
path and both values; plain moto still has no drift API."""
from __future__ import annotations

import json

import pytest

from blueprint.local.patches.drift import compare

import stack as S

REGION = "eu-north-1"  # a full copy of the dev stack of its own (its physical names are fixed)
CHECKED = {"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::ApiGateway::Stage",
           "AWS::ApiGateway::UsagePlan"}


def _detect(cfn, stack_name: str) -> tuple[dict, dict[str, dict]]:
    """DetectStackDrift, its status, and the stack's resource drifts by logical id."""
    detection = cfn.detect_stack_drift(StackName=stack_name)["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    drifts = cfn.describe_stack_resource_drifts(StackName=stack_name)["StackResourceDrifts"]
    return status, {d["LogicalResourceId"]: d for d in drifts}


@pytest.fixture(scope="module")
def drift(client, code):
    """The dev stack checked as deployed, then changed out of band and checked again."""
    cfn = client("cloudformation", REGION)
    template = S.rendered("dev")
    S.deploy(cfn, "items-dev", template, code)
    ids = S.physical_ids(cfn, "items-dev")
    before = _detect(cfn, "items-dev")
    client("dynamodb", REGION).update_table(
        TableName=ids["Table"], ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 5})
    lam = client("lambda", REGION)
    variables = lam.get_function_configuration(FunctionName=ids["Function"])["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=ids["Function"], MemorySize=512,
                                      Environment={"Variables": {**variables, "DEBUG": "1"}})
    logs = client("logs", REGION)
    logs.put_retention_policy(logGroupName=ids["FunctionLogGroup"], retentionInDays=30)
    logs.delete_log_group(logGroupName=ids["FlowLogGroup"])
    apigw = client("apigateway", REGION)
    apigw.update_stage(restApiId=ids["RestApi"], stageName=ids["Stage"], patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "80"}])
    apigw.update_usage_plan(usagePlanId=ids["UsagePlan"], patchOperations=[
        {"op": "replace", "path": "/throttle/burstLimit", "value": "300"}])
    return {"cfn": cfn, "ids": ids, "template": template, "before": before, "after": _detect(cfn, "items-dev")}


def _differences(drift: dict) -> list[tuple[str, str, str, str]]:
    return [(d["PropertyPath"], d["ExpectedValue"], d["ActualValue"], d["DifferenceType"])
            for d in drift["PropertyDifferences"]]


# ---- drift_detection

def test_an_untouched_stack_is_in_sync(drift):
    status, resources = drift["before"]
    assert (status["DetectionStatus"], status["StackDriftStatus"], status["DriftedStackResourceCount"]) == \
        ("DETECTION_COMPLETE", "IN_SYNC", 0)
    assert set(resources) == set(drift["template"]["Resources"])
    for logical_id, d in resources.items():
        expected = "IN_SYNC" if d["ResourceType"] in CHECKED else "NOT_CHECKED"
        assert d["StackResourceDriftStatus"] == expected, (logical_id, d.get("PropertyDifferences"))
        assert d.get("PhysicalResourceId") == drift["ids"][logical_id], logical_id


def test_changes_out_of_band_are_modified_with_path_and_values(drift):
    status, resources = drift["after"]
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 6)
    assert _differences(resources["Table"]) == [("/ProvisionedThroughput/ReadCapacityUnits", "5", "7", "NOT_EQUAL")]
    assert _differences(resources["Function"]) == [
        ("/Environment/Variables/DEBUG", "", "1", "ADD"), ("/MemorySize", "256", "512", "NOT_EQUAL")]
    assert _differences(resources["FunctionLogGroup"]) == [("/RetentionInDays", "7", "30", "NOT_EQUAL")]
    assert _differences(resources["Stage"]) == [("/MethodSettings/0/ThrottlingRateLimit", "50", "80.0", "NOT_EQUAL")]
    assert _differences(resources["UsagePlan"]) == [("/Throttle/BurstLimit", "100", "300", "NOT_EQUAL")]
    for logical_id in ("Table", "Function", "FunctionLogGroup", "Stage", "UsagePlan"):
        assert resources[logical_id]["StackResourceDriftStatus"] == "MODIFIED"
    assert resources["FlowLogGroup"]["StackResourceDriftStatus"] == "DELETED"
    assert resources["AccessLogGroup"]["StackResourceDriftStatus"] == "IN_SYNC"


def test_expected_and_actual_properties_are_json_text(drift):
    table = drift["after"][1]["Table"]
    expected, actual = json.loads(table["ExpectedProperties"]), json.loads(table["ActualProperties"])
    assert expected["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert actual["ProvisionedThroughput"] == {"ReadCapacityUnits": 7, "WriteCapacityUnits": 5}
    assert expected["SSESpecification"]["KMSMasterKeyId"] == drift["ids"]["KmsKey"]  # references resolved
    function = json.loads(drift["after"][1]["Function"]["ExpectedProperties"])
    assert function["Environment"]["Variables"]["TABLE_NAME"] == drift["ids"]["Table"]
    assert function["Code"]["S3Key"].startswith("handler/")  # the stack's parameters


def test_filters_single_resources_and_the_stacks_drift_information(drift):
    cfn = drift["cfn"]
    modified = cfn.describe_stack_resource_drifts(StackName="items-dev", StackResourceDriftStatusFilters=["MODIFIED"])
    assert {d["LogicalResourceId"] for d in modified["StackResourceDrifts"]} == {
        "Table", "Function", "FunctionLogGroup", "Stage", "UsagePlan"}
    one = cfn.detect_stack_resource_drift(StackName="items-dev", LogicalResourceId="FunctionLogGroup")
    assert one["StackResourceDrift"]["StackResourceDriftStatus"] == "MODIFIED"
    info = cfn.describe_stacks(StackName="items-dev")["Stacks"][0]["DriftInformation"]
    assert info["StackDriftStatus"] == "DRIFTED" and "LastCheckTimestamp" in info
    only = cfn.detect_stack_drift(StackName="items-dev", LogicalResourceIds=["AccessLogGroup"])
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=only["StackDriftDetectionId"])
    assert status["StackDriftStatus"] == "IN_SYNC"


def test_values_compare_as_typed_properties_and_lists_by_their_items():
    assert compare("/Timeout", "10", 10.0) == [] and compare("/Flag", "true", True) == []
    settings = [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 50}]
    live = [{"ResourcePath": "/items", "HttpMethod": "GET", "ThrottlingRateLimit": 5, "CachingEnabled": False},
            {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 50.0, "CachingEnabled": False}]
    assert [(d["PropertyPath"], d["DifferenceType"]) for d in compare("/MethodSettings", settings, live)] == [
        ("/MethodSettings/0", "ADD")]  # matched by path and method; a live default the template did not set is no drift
    assert compare("/MethodSettings", settings, [])[0]["DifferenceType"] == "REMOVE"
    assert compare("/RetentionInDays", 7, None) == [
        {"PropertyPath": "/RetentionInDays", "ExpectedValue": "7", "ActualValue": "", "DifferenceType": "REMOVE"}]


def test_canary_no_drift_api(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    try:
        cfn.detect_stack_drift(StackName="canary")
        answered = True
    except Exception:  # noqa: BLE001 - moto raises NotImplementedError
        answered = False
    S.still_broken(not answered, "implements DetectStackDrift", "drift_detection")
