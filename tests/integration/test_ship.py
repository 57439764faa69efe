"""Ship the dev environment through the CLI and read what was deployed back through the services' APIs.

bootstrap -> change set (all adds) -> deploy -> outputs -> deployed properties -> a second change
set is a no-op. Real boto3 over HTTP to the embedded local AWS (or a live account with
BLUEPRINT_LIVE=1); nothing of the SDK is mocked.
"""
from __future__ import annotations

import ast
import json
import re

import pytest

from blueprint.cfn import loader

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deployed(shipped):
    """Bootstrap, review and deploy dev once for the module; every step's transcript kept."""
    steps = {"bootstrap": shipped.run("bootstrap", "--env", "dev")}
    steps["changeset"] = shipped.run("changeset", "--env", "dev")
    steps["deploy"] = shipped.run("deploy", "--env", "dev")
    for name, run in steps.items():
        assert run.code == 0, f"{name} failed:\n{run.text}"
    outputs = json.loads((shipped.state("dev") / "outputs.json").read_text())
    template = loader.loads((shipped.root / "generated" / "dev" / "template.yaml").read_text())
    return {"project": shipped, "steps": steps, "outputs": outputs, "template": template,
            "api_id": re.match(r"https://([a-z0-9]+)\.execute-api\.", outputs["ApiEndpoint"]).group(1)}


def test_bootstrap_creates_the_artifacts_stack_and_is_idempotent(deployed):
    assert "ArtifactBucketName" in deployed["steps"]["bootstrap"].out
    again = deployed["project"].run("bootstrap", "--env", "dev")
    assert again.code == 0, again.text
    assert "no changes" in again.out


def test_first_change_set_adds_every_resource(deployed):
    review = deployed["steps"]["changeset"].out
    count = len(deployed["template"]["Resources"])
    assert f"{count} to add, 0 to modify, 0 to replace, 0 to remove" in review
    assert re.search(r"Change set bp-\d{14}-[0-9a-f]{8}-[0-9a-f]{8} to create stack items-dev", review)
    assert re.search(r"^  Add +Table +AWS::DynamoDB::Table", review, re.M)


def test_deploy_streams_events_and_prints_outputs(deployed):
    out = deployed["steps"]["deploy"].out
    assert re.search(r"^\s+\d+\.\ds\s+items-dev\s+AWS::CloudFormation::Stack\s+CREATE_COMPLETE", out, re.M)
    assert set(deployed["outputs"]) >= {"ApiEndpoint", "TableName", "FunctionName", "ApiKeyId"}
    for key, value in deployed["outputs"].items():
        assert value in out, key
    assert deployed["outputs"]["TableName"] == "items-dev-items"
    assert deployed["outputs"]["ApiEndpoint"].endswith("/v1")
    assert not (deployed["project"].state("dev") / "changeset.json").exists()


def test_outputs_command_and_json(deployed):
    run = deployed["project"].run("outputs", "--env", "dev", "--output", "json")
    assert run.code == 0, run.text
    assert json.loads(run.out) == deployed["outputs"]


def test_status_shows_the_stack(deployed):
    run = deployed["project"].run("status", "--env", "dev")
    assert run.code == 0, run.text
    assert "stack items-dev: CREATE_COMPLETE" in run.out


def test_second_change_set_is_a_no_op(deployed):
    run = deployed["project"].run("changeset", "--env", "dev")
    assert run.code == 0, run.text
    assert "no changes" in run.out
    assert not (deployed["project"].state("dev") / "changeset.json").exists()
    plan = deployed["project"].run("plan", "--env", "dev")
    assert plan.code == 0, plan.text
    assert "no changes" in plan.out


def test_deploy_without_a_reviewed_change_set_is_refused(deployed):
    run = deployed["project"].run("deploy", "--env", "dev")
    assert run.code == 2
    assert "no reviewed change set for dev" in run.err and "make changeset ENV=dev" in run.err


# --- the deployed resources, read back through the services' own APIs ----------------------------

def test_table_capacity_ttl_pitr_encryption_and_tags(deployed):
    ddb = deployed["project"].client("dynamodb")
    name = deployed["outputs"]["TableName"]
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert table["SSEDescription"]["Status"] == "ENABLED" and table["SSEDescription"]["SSEType"] == "KMS"
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING") and ttl["AttributeName"] == "expiresAt"
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    assert tags["Environment"] == "development" and tags["Service"] == "items"


def test_every_method_but_preflight_requires_the_api_key(deployed):
    apigw, api = deployed["project"].client("apigateway"), deployed["api_id"]
    seen = {}
    for resource in apigw.get_resources(restApiId=api)["items"]:
        for verb in resource.get("resourceMethods", {}):
            method = apigw.get_method(restApiId=api, resourceId=resource["id"], httpMethod=verb)
            seen[(resource["path"], verb)] = method["apiKeyRequired"]
    assert seen[("/items", "GET")] is True and seen[("/items/{id}", "DELETE")] is True
    assert seen[("/items", "OPTIONS")] is False and seen[("/items/{id}", "OPTIONS")] is False
    assert all(required for (path, verb), required in seen.items() if verb != "OPTIONS")


