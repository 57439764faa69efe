"""Schema patterns mean what they mean in an editor (ECMA-262), for every pattern and every input."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprint.spec import ecma
from blueprint.spec import load as spec
from blueprint.spec.schema import schema
from blueprint.spec.validate import problems

DEV = "environment_tag: development\n"


def schema_patterns(node=None) -> list[str]:
    """Every regular expression in the schema: pattern, propertyNames' pattern, patternProperties' keys."""
    node = schema() if node is None else node
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append(node["pattern"])
        found += list(node.get("patternProperties", {}))
        for value in node.values():
            found += schema_patterns(value)
    elif isinstance(node, list):
        for value in node:
            found += schema_patterns(value)
    return found


PATTERNS = sorted(set(schema_patterns()))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_schema_pattern_has_an_exact_python_equivalent(pattern):
    ecma.compile(pattern)  # PatternError when a construct means something else in Python


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.endswith("$")])
def test_no_anchored_pattern_matches_a_final_newline(pattern):
    # Python's own `$` matches before a final newline: "items\n" passed ^[a-z][a-z0-9-]{1,19}$.
    for text in ("items", "us-east-1", "v1", "Owner", "a", "10.20.0.0/16", "https://a.example.com", "/items"):
        if ecma.search(pattern, text):
            assert not ecma.search(pattern, text + "\n")
            assert not ecma.search(pattern, text + "\r\n")


@pytest.mark.parametrize("pattern, text, expected", [
    ("^[a-z]+$", "items\n", False),
    ("^[a-z]+$", "items", True),
    (r"^\d+$", "\u0663", False),  # ARABIC-INDIC DIGIT THREE: a \d in Python, not in ECMA-262
    (r"^\w+$", "\u00e9", False),
    (r"^a.b$", "a\rb", False),
    (r"^a.b$", "a\u2028b", False),
    (r"^a.b$", "a-b", True),
    (r"^\s$", "\u00a0", True),
    (r"^\s$", "\x1c", False),  # a Python whitespace, not an ECMA one
    (r"^(?![aA][wW][sS]:)x", "AwS:x", False),
    (r"\bcat\b", "a cat.", True),
    (r"\bcat\b", "\u00e9cat", True),  # é is not an ECMA word character, so there is a boundary
])
def test_ecma_meaning(pattern, text, expected):
    assert ecma.search(pattern, text) is expected


@pytest.mark.parametrize("pattern", ["(?i)abc", r"\Aabc", r"abc\Z", "[]", "[^]", "a{,3}", r"[\D]", r"\p{L}", "{1}", "(?P<n>a)"])
def test_constructs_read_differently_are_refused(pattern):
    with pytest.raises(ecma.PatternError):
        ecma.compile(pattern)


def check(project, body: str) -> list[str]:
    (project / "envs/dev.yaml").write_text(DEV + body)
    return problems(spec.load(project, "dev"))


@pytest.mark.parametrize("body, expected", [
    ("service: |\n  items\n", 'envs/dev.yaml:2: service: "items\\n" has the wrong form'),
    ('region: "us-east-1\\n"\n', 'envs/dev.yaml:2: region: "us-east-1\\n" has the wrong form'),
    ("tags:\n  Team: |\n    platform\n", 'envs/dev.yaml:3: tags.Team: "platform\\n" has the wrong form'),
    ('tags:\n  "Team\\n": x\n', 'envs/dev.yaml:3: tags.Team\n: "Team\\n" is not allowed as a key'),
    ("api:\n  stage: |-\n    v1\n\n", None),  # `|-` strips the newline: valid
    ('account_id: "123456789012\\n"\n', 'envs/dev.yaml:2: account_id: "123456789012\\n" has the wrong form'),
    ("network:\n  vpc_cidr: |\n    10.0.0.0/16\n", 'envs/dev.yaml:3: network.vpc_cidr: "10.0.0.0/16\\n" has the wrong form'),
    ("api:\n  cors:\n    allow_origins:\n      - |\n        https://a.example.com\n",
     'envs/dev.yaml:5: api.cors.allow_origins[0]: "https://a.example.com\\n" has the wrong form'),
    ("api:\n  routes:\n    - path: \"/items\\n\"\n      methods: [GET]\n",
     'envs/dev.yaml:4: api.routes[0].path: "/items\\n" has the wrong form'),
    ("description: \"two\\nlines\"\n", 'envs/dev.yaml:2: description: "two\\nlines" has the wrong form'),
])
def test_a_trailing_newline_never_passes_a_pattern(project, body, expected):
    found = check(project, body)
    if expected is None:
        assert found == []
    else:
        assert any(p.startswith(expected) for p in found), found


# --- the translation against an ECMA-262 engine itself, where one is installed ---------------------

NODE = shutil.which("node")
odd_text = st.lists(st.sampled_from(list("az09AZ-_.:/=+@{} \n\r\t") + ["\u0663", "\u00e9", "\u2028", "\u00a0", "aws:", "AwS:",
                                                                        "https://", "/items", "10.0.0.0/16"]),
                    max_size=8).map("".join)


@pytest.mark.skipif(NODE is None, reason="node is not installed: no ECMA-262 engine to compare with")
@settings(max_examples=25, deadline=None)
@given(st.lists(odd_text, min_size=20, max_size=20))
def test_every_schema_pattern_matches_exactly_what_javascript_matches(texts):
    cases = [(p, t) for p in PATTERNS for t in texts + ["items", "v1", "Owner", "items\n"]]
    script = ("const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(cases.map(([p, t]) => new RegExp(p, 'u').test(t))));")
    out = subprocess.run([NODE, "-e", script], input=json.dumps(cases), capture_output=True, text=True, check=True)
    expected = json.loads(out.stdout)
    assert [ecma.search(p, t) for p, t in cases] == expected
