"""What the spec says is what the template says: numbers as numbers, text as text, names inside AWS's limits."""
from __future__ import annotations

import copy
import dataclasses
import json
import math

import pytest
import regex
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from blueprint.cfn import loader, schemas
from blueprint.errors import UserError
from blueprint.render.templates import render_environment
from blueprint.spec import load as spec
from blueprint.spec.schema import schema
from blueprint.spec.validate import load_valid, problems, validated
from tests.conftest import ROOT


def dev_spec():
    return load_valid(ROOT, ["dev"])[0]


# --- numbers --------------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**30, 10**30)))
def test_number_is_read_back_as_that_number_by_cloudformations_yaml(value):
    from blueprint.render.toolkit import number
    text = number(value)
    assert "e" not in text.lower() and "nan" not in text and "inf" not in text
    for parsed in (yaml.safe_load(f"x: {text}\n")["x"], loader.loads(f"x: {text}\n")["x"]):
        assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "1"])
def test_number_refuses_what_has_no_number_in_a_template(value):
    from blueprint.render.toolkit import number
    with pytest.raises(UserError, match="internal"):
        number(value)


@pytest.mark.parametrize("rate", [1e-07, 0.0000015, 2.5e-5, 1234.5678, 5000.0])
def test_a_tiny_or_fractional_rate_reaches_the_template_as_a_number(rate):
    s = dev_spec()
    s = dataclasses.replace(s, api=dataclasses.replace(s.api, throttle=dataclasses.replace(s.api.throttle, rate_limit=rate)))
    t = loader.loads(render_environment(s))
    for found in (t["Resources"]["UsagePlan"]["Properties"]["Throttle"]["RateLimit"],
                  t["Resources"]["Stage"]["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"]):
        assert found == rate and isinstance(found, float)
    assert "e-" not in t["Resources"]["UsagePlan"]["Properties"]["Description"]


def test_a_non_finite_number_never_reaches_a_template():
    s = dev_spec()
    s = dataclasses.replace(s, api=dataclasses.replace(s.api, throttle=dataclasses.replace(s.api.throttle, rate_limit=math.nan)))
    with pytest.raises(UserError, match="cannot be written in a template"):
        render_environment(s)


# --- property: any accepted spec round-trips through the template ---------------------------------

TAG_CHARS = "abcXYZ019 _.:/=+-@"
tag_text = st.text(alphabet=TAG_CHARS, min_size=1, max_size=12) | st.sampled_from(
    ["yes", "no", "on", "~", "null", "1", "0x1F", "1e3", "true", "2024-01-01", " padded ", "@x", "-", "a:b", "=", "+1"])
RUNTIMES = schema()["properties"]["function"]["properties"]["runtime"]["enum"]
RETENTIONS = schema()["properties"]["logs"]["properties"]["retention_days"]["enum"]


