"""The structural value diff: its properties (hypothesis) and the shapes a review meets (tags, method settings,
policy statements, VTL and JSON text, a target's JSON text)."""
from __future__ import annotations

import json
import random

from hypothesis import given, settings, strategies as st

from blueprint.cfn.values import Entry, Step, apply, canonical, diff, parse, same

# --- generated values -----------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["", "a", "b", "gold", "silver", "x" * 90, "line 1\nline 2", "l1\nl2\nl3",
                                     '{"a":1,"b":[1,2]}', '{"a":2,"b":[1,2]}', "[1,2]"]))
keys = st.sampled_from(["Key", "Value", "Sid", "Name", "a", "b", "c", "Effect", "HttpMethod", "ResourcePath"])
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=4)), max_leaves=25)

tag_keys = st.sampled_from(["Environment", "Owner", "Service", "Tier", "Name", "Team"])
tag_lists = st.dictionaries(tag_keys, st.sampled_from(["dev", "gold", "silver", "items", "x"]), max_size=6).map(
    lambda d: [{"Key": k, "Value": v} for k, v in d.items()])
# Lists of maps that share identity fields, so the matching by identity is exercised, duplicates included.
keyed_items = st.fixed_dictionaries({"Key": st.sampled_from(["A", "B", "C", "D"]),
                                     "Value": st.sampled_from(["1", "2", "3"])})
keyed_lists = st.lists(keyed_items, max_size=5)


def entries_apart_from_positions(entries: list[Entry]) -> list[str]:
    """Each entry as text with every Step reduced to what identifies it: its key, or its position."""
    def step(s):
        return s.label if isinstance(s, Step) else s
    return sorted(canonical([e.op, [step(s) for s in e.path], e.before, e.after, list(e.lines)])
                  for e in entries if e.op != "order")


# --- properties ---------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(values, values)
def test_applying_the_entries_to_before_gives_after(before, after):
    assert same(apply(before, diff(before, after)), after)


@settings(max_examples=300, deadline=None)
@given(keyed_lists, keyed_lists)
def test_applying_the_entries_of_keyed_lists_gives_after(before, after):
    assert same(apply(before, diff(before, after)), after)


@settings(max_examples=200, deadline=None)
@given(values)
def test_the_diff_of_a_value_with_itself_is_empty(value):
    assert diff(value, value) == []
    assert diff(value, json.loads(json.dumps(value))) == []


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_a_diff_is_empty_exactly_when_the_values_are_the_same(before, after):
    assert (diff(before, after) == []) == same(before, after)


@settings(max_examples=300, deadline=None)
@given(tag_lists, tag_lists, st.randoms(use_true_random=False))
def test_a_tags_diff_does_not_depend_on_the_order_of_the_tags(before, after, rnd: random.Random):
    shuffled_before, shuffled_after = list(before), list(after)
    rnd.shuffle(shuffled_before)
    rnd.shuffle(shuffled_after)
    assert entries_apart_from_positions(diff(shuffled_before, shuffled_after)) == \
        entries_apart_from_positions(diff(before, after))
    assert same(apply(shuffled_before, diff(shuffled_before, shuffled_after)), shuffled_after)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_json_text_of_a_value_parses_to_the_value(before, after):
    assert same(parse(canonical(before)), before) or not isinstance(before, (dict, list))


# --- the shapes a review meets --------------------------------------------------------------------

TAGS = [{"Key": "Environment", "Value": "development"}, {"Key": "Owner", "Value": "platform-team"},
        {"Key": "Service", "Value": "items"}]


def test_one_added_tag_is_one_entry():
    after = TAGS + [{"Key": "Tier", "Value": "gold"}]
    assert diff(TAGS, after) == [Entry("add", (Step(None, 3, (("Key", "Tier"),)),), None,
                                       {"Key": "Tier", "Value": "gold"})]


