"""Canaries: each gap blueprint.localaws.compat patches still exists in plain, unpatched moto.

They run moto in-process (`mock_aws`), where the compat layer is never loaded (it is loaded only
in the local AWS server process). When a moto upgrade closes a gap, its canary fails and says
which patch to remove.
"""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

import stack as S

pytestmark = pytest.mark.canary


def still_broken(gap_exists: bool, fixed: str, patch: str) -> None:
    assert gap_exists, f"moto now {fixed} itself: remove patch {patch} (blueprint/localaws/compat.py)"


@pytest.fixture
def plain():
    with mock_aws():
        def make(service: str):
            return boto3.client(service, region_name=S.REGION, aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        yield make


def test_compat_is_not_loaded_in_the_test_process():
    from moto.cloudformation.parsing import get_model_map
    assert "AWS::ApiGateway::Stage" not in get_model_map() or pytest.fail(
        "blueprint.localaws.compat was applied in the test process: the canaries would test patched moto")


def _create(cfn, name: str, template: dict) -> None:
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))


def _change_set(cfn, name: str, template: dict, kind: str) -> str:
    cs = f"{name}-{kind.lower()}"
    cfn.create_change_set(StackName=name, ChangeSetName=cs, TemplateBody=json.dumps(template), ChangeSetType=kind)
    return cs


def _api(extra: dict | None = None, mock_options: bool = False) -> dict:
    resources = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "canary"}},
        "Res": {"Type": "AWS::ApiGateway::Resource",
                "Properties": {"RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                               "PathPart": "items"}},
        "Get": {"Type": "AWS::ApiGateway::Method",
                "Properties": {"RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Res"}, "HttpMethod": "GET",
                               "AuthorizationType": "NONE",
                               "Integration": {"Type": "HTTP_PROXY", "IntegrationHttpMethod": "GET",
                                               "Uri": "https://example.com/items"}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["Get"],
                       "Properties": {"RestApiId": {"Ref": "Api"}}},
    }
    if mock_options:
        resources["Options"] = {"Type": "AWS::ApiGateway::Method",
                                "Properties": {"RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Res"},
                                               "HttpMethod": "OPTIONS", "AuthorizationType": "NONE",
                                               "Integration": {"Type": "MOCK"}}}
    resources.update(extra or {})
    return {"Resources": resources}


# ---- apigateway_resource_types / applicationautoscaling_resource_types / sqs_queue_policy

@pytest.mark.parametrize("resource_type,patch", [
    ("AWS::ApiGateway::Stage", "apigateway_resource_types"),
    ("AWS::ApiGateway::ApiKey", "apigateway_resource_types"),
    ("AWS::ApiGateway::UsagePlan", "apigateway_resource_types"),
    ("AWS::ApiGateway::UsagePlanKey", "apigateway_resource_types"),
    ("AWS::ApiGateway::GatewayResponse", "apigateway_resource_types"),
    ("AWS::ApiGateway::RequestValidator", "apigateway_resource_types"),
    ("AWS::ApiGateway::Account", "apigateway_resource_types"),
    ("AWS::ApplicationAutoScaling::ScalableTarget", "applicationautoscaling_resource_types"),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", "applicationautoscaling_resource_types"),
    ("AWS::SQS::QueuePolicy", "sqs_queue_policy"),
])
def test_resource_type_has_no_moto_model(resource_type, patch):
    from moto.cloudformation.parsing import get_model_map
    still_broken(resource_type not in get_model_map(), f"has a CloudFormation model for {resource_type}",
                 f"{patch} (its {resource_type} model)")


def test_stage_key_plan_are_silently_skipped(plain):
    cfn, apigw = plain("cloudformation"), plain("apigateway")
    _create(cfn, "canary-apigw", _api({
        "Stage": {"Type": "AWS::ApiGateway::Stage",
                  "Properties": {"RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
                                 "StageName": "live", "TracingEnabled": True}},
        "Key": {"Type": "AWS::ApiGateway::ApiKey", "Properties": {"Name": "k", "Enabled": True}},
        "Plan": {"Type": "AWS::ApiGateway::UsagePlan",
                 "Properties": {"UsagePlanName": "p", "Throttle": {"RateLimit": 10, "BurstLimit": 20}}},
    }))
    api_id = apigw.get_rest_apis()["items"][0]["id"]
    still_broken("live" not in [s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"]]
                 and not apigw.get_api_keys()["items"] and not apigw.get_usage_plans()["items"],
                 "creates ApiGateway Stage/ApiKey/UsagePlan from CloudFormation", "apigateway_resource_types")


# ---- apigateway_deployment_ref

def test_deployment_has_no_physical_id(plain):
    cfn, apigw = plain("cloudformation"), plain("apigateway")
    _create(cfn, "canary-deploy", _api())
    res = cfn.describe_stack_resource(StackName="canary-deploy", LogicalResourceId="Deployment")
    api_id = apigw.get_rest_apis()["items"][0]["id"]
    ids = [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]]
    still_broken(res["StackResourceDetail"].get("PhysicalResourceId") not in ids,
                 "gives AWS::ApiGateway::Deployment its id as physical id / Ref", "apigateway_deployment_ref")