@st.composite
def accepted_data(draw):
    data = copy.deepcopy(spec.load(ROOT, "dev").data)
    rate = draw(st.one_of(st.integers(1, 5000), st.floats(min_value=1e-9, max_value=5000, allow_nan=False, allow_infinity=False)))
    assume(rate > 0)
    data.update(
        service=draw(st.from_regex(r"[a-z][a-z0-9-]{1,19}", fullmatch=True)),
        description=draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, [*range(32), 127]))),
                                 max_size=40)),
        tags=draw(st.dictionaries(tag_text.filter(lambda k: k.lower() not in ("environment", "name", "owner", "service")
                                                  and not k.lower().startswith("aws:")),
                                  tag_text.filter(lambda v: not v.lower().startswith("aws:")), max_size=6)),
    )
    data["table"].update(read_capacity=draw(st.integers(5, 40000)), write_capacity=draw(st.integers(5, 40000)),
                         ttl={"attribute": draw(st.sampled_from(["expiresAt", "ttl", "x.y-z", "_t"])), "days": draw(st.integers(1, 3650))})
    if draw(st.booleans()):
        data["table"]["autoscaling"] = {"max_read_capacity": 40000, "max_write_capacity": 40000,
                                        "target_utilization": draw(st.integers(20, 90))}
    data["function"].update(runtime=draw(st.sampled_from(RUNTIMES)), memory_mb=draw(st.integers(128, 10240)),
                            timeout_seconds=draw(st.integers(1, 28)), reserved_concurrency=draw(st.integers(1, 3000)),
                            max_body_bytes=draw(st.integers(1, 350000)))
    burst = draw(st.integers(max(1, math.ceil(rate)), 5000))
    data["api"].update(stage=draw(st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True)),
                       throttle={"rate_limit": rate, "burst_limit": burst}, waf=draw(st.booleans()))
    data["api"]["cors"]["allow_origins"] = draw(st.lists(st.from_regex(r"https?://[a-z0-9.-]{1,20}(:[0-9]{1,5})?", fullmatch=True),
                                                         min_size=1, max_size=10, unique=True))
    if draw(st.booleans()):
        data["api"]["quota"] = {"limit": draw(st.integers(1, 2**31 - 1)), "period": draw(st.sampled_from(["DAY", "WEEK", "MONTH"]))}
    data["logs"]["retention_days"] = draw(st.sampled_from(RETENTIONS))
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(accepted_data())
def test_property_any_accepted_spec_renders_to_the_values_it_says(data):
    loaded = spec.LoadedSpec(env="dev", data=data, locations={}, files=["blueprint.yaml", "envs/dev.yaml"])
    assume(problems(loaded) == [])
    s = validated(loaded)
    t = loader.loads(render_environment(s))
    r = {lid: res.get("Properties", {}) for lid, res in t["Resources"].items()}

    def same(found, expected):  # equal and of the same kind: no string where a number was
        assert found == expected, (found, expected)
        assert isinstance(found, str) == isinstance(expected, str) and isinstance(found, bool) == isinstance(expected, bool)

    same(r["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"], data["table"]["read_capacity"])
    same(r["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"], data["table"]["write_capacity"])
    same(r["Table"]["TimeToLiveSpecification"]["AttributeName"], data["table"]["ttl"]["attribute"])
    same(r["Function"]["Environment"]["Variables"]["TTL_DAYS"], str(data["table"]["ttl"]["days"]))
    if "autoscaling" in data["table"]:
        same(r["TableReadScalableTarget"]["MinCapacity"], data["table"]["read_capacity"])
        same(r["TableWriteScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
             data["table"]["autoscaling"]["target_utilization"])
    throttle = data["api"]["throttle"]
    same(r["UsagePlan"]["Throttle"], {"RateLimit": throttle["rate_limit"], "BurstLimit": throttle["burst_limit"]})
    (method,) = r["Stage"]["MethodSettings"]
    same(method["ThrottlingRateLimit"], throttle["rate_limit"])
    same(method["ThrottlingBurstLimit"], throttle["burst_limit"])
    if "quota" in data["api"]:
        same(r["UsagePlan"]["Quota"], {"Limit": data["api"]["quota"]["limit"], "Period": data["api"]["quota"]["period"]})
    fn = data["function"]
    same(r["Function"]["MemorySize"], fn["memory_mb"])
    same(r["Function"]["Timeout"], fn["timeout_seconds"])
    same(r["Function"]["ReservedConcurrentExecutions"], fn["reserved_concurrency"])
    same(r["Function"]["Runtime"], fn["runtime"])
    same(r["Function"]["Environment"]["Variables"]["MAX_BODY_BYTES"], str(fn["max_body_bytes"]))
    for lid, res in t["Resources"].items():
        if res["Type"] == "AWS::Logs::LogGroup":
            same(res["Properties"]["RetentionInDays"], data["logs"]["retention_days"])
    same(r["Stage"]["StageName"], data["api"]["stage"])
    same(t["Description"], f"{data['description'] or data['service'] + ' service'} (dev)")
    same(r["Function"]["Environment"]["Variables"]["ALLOWED_ORIGINS"], ",".join(data["api"]["cors"]["allow_origins"]))
    expected_tags = {"Environment": "development", **{str(k): v for k, v in data["tags"].items()}}
    same({x["Key"]: x["Value"] for x in r["Table"]["Tags"]}, expected_tags)
    from blueprint.spec.rules import api_fits_quotas
    assert len(t["Resources"]) <= api_fits_quotas.FIXED_RESOURCES + sum(
        1 + len(route.methods) for route in s.api.routes) + len({p for route in s.api.routes for p in _prefixes(route.path)})


def _prefixes(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


# --- the longest names and the fullest spec fit AWS's limits ---------------------------------------

def every_switch_on(**changes):
    """dev with autoscaling, WAF, flow logs, a quota, alarms (two subscriptions) and the dashboard on, 4 AZs:
    every resource the templates can make."""
    s = dev_spec()
    from blueprint.spec.model import Autoscaling, Notify, Quota
    s = dataclasses.replace(
        s, network=dataclasses.replace(s.network, az_count=4, flow_logs=True),
        table=dataclasses.replace(s.table, autoscaling=Autoscaling(100, 100, 70)),
        api=dataclasses.replace(s.api, waf=True, quota=Quota(1000, "DAY")),
        alarms=dataclasses.replace(s.alarms, enabled=True, dashboard=True,
                                   notify=Notify(("oncall@example.com",), ("https://hooks.example.com/alarms",))))
    return dataclasses.replace(s, **changes)


def longest(s):
    """The longest service and environment names the schema allows, the fullest lists."""
    from blueprint.spec.model import Cors
    origins = tuple(f"https://{'a' * 250}{i}.io" for i in range(10))
    assert all(len(o) <= 267 for o in origins)
    return dataclasses.replace(
        s, service="s" + "x" * 19, env="e" + "z" * 9,
        table=dataclasses.replace(s.table, ttl=dataclasses.replace(s.table.ttl, attribute="t" * 255, days=3650)),
        api=dataclasses.replace(s.api, stage="S" * 128, cors=Cors(origins, s.api.cors.allow_methods, s.api.cors.allow_headers, 86400)),
        tags=tuple((f"{'K' * 120}{i:03d}", "v" * 256) for i in range(48)))


# Documented limits of each physical name the templates set (CloudFormation and service references).
NAME_LIMITS = {
    ("AWS::DynamoDB::Table", "TableName"): (255, r"[a-zA-Z0-9_.-]{3,255}"),
    ("AWS::Lambda::Function", "FunctionName"): (64, r"[a-zA-Z0-9_-]+"),
    ("AWS::SQS::Queue", "QueueName"): (80, r"[a-zA-Z0-9_-]+"),
    ("AWS::Logs::LogGroup", "LogGroupName"): (512, r"[.\-_/#A-Za-z0-9]+"),
    ("AWS::WAFv2::WebACL", "Name"): (128, r"[0-9A-Za-z_-]+"),
    ("AWS::KMS::Alias", "AliasName"): (256, r"alias/(?!aws/)[a-zA-Z0-9:/_-]+"),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", "PolicyName"): (256, r"\p{Print}+"),
    ("AWS::ApiGateway::Stage", "StageName"): (128, r"[A-Za-z0-9_-]+"),
    ("AWS::EC2::SecurityGroup", "GroupDescription"): (255, r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*"),
    ("AWS::Lambda::Function", "Description"): (256, r".*"),
    ("AWS::IAM::Role", "Description"): (1000, r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"),
    ("AWS::CloudWatch::Alarm", "AlarmName"): (255, r"[\x20-\x7E]+"),
    ("AWS::CloudWatch::CompositeAlarm", "AlarmName"): (255, r"[\x20-\x7E]+"),
    ("AWS::CloudWatch::Alarm", "AlarmDescription"): (1024, r".*"),
    ("AWS::CloudWatch::Dashboard", "DashboardName"): (255, r"[A-Za-z0-9_-]+"),
    ("AWS::SNS::Topic", "TopicName"): (256, r"[A-Za-z0-9_-]+"),
    ("AWS::SNS::Topic", "DisplayName"): (100, r".*"),
}


@pytest.mark.parametrize("switches", [False, True])
def test_the_longest_names_fit_every_documented_name_limit(switches):
    s = longest(every_switch_on() if switches else dev_spec())
    t = loader.loads(render_environment(s))
    assert len(s.stack_name) <= 128 and regex.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]*", s.stack_name)
    checked = set()
    for lid, res in t["Resources"].items():
        for (kind, prop), (limit, pattern) in NAME_LIMITS.items():
            value = res.get("Properties", {}).get(prop)
            if res["Type"] == kind and isinstance(value, str):
                assert len(value) <= limit and regex.fullmatch(pattern, value), (lid, prop, len(value), value)
                checked.add((kind, prop))
        for prop, value in res.get("Properties", {}).items():  # and whatever the provider schema itself says
            declared = (schemas.provider_schema(res["Type"]) or {}).get("properties", {}).get(prop, {})
            if isinstance(value, str):
                assert len(value) <= declared.get("maxLength", math.inf), (lid, prop)
                if "pattern" in declared:
                    assert regex.search(declared["pattern"].replace("\\Z", "$"), value), (lid, prop, value)
        if res["Type"] == "AWS::Logs::LogGroup" and lid == "WafLogGroup":
            assert res["Properties"]["LogGroupName"].startswith("aws-waf-logs-")
    assert len(checked) >= 9 + 7 * switches


def test_the_fullest_spec_keeps_the_function_environment_under_lambdas_4_kb():
    s = longest(every_switch_on())
    t = loader.loads(render_environment(s))
    variables = t["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    table_name = t["Resources"]["Table"]["Properties"]["TableName"]
    size = sum(len(k) + len(table_name if v == {"Ref": "Table"} else v) for k, v in variables.items())
    assert size <= 4096, size


def test_the_fullest_spec_keeps_every_resource_within_50_tags():
    t = loader.loads(render_environment(longest(every_switch_on())))
    for lid, res in t["Resources"].items():
        assert len(res.get("Properties", {}).get("Tags", [])) <= 50, lid


def test_the_fixed_part_of_the_template_is_what_the_resource_rule_counts():
    from blueprint.spec.model import Route
    from blueprint.spec.rules import api_fits_quotas
    s = every_switch_on()
    s = dataclasses.replace(s, api=dataclasses.replace(s.api, routes=(Route("/items", ("GET",)),)))
    t = loader.loads(render_environment(s))
    variable = {"AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::SNS::Subscription"}  # counted from the spec
    assert sum(1 for r in t["Resources"].values() if r["Type"] not in variable) == api_fits_quotas.FIXED_RESOURCES
    assert len([r for r in t["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]) == 2


def test_the_schema_file_stays_standard_json_schema():
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(schema())
    assert json.loads((ROOT / "schema/blueprint.schema.json").read_text()) == schema()
