"""What only a real account shows (docs/real-account.md), kept fixed on every environment's rendered template.

Each class is one item of that page. The project's cfn-lint rules (lint/rules/, run by `make lint`)
check the same properties on any template; here they run on every generated one, and each rule is
shown to fire on the template as it was before the fix.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from functools import cache

import pytest

from blueprint.cfn import loader
from blueprint.render.templates import render_environment
from tests.conftest import ROOT
from tests.render.test_rendered_values import every_switch_on
from tests.render.test_requirements import ENVS, of_type, template, the_spec

RULES_DIR = ROOT / "lint" / "rules"


def rendered(s) -> dict:
    return loader.loads(render_environment(s))


def with_function(s, **changes):
    return dataclasses.replace(s, function=dataclasses.replace(s.function, **changes))


@pytest.fixture(params=ENVS)
def env(request):
    return request.param


# --- the project's cfn-lint rules ------------------------------------------------------------------

@cache
def _rules():
    from cfnlint.rules import RulesCollection
    rules = RulesCollection()
    rules.create_from_directory(str(RULES_DIR))
    return rules


def project_lint(t: dict) -> list[str]:
    """The findings of lint/rules alone (`<rule id> <message>`) on a parsed template."""
    from cfnlint.api import lint
    return sorted(f"{m.rule.id} {m.message}" for m in lint(json.dumps(t), rules=_rules()))


def test_the_rules_folder_holds_the_rules_this_file_expects():
    assert sorted(r.id for r in _rules()) == ["E9101", "E9102", "E9103", "E9104", "E9105"]


@pytest.mark.parametrize("name", [*ENVS, "bootstrap"])
def test_every_generated_template_passes_the_project_rules(name):
    assert project_lint(template(name)) == []


def test_the_fullest_template_passes_the_project_rules():
    assert project_lint(rendered(every_switch_on())) == []


# --- 1. a failed first create leaves nothing behind -----------------------------------------------

KEPT = ("RetainExceptOnCreate", "Retain")


class TestItem1RetainExceptOnCreate:
    def test_kept_resources_are_deleted_when_their_own_create_rolls_back(self, env):
        t, s = template(env), the_spec(env)
        for lid, r in t["Resources"].items():
            policies = (r.get("DeletionPolicy", "Delete"), r.get("UpdateReplacePolicy", "Delete"))
            assert policies in (KEPT, ("Delete", "Delete")), lid
        kept = {lid for lid, r in t["Resources"].items() if r.get("DeletionPolicy") == KEPT[0]}
        stateful = {"KmsKey", "DeadLetterQueue", *of_type(t, "AWS::Logs::LogGroup")}
        assert kept == (stateful if s.protected else set()) | ({"Table"} if s.table.retain_on_delete else set())

    def test_the_bootstrap_stack_too(self):
        boot = template("bootstrap")
        assert {lid for lid, r in boot["Resources"].items() if "DeletionPolicy" in r} == {"ArtifactKey", "ArtifactBucket"}
        for lid in ("ArtifactKey", "ArtifactBucket"):
            r = boot["Resources"][lid]
            assert (r["DeletionPolicy"], r["UpdateReplacePolicy"]) == KEPT

    def test_e9101_sees_plain_retain_and_a_kept_resource_deleted_on_replacement(self):
        t = copy.deepcopy(template("prod"))
        t["Resources"]["Table"]["DeletionPolicy"] = "Retain"
        t["Resources"]["DeadLetterQueue"]["UpdateReplacePolicy"] = "Delete"
        found = project_lint(t)
        assert [f[:5] for f in found] == ["E9101", "E9101"]
        assert any("Table: DeletionPolicy Retain" in f for f in found)
        assert any("DeadLetterQueue: kept on delete" in f for f in found)


# --- 2. the WAF lets through what the handler accepts --------------------------------------------

def common_rule_set(t: dict) -> dict:
    (acl,) = of_type(t, "AWS::WAFv2::WebACL").values()
    (rule,) = [r for r in acl["Properties"]["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"]
    return rule["Statement"]["ManagedRuleGroupStatement"]


def inspection_limit(t: dict) -> str | None:
    (acl,) = of_type(t, "AWS::WAFv2::WebACL").values()
    return acl["Properties"].get("AssociationConfig", {}).get("RequestBody", {}).get("API_GATEWAY", {}).get(
        "DefaultSizeInspectionLimit")


class TestItem2WafBodies:
    def test_each_environment_with_a_waf_counts_the_8_kb_rule_and_inspects_the_whole_body(self, env):
        t, s = template(env), the_spec(env)
        if not s.api.waf:
            assert not of_type(t, "AWS::WAFv2::WebACL")
            return
        assert s.function.max_body_bytes > 8192  # prod: 64 KB
        overrides = common_rule_set(t)["RuleActionOverrides"]
        assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]  # exact: a typo is ignored
        assert "ExcludedRules" not in common_rule_set(t)
        assert inspection_limit(t) == "KB_64"

    @pytest.mark.parametrize("size, counted, limit", [
        (8192, False, None), (8193, True, None), (16384, True, None), (16385, True, "KB_32"),
        (32768, True, "KB_32"), (40000, True, "KB_48"), (65536, True, "KB_64")])
    def test_the_override_and_the_limit_follow_the_body_limit(self, size, counted, limit):
        t = rendered(with_function(every_switch_on(), max_body_bytes=size))
        assert ("RuleActionOverrides" in common_rule_set(t)) is counted
        assert inspection_limit(t) == limit
        assert project_lint(t) == []

    def test_e9104_sees_the_blocked_and_the_uninspected_body(self):
        t = copy.deepcopy(template("prod"))
        del common_rule_set(t)["RuleActionOverrides"]
        del t["Resources"]["WebAcl"]["Properties"]["AssociationConfig"]
        found = project_lint(t)
        assert len(found) == 2 and all(f.startswith("E9104 WebAcl: ") for f in found)
        assert any("SizeRestrictions_BODY blocks bodies over 8 KB but the function accepts 65536 bytes" in f for f in found)
        assert any("WAF inspects the first 16 KB of a body" in f for f in found)

    def test_e9104_sees_a_misspelt_rule_name(self):
        t = copy.deepcopy(template("prod"))
        common_rule_set(t)["RuleActionOverrides"][0]["Name"] = "SizeRestrictions_Body"
        assert [f[:5] for f in project_lint(t)] == ["E9104"]


# --- 3. the deployment waits for the gateway responses -------------------------------------------

def deployment(t: dict) -> tuple[str, dict]:
    (found,) = of_type(t, "AWS::ApiGateway::Deployment").items()
    return found


class TestItem3DeploymentWaitsForGatewayResponses:
    def test_the_deployment_depends_on_every_gateway_response(self, env):
        t = template(env)
        responses = of_type(t, "AWS::ApiGateway::GatewayResponse")
        assert set(responses) == {"GatewayResponseDefault4XX", "GatewayResponseDefault5XX"}
        assert set(responses) <= set(deployment(t)[1]["DependsOn"])

    def test_a_change_of_a_gateway_response_alone_gets_a_new_deployment(self):
        s = the_spec("dev")
        methods = s.api.cors.allow_methods + ("HEAD",)  # read by the gateway responses only
        changed = rendered(dataclasses.replace(s, api=dataclasses.replace(
            s.api, cors=dataclasses.replace(s.api.cors, allow_methods=methods))))
        before = rendered(s)
        assert deployment(changed)[0] != deployment(before)[0]
        only = {lid for lid in before["Resources"] if before["Resources"][lid] != changed["Resources"].get(lid)}
        assert only == {deployment(before)[0], "GatewayResponseDefault4XX", "GatewayResponseDefault5XX", "Stage"}

    def test_e9102_sees_a_deployment_that_does_not_wait(self):
        t = copy.deepcopy(template("dev"))
        lid, dep = deployment(t)
        dep["DependsOn"] = [d for d in dep["DependsOn"] if not d.startswith("GatewayResponse")]
        assert project_lint(t) == [f"E9102 {lid} does not wait for GatewayResponseDefault4XX, GatewayResponseDefault5XX: "
                                   "the deployment may snapshot RestApi without them; add them to its DependsOn"]


# --- 4. reserved concurrency is checked against the account (by the change-set step) -------------

def test_item4_the_spec_reference_says_reserved_concurrency_is_checked_against_the_account():
    from blueprint.spec.schema import schema
    text = schema()["properties"]["function"]["properties"]["reserved_concurrency"]["description"]
    assert "Checked against the account before a change set" in text and "100" in text


# --- 5. Lambda's log level is the spec's ------------------------------------------------------------

class TestItem5LogLevels:
    EXPECTED = {"DEBUG": ("DEBUG", "DEBUG"), "INFO": ("INFO", "INFO"), "WARNING": ("WARN", "WARN"), "ERROR": ("ERROR", "WARN")}

    def test_application_and_system_levels_follow_the_spec(self, env):
        logging = template(env)["Resources"]["Function"]["Properties"]["LoggingConfig"]
        level = the_spec(env).function.log_level
        assert logging["LogFormat"] == "JSON"
        assert (logging["ApplicationLogLevel"], logging["SystemLogLevel"]) == self.EXPECTED[level]
        if env == "prod":
            assert logging["ApplicationLogLevel"] == "WARN"  # the spec's WARNING, not Lambda's default INFO

    @pytest.mark.parametrize("level", sorted(EXPECTED))
    def test_every_level_the_schema_offers(self, level):
        from blueprint.spec.schema import schema
        assert level in schema()["properties"]["function"]["properties"]["log_level"]["enum"]
        fn = rendered(with_function(the_spec("dev"), log_level=level))["Resources"]["Function"]["Properties"]
        assert (fn["LoggingConfig"]["ApplicationLogLevel"], fn["LoggingConfig"]["SystemLogLevel"]) == self.EXPECTED[level]
        assert fn["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == level

    def test_e9103_sees_json_logs_without_levels_and_a_level_powertools_does_not_follow(self):
        t = copy.deepcopy(template("prod"))
        logging = t["Resources"]["Function"]["Properties"]["LoggingConfig"]
        del logging["SystemLogLevel"]
        logging["ApplicationLogLevel"] = "INFO"
        assert project_lint(t) == [
            "E9103 Function: ApplicationLogLevel INFO but POWERTOOLS_LOG_LEVEL WARNING: Powertools follows Lambda's level (set WARN)",
            "E9103 Function: JSON logs without SystemLogLevel: Lambda filters at INFO"]


# --- 6. API Gateway's logging role trusts the service without aws:SourceAccount -------------------

def test_item6_the_api_gateway_logging_role_has_no_source_account_condition():
    boot = template("bootstrap")
    (st,) = boot["Resources"]["ApiGatewayCloudWatchRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert st == {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}


# --- 7. subnets pinned by AZ ID ---------------------------------------------------------------------

class TestItem7AzIds:
    def test_unpinned_subnets_take_the_regions_first_zones(self, env):
        t, s = template(env), the_spec(env)
        subnets = of_type(t, "AWS::EC2::Subnet")
        if s.network.availability_zones:
            assert [p["Properties"]["AvailabilityZoneId"] for p in subnets.values()] == list(s.network.availability_zones)
        else:
            assert [p["Properties"]["AvailabilityZone"] for p in subnets.values()] == [
                {"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in range(s.network.az_count)]

    def test_pinned_subnets_use_availability_zone_id_only(self):
        s = the_spec("prod")
        ids = ("use1-az1", "use1-az2", "use1-az4")
        s = dataclasses.replace(s, network=dataclasses.replace(s.network, availability_zones=ids))
        subnets = of_type(rendered(s), "AWS::EC2::Subnet")
        assert [p["Properties"]["AvailabilityZoneId"] for p in subnets.values()] == list(ids)
        assert not any("AvailabilityZone" in p["Properties"] for p in subnets.values())  # one or the other


# --- 8. the function's role may describe its subnets ------------------------------------------------

def test_item8_the_function_role_has_aws_vpc_access_policys_describe_subnets(env):
    policies = template(env)["Resources"]["FunctionRole"]["Properties"]["Policies"]
    statements = [st for p in policies for st in p["PolicyDocument"]["Statement"]]
    (describe,) = [st for st in statements if "ec2:DescribeSubnets" in st["Action"]]
    assert describe["Resource"] == "*"  # EC2's Describe* calls take no resource ARN
    assert set(describe["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                       "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}


# --- 9, 10 and the page itself ----------------------------------------------------------------------

def test_item9_the_spec_reference_says_gateway_errors_name_one_origin():
    from blueprint.spec.schema import schema
    text = schema()["properties"]["api"]["properties"]["cors"]["properties"]["allow_origins"]["description"]
    assert "can name only one, the first" in text


def test_item10_the_template_says_what_the_dead_letter_queue_catches():
    text = (ROOT / "templates" / "function.yaml.j2").read_text()
    assert "only failed *asynchronous* invocations" in text and "synchronously" in text


def test_the_page_names_every_item_and_is_linked_from_the_readme_and_the_requirements():
    page = (ROOT / "docs" / "real-account.md").read_text()
    for n in range(1, 11):
        assert f"\n## {n}. " in page, n
    for item in ("RetainExceptOnCreate", "SizeRestrictions_BODY", "aws-cdk#10963", "GetAccountSettings",
                 "ApplicationLogLevel", "aws:SourceAccount", "AvailabilityZoneId", "ec2:DescribeSubnets",
                 "first allowed origin", "asynchronous"):
        assert item in page, item
    for doc in ("README.md", "docs/requirements.md"):
        assert "real-account.md" in (ROOT / doc).read_text(), doc
