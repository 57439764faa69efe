"""Each compat patch closes its gap: deploy through a change set over HTTP to the patched local AWS,
then read the result back through the service's own API."""
from __future__ import annotations

import copy
import json

import botocore.exceptions
import pytest

import stack as S

pytestmark = pytest.mark.integration


# ---- apigateway_resource_types

def test_stage_has_tracing_method_settings_and_access_logs(client, deployed):
    ids = deployed["ids"]
    stage = client("apigateway").get_stage(restApiId=ids["Api"], stageName="t1")
    assert stage["tracingEnabled"] is True
    assert stage["deploymentId"] == ids["Deployment"]
    assert stage["variables"] == {"env": "t1"}
    settings = stage["methodSettings"]["*/*"]
    assert settings["loggingLevel"] == "INFO"
    assert settings["metricsEnabled"] is True
    assert settings["dataTraceEnabled"] is False
    assert settings["throttlingRateLimit"] == 100.0
    assert settings["throttlingBurstLimit"] == 200
    assert stage["accessLogSettings"]["destinationArn"].endswith("/aws/apigateway/svc-t1-access")
    assert stage["tags"]["Environment"] == "t1"


def test_api_key_usage_plan_throttle_and_binding(client, deployed):
    ids = deployed["ids"]
    apigw = client("apigateway")
    key = apigw.get_api_key(apiKey=ids["ApiKey"])
    assert key["enabled"] is True and key["name"] == "svc-t1-key"
    plans = [p for p in apigw.get_usage_plans()["items"] if p["id"] == ids["UsagePlan"]]
    assert len(plans) == 1
    assert plans[0]["throttle"] == {"rateLimit": 100.0, "burstLimit": 200}
    assert plans[0]["apiStages"] == [{"apiId": ids["Api"], "stage": "t1"}]
    bound = apigw.get_usage_plan_keys(usagePlanId=ids["UsagePlan"])["items"]
    assert [(k["id"], k["type"]) for k in bound] == [(ids["ApiKey"], "API_KEY")]
    assert deployed["outputs"]["ApiKeyId"] == ids["ApiKey"]


