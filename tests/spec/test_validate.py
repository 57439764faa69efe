"""Every bound and cross-field rule of the spec: each problem names file, line, key, value and what is allowed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from blueprint.spec import load as spec
from blueprint.spec.validate import problems
from tests.conftest import ROOT

DEV = "environment_tag: development\n"  # line 1 of every envs/dev.yaml written below


def check(project, body: str) -> list[str]:
    (project / "envs/dev.yaml").write_text(DEV + body)
    return problems(spec.load(project, "dev"))


def test_the_schema_is_valid_draft_2020_12_with_a_description_on_every_key():
    from jsonschema import Draft202012Validator

    from blueprint.spec.schema import schema
    Draft202012Validator.check_schema(schema())

    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{path}{key} has no description"
            assert sub.get("type") != "object" or sub.get("additionalProperties") is False or key == "tags", f"{path}{key}"
            walk(sub, f"{path}{key}.")
        if "items" in node:
            walk(node["items"], path)
    walk(schema(), "")


def test_the_committed_specs_are_valid():
    for env in spec.environments(ROOT):
        assert problems(spec.load(ROOT, env)) == []


@pytest.mark.parametrize("body, expected", [
    ("table:\n  read_capacity: 3\n", "envs/dev.yaml:3: table.read_capacity: 3 is below the floor of 5 (allowed: an integer from 5 to 40000)"),
    ("table:\n  write_capacity: 4\n", "envs/dev.yaml:3: table.write_capacity: 4 is below the floor of 5"),
    ("table:\n  read_capacity: 40001\n", "envs/dev.yaml:3: table.read_capacity: 40001 is above the ceiling of 40000"),
    ("table:\n  ttl:\n    days: 0\n", "envs/dev.yaml:4: table.ttl.days: 0 is below the floor of 1 (allowed: an integer from 1 to 3650)"),
    ("function:\n  memory_mb: 64\n", "envs/dev.yaml:3: function.memory_mb: 64 is below the floor of 128"),
    ("function:\n  runtime: python3.9\n", 'envs/dev.yaml:3: function.runtime: "python3.9" is not an accepted value (allowed: "python3.12", "python3.13", "python3.14")'),
    ("function:\n  runtime: python3.10\n", 'envs/dev.yaml:3: function.runtime: "python3.10" is not an accepted value'),
    ("function:\n  architecture: sparc\n", 'envs/dev.yaml:3: function.architecture: "sparc" is not an accepted value (allowed: "arm64", "x86_64")'),
    ("function:\n  reserved_concurrency: 0\n", "envs/dev.yaml:3: function.reserved_concurrency: 0 is below the floor of 1"),
    ("function:\n  max_body_bytes: 400000\n", "envs/dev.yaml:3: function.max_body_bytes: 400000 is above the ceiling of 350000"),
    ("logs:\n  retention_days: 10\n", "envs/dev.yaml:3: logs.retention_days: 10 is not an accepted value (allowed: 1, 3, 5, 7, 14, 30,"),
    ("api:\n  throttle:\n    rate_limit: 0\n", "envs/dev.yaml:4: api.throttle.rate_limit: 0 is below the floor of 0 (exclusive)"),
    ("api:\n  throttle:\n    burst_limit: 6000\n", "envs/dev.yaml:4: api.throttle.burst_limit: 6000 is above the ceiling of 5000"),
    ("api:\n  quota:\n    limit: 10\n    period: YEAR\n", 'envs/dev.yaml:5: api.quota.period: "YEAR" is not an accepted value (allowed: "DAY", "WEEK", "MONTH")'),
    ("api:\n  quota:\n    limit: 10\n", "envs/dev.yaml:3: api.quota: missing required key 'period'"),
    ("api:\n  stage: prod stage\n", 'envs/dev.yaml:3: api.stage: "prod stage" has the wrong form (allowed: stage name, the first segment of the URL path: 1-128 letters, digits, hyphens or underscores'),
    ("api:\n  stage: " + "s" * 129 + "\n", 'envs/dev.yaml:3: api.stage: "sss'),
    ("api:\n  cors:\n    allow_origins: ['https://a.example.com/path']\n", "envs/dev.yaml:4: api.cors.allow_origins[0]: \"https://a.example.com/path\" has the wrong form"),
    ("api:\n  cors:\n    allow_origins: []\n", "envs/dev.yaml:4: api.cors.allow_origins: the list needs at least 1 item(s)"),
    ("network:\n  az_count: 1\n", "envs/dev.yaml:3: network.az_count: 1 is below the floor of 2"),
    ("network:\n  vpc_cidr: 10.0.0.0/8\n", 'envs/dev.yaml:3: network.vpc_cidr: "10.0.0.0/8" has the wrong form'),
    ("region: 5\n", 'envs/dev.yaml:2: region: 5 is an integer, expected a string — quote it: "5"'),
    ("account_id: 123456789012\n", 'envs/dev.yaml:2: account_id: 123456789012 is an integer, expected a string — quote it: "123456789012"'),
    ("table: []\n", "envs/dev.yaml:2: table: got a list, expected a map"),
    ("tags:\n  Environment: prod\n", 'envs/dev.yaml:3: tags.Environment: "Environment" is not allowed as a key (allowed: a tag key: 1-127'),
    ("tags:\n  Team: 'a#b'\n", 'envs/dev.yaml:3: tags.Team: "a#b" has the wrong form'),
    ("service: Items\n", 'envs/dev.yaml:2: service: "Items" has the wrong form'),
    ("network:\n  availability_zones: [us-east-1a, us-east-1b]\n",
     'envs/dev.yaml:3: network.availability_zones[0]: "us-east-1a" has the wrong form (allowed: an AZ ID'),
    ("network:\n  availability_zones: [use1-az1, use1-az1]\n", "envs/dev.yaml:3: network.availability_zones: the list repeats an item"),
    ("alarms:\n  monitoring_minutes: 181\n", "envs/dev.yaml:3: alarms.monitoring_minutes: 181 is above the ceiling of 180 (allowed: an integer from 0 to 180)"),
    ("alarms:\n  evaluation:\n    period_seconds: 30\n", 'envs/dev.yaml:4: alarms.evaluation.period_seconds: 30 is not an accepted value (allowed: 60, 300)'),
    ("alarms:\n  thresholds:\n    api_5xx_rate: 5\n", "envs/dev.yaml:4: alarms.thresholds.api_5xx_rate: 5 is above the ceiling of 1 (allowed: a number from 0 to 1)"),
    ("alarms:\n  thresholds:\n    api_latency_p99_ms: 30000\n", "envs/dev.yaml:4: alarms.thresholds.api_latency_p99_ms: 30000 is above the ceiling of 29000"),
    ("alarms:\n  thresholds:\n    concurrency_percent: 0\n", "envs/dev.yaml:4: alarms.thresholds.concurrency_percent: 0 is below the floor of 1"),
    ("alarms:\n  thresholds:\n    function_errors_percent: 0\n", "envs/dev.yaml:4: alarms.thresholds.function_errors_percent: 0 is below the floor of 0 (exclusive)"),
    ("alarms:\n  notify:\n    emails: [oncall]\n", 'envs/dev.yaml:4: alarms.notify.emails[0]: "oncall" has the wrong form (allowed: an email address.)'),
    ("alarms:\n  notify:\n    https: ['http://hooks.example.com/x']\n", 'envs/dev.yaml:4: alarms.notify.https[0]: "http://hooks.example.com/x" has the wrong form'),
    ("alarms:\n  thresholdz: {}\n", "envs/dev.yaml:3: alarms.thresholdz: unknown key 'thresholdz' (did you mean 'thresholds'?"),
])
def test_schema_bounds_name_file_line_key_value_and_what_is_allowed(project, body, expected):
    found = check(project, body)
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize("body, expected", [
    ("table:\n  read_capacty: 5\n", "envs/dev.yaml:3: table.read_capacty: unknown key 'read_capacty' (did you mean 'read_capacity'?"),
    ("api:\n  throtle: {}\n", "envs/dev.yaml:3: api.throtle: unknown key 'throtle' (did you mean 'throttle'?"),
    ("colour: blue\n", "envs/dev.yaml:2: colour: unknown key 'colour' (allowed here:"),
])
def test_unknown_keys_get_a_did_you_mean(project, body, expected):
    assert any(p.startswith(expected) for p in check(project, body))


@pytest.mark.parametrize("body, expected", [
    ("api:\n  throttle:\n    rate_limit: 100\n    burst_limit: 50\n",
     "envs/dev.yaml:5: api.throttle.burst_limit: 50 is below rate_limit 100 (allowed: burst_limit >= rate_limit"),
    ("function:\n  timeout_seconds: 29\n",
     "envs/dev.yaml:3: function.timeout_seconds: 29 s is not below API Gateway's 29 s integration timeout (allowed: 1 to 28"),
    ("table:\n  ttl:\n    attribute: id\n",
     "envs/dev.yaml:4: table.ttl.attribute: \"id\" is the table's partition key"),
    ("table:\n  autoscaling:\n    max_read_capacity: 5\n    max_write_capacity: 50\n    target_utilization: 70\n  read_capacity: 10\n",
     "envs/dev.yaml:4: table.autoscaling.max_read_capacity: 5 is below table.read_capacity 10"),
    ("network:\n  vpc_cidr: 10.0.0.1/16\n",
     "envs/dev.yaml:3: network.vpc_cidr: \"10.0.0.1/16\" is not a network address"),
    ("api:\n  routes:\n    - path: /items\n      methods: [GET]\n    - path: /items\n      methods: [POST]\n",
     "envs/dev.yaml:6: api.routes[1].path: \"/items\" is declared twice"),
    ("api:\n  routes:\n    - path: /items\n      methods: [PATCH]\n",
     "envs/dev.yaml:5: api.routes[0].methods[0]: \"PATCH\" is not in api.cors.allow_methods"),
    ("api:\n  routes:\n    - path: /a-b\n      methods: [GET]\n    - path: /a_b\n      methods: [GET]\n",
     "envs/dev.yaml:6: api.routes[1].path: \"/a_b\" and \"/a-b\" would share the CloudFormation name ResourceAB"),
    ("api:\n  routes:\n    - path: /items/{id}\n      methods: [GET]\n    - path: /items/{key}/x\n      methods: [GET]\n",
     "envs/dev.yaml:6: api.routes[1].path: \"/items/{key}\": /items already has the variable child {id}"),
    ("api:\n  routes:\n    - path: /a/{x}/b/{x}\n      methods: [GET]\n",
     "envs/dev.yaml:4: api.routes[0].path: \"/a/{x}/b/{x}\" names a path parameter twice"),
    ("api:\n  cors:\n    allow_methods: [GET, POST, PUT, DELETE]\n",
     "envs/dev.yaml:4: api.cors.allow_methods: OPTIONS is missing"),
    ("api:\n  cors:\n    allow_headers: [Content-Type]\n",
     "envs/dev.yaml:4: api.cors.allow_headers: X-Api-Key is missing"),
    ("network:\n  availability_zones: [use1-az1, use1-az2, use1-az4]\n",
     "envs/dev.yaml:3: network.availability_zones: 3 AZ IDs for az_count 2 (allowed: exactly az_count IDs, one per subnet)"),
    ("network:\n  availability_zones: [use1-az1, euw1-az2]\n",
     'envs/dev.yaml:3: network.availability_zones[1]: "euw1-az2" is not an AZ of us-east-1 (allowed: its AZ IDs, use1-az1, use1-az2, ...)'),
    ("alarms:\n  evaluation:\n    datapoints_to_alarm: 6\n",
     "envs/dev.yaml:4: alarms.evaluation.datapoints_to_alarm: 6 is more than evaluation_periods 5 (allowed: 1 to 5: M of the N periods looked at)"),
    ("alarms:\n  enabled: true\n  monitoring_minutes: 2\n",
     "envs/dev.yaml:4: alarms.monitoring_minutes: 2 min is shorter than the 3 min the health alarm needs to go to ALARM (3 periods of 60 s) (allowed: 0, or 3 to 180)"),
    ("api:\n  waf: true\nfunction:\n  max_body_bytes: 65537\n",
     "envs/dev.yaml:5: function.max_body_bytes: 65537 bytes with api.waf on: WAF inspects at most the first 65536 bytes"),
])
def test_cross_field_rules(project, body, expected):
    found = check(project, body)
    assert any(p.startswith(expected) for p in found), found


def test_production_must_be_protected_pointing_at_each_line(project):
    (project / "envs/prod.yaml").write_text("environment_tag: production\nprotected: false\ntable:\n  deletion_protection: false\n")
    found = problems(spec.load(project, "prod"))
    assert "envs/prod.yaml:2: protected: false in a production environment (allowed: true, production data must be protected)" in found
    assert any(p.startswith("envs/prod.yaml:4: table.deletion_protection: false in a production environment") for p in found)
    assert any(p.startswith("blueprint.yaml:") and "table.retain_on_delete: false in a production" in p for p in found)


def test_a_value_set_in_the_base_file_is_located_there(project):
    text = (project / "blueprint.yaml").read_text().replace("  memory_mb: 256", "  memory_mb: 100")
    (project / "blueprint.yaml").write_text(text)
    line = text.splitlines().index("  memory_mb: 100") + 1
    assert f"blueprint.yaml:{line}: function.memory_mb: 100 is below the floor of 128 (allowed: an integer from 128 to 10240)" in check(project, "")


def test_all_problems_are_reported_at_once(project):
    found = check(project, "table:\n  read_capacity: 1\n  write_capacity: 2\nfunction:\n  memory_mb: 1\n")
    assert [p.split(":")[1] for p in found] == ["3", "4", "6"]


def run_cli(project, *args):
    return subprocess.run([sys.executable, "-m", "blueprint", "--root", str(project), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_new_user_sets_prod_read_capacity_to_3(project):
    path = project / "envs/prod.yaml"
    text = path.read_text().replace("  read_capacity: 20", "  read_capacity: 3")
    path.write_text(text)
    line = text.splitlines().index("  read_capacity: 3") + 1
    before = {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()}
    result = run_cli(project, "render")
    assert result.returncode == 2
    assert result.stdout == ""
    errors = [l for l in result.stderr.splitlines() if "read_capacity" in l]
    assert errors == [f"envs/prod.yaml:{line}: table.read_capacity: 3 is below the floor of 5 (allowed: an integer from 5 to 40000)"]
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("args, code, text", [
    (["render", "--env", "qa"], 2, "no file envs/qa.yaml"),
    (["validate", "--env", "Prod"], 2, "environment 'Prod': not an environment name"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["deploy"], 2, "the following arguments are required: --env"),
])
def test_bad_cli_arguments_exit_2_without_traceback(project, args, code, text):
    result = run_cli(project, *args)
    assert result.returncode == code
    assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_cross_field_rules_still_run_beside_a_schema_error_elsewhere(project):
    found = check(project, "function:\n  timeout_seconds: 30\napi:\n  stagee: v2\n")
    assert any(p.startswith("envs/dev.yaml:3: function.timeout_seconds: 30 s is not below") for p in found), found
    assert any(p.startswith("envs/dev.yaml:5: api.stagee: unknown key") for p in found), found


def test_a_rule_is_skipped_where_its_section_is_broken(project):
    found = check(project, "api:\n  throttle:\n    rate_limit: fast\n    burst_limit: 1\n")
    assert [p.split(": ")[1] for p in found] == ["api.throttle.rate_limit"]


@pytest.mark.parametrize("region, code", [
    ("us-east-1", "use1"), ("eu-west-1", "euw1"), ("ap-northeast-1", "apne1"), ("ap-southeast-2", "apse2"),
    ("ca-central-1", "cac1"), ("sa-east-1", "sae1"), ("af-south-1", "afs1"), ("me-central-1", "mec1"),
    ("il-central-1", "ilc1"), ("us-gov-west-1", "usgw1"), ("cn-north-1", "cnn1"), ("cn-northwest-1", "cnnw1"),
    ("us-iso-east-1", None)])
def test_the_az_id_code_of_a_region(region, code):
    from blueprint.spec.rules.az_ids_match_region import region_code
    assert region_code(region) == code


def test_the_az_id_codes_agree_with_the_ids_moto_knows():
    # moto's EC2 lists real accounts' AZ IDs for a dozen regions: each starts with the code derived here.
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
    from blueprint.spec.rules.az_ids_match_region import region_code
    checked = 0
    for region, zones in RegionsAndZonesBackend.zones.items():
        for zone in zones:
            if zone.zone_type == "availability-zone" and region_code(region):
                assert zone.zone_id.split("-az")[0] == region_code(region), (region, zone.zone_id)
                checked += 1
    assert checked >= 30


def test_pinned_az_ids_of_the_region_are_accepted(project):
    assert check(project, "network:\n  az_count: 3\n  availability_zones: [use1-az1, use1-az2, use1-az4]\n") == []


def test_a_short_watch_is_refused_only_where_the_alarms_are_on(project):
    assert check(project, "alarms:\n  monitoring_minutes: 2\n") == []  # dev: alarms off, nothing to watch
    assert check(project, "alarms:\n  enabled: true\n  monitoring_minutes: 0\n") == []  # 0: only while deploying