def test_stage_tracing_logging_and_throttle(deployed):
    stage = deployed["project"].client("apigateway").get_stage(restApiId=deployed["api_id"], stageName="v1")
    assert stage["tracingEnabled"] is True
    settings = stage["methodSettings"]["*/*"]
    assert settings["loggingLevel"] == "INFO" and settings["metricsEnabled"] is True
    assert settings["throttlingRateLimit"] == 50.0 and settings["throttlingBurstLimit"] == 100
    assert stage["accessLogSettings"]["destinationArn"].endswith(":log-group:/aws/apigateway/items-dev/access")
    assert stage["tags"]["Environment"] == "development"


def test_usage_plan_throttle_and_key_binding(deployed):
    apigw = deployed["project"].client("apigateway")
    plans = [p for p in apigw.get_usage_plans()["items"] if p["name"] == "items-dev-plan"]
    assert len(plans) == 1
    assert plans[0]["throttle"] == {"rateLimit": 50.0, "burstLimit": 100}
    assert plans[0]["apiStages"] == [{"apiId": deployed["api_id"], "stage": "v1"}]
    keys = apigw.get_usage_plan_keys(usagePlanId=plans[0]["id"])["items"]
    assert [(k["id"], k["type"]) for k in keys] == [(deployed["outputs"]["ApiKeyId"], "API_KEY")]
    assert "value" not in apigw.get_api_key(apiKey=deployed["outputs"]["ApiKeyId"])


def test_function_vpc_tracing_dlq_environment_and_tags(deployed):
    project = deployed["project"]
    fn = project.client("lambda").get_function_configuration(FunctionName=deployed["outputs"]["FunctionName"])
    assert len(fn["VpcConfig"]["SubnetIds"]) == 2 and len(fn["VpcConfig"]["SecurityGroupIds"]) == 1
    subnets = project.client("ec2").describe_subnets(SubnetIds=fn["VpcConfig"]["SubnetIds"])["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert fn["TracingConfig"]["Mode"] == "Active"
    assert fn["DeadLetterConfig"]["TargetArn"].endswith(":items-dev-dlq")
    env = fn["Environment"]["Variables"]
    assert env["TABLE_NAME"] == "items-dev-items" and env["TTL_DAYS"] == "30" and env["ENVIRONMENT"] == "dev"
    assert env["ALLOWED_ORIGINS"] == "http://localhost:3000"
    assert fn["Runtime"] == "python3.14" and fn["Architectures"] == ["arm64"]
    tags = project.client("lambda").list_tags(Resource=fn["FunctionArn"])["Tags"]
    assert tags["Environment"] == "development"


def test_function_vpc_is_the_stacks_vpc(deployed):
    project = deployed["project"]
    fn = project.client("lambda").get_function_configuration(FunctionName=deployed["outputs"]["FunctionName"])
    subnet = project.client("ec2").describe_subnets(SubnetIds=fn["VpcConfig"]["SubnetIds"][:1])["Subnets"][0]
    if project.target == "local" and fn["VpcConfig"].get("VpcId") != subnet["VpcId"]:
        pytest.skip("moto 5.2.5 gap: Lambda's VpcConfig.VpcId is a fixed 'vpc-123abc', not the subnets' VPC "
                    "(the subnets and security group ids are right); not closed by blueprint/local/patches/")
    assert fn["VpcConfig"]["VpcId"] == subnet["VpcId"]


def test_dynamodb_endpoint_policy_is_limited_to_the_table(deployed):
    ec2 = deployed["project"].client("ec2")
    endpoints = [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                 if e["ServiceName"].endswith(".dynamodb") and e.get("VpcEndpointType", "Gateway") == "Gateway"]
    assert endpoints, "no DynamoDB gateway endpoint"
    document = endpoints[-1]["PolicyDocument"]
    try:
        policy = json.loads(document)
    except ValueError:
        if deployed["project"].target != "local":
            raise
        # moto 5.2.5 gap: it returns the policy as a Python repr (single quotes), not JSON.
        policy = ast.literal_eval(document)
    resources = [r for s in policy["Statement"] for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert any(r.endswith(":table/items-dev-items") for r in resources)
    assert "*" not in resources
    assert endpoints[-1]["RouteTableIds"]


def test_log_groups_have_retention(deployed):
    logs = deployed["project"].client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]}
    for name in ("/aws/lambda/items-dev-api", "/aws/apigateway/items-dev/access", "/aws/vpc/items-dev/flow-logs"):
        assert groups[name]["retentionInDays"] == 7, name


def test_log_groups_are_encrypted_with_the_stack_key(deployed):
    logs = deployed["project"].client("logs")
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/items-dev-api")["logGroups"][0]
    if deployed["project"].target == "local" and "kmsKeyId" not in group:
        pytest.skip("moto 5.2.5 gap: AWS::Logs::LogGroup's KmsKeyId is not stored (describe_log_groups has no "
                    "kmsKeyId); not closed by blueprint/local/patches/")
    assert ":key/" in group["kmsKeyId"]


def test_stack_and_queue_tags(deployed):
    project = deployed["project"]
    stack = project.client("cloudformation").describe_stacks(StackName="items-dev")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {
        "Environment": "development", "Owner": "platform-team", "Service": "items"}
    sqs = project.client("sqs")
    url = sqs.get_queue_url(QueueName="items-dev-dlq")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["Environment"] == "development"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])["Attributes"]["KmsMasterKeyId"]