# ---- apigateway_method_integration

def test_mock_method_without_integration_http_method_fails(plain):
    cfn = plain("cloudformation")
    try:
        _create(cfn, "canary-mock", _api(mock_options=True))
        failed = False
    except Exception:  # moto raises KeyError 'IntegrationHttpMethod' (HTTP 500 in server mode)
        failed = True
    still_broken(failed, "creates a MOCK AWS::ApiGateway::Method without IntegrationHttpMethod",
                 "apigateway_method_integration")


# ---- dynamodb_table_properties

TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": {
    "TableName": "canary-items",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
}}


def test_table_ttl_pitr_sse_dropped(plain):
    cfn, ddb = plain("cloudformation"), plain("dynamodb")
    _create(cfn, "canary-table", {"Resources": {"Table": TABLE}})
    ttl = ddb.describe_time_to_live(TableName="canary-items")["TimeToLiveDescription"]["TimeToLiveStatus"]
    pitr = ddb.describe_continuous_backups(TableName="canary-items")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    sse = ddb.describe_table(TableName="canary-items")["Table"].get("SSEDescription")
    still_broken(ttl == "DISABLED", "applies TimeToLiveSpecification from CloudFormation", "dynamodb_table_properties")
    still_broken(pitr == "DISABLED", "applies PointInTimeRecoverySpecification from CloudFormation",
                 "dynamodb_table_properties")
    still_broken(sse is None, "applies SSESpecification (SSEEnabled) from CloudFormation", "dynamodb_table_properties")
    from moto.dynamodb.models.table import Table
    still_broken(hasattr(Table.update_from_cloudformation_json, "__isabstractmethod__"),
                 "updates AWS::DynamoDB::Table through CloudFormation", "dynamodb_table_properties")


# ---- lambda_function_properties

def test_function_tracing_and_dlq_dropped(plain):
    cfn, lam, iam, s3, sqs = (plain(s) for s in ("cloudformation", "lambda", "iam", "s3", "sqs"))
    S.upload_code(s3)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    dlq = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="dlq")["QueueUrl"],
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _create(cfn, "canary-fn", {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "canary-fn", "Runtime": "python3.12", "Handler": "app.handler", "Role": role,
        "Code": {"S3Bucket": S.CODE_BUCKET, "S3Key": S.CODE_KEY},
        "TracingConfig": {"Mode": "Active"}, "DeadLetterConfig": {"TargetArn": dlq}}}}})
    cfg = lam.get_function_configuration(FunctionName="canary-fn")
    still_broken(cfg["TracingConfig"]["Mode"] != "Active", "applies Lambda TracingConfig from CloudFormation",
                 "lambda_function_properties")
    still_broken("DeadLetterConfig" not in cfg, "shows a Lambda DeadLetterConfig", "lambda_function_properties")


# ---- kms_key_properties

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                  "Action": "kms:*", "Resource": "*"}]}


def test_kms_key_tags_crash(plain):
    cfn = plain("cloudformation")
    try:
        _create(cfn, "canary-kms", {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
            "KeyPolicy": json.dumps(POLICY), "Tags": [{"Key": "Environment", "Value": "dev"}]}}}})
        failed = False
    except Exception:  # KeyError 'TagKey'
        failed = True
    still_broken(failed, "accepts CloudFormation Tags on AWS::KMS::Key", "kms_key_properties")


def test_kms_key_policy_object_breaks_the_key(plain):
    cfn, kms_client = plain("cloudformation"), plain("kms")
    _create(cfn, "canary-kms2", {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": POLICY}}}})
    key_id = cfn.describe_stack_resource(StackName="canary-kms2", LogicalResourceId="Key")[
        "StackResourceDetail"]["PhysicalResourceId"]
    try:
        kms_client.describe_key(KeyId=key_id)
        failed = False
    except Exception:  # TypeError in moto's policy check
        failed = True
    still_broken(failed, "accepts a KeyPolicy JSON object on AWS::KMS::Key", "kms_key_properties")


# ---- change_set_dependency_order

def test_change_set_ignores_depends_on(plain):
    cfn = plain("cloudformation")
    template = _api()
    template["Resources"] = dict(sorted(template["Resources"].items()))  # Deployment before Get
    cs = _change_set(cfn, "canary-order", template, "CREATE")
    try:
        cfn.execute_change_set(StackName="canary-order", ChangeSetName=cs)
        failed = False
    except Exception:  # "The REST API doesn't contain any methods"
        failed = True
    still_broken(failed, "creates a change set's resources in DependsOn order", "change_set_dependency_order")


# ---- change_set_outputs

VPC = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
                     "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "canary-q",
                                                                         "VisibilityTimeout": 30}}},
       "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}}}