def test_gateway_responses_carry_cors_headers(client, deployed):
    apigw = client("apigateway")
    r4 = apigw.get_gateway_response(restApiId=deployed["ids"]["Api"], responseType="DEFAULT_4XX")
    assert r4["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    r5 = apigw.get_gateway_response(restApiId=deployed["ids"]["Api"], responseType="DEFAULT_5XX")
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in r5["responseParameters"]


def test_request_validator(client, deployed):
    v = client("apigateway").get_request_validator(restApiId=deployed["ids"]["Api"],
                                                    requestValidatorId=deployed["ids"]["Validator"])
    assert v["validateRequestBody"] is True and v["validateRequestParameters"] is True


def test_account_cloudwatch_role(client):
    cfn = client("cloudformation")
    t = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}}},
        "Account": {"Type": "AWS::ApiGateway::Account",
                    "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}}}}
    S.deploy(cfn, "bootstrap-acct", t)
    role_arn = client("iam").get_role(RoleName=S.physical_ids(cfn, "bootstrap-acct")["Role"])["Role"]["Arn"]
    assert client("apigateway").get_account()["cloudwatchRoleArn"] == role_arn


# ---- apigateway_deployment_ref

def test_deployment_ref_is_the_deployment_id(client, deployed):
    deployments = client("apigateway").get_deployments(restApiId=deployed["ids"]["Api"])["items"]
    assert deployed["ids"]["Deployment"] in [d["id"] for d in deployments]


# ---- apigateway_method_integration

def test_mock_preflight_and_proxy_method(client, deployed):
    apigw = client("apigateway")
    ids = deployed["ids"]
    options = apigw.get_method(restApiId=ids["Api"], resourceId=ids["ItemsResource"], httpMethod="OPTIONS")
    assert options["apiKeyRequired"] is False
    assert options["methodIntegration"]["type"] == "MOCK"
    ir = options["methodIntegration"]["integrationResponses"]["204"]
    assert ir["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    assert "204" in options["methodResponses"]
    get = apigw.get_method(restApiId=ids["Api"], resourceId=ids["ItemsResource"], httpMethod="GET")
    assert get["apiKeyRequired"] is True
    assert get["methodIntegration"]["type"] == "AWS_PROXY"
    assert get["methodIntegration"]["httpMethod"] == "POST"
    assert ":function:svc-t1-api/invocations" in get["methodIntegration"]["uri"]


# ---- applicationautoscaling_resource_types

def test_table_autoscaling(client, deployed):
    aas = client("application-autoscaling")
    targets = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    mine = [t for t in targets if t["ResourceId"] == "table/svc-t1-items"]
    assert [(t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in mine] == [
        ("dynamodb:table:ReadCapacityUnits", 5, 50)]
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId="table/svc-t1-items")
    [policy] = policies["ScalingPolicies"]
    assert policy["PolicyName"] == "svc-t1-read" and policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0


# ---- sqs_queue_policy

def test_dlq_policy(client, deployed):
    attrs = client("sqs").get_queue_attributes(QueueUrl=deployed["ids"]["Dlq"], AttributeNames=["Policy"])
    policy = json.loads(attrs["Attributes"]["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ---- dynamodb_table_properties

def test_table_ttl_pitr_sse(client, deployed):
    ddb = client("dynamodb")
    ttl = ddb.describe_time_to_live(TableName="svc-t1-items")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    pitr = ddb.describe_continuous_backups(TableName="svc-t1-items")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    table = ddb.describe_table(TableName="svc-t1-items")["Table"]
    key_arn = client("kms").describe_key(KeyId=deployed["ids"]["Key"])["KeyMetadata"]["Arn"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5


# ---- lambda_function_properties

def test_function_tracing_dlq_kms_tags(client, deployed):
    cfg = client("lambda").get_function_configuration(FunctionName="svc-t1-api")
    assert cfg["TracingConfig"] == {"Mode": "Active"}
    dlq_arn = client("sqs").get_queue_attributes(
        QueueUrl=deployed["ids"]["Dlq"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cfg["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert cfg["KMSKeyArn"].endswith(deployed["ids"]["Key"])
    assert sorted(cfg["VpcConfig"]["SubnetIds"]) == sorted([deployed["ids"]["SubnetA"], deployed["ids"]["SubnetB"]])
    assert cfg["Environment"]["Variables"] == {"TABLE_NAME": "svc-t1-items", "TTL_DAYS": "30"}
    fn = client("lambda").get_function(FunctionName="svc-t1-api")
    assert fn["Tags"]["Environment"] == "t1"


# ---- kms_key_tags

def test_kms_key_tags(client, deployed):
    tags = client("kms").list_resource_tags(KeyId=deployed["ids"]["Key"])["Tags"]
    assert {"TagKey": "Environment", "TagValue": "t1"} in tags
    assert client("kms").get_key_rotation_status(KeyId=deployed["ids"]["Key"])["KeyRotationEnabled"] is True


# ---- change_set_dependency_order

def test_added_resources_follow_depends_on(deployed):
    # The template body is written with sorted keys: "Deployment" comes before the methods it
    # DependsOn, which plain moto then creates first and fails.
    assert list(json.loads(S.body(S.template()))["Resources"]).index("Deployment") < \
        list(json.loads(S.body(S.template()))["Resources"]).index("ItemsGet")
    assert deployed["ids"]["Deployment"]


# ---- change_set_outputs

def test_outputs_after_execute_change_set(deployed):
    out = deployed["outputs"]
    assert out["TableName"] == "svc-t1-items"
    assert out["FunctionName"] == "svc-t1-api"
    assert out["ApiUrl"] == f"https://{deployed['ids']['Api']}.execute-api.{S.REGION}.amazonaws.com/t1"


# ---- change_set_review_details, keep_resources_moto_cannot_update, in-place updates

@pytest.fixture(scope="module")
def updated(client):
    """A second stack, created, then changed: throttle (in place), read capacity (in place), API
    description (moto cannot update a RestApi) and the table's name (a replacement)."""
    cfn = client("cloudformation")
    S.upload_code(client("s3"))
    S.deploy(cfn, "svc-t2", S.template(env="t2"))
    before = S.physical_ids(cfn, "svc-t2")
    review = S.deploy(cfn, "svc-t2", S.template(env="t2", rate=50.0, burst=80, read_capacity=7,
                                                table_suffix="-v2", api_description="changed"))
    return {"before": before, "after": S.physical_ids(cfn, "svc-t2"), "review": review,
            "changes": {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in review["Changes"]}}


def test_change_set_marks_replacement_with_details(updated):
    table = updated["changes"]["Table"]
    assert table["Action"] == "Modify"
    assert table["Replacement"] == "True"
    assert table["PhysicalResourceId"] == "svc-t2-items"
    assert "Properties" in table["Scope"]
    by_name = {d["Target"]["Name"]: d for d in table["Details"]}
    name = by_name["TableName"]
    assert name["Target"]["Attribute"] == "Properties"
    assert name["Target"]["RequiresRecreation"] == "Always"
    assert name["Target"]["BeforeValue"] == "svc-t2-items" and name["Target"]["AfterValue"] == "svc-t2-items-v2"
    assert name["Evaluation"] == "Static" and name["ChangeSource"] == "DirectModification"
    assert by_name["ProvisionedThroughput"]["Target"]["RequiresRecreation"] == "Never"


def test_change_set_in_place_change_is_not_a_replacement(updated):
    plan = updated["changes"]["UsagePlan"]
    assert plan["Replacement"] == "False"
    [detail] = plan["Details"]
    assert detail["Target"]["Name"] == "Throttle" and detail["Target"]["RequiresRecreation"] == "Never"
    assert json.loads(detail["Target"]["AfterValue"]) == {"BurstLimit": 80, "RateLimit": 50.0}
    assert set(updated["changes"]) == {"Stage", "Table", "UsagePlan", "Api"}


def test_change_set_without_property_values(client, updated):
    cfn = client("cloudformation")
    name = updated["review"]["ChangeSetName"]
    plain = cfn.describe_change_set(StackName="svc-t2", ChangeSetName=name)
    table = next(c["ResourceChange"] for c in plain["Changes"] if c["ResourceChange"]["LogicalResourceId"] == "Table")
    assert table["Replacement"] == "True"
    assert all("BeforeValue" not in d["Target"] for d in table["Details"])
    assert "BeforeContext" not in table


def test_update_applied_in_place_and_replacement(client, updated):
    before, after = updated["before"], updated["after"]
    apigw, ddb = client("apigateway"), client("dynamodb")
    stage = apigw.get_stage(restApiId=after["Api"], stageName="t2")
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 50.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 80
    plan = apigw.get_usage_plan(usagePlanId=after["UsagePlan"])
    assert after["UsagePlan"] == before["UsagePlan"]
    assert plan["throttle"] == {"rateLimit": 50.0, "burstLimit": 80}
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=after["UsagePlan"])["items"]] == [after["ApiKey"]]
    assert after["Table"] == "svc-t2-items-v2"
    table = ddb.describe_table(TableName="svc-t2-items-v2")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert ddb.describe_time_to_live(TableName="svc-t2-items-v2")["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="svc-t2-items")


def test_resource_moto_cannot_update_stays_in_the_stack(client, updated):
    assert updated["after"]["Api"] == updated["before"]["Api"]
    outputs = S.outputs(client("cloudformation"), "svc-t2")
    assert outputs["ApiUrl"].startswith(f"https://{updated['before']['Api']}.execute-api.")
    assert outputs["TableName"] == "svc-t2-items-v2"


def test_no_change_change_set_is_failed_not_an_error(client, updated):
    cfn = client("cloudformation")
    cfn.create_change_set(StackName="svc-t2", ChangeSetName="nochange", ChangeSetType="UPDATE",
                          TemplateBody=S.body(S.template(env="t2", rate=50.0, burst=80, read_capacity=7,
                                                         table_suffix="-v2", api_description="changed")))
    cs = cfn.describe_change_set(StackName="svc-t2", ChangeSetName="nochange")
    assert cs["Status"] == "FAILED" and "didn't contain changes" in cs["StatusReason"]


# ---- change_set_execution_failure

def test_failed_execution_rolls_back_instead_of_erroring(client):
    cfn = client("cloudformation")
    t = S.template(env="t3")
    t["Resources"]["Function"]["Properties"]["Code"] = {"S3Bucket": "no-such-bucket", "S3Key": "x.zip"}
    cfn.create_change_set(StackName="svc-t3", ChangeSetName="broken", TemplateBody=S.body(t),
                          ChangeSetType="CREATE", Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("change_set_create_complete").wait(StackName="svc-t3", ChangeSetName="broken",
                                                       WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    cfn.execute_change_set(StackName="svc-t3", ChangeSetName="broken")  # accepted, as in AWS
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="svc-t3", WaiterConfig={"Delay": 0.2, "MaxAttempts": 20})
    stack = cfn.describe_stacks(StackName="svc-t3")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="svc-t3")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0].get("ResourceStatusReason")
    cs = cfn.describe_change_set(StackName="svc-t3", ChangeSetName="broken")
    assert cs["ExecutionStatus"] == "EXECUTE_FAILED"


# ---- ec2_vpc_deletes

def test_delete_stack_removes_everything(client):
    cfn, ec2, ddb = client("cloudformation"), client("ec2"), client("dynamodb")
    S.upload_code(client("s3"))
    S.deploy(cfn, "svc-t4", S.template(env="t4"))
    ids = S.physical_ids(cfn, "svc-t4")
    cfn.delete_stack(StackName="svc-t4")
    cfn.get_waiter("stack_delete_complete").wait(StackName="svc-t4", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert ids["Vpc"] not in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    assert ids["DynamoEndpoint"] not in [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]]
    assert "svc-t4-items" not in ddb.list_tables()["TableNames"]
    with pytest.raises(client("lambda").exceptions.ResourceNotFoundException):
        client("lambda").get_function(FunctionName="svc-t4-api")


# ---- delete_stack_failure

def test_delete_failure_keeps_the_stack_as_delete_failed(client):
    cfn, ec2 = client("cloudformation"), client("ec2")
    t = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}},
         "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}}}
    S.deploy(cfn, "svc-t5", t)
    vpc_id = S.outputs(cfn, "svc-t5")["VpcId"]
    outsider = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]  # not the stack's
    cfn.delete_stack(StackName="svc-t5")
    stack = cfn.describe_stacks(StackName="svc-t5")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    ec2.delete_subnet(SubnetId=outsider)
    cfn.delete_stack(StackName="svc-t5")  # a retry succeeds
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="svc-t5")


# ---- unsupported_types_visible

def test_unsupported_type_is_a_visible_placeholder(client):
    cfn = client("cloudformation")
    t = {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "svc-t6-q"}},
        "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "Rules": [],
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "acl"}}}},
        "Outputs": {"AclArn": {"Value": {"Fn::GetAtt": ["Acl", "Arn"]}}}}
    S.deploy(cfn, "svc-t6", t)
    assert S.physical_ids(cfn, "svc-t6")["Acl"] == "not-emulated-Acl"
    assert S.outputs(cfn, "svc-t6")["AclArn"] == "not-emulated-Acl.Arn"
    cfn.delete_stack(StackName="svc-t6")
