"""R1-R15 and G1-G12 of REQUIREMENTS.md, asserted on the generated template of every environment."""
from __future__ import annotations

import json
import re
from functools import cache

import pytest

from blueprint.spec import load as spec
from blueprint.cfn import loader
from blueprint.spec.validate import load_valid
from tests.conftest import ROOT

ENVS = spec.environments(ROOT)


@cache
def template(env: str) -> dict:
    return loader.loads((ROOT / "generated" / env / "template.yaml").read_text())


@cache
def the_spec(env: str):
    return load_valid(ROOT, [env])[0]


def of_type(t: dict, kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in t["Resources"].items() if r["Type"] == kind}


def props(t: dict, lid: str) -> dict:
    return t["Resources"][lid]["Properties"]


def statements(policy_doc: dict) -> list[dict]:
    return policy_doc["Statement"]


def as_list(v):
    return v if isinstance(v, list) else [v]


@pytest.fixture(params=ENVS)
def env(request):
    return request.param


class TestR1Network:
    def test_private_subnets_in_distinct_azs_no_public_ip(self, env):
        t, s = template(env), the_spec(env)
        subnets = of_type(t, "AWS::EC2::Subnet")
        assert len(subnets) == s.network.az_count >= 2
        azs = [p["Properties"]["AvailabilityZone"]["Fn::Select"][0] for p in subnets.values()]
        assert sorted(azs) == list(range(len(subnets)))
        assert all(p["Properties"]["MapPublicIpOnLaunch"] is False for p in subnets.values())

    def test_no_internet_gateway_nat_or_routes_out(self, env):
        kinds = {r["Type"] for r in template(env)["Resources"].values()}
        assert not kinds & {"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::VPCGatewayAttachment",
                            "AWS::EC2::Route", "AWS::EC2::EIP", "AWS::EC2::EgressOnlyInternetGateway"}

    def test_function_runs_in_every_private_subnet_with_its_own_security_group(self, env):
        t = template(env)
        vpc = props(t, "Function")["VpcConfig"]
        assert sorted(x["Ref"] for x in vpc["SubnetIds"]) == sorted(of_type(t, "AWS::EC2::Subnet"))
        assert vpc["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}]
        sg = props(t, "FunctionSecurityGroup")
        assert "SecurityGroupIngress" not in sg
        assert [(e["FromPort"], e["ToPort"]) for e in sg["SecurityGroupEgress"]] == [(443, 443)]

    def test_dynamodb_gateway_endpoint_on_the_subnets_route_table_limited_to_the_table(self, env):
        t = template(env)
        ep = props(t, "DynamoDbEndpoint")
        assert ep["VpcEndpointType"] == "Gateway"
        assert ep["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"}
        tables = {a["Properties"]["RouteTableId"]["Ref"] for a in of_type(t, "AWS::EC2::SubnetRouteTableAssociation").values()}
        assert [r["Ref"] for r in ep["RouteTableIds"]] == sorted(tables) == ["PrivateRouteTable"]
        for st in statements(ep["PolicyDocument"]):
            assert st["Resource"] == [{"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::Sub": "${Table.Arn}/index/*"}]
            assert all(a.startswith("dynamodb:") and "*" not in a for a in st["Action"])


class TestR2Code:
    def test_no_layers_and_code_from_the_packaged_handler(self, env):
        t = template(env)
        assert not of_type(t, "AWS::Lambda::LayerVersion")
        fn = props(t, "Function")
        assert "Layers" not in fn and "ZipFile" not in fn["Code"]
        assert fn["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "CodeKey"}}
        assert fn["Handler"] == "app.lambda_handler"


class TestR3AccountLogging:
    def test_account_role_lives_in_the_bootstrap_stack_only(self, env):
        assert not of_type(template(env), "AWS::ApiGateway::Account")
        boot = loader.loads((ROOT / "generated/bootstrap/template.yaml").read_text())
        account = of_type(boot, "AWS::ApiGateway::Account")
        assert [a["Properties"]["CloudWatchRoleArn"] for a in account.values()] == [{"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}]
        role = props(boot, "ApiGatewayCloudWatchRole")
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert "ManagedPolicyArns" not in role


ALLOWED_STAR = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}


def role_statements(t: dict) -> list[dict]:
    out = []
    for lid, r in t["Resources"].items():
        if r["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in r["Properties"], lid
            for pol in r["Properties"].get("Policies", []):
                out += statements(pol["PolicyDocument"])
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            out += statements(r["Properties"]["PolicyDocument"])
    return out


class TestR4LeastPrivilege:
    def test_no_wildcard_actions_and_star_resources_only_where_aws_cannot_scope(self, env):
        for st in role_statements(template(env)):
            actions = as_list(st["Action"])
            assert all("*" not in a for a in actions), st
            if st["Resource"] == "*":
                assert set(actions) <= ALLOWED_STAR, st

    def test_dynamodb_on_the_table_sqs_on_the_dlq(self, env):
        t = template(env)
        for st in role_statements(t):
            actions = as_list(st["Action"])
            if any(a.startswith("dynamodb:") for a in actions):
                assert st["Resource"] == [{"Fn::GetAtt": ["Table", "Arn"]}]
                assert set(actions) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"}
            if any(a.startswith("sqs:") for a in actions):
                assert actions == ["sqs:SendMessage"] and st["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}

    def test_roles_are_assumable_only_by_their_service_in_this_account(self, env):
        for lid, r in of_type(template(env), "AWS::IAM::Role").items():
            (st,) = r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert set(st["Principal"]) == {"Service"}
            assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def methods(t: dict) -> dict[str, dict]:
    return {lid: r["Properties"] for lid, r in of_type(t, "AWS::ApiGateway::Method").items()}


class TestR5ApiKeys:
    def test_every_method_needs_a_key_except_preflight(self, env):
        ms = methods(template(env))
        routes = {(r.path, m) for r in the_spec(env).api.routes for m in r.methods}
        assert len([m for m in ms.values() if m["HttpMethod"] != "OPTIONS"]) == len(routes)
        for m in ms.values():
            assert m["ApiKeyRequired"] is (m["HttpMethod"] != "OPTIONS")

    def test_key_plan_and_binding_and_the_value_is_nowhere(self, env):
        t = template(env)
        key = props(t, "ApiKey")
        assert "Value" not in key and key["Enabled"] is True
        binding = props(t, "UsagePlanKey")
        assert binding == {"KeyId": {"Ref": "ApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "UsagePlan"}}
        assert "APIKeyValue" not in json.dumps(t)


class TestR6Cors:
    def test_preflight_on_every_resource_with_methods(self, env):
        t, s = template(env), the_spec(env)
        ms = methods(t)
        options = {m["ResourceId"]["Ref"]: m for m in ms.values() if m["HttpMethod"] == "OPTIONS"}
        with_methods = {m["ResourceId"]["Ref"] for m in ms.values() if m["HttpMethod"] != "OPTIONS"}
        assert set(options) == with_methods
        for m in options.values():
            (resp,) = m["Integration"]["IntegrationResponses"]
            params = resp["ResponseParameters"]
            assert params["method.response.header.Access-Control-Allow-Headers"] == "'" + ",".join(s.api.cors.allow_headers) + "'"
            assert "OPTIONS" in params["method.response.header.Access-Control-Allow-Methods"]
            vtl = resp["ResponseTemplates"]["application/json"]
            for origin in s.api.cors.allow_origins:
                assert f'$origin == "{origin}"' in vtl
            assert "responseOverride.header.Access-Control-Allow-Origin" in vtl

    def test_gateway_responses_carry_cors_headers(self, env):  # G1
        t, s = template(env), the_spec(env)
        grs = {r["Properties"]["ResponseType"]: r["Properties"] for r in of_type(t, "AWS::ApiGateway::GatewayResponse").values()}
        assert set(grs) == {"DEFAULT_4XX", "DEFAULT_5XX"}
        for gr in grs.values():
            p = gr["ResponseParameters"]
            # never an echo of the request's Origin: that would allow what preflight refuses
            assert p["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{s.api.cors.allow_origins[0]}'"
            assert "x-api-key" in p["gatewayresponse.header.Access-Control-Allow-Headers"].lower()

    def test_the_handler_gets_the_same_origins(self, env):
        assert props(template(env), "Function")["Environment"]["Variables"]["ALLOWED_ORIGINS"] == ",".join(the_spec(env).api.cors.allow_origins)


class TestR7Table:
    def test_capacity_ttl_pitr_encryption(self, env):
        t, s = template(env), the_spec(env)
        p = props(t, "Table")
        assert p["BillingMode"] == "PROVISIONED"
        assert p["ProvisionedThroughput"] == {"ReadCapacityUnits": s.table.read_capacity, "WriteCapacityUnits": s.table.write_capacity}
        assert min(p["ProvisionedThroughput"].values()) >= 5
        assert p["TimeToLiveSpecification"] == {"AttributeName": s.table.ttl.attribute, "Enabled": True}
        assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert p["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "KmsKey"}}
        assert props(t, "Function")["Environment"]["Variables"]["TTL_DAYS"] == str(s.table.ttl.days) == "30"

    def test_production_protection_and_retain(self, env):  # G2
        t, s = template(env), the_spec(env)
        r = t["Resources"]["Table"]
        # RetainExceptOnCreate: kept, except when the create that made it rolls back (docs/real-account.md)
        expected = ("RetainExceptOnCreate", "Retain") if s.table.retain_on_delete else ("Delete", "Delete")
        assert (r["DeletionPolicy"], r["UpdateReplacePolicy"]) == expected
        assert s.table.retain_on_delete or s.environment_tag != "production"
        if s.environment_tag == "production":
            assert r["Properties"]["DeletionProtectionEnabled"] is True
            settings = json.loads((ROOT / "generated" / env / "stack.json").read_text())
            assert settings["termination_protection"] is True
            deny = [st for st in settings["stack_policy"]["Statement"] if st["Effect"] == "Deny"]
            assert deny == [{"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"], "Resource": "LogicalResourceId/Table"}]

    def test_autoscaling_when_the_spec_asks(self, env):
        t, s = template(env), the_spec(env)
        targets = of_type(t, "AWS::ApplicationAutoScaling::ScalableTarget")
        if s.table.autoscaling is None:
            assert not targets
        else:
            assert {p["Properties"]["ScalableDimension"]: (p["Properties"]["MinCapacity"], p["Properties"]["MaxCapacity"]) for p in targets.values()} == {
                "dynamodb:table:ReadCapacityUnits": (s.table.read_capacity, s.table.autoscaling.max_read_capacity),
                "dynamodb:table:WriteCapacityUnits": (s.table.write_capacity, s.table.autoscaling.max_write_capacity)}


class TestR8Function:
    def test_runtime_tracing_dlq_environment(self, env):
        t, s = template(env), the_spec(env)
        fn = props(t, "Function")
        from blueprint.spec.schema import schema
        assert fn["Runtime"] == s.function.runtime
        assert fn["Runtime"] in schema()["properties"]["function"]["properties"]["runtime"]["enum"]
        assert fn["TracingConfig"] == {"Mode": "Active"}
        assert fn["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
        assert props(t, "DeadLetterQueue")["KmsMasterKeyId"] == {"Ref": "KmsKey"}
        variables = fn["Environment"]["Variables"]
        assert {"TABLE_NAME", "TTL_DAYS", "TTL_ATTRIBUTE", "ALLOWED_ORIGINS", "LOG_LEVEL", "ENVIRONMENT", "MAX_BODY_BYTES"} <= set(variables)
        assert variables["TABLE_NAME"] == {"Ref": "Table"} and variables["ENVIRONMENT"] == env
        assert fn["ReservedConcurrentExecutions"] == s.function.reserved_concurrency  # G10
        assert fn["KmsKeyArn"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}


def taggable_problems(t: dict, spec_model) -> list[str]:
    """Every resource the provider schemas call taggable must carry Environment and the spec's tags, in the
    shape its schema takes (a list of Key/Value or a map); the others carry none; the tool adds no key but
    the ones the spec's rules reserve."""
    from blueprint.cfn.schemas import tagging
    from blueprint.spec.rules.tag_keys_distinct import TOOL_TAG_KEYS

    expected = dict(spec_model.all_tags)
    found = []
    for lid, r in t["Resources"].items():
        how = tagging(r["Type"])
        assert how is not None, f"{r['Type']}: no provider schema in cfn-lint's data"
        props = r.get("Properties", {})
        if not how.taggable:
            if "Tags" in props:
                found.append(f"{lid} ({r['Type']}) carries Tags its schema does not take")
            continue
        tags = props.get(how.tag_property)
        if tags is None:
            found.append(f"{lid} ({r['Type']}) is taggable and carries no {how.tag_property}")
            continue
        as_dict = {x["Key"]: x["Value"] for x in tags} if how.shape == "list" else dict(tags)
        if how.shape == "list" and not all(set(x) == {"Key", "Value"} for x in tags):
            found.append(f"{lid}: {how.tag_property} is not a list of Key/Value")
        if {k: as_dict.get(k) for k in expected} != expected:
            found.append(f"{lid} ({r['Type']}) misses tags: {sorted(set(expected.items()) - set(as_dict.items()))}")
        extra = set(as_dict) - set(expected) - set(TOOL_TAG_KEYS)
        if extra:
            found.append(f"{lid} adds tags the spec rules do not reserve: {sorted(extra)}")
    return found


class TestR9Tags:
    def test_every_taggable_resource_carries_environment_and_spec_tags(self, env):
        s = the_spec(env)
        assert dict(s.all_tags)["Environment"] == ("production" if env == "prod" else s.environment_tag)
        assert taggable_problems(template(env), s) == []

    def test_with_every_switch_on_too(self):
        from blueprint.render.templates import render_environment
        from tests.render.test_rendered_values import every_switch_on
        s = every_switch_on()
        assert taggable_problems(loader.loads(render_environment(s)), s) == []

    def test_the_check_sees_an_untagged_taggable_resource(self):
        t = json.loads(json.dumps(template("prod")))
        del t["Resources"]["DynamoDbEndpoint"]["Properties"]["Tags"]
        assert taggable_problems(t, the_spec("prod")) == [
            "DynamoDbEndpoint (AWS::EC2::VPCEndpoint) is taggable and carries no Tags"]

    def test_stack_tags(self, env):
        settings = json.loads((ROOT / "generated" / env / "stack.json").read_text())
        assert settings["tags"] == dict(the_spec(env).all_tags)


class TestR10R11Observability:
    def test_tracing_on_function_and_stage(self, env):
        t = template(env)
        assert props(t, "Stage")["TracingEnabled"] is True
        assert props(t, "Function")["TracingConfig"]["Mode"] == "Active"

    def test_log_groups_retention_deletion_policy_and_kms(self, env):
        t, s = template(env), the_spec(env)
        groups = of_type(t, "AWS::Logs::LogGroup")
        assert {"FunctionLogGroup", "AccessLogGroup", "ExecutionLogGroup"} <= set(groups)
        # API Gateway would create its execution log group itself, without retention: the stack owns it.
        assert groups["ExecutionLogGroup"]["Properties"]["LogGroupName"] == {"Fn::Sub": f"API-Gateway-Execution-Logs_${{RestApi}}/{s.api.stage}"}
        assert t["Resources"]["Stage"]["DependsOn"] == "ExecutionLogGroup"
        for lid, g in groups.items():
            assert g["Properties"]["RetentionInDays"] == s.logs.retention_days
            assert (g["DeletionPolicy"], g["UpdateReplacePolicy"]) == (
                ("RetainExceptOnCreate", "Retain") if s.protected else ("Delete", "Delete"))
            assert g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}  # G5
        assert props(t, "Function")["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
        assert props(t, "Function")["FunctionName"] in groups["FunctionLogGroup"]["Properties"]["LogGroupName"]

    def test_separate_logs_policy_scoped_to_the_function_log_group(self, env):
        p = props(template(env), "FunctionLogsPolicy")
        assert p["Roles"] == [{"Ref": "FunctionRole"}]
        (st,) = statements(p["PolicyDocument"])
        assert st["Resource"] == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}
        assert set(st["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}

    def test_stage_access_logs_and_method_settings(self, env):
        t, s = template(env), the_spec(env)
        stage = props(t, "Stage")
        assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["AccessLogGroup", "Arn"]}
        assert json.loads(stage["AccessLogSetting"]["Format"])["requestId"] == "$context.requestId"
        (ms,) = stage["MethodSettings"]
        assert ms["LoggingLevel"] == s.api.logging_level and ms["MetricsEnabled"] is True


class TestR13Throttle:
    def test_usage_plan_and_stage_carry_the_spec_rates(self, env):
        t, s = template(env), the_spec(env)
        plan = props(t, "UsagePlan")
        assert plan["Throttle"] == {"RateLimit": s.api.throttle.rate_limit, "BurstLimit": s.api.throttle.burst_limit}
        assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestApi"}, "Stage": {"Ref": "Stage"}}]
        (ms,) = props(t, "Stage")["MethodSettings"]
        assert (ms["ThrottlingRateLimit"], ms["ThrottlingBurstLimit"]) == (s.api.throttle.rate_limit, s.api.throttle.burst_limit)
        if env == "prod":
            assert plan["Throttle"]["RateLimit"] == 1000


class TestR14Names:
    def test_physical_names_carry_the_environment_and_nothing_is_hard_coded(self, env):
        t = template(env)
        text = (ROOT / "generated" / env / "template.yaml").read_text()
        for lid, key in [("Table", "TableName"), ("Function", "FunctionName"), ("DeadLetterQueue", "QueueName"),
                         ("RestApi", "Name"), ("ApiKey", "Name"), ("UsagePlan", "UsagePlanName")]:
            assert f"-{env}" in props(t, lid)[key], lid
        assert the_spec(env).region not in text
        assert not re.search(r"\b\d{12}\b", text)
        assert "arn:aws:" not in text  # partition from the pseudo parameter


class TestR15Outputs:
    def test_the_four_outputs(self, env):
        outputs = template(env)["Outputs"]
        alarms = {"HealthAlarmName", "HealthAlarmArn", "AlarmTopicArn"} if the_spec(env).alarms.enabled else set()
        assert set(outputs) == {"ApiEndpoint", "TableName", "FunctionName", "ApiKeyId"} | alarms
        assert outputs["ApiKeyId"]["Value"] == {"Ref": "ApiKey"}
        assert "${RestApi}" in outputs["ApiEndpoint"]["Value"]["Fn::Sub"]


class TestGDetails:
    def test_g3_permission_scoped_to_this_api(self, env):
        p = props(template(env), "FunctionApiPermission")
        assert p["Principal"] == "apigateway.amazonaws.com"
        assert "${RestApi}/" + the_spec(env).api.stage + "/" in p["SourceArn"]["Fn::Sub"]

    def test_g4_stage_points_at_the_hashed_deployment(self, env):
        t = template(env)
        (dep,) = of_type(t, "AWS::ApiGateway::Deployment")
        assert re.fullmatch(r"Deployment[0-9a-f]{10}", dep)
        assert props(t, "Stage")["DeploymentId"] == {"Ref": dep}
        responses = of_type(t, "AWS::ApiGateway::GatewayResponse")
        assert responses and set(t["Resources"][dep]["DependsOn"]) == set(methods(t)) | set(responses)

    def test_g7_function_timeout_below_the_integration_timeout(self, env):
        t = template(env)
        assert props(t, "Function")["Timeout"] < 29
        for m in methods(t).values():
            if m["Integration"]["Type"] == "AWS_PROXY":
                assert m["Integration"]["TimeoutInMillis"] == 29000
                assert m["RequestValidatorId"] == {"Ref": "RequestValidator"}  # G12

    def test_g10_one_customer_managed_key_logs_may_use_it(self, env):
        t = template(env)
        assert list(of_type(t, "AWS::KMS::Key")) == ["KmsKey"]
        key = props(t, "KmsKey")
        assert key["EnableKeyRotation"] is True
        logs = [st for st in statements(key["KeyPolicy"]) if st.get("Principal", {}).get("Service") == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]
        assert logs and "kms:GenerateDataKey*" in logs[0]["Action"]

    def test_g10_caching_is_a_decision_with_a_reason(self, env):
        t, s = template(env), the_spec(env)
        stage = t["Resources"]["Stage"]
        skips = {x["id"]: x["comment"] for x in stage.get("Metadata", {}).get("checkov", {}).get("skip", [])}
        assert stage["Properties"]["CacheClusterEnabled"] is s.api.caching
        if not s.api.caching:
            assert "stale" in skips["CKV_AWS_120"]

    def test_g12_flow_logs_queue_tls_and_waf_switch(self, env):
        t, s = template(env), the_spec(env)
        if s.network.flow_logs:
            fl = props(t, "FlowLog")
            assert fl["TrafficType"] == "ALL" and fl["LogGroupName"] == {"Ref": "FlowLogGroup"}
        (st,) = statements(props(t, "DeadLetterQueuePolicy")["PolicyDocument"])
        assert st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert bool(of_type(t, "AWS::WAFv2::WebACL")) is s.api.waf
        if s.api.waf:
            assert props(t, "WebAclAssociation")["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
            (destination,) = props(t, "WebAclLogging")["LogDestinationConfigs"]
            assert destination["Fn::Sub"].endswith(":log-group:${WafLogGroup}")  # WAF refuses the `:*` of GetAtt Arn
