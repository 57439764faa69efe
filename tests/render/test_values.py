"""What the spec says is what the template says: numbers as numbers, text as text, names inside AWS's limits."""
from __future__ import annotations

import dataclasses
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprint.cfn import loader
from blueprint.errors import UserError
from blueprint.render.templates import render_environment
from blueprint.spec.validate import load_valid
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
