"""AWS's own limits, finite numbers and the cross-field rules that read other parts of the project.

Each case is a spec that was accepted before these checks and that AWS (or the handler) would refuse at
deploy time.
"""
from __future__ import annotations

import pytest

from blueprint.spec import load as spec
from blueprint.spec.validate import problems

DEV = "environment_tag: development\n"


def check(project, body: str) -> list[str]:
    (project / "envs/dev.yaml").write_text(body if body.startswith("environment_tag:") else DEV + body)
    return problems(spec.load(project, "dev"))


def many_tags(n: int, prefix: str = "T") -> str:
    return "tags:\n" + "".join(f"  {prefix}{i}: v\n" for i in range(n))


@pytest.mark.parametrize("body, expected", [
    # 50 tags on a resource, counting Environment and the Name of network resources: the base has 2 tags.
    (many_tags(47), "envs/dev.yaml:2: tags: 49 keys, more than 48 (allowed: tags on the stack and every taggable resource"),
    ("tags:\n  " + "k" * 128 + ": v\n", 'envs/dev.yaml:3: tags.kkkk'),  # EC2 takes 127
    ("tags:\n  Team: " + "v" * 257 + "\n", "envs/dev.yaml:3: tags.Team: \"vvvv"),
    ("tags:\n  Team: ''\n", 'envs/dev.yaml:3: tags.Team: "" has the wrong form'),  # a stack tag's value is 1-256
    ("tags:\n  aws:team: x\n", 'envs/dev.yaml:3: tags.aws:team: "aws:team" is not allowed as a key'),
    ("tags:\n  AWS:team: x\n", 'envs/dev.yaml:3: tags.AWS:team: "AWS:team" is not allowed as a key'),
    ("tags:\n  Aws:team: x\n", 'envs/dev.yaml:3: tags.Aws:team: "Aws:team" is not allowed as a key'),
    ("tags:\n  Team: aWs:x\n", 'envs/dev.yaml:3: tags.Team: "aWs:x" has the wrong form'),
    ("tags:\n  Name: x\n", 'envs/dev.yaml:3: tags.Name: "Name" is not allowed as a key'),
    ("tags:\n  environment: x\n", "envs/dev.yaml:3: tags.environment: 'environment' differs from the tag Environment the tool adds only in letter case"),
    ("tags:\n  NAME: x\n", "envs/dev.yaml:3: tags.NAME: 'NAME' differs from the tag Name the tool adds only in letter case"),
    ("tags:\n  owner: x\n", "envs/dev.yaml:3: tags.owner: 'owner' differs from tags.Owner only in letter case"),
    ("tags:\n  Team: caf\u00e9\n", 'envs/dev.yaml:3: tags.Team: "caf\\u00e9" has the wrong form'),
    ("environment_tag: AWS:dev\n", 'envs/dev.yaml:1: environment_tag: "AWS:dev" has the wrong form'),
    ("api:\n  stage: " + "s" * 129 + "\n", "envs/dev.yaml:3: api.stage: \"ssss"),
    ("api:\n  stage: v1.0\n", 'envs/dev.yaml:3: api.stage: "v1.0" has the wrong form'),
    ("api:\n  stage: ${AWS::Region}\n", 'envs/dev.yaml:3: api.stage: "${AWS::Region}" has the wrong form'),
    ("api:\n  cors:\n    allow_origins: [" + ", ".join(f"https://a{i}.example.com" for i in range(11)) + "]\n",
     "envs/dev.yaml:4: api.cors.allow_origins: the list has 11 items, more than 10"),
    ("api:\n  cors:\n    allow_origins: [https://" + "a" * 260 + ".com]\n", "envs/dev.yaml:4: api.cors.allow_origins[0]:"),
    ("description: \"tab\\there\"\n", 'envs/dev.yaml:2: description: "tab\\there" has the wrong form'),
    ("api:\n  routes:\n" + "".join(f"    - path: /r{i}\n      methods: [GET]\n" for i in range(301)),
     "envs/dev.yaml:3: api.routes: the list has 301 items, more than 300 (allowed: the API's resources and methods"),
    ("api:\n  routes:\n" + "".join(f"    - path: /r{i}/x\n      methods: [GET]\n" for i in range(151)),
     "envs/dev.yaml:3: api.routes: the routes make 302 API Gateway resources (path segments), more than its 300 per API"),
    ("api:\n  routes:\n" + "".join(f"    - path: /r{i}\n      methods: [GET, POST, PUT, DELETE]\n" for i in range(80)),
     "envs/dev.yaml:3: api.routes: the routes make the template hold up to 535 resources, more than CloudFormation's 500"),
])
def test_aws_limits(project, body, expected):
    found = check(project, body)
    assert any(p.startswith(expected) for p in found), found


def test_the_most_tags_aws_allows_are_accepted(project):
    assert check(project, many_tags(46)) == []  # 46 + the base's 2 = 48, + Environment + Name = 50