def test_a_changed_and_a_removed_tag():
    after = [{"Key": "Environment", "Value": "production"}, {"Key": "Service", "Value": "items"}]
    [changed, removed] = diff(TAGS, after)
    assert (changed.op, changed.path[0].label, changed.path[1:], changed.before, changed.after) == (
        "change", "Environment", ("Value",), "development", "production")
    assert (removed.op, removed.path[0].label, removed.before) == ("remove", "Owner", TAGS[1])


def test_reordered_tags_are_one_order_entry():
    [entry] = diff(TAGS, TAGS[::-1])
    assert (entry.op, entry.before, entry.after) == (
        "order", ("Environment", "Owner", "Service"), ("Service", "Owner", "Environment"))


def test_method_settings_are_matched_by_method_and_path():
    before = [{"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
              {"HttpMethod": "GET", "ResourcePath": "/items", "ThrottlingRateLimit": 5}]
    after = [before[1], {**before[0], "ThrottlingRateLimit": 80}]
    [entry, order] = diff(before, after)
    assert (entry.path[0].label, entry.path[1], entry.before, entry.after) == ("* /*", "ThrottlingRateLimit", 50, 80)
    assert order.op == "order"


def test_policy_statements_by_sid_else_by_position():
    read = {"Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"}
    write = {"Sid": "Write", "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": "*"}
    after = [read, {**write, "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"]}]
    [entry] = diff([read, write], after)
    assert (entry.op, entry.path[0].label, entry.path[1:], entry.after) == (
        "add", "Write", ("Action", Step(None, 1)), "dynamodb:DeleteItem")

    unnamed = [{k: v for k, v in s.items() if k != "Sid"} for s in (read, write)]
    [entry] = diff(unnamed, [unnamed[0], {**unnamed[1], "Effect": "Deny"}])
    assert (entry.path, entry.before, entry.after) == ((Step(1, 1), "Effect"), "Allow", "Deny")


def test_an_inserted_item_of_a_positional_list_is_one_add():
    [entry] = diff(["a", "b", "c"], ["a", "x", "b", "c"])
    assert (entry.op, entry.path, entry.after) == ("add", (Step(None, 1),), "x")


def test_long_and_multi_line_strings_change_by_their_changed_lines():
    vtl = '#set($id = $input.params("id"))\n{\n  "id": "$id",\n  "limit": 10\n}'
    [entry] = diff(vtl, vtl.replace("10", "20"))
    assert [line for line in entry.lines if line[:1] in "+-"] == ['-  "limit": 10', '+  "limit": 20']
    assert entry.before == vtl  # whole values kept beside the lines

    policy = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    [entry] = diff(policy, policy.replace("s3:GetObject", "s3:PutObject"))
    assert [line for line in entry.lines if line[:1] in "+-"] == [
        '-      "Action": "s3:GetObject",', '+      "Action": "s3:PutObject",']

    long_description = "A description well over eighty characters long, about the table that holds the items"
    [entry] = diff(long_description, long_description.replace("the table", "the one table"))
    assert entry.lines == ("-...ty characters long, about the table that holds the items",
                           "+...ty characters long, about the one table that holds the items")
    [entry] = diff("old", "x" * 500)  # nothing in common: the new line is cut, its length said
    assert entry.lines[1].endswith("... (500 characters differ)") and len(entry.lines[1]) < 300
    assert entry.after == "x" * 500
    assert diff("short", "other") == [Entry("change", (), "short", "other")]


def test_a_targets_json_text_is_parsed_before_diffing():
    assert parse('[{"Key":"Tier","Value":"gold"}]') == [{"Key": "Tier", "Value": "gold"}]
    assert parse('{"RateLimit":50}') == {"RateLimit": 50}
    assert parse("50") == "50" and parse("{not json") == "{not json" and parse(None) is None


def test_true_is_not_one():
    assert diff({"Enabled": 1}, {"Enabled": True}) == [Entry("change", ("Enabled",), 1, True)]