def test_no_outputs_after_execute_change_set(plain):
    cfn = plain("cloudformation")
    cs = _change_set(cfn, "canary-out", VPC, "CREATE")
    cfn.execute_change_set(StackName="canary-out", ChangeSetName=cs)
    stack = cfn.describe_stacks(StackName="canary-out")["Stacks"][0]
    still_broken(not stack.get("Outputs"), "shows Outputs after execute_change_set", "change_set_outputs")


# ---- change_set_review_details / keep_resources_moto_cannot_update

def test_modify_has_no_replacement_or_details(plain):
    cfn = plain("cloudformation")
    cfn.execute_change_set(StackName="canary-cs", ChangeSetName=_change_set(cfn, "canary-cs", VPC, "CREATE"))
    changed = json.loads(json.dumps(VPC))
    changed["Resources"]["Queue"]["Properties"]["QueueName"] = "canary-q2"
    cs = _change_set(cfn, "canary-cs", changed, "UPDATE")
    described = cfn.describe_change_set(StackName="canary-cs", ChangeSetName=cs, IncludePropertyValues=True)
    [change] = [c["ResourceChange"] for c in described["Changes"]]
    assert change["Action"] == "Modify"
    still_broken("Replacement" not in change and not change.get("Details"),
                 "returns Replacement/Details for a Modify in describe_change_set", "change_set_review_details")


def test_resource_without_update_is_lost(plain):
    cfn = plain("cloudformation")
    cfn.execute_change_set(StackName="canary-keep", ChangeSetName=_change_set(cfn, "canary-keep", _api(), "CREATE"))
    changed = _api()
    changed["Resources"]["Api"]["Properties"]["Description"] = "changed"
    cfn.execute_change_set(StackName="canary-keep", ChangeSetName=_change_set(cfn, "canary-keep", changed, "UPDATE"))
    # moto stores None for the RestApi: its entry comes back without LogicalResourceId/PhysicalResourceId
    ids = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
           for r in cfn.describe_stack_resources(StackName="canary-keep")["StackResources"]}
    still_broken(not ids.get("Api"), "keeps (or updates) a RestApi modified through a change set",
                 "keep_resources_moto_cannot_update")


# ---- change_set_execution_failure

def test_failed_execution_raises_and_leaves_the_stack_in_review(plain):
    cfn, iam = plain("cloudformation"), plain("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Runtime": "python3.12", "Handler": "app.handler", "Role": role,
        "Code": {"S3Bucket": "no-such-bucket", "S3Key": "x.zip"}}}}}
    cs = _change_set(cfn, "canary-fail", template, "CREATE")
    try:
        cfn.execute_change_set(StackName="canary-fail", ChangeSetName=cs)
        raised = False
    except Exception:
        raised = True
    status = cfn.describe_stacks(StackName="canary-fail")["Stacks"][0]["StackStatus"]
    still_broken(raised and status != "ROLLBACK_COMPLETE",
                 "reports a failed change-set execution as a rolled-back stack", "change_set_execution_failure")


# ---- ec2_vpc_deletes / delete_stack_failure

NETWORK = {"Resources": {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.2.0.0/16"}},
    "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.2.1.0/24"}},
    "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "Assoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation",
              "Properties": {"SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Routes"}}},
    "Endpoint": {"Type": "AWS::EC2::VPCEndpoint",
                 "Properties": {"VpcId": {"Ref": "Vpc"}, "ServiceName": f"com.amazonaws.{S.REGION}.dynamodb",
                                "VpcEndpointType": "Gateway", "RouteTableIds": [{"Ref": "Routes"}]}},
}}


def test_vpc_stack_cannot_be_deleted_and_disappears(plain):
    cfn = plain("cloudformation")
    _create(cfn, "canary-net", NETWORK)
    try:
        cfn.delete_stack(StackName="canary-net")
        failed = False
    except Exception:  # DependencyViolation on the VPC
        failed = True
    still_broken(failed, "deletes route tables, associations and VPC endpoints of a stack", "ec2_vpc_deletes")
    try:
        cfn.describe_stacks(StackName="canary-net")
        vanished = False
    except Exception:
        vanished = True
    still_broken(vanished, "keeps a stack whose deletion failed (DELETE_FAILED)", "delete_stack_failure")


# ---- unsupported_types_visible

def test_unknown_type_is_silently_skipped(plain):
    cfn = plain("cloudformation")
    _create(cfn, "canary-unknown", {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "canary-unknown"}},
        "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {"Scope": "REGIONAL", "DefaultAction": {"Allow": {}}}}}})
    ids = {r.get("LogicalResourceId") for r in cfn.describe_stack_resources(StackName="canary-unknown")["StackResources"]}
    still_broken("Acl" not in ids, "lists (or emulates) AWS::WAFv2::WebACL in a stack", "unsupported_types_visible")
