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
