"""blueprint/local/patches/cloudformation.py: the engine's patches on the local AWS (the rendered stack reviewed,
executed, updated, failed, deleted), their pure parts in-process, and a canary per patch in plain moto."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions
import pytest

import stack as S
from blueprint.local.patches import cloudformation


# ---- change_set_review_details

def test_change_set_marks_replacement_with_details(updated):
    table = updated["changes"]["Table"]
    assert table["Action"] == "Modify"
    assert table["Replacement"] == "True"
    assert table["PhysicalResourceId"] == updated["before"]["Table"]
    assert table["Scope"] == ["Properties"]
    by_name = {d["Target"]["Name"]: d for d in table["Details"]}
    name = by_name["TableName"]
    assert name["Target"]["Attribute"] == "Properties"
    assert name["Target"]["RequiresRecreation"] == "Always"
    assert (name["Target"]["BeforeValue"], name["Target"]["AfterValue"]) == ("items-dev-items", "items-dev-items-v2")
    assert name["Evaluation"] == "Static" and name["ChangeSource"] == "DirectModification"
    assert by_name["ProvisionedThroughput"]["Target"]["RequiresRecreation"] == "Never"
    assert json.loads(table["AfterContext"])["Properties"]["TableName"] == "items-dev-items-v2"


def test_change_set_in_place_change_is_not_a_replacement(updated):
    plan = updated["changes"]["UsagePlan"]
    assert plan["Replacement"] == "False"
    [detail] = plan["Details"]
    assert detail["Target"]["Name"] == "Throttle" and detail["Target"]["RequiresRecreation"] == "Never"
    assert json.loads(detail["Target"]["AfterValue"]) == {"BurstLimit": 80, "RateLimit": 40}
    assert set(updated["changes"]) == {"Stage", "Table", "UsagePlan", "RestApi"}


def test_change_set_without_property_values(client, updated):
    cfn = client("cloudformation", updated["region"])
    plain = cfn.describe_change_set(StackName="items-dev", ChangeSetName=updated["review"]["ChangeSetName"])
    [table] = [c["ResourceChange"] for c in plain["Changes"] if c["ResourceChange"]["LogicalResourceId"] == "Table"]
    assert table["Replacement"] == "True"
    assert all("BeforeValue" not in d["Target"] and "Path" not in d["Target"] for d in table["Details"])
    assert "BeforeContext" not in table


def test_details_without_a_schema_are_conditional_and_tags_their_own_attribute(no_schemas):
    old = {"Type": "AWS::Some::Thing", "Properties": {"Size": 1, "Tags": [{"Key": "a", "Value": "1"}]}}
    new = {"Type": "AWS::Some::Thing", "Metadata": {"note": "x"},
           "Properties": {"Size": 2, "Tags": [{"Key": "a", "Value": "2"}]}}
    replacement, scope, details = cloudformation.resource_change_details("Thing", old, new)
    assert replacement == "Conditional"
    assert scope == ["Properties", "Tags", "Metadata"]
    assert [d["Target"] for d in details] == [
        {"Attribute": "Properties", "Name": "Size", "RequiresRecreation": "Conditionally", "BeforeValue": "1",
         "AfterValue": "2", "Path": "/Properties/Size", "AttributeChangeType": "Modify"},
        {"Attribute": "Tags", "RequiresRecreation": "Never", "BeforeValue": '[{"Key":"a","Value":"1"}]',
         "AfterValue": '[{"Key":"a","Value":"2"}]', "Path": "/Properties/Tags", "AttributeChangeType": "Modify"},
        {"Attribute": "Metadata", "RequiresRecreation": "Never"},
    ]
    assert cloudformation.resource_change_details("Thing", old, {**old, "DeletionPolicy": "Retain"}) == ("False", [], [])


def test_canary_modify_has_no_replacement_or_details(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    template["Resources"]["Table"]["Properties"]["TableName"] += "-v2"
    name = S.create_change_set(cfn, "canary", template, "UPDATE")
    [change] = [c["ResourceChange"] for c in
                cfn.describe_change_set(StackName="canary", ChangeSetName=name, IncludePropertyValues=True)["Changes"]]
    assert change["Action"] == "Modify"
    S.still_broken("Replacement" not in change and not change.get("Details"),
                   "returns Replacement/Details for a Modify in describe_change_set", "change_set_review_details")


# ---- change_set_execution

def test_outputs_after_execute_change_set(deployed):
    out, ids = deployed["outputs"], deployed["ids"]
    assert out["TableName"] == "items-dev-items"
    assert out["FunctionName"] == "items-dev-api"
    assert out["ApiKeyId"] == ids["ApiKey"]
    assert out["ApiEndpoint"] == f"https://{ids['RestApi']}.execute-api.{S.REGION}.amazonaws.com/v1"


def test_failed_execution_rolls_back_instead_of_erroring(client, code):
    cfn = client("cloudformation", "eu-west-3")
    name = S.create_change_set(cfn, "items-dev", S.rendered("dev"), "CREATE", {**code, "ArtifactBucket": "no-such-bucket"})
    cfn.execute_change_set(StackName="items-dev", ChangeSetName=name)  # accepted, as in AWS
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="items-dev", WaiterConfig={"Delay": 0.2, "MaxAttempts": 20})
    assert cfn.describe_stacks(StackName="items-dev")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="items-dev")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and "NoSuchBucket" in failed[0]["ResourceStatusReason"]
    assert cfn.describe_change_set(StackName="items-dev", ChangeSetName=name)["ExecutionStatus"] == "EXECUTE_FAILED"


def test_canary_no_outputs_after_execute_change_set(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    assert "TableName" in template["Outputs"]
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    S.still_broken(not cfn.describe_stacks(StackName="canary")["Stacks"][0].get("Outputs"),
                   "shows Outputs after execute_change_set", "change_set_execution")


def test_canary_failed_execution_raises_and_leaves_the_stack_in_review(plain):
    cfn = plain("cloudformation")
    parameters = {**S.upload_code(plain("s3")), "ArtifactBucket": "no-such-bucket"}
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Function"))
    name = S.create_change_set(cfn, "canary", template, "CREATE", parameters)
    try:
        cfn.execute_change_set(StackName="canary", ChangeSetName=name)
        raised = False
    except Exception:  # noqa: BLE001 - moto's error, unparseable by boto3
        raised = True
    status = cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"]
    S.still_broken(raised and status == "REVIEW_IN_PROGRESS",
                   "reports a failed change-set execution as a rolled-back stack", "change_set_execution")


# ---- change_set_execute_once

def _refusal(call) -> dict | None:
    """The error a call answered (None when it succeeded)."""
    try:
        call()
    except botocore.exceptions.ClientError as exc:
        return {**exc.response["Error"], "http": exc.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None


def _stack_events(cfn, stack_name: str) -> list[str]:
    return [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            if e["ResourceType"] == "AWS::CloudFormation::Stack"]


def test_an_executed_change_set_cannot_run_again(client):
    cfn = client("cloudformation")
    name = S.create_change_set(cfn, "once", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    assert _refusal(lambda: cfn.execute_change_set(StackName="once", ChangeSetName=name)) is None
    again = _refusal(lambda: cfn.execute_change_set(StackName="once", ChangeSetName=name))
    assert again is not None and again["Code"] == "InvalidChangeSetStatus" and again["http"] == 400
    stack_id = cfn.describe_stacks(StackName="once")["Stacks"][0]["StackId"]
    assert again["Message"] == (f"ChangeSet [{stack_id}] cannot be executed in its current execution status "
                                "of [EXECUTE_COMPLETE]")
    assert _stack_events(cfn, "once").count("CREATE_COMPLETE") == 1  # the template was not applied twice
    cfn.delete_stack(StackName="once")


def test_two_executions_at_once_run_the_change_set_once(client):
    cfn = client("cloudformation")
    name = S.create_change_set(cfn, "twice", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _refusal(lambda: cfn.execute_change_set(StackName="twice",
                                                                                   ChangeSetName=name)), range(2)))
    assert sorted(a["Code"] if a else "ok" for a in answers) == ["InvalidChangeSetStatus", "ok"]
    assert cfn.describe_change_set(StackName="twice", ChangeSetName=name)["ExecutionStatus"] == "EXECUTE_COMPLETE"
    assert _stack_events(cfn, "twice").count("CREATE_COMPLETE") == 1
    cfn.delete_stack(StackName="twice")


def test_canary_a_change_set_executes_twice(plain):
    cfn = plain("cloudformation")
    name = S.create_change_set(cfn, "canary", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    cfn.execute_change_set(StackName="canary", ChangeSetName=name)
    S.still_broken(_refusal(lambda: cfn.execute_change_set(StackName="canary", ChangeSetName=name)) is None,
                   "refuses to execute a change set twice (InvalidChangeSetStatus)", "change_set_execute_once")


# ---- change_set_dependency_order

def test_added_resources_follow_depends_on(deployed):
    template = deployed["template"]
    deployment = S.logical_id(template, "AWS::ApiGateway::Deployment")
    # The body is sent with sorted keys: the Deployment comes before the methods it DependsOn.
    order = list(json.loads(S.body(template))["Resources"])
    assert all(order.index(deployment) < order.index(m) for m in template["Resources"][deployment]["DependsOn"])
    assert deployed["ids"][deployment]


def test_dependency_order_puts_each_after_what_it_uses():
    resources = {"Deployment": {"DependsOn": "Method", "Properties": {"RestApiId": {"Ref": "Api"}}},
                 "Method": {"Properties": {"Uri": {"Fn::Sub": "${Function.Arn}/invocations"}}},
                 "Function": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
                 "Role": {}, "Api": {}}
    assert cloudformation.dependency_order(resources, ["Deployment", "Method", "Function", "Api"]) == \
        ["Api", "Function", "Method", "Deployment"]


def test_canary_change_set_ignores_depends_on(plain):
    cfn = plain("cloudformation")
    dev = S.rendered("dev")
    template = S.without_kms_gap(S.cut(dev, S.logical_id(dev, "AWS::ApiGateway::Deployment")))
    name = S.create_change_set(cfn, "canary", template, "CREATE", S.upload_code(plain("s3")))
    try:
        cfn.execute_change_set(StackName="canary", ChangeSetName=name)
        failed = False
    except Exception as exc:  # noqa: BLE001 - moto's error, unparseable by boto3
        failed = "contain any methods" in str(exc)  # "The REST API doesn't contain any methods"
    S.still_broken(failed, "creates a change set's resources in DependsOn order", "change_set_dependency_order")


# ---- keep_resources_moto_cannot_update

def test_resource_moto_cannot_update_stays_in_the_stack(client, updated):
    assert updated["after"]["RestApi"] == updated["before"]["RestApi"]
    outputs = S.outputs(client("cloudformation", updated["region"]), "items-dev")
    assert outputs["ApiEndpoint"].startswith(f"https://{updated['before']['RestApi']}.execute-api.")
    assert outputs["TableName"] == "items-dev-items-v2"


def test_canary_resource_without_update_is_lost(plain):
    cfn = plain("cloudformation")
    template = S.cut(S.rendered("dev"), "RestApi")
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    template["Resources"]["RestApi"]["Properties"]["Description"] = "changed"
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "UPDATE"))
    S.still_broken(not S.physical_ids(cfn, "canary").get("RestApi"),
                   "keeps (or updates) a RestApi modified through a change set", "keep_resources_moto_cannot_update")


# ---- delete_stack_failure

def _vpc_with_an_outsider(cfn, ec2) -> str:
    """The rendered VPC alone, with a subnet the stack does not own: deleting the stack must fail."""
    cfn.create_stack(StackName="vpc", TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")))
    vpc_id = S.physical_ids(cfn, "vpc")["Vpc"]
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.21.255.0/24")["Subnet"]["SubnetId"]


def test_delete_failure_keeps_the_stack_as_delete_failed(client):
    cfn, ec2 = client("cloudformation"), client("ec2")
    outsider = _vpc_with_an_outsider(cfn, ec2)
    cfn.delete_stack(StackName="vpc")
    assert cfn.describe_stacks(StackName="vpc")["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    ec2.delete_subnet(SubnetId=outsider)
    cfn.delete_stack(StackName="vpc")  # a retry succeeds
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="vpc")


def test_canary_failed_delete_makes_the_stack_vanish(plain):
    cfn = plain("cloudformation")
    _vpc_with_an_outsider(cfn, plain("ec2"))
    with pytest.raises(cfn.exceptions.ClientError, match="DependencyViolation"):
        cfn.delete_stack(StackName="vpc")
    try:
        cfn.describe_stacks(StackName="vpc")
        vanished = False
    except cfn.exceptions.ClientError:
        vanished = True
    S.still_broken(vanished, "keeps a stack whose deletion failed (DELETE_FAILED)", "delete_stack_failure")


# ---- unsupported_types_visible

def _web_acl() -> dict:
    template = S.cut(S.rendered("prod"), "WebAcl")
    template["Outputs"] = {"AclArn": {"Value": {"Fn::GetAtt": ["WebAcl", "Arn"]}}}
    return template


def test_unsupported_type_is_a_visible_placeholder(client):
    cfn = client("cloudformation")
    S.deploy(cfn, "items-prod-acl", _web_acl())
    assert S.physical_ids(cfn, "items-prod-acl")["WebAcl"] == "not-emulated-WebAcl"
    assert S.outputs(cfn, "items-prod-acl")["AclArn"] == "not-emulated-WebAcl.Arn"
    cfn.delete_stack(StackName="items-prod-acl")


def test_canary_unknown_type_is_silently_skipped(plain):
    cfn = plain("cloudformation")
    template = _web_acl()
    del template["Outputs"]  # plain moto cannot resolve it
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    S.still_broken("WebAcl" not in S.physical_ids(cfn, "canary"), "lists (or emulates) AWS::WAFv2::WebACL in a stack",
                   "unsupported_types_visible")
