"""YAML itself: alias bombs, recursion, depth, odd scalars and odd keys end as one located message, fast."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blueprint.errors import UserError
from blueprint.spec import load as spec
from blueprint.spec.yamlread import MAX_ALIAS_NODES, MAX_DEPTH, parse_yaml
from tests.spec.yaml_cases import billion_laughs

LOCATED = re.compile(r"^f\.yaml:\d+: ")


def refused(text: str) -> str:
    with pytest.raises(UserError) as err:
        parse_yaml(text, "f.yaml")
    message = str(err.value).splitlines()[0]
    assert LOCATED.match(message), message
    return message


def test_a_billion_laughs_is_refused_at_once_naming_the_line():
    start = time.perf_counter()
    message = refused(billion_laughs())
    assert time.perf_counter() - start < 5  # normally milliseconds; the generous bound is for a loaded CI machine
    assert f"aliases copy in more than {MAX_ALIAS_NODES} nodes" in message
    assert message.startswith("f.yaml:5: a4[0]:")  # the alias that crossed the limit


def test_small_aliases_are_values_like_any_other_and_located_at_the_anchor():
    data, locs = parse_yaml("base: &cors\n  methods: [GET]\nother: *cors\n", "f.yaml")
    assert data == {"base": {"methods": ["GET"]}, "other": {"methods": ["GET"]}}
    assert data["base"] is not data["other"]  # a copy: no value is shared between two key paths
    assert locs[("other",)].line == 3 and locs[("other", "methods")].line == 2


@pytest.mark.parametrize("text, expected", [
    ("x: &x [*x]\n", "f.yaml:1: x[0]: *x is inside the node &x names: a recursive alias"),
    ("x: &x {a: {b: *x}}\n", "f.yaml:1: x.a.b: *x is inside the node &x names: a recursive alias"),
    ("x: *nowhere\n", "f.yaml:1: x: *nowhere refers to no anchor &nowhere above it"),
])
def test_aliases_that_name_no_finished_node_are_refused(text, expected):
    assert refused(text).startswith(expected)


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "a: " + "{b: " * 5000 + "c" + "}" * 5000 + "\n",
    "a:\n" + "".join(" " * (i + 1) + "-\n" for i in range(200)),
    "a: " + "[" * 200_000 + "]" * 200_000 + "\n",  # deep enough to crash PyYAML's C composer
], ids=["flow-lists-5000", "flow-maps-5000", "block-lists-200", "flow-lists-200000"])
def test_deep_nesting_is_refused_long_before_python_gives_up(text):
    start = time.perf_counter()
    message = refused(text)
    assert time.perf_counter() - start < 5  # normally milliseconds; the generous bound is for a loaded CI machine
    assert f"nested deeper than {MAX_DEPTH} levels" in message


def test_an_alias_may_not_nest_past_the_depth_limit_either():
    deep = "[" * 20 + "]" * 20
    assert f"nests deeper than {MAX_DEPTH} levels" in refused(f"a: &a {deep}\nb: [[[[[[[[[[[[[[*a]]]]]]]]]]]]]]\n")


@pytest.mark.parametrize("key", ["yes", "on", "No", "~", "null", "1", "-2", "0x10", "1.5", "true", ".inf", "1e3", "0o17"])
def test_a_key_yaml_reads_as_anything_but_text_is_refused_with_quote_it(key):
    message = refused(f"tags:\n  {key}: x\n")
    assert message.startswith(f"f.yaml:2: tags.{key}: ")
    assert message.endswith(f'(quote it: "{key}")')


@pytest.mark.parametrize("key", ['"yes"', "'on'", "!!str 1", '"~"', "Team", "1a", "y", "n"])
def test_keys_that_are_text_stay_text(key):
    data, _ = parse_yaml(f"tags:\n  {key}: x\n", "f.yaml")
    (only,) = data["tags"]
    assert isinstance(only, str)


@pytest.mark.parametrize("text, expected", [
    ("description: 2024-01-01\n", "2024-01-01"),  # a timestamp to YAML 1.1: the text written (YAML 1.2 agrees)
    ("description: 2024-13-45\n", "2024-13-45"),  # an impossible date: text, never a ValueError
    ("description: 2001-12-14t21:59:43.10-05:00\n", "2001-12-14t21:59:43.10-05:00"),
    ("description: =\n", "="),
    ("description: ! 12\n", "12"),
    ("description: !!str 12\n", "12"),
    ("description: '0400'\n", "0400"),
    ("memory_mb: !!int 512\n", 512),
    ("memory_mb: 0x200\n", 512),
    ("caching: true\n", True),
    ("caching: False\n", False),
    ("description:\n", None),
    ("rate: .nan\n", "nan"),
    ("rate: -.inf\n", float("-inf")),
    ("rate: 1.5e+3\n", 1500.0),
    ("big: 123456789012345678901234567890\n", 123456789012345678901234567890),
])
def test_values_that_both_yaml_versions_read_alike(text, expected):
    data, _ = parse_yaml(text, "f.yaml")
    (value,) = data.values()
    if expected == "nan":
        assert value != value
    else:
        assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("caching: yes\n", "caching: yes is read as true by YAML 1.1 (this tool) but as text by YAML 1.2 (editors)"),
    ("caching: off\n", "caching: off is read as false"),
    ("memory_mb: 0400\n", "memory_mb: 0400 is read as 256 by YAML 1.1 (this tool) but as 400 by YAML 1.2"),
    ("timeout: 1:30\n", "timeout: 1:30 is read as 90"),
    ("limit: 1_000\n", "limit: 1_000 is read as 1000"),
    ("limit: 1e29\n", "limit: 1e29 is read as text by YAML 1.1 (this tool) but as 1e+29"),
    ("limit: 0b101\n", "limit: 0b101 is read as 5"),
    ("limit: 08\n", "limit: 08 is read as text"),
    ("a: !!binary aGVsbG8=\n", "a: the tag !!binary makes a value no spec key takes"),
    ("a: !!timestamp 2024-01-01\n", "a: the tag !!timestamp makes a value no spec key takes"),
    ("a: !!set {x, y}\n", "a: the tag !!set makes a value no spec key takes"),
    ("a: !!omap [x: 1]\n", "a: the tag !!omap makes a value no spec key takes"),
    ("a: !!pairs [x: 1]\n", "a: the tag !!pairs makes a value no spec key takes"),
    ("a: !Ref Table\n", "a: the tag !Ref makes a value no spec key takes"),
    ("a: !!python/name:os.system x\n", "a: the tag !!python/name:os.system makes a value"),
    ("a: !!int twelve\n", "a: 'twelve' is not a valid !!int"),
    ("a: " + "9" * 5000 + "\n", "a: '99999999"),
    ("a: 1\n---\nb: 2\n", "(top level): a second YAML document"),
    ("a: &x 1\nb:\n  <<: {c: 1}\n", "b.<<: '<<' merge keys are not supported"),
])
def test_values_yaml_would_bend_are_refused_naming_file_line_and_key(text, expected):
    message = refused(text)
    assert message.split(": ", 1)[1].startswith(expected), message
    assert message.endswith(")")


# --- property: whatever YAML comes in, the result is data or one located message ----------------

keys = st.sampled_from(["a", "b", "service", "tags", "yes", "on", "~", "1", "null", "0x1F", "1e3", '"q"', "'s'", "2024-01-01",
                        "<<", "? [x]", "!!str k", "!!binary aGk=", "*k", "Team", "x y"])
scalars = st.sampled_from([
    "1", "-0", "007", "0400", "08", "0o17", "0x1F", "0b11", "1_000", "1:30", "190:20:30", "1e29", "1.0e+29", "1.5", ".5",
    "1.", ".nan", ".NaN", "-.inf", "+.inf", ".Inf", "yes", "No", "ON", "off", "y", "n", "true", "FALSE", "~", "null", "",
    "2024-01-01", "2024-13-45", "2001-12-14 21:59:43.10 -5", "=", "!!binary aGVsbG8=", "!!timestamp 2024-01-01",
    "!!float abc", "!!int 0x1Z", "!!bool maybe", "!Ref X", "! 12", "!!str 12", '"a\\nb"', "'it''s'", "|\n  block\n",
    ">-\n  folded\n", "|+\n  keep\n\n", "12345678901234567890123456789012345678901234567890", "9" * 4400,
    "&k anchored", "*k", "*missing", "[*k, *k]", "{x: *k}", "[]", "{}", "- item", "a: b", "\"\\ud800\"",
])


@st.composite
def yaml_documents(draw) -> str:
    """Small YAML documents of odd keys and scalars, with anchors, aliases and nesting."""
    def block(depth: int) -> list[str]:
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            key = draw(keys)
            if depth < 3 and draw(st.booleans()):
                lines.append(f"{key}:")
                lines += ["  " + line for line in block(depth + 1)]
            else:
                value = draw(scalars)
                if "\n" in value:
                    head, *rest = value.split("\n")
                    lines.append(f"{key}: {head}")
                    lines += ["  " + line for line in rest if line]
                else:
                    lines.append(f"{key}: {value}")
        return lines
    prefix = draw(st.sampled_from(["", "k: &k v\n", "k: &k [1, 2]\n", "k: &k {a: 1}\n", "---\n", "%YAML 1.1\n---\n"]))
    return prefix + "\n".join(block(0)) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_documents())
def test_property_any_yaml_gives_data_or_one_located_message(text):
    try:
        data, locs = parse_yaml(text, "f.yaml")
    except UserError as exc:
        first = str(exc).splitlines()[0]
        assert LOCATED.match(first), first
        return
    assert data is None or isinstance(data, (dict, list, str, int, float, bool))

    def walk(node, path):  # every key is text, every value a JSON value, every path located
        assert path in locs or path == ()
        if isinstance(node, dict):
            for k, v in node.items():
                assert isinstance(k, str)
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))
        else:
            assert node is None or isinstance(node, (str, int, float, bool))
    walk(data, ())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_property_any_text_gives_data_or_one_located_message(text):
    try:
        parse_yaml(text, "f.yaml")
    except UserError as exc:
        assert LOCATED.match(str(exc).splitlines()[0]), str(exc)


# --- loading is linear in the size of the spec ---------------------------------------------------

def test_sixteen_thousand_keys_load_and_merge_in_linear_time(project):
    (project / "envs/dev.yaml").write_text("tags:\n" + "".join(f"  Key{i}: value{i}\n" for i in range(16_000)))
    start = time.perf_counter()
    loaded = spec.load(project, "dev")
    elapsed = time.perf_counter() - start
    assert len(loaded.data["tags"]) == 16_000 + 2  # the base file's two tags merged in
    assert loaded.where(("tags", "Key15999")).line == 16_001
    assert elapsed < 5, f"{elapsed:.2f} s (0.1 s here; 18.6 s when merging scanned every location for every key)"
