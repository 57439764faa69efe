"""Loading and merging the spec files: values, locations, and the messages for broken YAML."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprint.spec import load as spec
from blueprint.errors import UserError
from blueprint.spec.load import Location


def test_locations_point_at_the_line_of_each_key():
    data, locs = spec.parse_yaml("a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n", "f.yaml")
    assert data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}]}}
    assert locs[("a",)] == Location("f.yaml", 1)
    assert locs[("b", "c")] == Location("f.yaml", 3)
    assert locs[("b", "d", 0, "e")] == Location("f.yaml", 5)


@pytest.mark.parametrize("text, expected", [
    ("a: 1\na: 2\n", "f.yaml:2: a: duplicate key (first set at line 1; keep one)"),
    ("a: [1, 2\n", "f.yaml:2: invalid YAML"),
    ("a:\n\tb: 1\n", "f.yaml:2: invalid YAML"),
    ("? [a]\n: 1\n", "f.yaml:1: (top level): a key must be a plain name"),
])
def test_broken_yaml_gives_one_located_message(text, expected):
    with pytest.raises(UserError) as err:
        spec.parse_yaml(text, "f.yaml")
    assert str(err.value).startswith(expected)


@pytest.mark.parametrize("text, expected", [
    ("", "envs/dev.yaml:1: (top level): the file is empty (it must hold a map of settings)"),
    ("# only a comment\n", "envs/dev.yaml:1: (top level): the file is empty"),
    ("- a\n- b\n", "envs/dev.yaml:1: (top level): the file holds a list (it must hold a map of settings)"),
    ("hello\n", "envs/dev.yaml:1: (top level): the file holds a single value ('hello') (it must hold a map"),
])
def test_an_env_file_must_hold_a_map(project, text, expected):
    (project / "envs/dev.yaml").write_text(text)
    with pytest.raises(UserError) as err:
        spec.load(project, "dev")
    assert str(err.value).startswith(expected)


def test_unknown_environment_names_the_ones_there_are(project):
    with pytest.raises(UserError, match=r"no file envs/qa.yaml \(environments: dev, prod, staging; to add one, create envs/qa.yaml\)"):
        spec.load(project, "qa")


def test_maps_merge_lists_replace_and_locations_follow_the_file_that_set_them():
    base = "a:\n  x: 1\n  y: [1, 2, 3]\nb: keep\n"
    over = "a:\n  y: [9]\n  z: new\n"
    bd, bl = spec.parse_yaml(base, "base.yaml")
    od, ol = spec.parse_yaml(over, "env.yaml")
    merged, locs = spec.merge(bd, od, bl, ol)
    assert merged == {"a": {"x": 1, "y": [9], "z": "new"}, "b": "keep"}
    assert locs[("a", "x")] == Location("base.yaml", 2)
    assert locs[("a", "y")] == Location("env.yaml", 2)
    assert locs[("a", "y", 0)] == Location("env.yaml", 2)
    assert ("a", "y", 2) not in locs  # the base list was replaced, not merged
    assert locs[("b",)] == Location("base.yaml", 4)


keys = st.text(alphabet="abcdefgh_", min_size=1, max_size=4)
scalars = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.text(alphabet="abc xyz-", max_size=6))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)), max_leaves=12)
maps = st.dictionaries(keys, trees, max_size=5)


def _expected_merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _expected_merge(base[k], v) if k in base else v
        return out
    return over


@settings(max_examples=200, deadline=None)
@given(maps, maps)
def test_merge_property_maps_merge_everything_else_replaces(base, over):
    bd, bl = spec.parse_yaml(yaml.safe_dump(base), "base.yaml")
    od, ol = spec.parse_yaml(yaml.safe_dump(over), "env.yaml")
    merged, locs = spec.merge(bd, od, bl, ol)
    assert merged == _expected_merge(base, over)
    for path, loc in locs.items():  # every located path exists, and names the file whose value won
        node_over, in_over = od, True
        for part in path:
            if isinstance(node_over, (dict, list)) and (part in node_over if isinstance(node_over, dict) else part < len(node_over)):
                node_over = node_over[part]
            else:
                in_over = False
                break
        if path and in_over:
            assert loc.file == "env.yaml"


@settings(max_examples=200, deadline=None)
@given(maps)
def test_parse_property_round_trips_and_locates_every_key(data):
    text = yaml.safe_dump(data, sort_keys=False)
    parsed, locs = spec.parse_yaml(text, "f.yaml")
    assert parsed == data
    lines = text.splitlines()

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                loc = locs[path + (k,)]
                assert 1 <= loc.line <= len(lines)
                assert f"{k}:" in lines[loc.line - 1]  # the line that holds the key
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))
    walk(parsed, ())