@pytest.mark.parametrize("attribute", ["id", "data", "version", "createdAt", "updatedAt"])
def test_the_ttl_attribute_is_not_an_attribute_the_handler_writes(project, attribute):
    found = check(project, f"table:\n  ttl:\n    attribute: {attribute}\n")
    assert any(p.startswith(f'envs/dev.yaml:4: table.ttl.attribute: "{attribute}" is ') and "(allowed: any name but " in p
               for p in found), found


def test_the_ttl_rule_reads_the_handlers_own_list():
    from blueprint.spec.pysource import constant
    from blueprint.spec.rules import ttl_attribute_free

    managed = constant(ttl_attribute_free.HANDLER_CONFIG, ttl_attribute_free.MANAGED)
    assert {"id", "data", "version", "createdAt", "updatedAt"} <= managed
    for name in managed:
        assert list(ttl_attribute_free.check({"table": {"ttl": {"attribute": name}}}))


@pytest.mark.parametrize("body, expected", [
    ("api:\n  throttle:\n    rate_limit: .nan\n", "envs/dev.yaml:4: api.throttle.rate_limit: .nan is not a finite number, expected a number"),
    ("api:\n  throttle:\n    rate_limit: .inf\n", "envs/dev.yaml:4: api.throttle.rate_limit: .inf is not a finite number"),
    ("api:\n  throttle:\n    rate_limit: -.inf\n", "envs/dev.yaml:4: api.throttle.rate_limit: -.inf is not a finite number"),
    ("table:\n  read_capacity: .nan\n", "envs/dev.yaml:3: table.read_capacity: .nan is not a finite number, expected an integer"),
    ("api:\n  quota:\n    limit: 1.0e+29\n    period: DAY\n", "envs/dev.yaml:4: api.quota.limit: 1e+29 is above the ceiling of 2147483647"),
    ("api:\n  quota:\n    limit: 2147483648\n    period: DAY\n", "envs/dev.yaml:4: api.quota.limit: 2147483648 is above the ceiling of 2147483647 (allowed: an integer from 1 to 2147483647)"),
    ("function:\n  memory_mb: 123456789012345678901234567890\n", "envs/dev.yaml:3: function.memory_mb: 123456789012345678901234567890 is above the ceiling of 10240"),
])
def test_every_number_is_finite_and_within_what_aws_takes(project, body, expected):
    found = check(project, body)
    assert any(p.startswith(expected) for p in found), found


def test_every_numeric_key_has_a_maximum_and_integers_fit_an_int32():
    from blueprint.spec.schema import schema

    def walk(node, path):
        if node.get("type") in ("integer", "number") and "enum" not in node:
            assert "maximum" in node or "exclusiveMaximum" in node, f"{path} has no maximum"
            if node["type"] == "integer":
                assert node.get("maximum", node.get("exclusiveMaximum")) <= 2**31 - 1, path
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{key}".strip("."))
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], f"{path}[]")
    walk(schema(), "")


def test_an_integer_written_as_a_float_reaches_the_model_as_an_int(project):
    from blueprint.spec.validate import validated

    (project / "envs/dev.yaml").write_text(DEV + "table:\n  read_capacity: 7.0\n")
    model = validated(spec.load(project, "dev"))
    assert model.table.read_capacity == 7 and type(model.table.read_capacity) is int


def test_nan_never_reaches_the_model_through_a_number_key(project):
    for value in (".nan", ".NaN", ".inf", "-.Inf"):
        found = check(project, f"api:\n  throttle:\n    rate_limit: {value}\n")
        assert any("is not a finite number" in p for p in found), (value, found)


def test_every_list_and_open_map_in_the_schema_has_a_size_limit():
    # Validation is bounded by these (blueprint.spec.schema._bounded), not by the size of the input.
    from blueprint.spec.schema import schema

    def walk(node, path):
        if node.get("type") == "array":
            assert "maxItems" in node, f"{path} has no maxItems"
            walk(node["items"], f"{path}[]")
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False or "maxProperties" in node, f"{path} has no maxProperties"
            for key, sub in node.get("properties", {}).items():
                walk(sub, f"{path}.{key}".strip("."))
    walk(schema(), "")


def test_an_oversized_list_is_refused_by_its_length_and_only_its_allowed_part_is_checked(project):
    routes = "".join(f"    - path: /r{i}\n      methods: [GET, FROB]\n" for i in range(5000))
    found = check(project, "api:\n  routes:\n" + routes)
    assert found[0].startswith("envs/dev.yaml:3: api.routes: the list has 5000 items, more than 300 (allowed: ")
    assert len(found) == 1 + 300  # each of the 300 kept routes names FROB; the 4,700 others are not read


def test_thousands_of_unknown_keys_give_twenty_lines_and_a_count(project):
    found = check(project, "".join(f"junk{i}: 1\n" for i in range(3000)))
    assert len(found) == 21
    assert any("2980 more unknown keys besides those" in p for p in found)
