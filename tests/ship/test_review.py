"""The change-set review: formatting, the summary line, replacement flags and danger detection."""
from __future__ import annotations

import json

import pytest

from blueprint.ship import report, review
from blueprint.cfn.diff import PropertyChange, ResourceDiff, diff_templates


def resource_change(action, lid, rtype, replacement=None, details=()):
    rc = {"Action": action, "LogicalResourceId": lid, "ResourceType": rtype, "Details": list(details)}
    if replacement is not None:
        rc["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": rc}


def detail(name, before, after, recreation="Never", path=None):
    target = {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation,
              "BeforeValue": before, "AfterValue": after}
    if path:
        target["Path"] = path
    return {"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}


DESCRIBED = {
    "ChangeSetName": "bp-20260101000000-abcdef12", "ChangeSetId": "arn:cs",
    "Changes": [
        resource_change("Add", "Queue", "AWS::SQS::Queue"),
        resource_change("Add", "Topic", "AWS::SNS::Topic"),
        resource_change("Add", "Role", "AWS::IAM::Role"),
        resource_change("Modify", "Table", "AWS::DynamoDB::Table", "False",
                        [detail("ProvisionedThroughput", '{"ReadCapacityUnits":5}', '{"ReadCapacityUnits":10}')]),
    ],
}


def test_summary_line_exact():
    r = review.from_change_set("items-dev", "us-east-1", DESCRIBED, [], True)
    assert review.summary_line(r.changes) == "3 to add, 1 to modify, 0 to replace, 0 to remove"


def test_text_review_shows_action_id_type_replacement_and_values():
    text = report.format_text(review.from_change_set("items-dev", "us-east-1", DESCRIBED, [], True))
    lines = text.splitlines()
    assert lines[0] == "Change set bp-20260101000000-abcdef12 to update stack items-dev (us-east-1)"
    assert lines[1].split() == ["Action", "Logical", "id", "Type", "Replacement"]
    assert lines[2].split() == ["Add", "Queue", "AWS::SQS::Queue", "-"]
    assert lines[5].split() == ["Modify", "Table", "AWS::DynamoDB::Table", "False"]
    assert lines[6] == '      ProvisionedThroughput.ReadCapacityUnits: 5 → 10'  # the target's JSON text, parsed
    assert lines[-1] == "3 to add, 1 to modify, 0 to replace, 0 to remove"
    assert "DANGEROUS" not in text


def test_replacement_of_the_table_is_flagged_and_dangerous():
    described = {"ChangeSetName": "cs", "Changes": [resource_change(
        "Modify", "Table", "AWS::DynamoDB::Table", "True",
        [detail("TableName", "a", "b", "Always")])]}
    r = review.from_change_set("s", "t", described, [], True)
    text = report.format_text(r)
    assert "REPLACE (True)  !! DANGEROUS" in text
    assert "TableName: a → b   [requires recreation: Always]" in text
    assert "ALLOW_REPLACE=Table" in text
    assert r.dangerous == ["Table"]
    assert review.summary_line(r.changes) == "0 to add, 0 to modify, 1 to replace, 0 to remove"


@pytest.mark.parametrize("action, rtype, replacement, dangerous", [
    ("Remove", "AWS::DynamoDB::Table", None, True),
    ("Remove", "AWS::KMS::Key", None, True),
    ("Modify", "AWS::Logs::LogGroup", "True", True),
    ("Modify", "AWS::SQS::Queue", "Conditional", True),
    ("Modify", "AWS::SQS::Queue", "False", False),
    ("Remove", "AWS::Lambda::Function", None, False),
    ("Modify", "AWS::Lambda::Function", "True", False),
    ("Add", "AWS::DynamoDB::Table", None, False),
])
def test_danger_detection(action, rtype, replacement, dangerous):
    change = review.Change(action, "X", rtype, replacement)
    assert change.dangerous is dangerous


def test_prediction_stands_where_the_target_gives_no_replacement():
    described = {"ChangeSetName": "cs", "Changes": [resource_change("Modify", "Table", "AWS::DynamoDB::Table")]}
    diff = ResourceDiff("Modify", "Table", "AWS::DynamoDB::Table",
                        [PropertyChange("TableName", "a", "b", "Always")], "True")
    r = review.from_change_set("s", "t", described, [diff], True)
    [c] = r.changes
    assert report.replacement_text(c) == "REPLACE (True) (predicted)"
    assert c.dangerous and c.properties[0].before == "a"  # values from the template diff


def test_a_differing_prediction_is_shown_beside_the_answer_and_the_stronger_counts():
    c = review.Change("Modify", "Table", "AWS::DynamoDB::Table", replacement="False", predicted="True")
    assert report.replacement_text(c) == "False (predicted: True)"
    assert c.replaces and c.dangerous


def test_conditional_is_flagged():
    c = review.Change("Modify", "Fn", "AWS::Lambda::Function", replacement="Conditional")
    assert report.replacement_text(c) == "MAYBE REPLACE (Conditional)"
    assert review.counts([c]) == {"add": 0, "modify": 1, "replace": 0, "remove": 0}


def test_details_are_one_per_path_and_long_values_cut_around_the_change():
    long = "x" * 500
    described = {"ChangeSetName": "cs", "Changes": [resource_change("Modify", "Fn", "AWS::Lambda::Function", "False", [
        detail("Code", None, None, path="/Properties/Code"),
        detail("Code", "old", long, path="/Properties/Code"),
        detail("Environment", "a", "b", path="/Properties/Environment/Variables/X"),
    ])]}
    r = review.from_change_set("s", "t", described, [], True)
    assert [(p.path, p.before) for p in r.changes[0].properties] == [
        ("/Properties/Code", "old"), ("/Properties/Environment/Variables/X", "a")]
    text = report.format_text(r, arrow="->")
    assert "Environment/Variables/X: a -> b" in text
    assert "          -old" in text and "(500 characters differ)" in text
    assert max(len(line) for line in text.splitlines()) < 300


def test_json_review_for_ci(capsys):
    r = review.from_change_set("items-dev", "us-east-1", DESCRIBED, [], True)
    report.emit(r, "json")
    data = json.loads(capsys.readouterr().out)
    assert data["summary_line"] == "3 to add, 1 to modify, 0 to replace, 0 to remove"
    assert data["summary"] == {"add": 3, "modify": 1, "replace": 0, "remove": 0}
    assert data["change_set"] == {"name": "bp-20260101000000-abcdef12", "id": "arn:cs"}
    table = data["changes"][3]
    assert table["properties"][0]["after"] == '{"ReadCapacityUnits":10}'
    assert table["dangerous"] is False and data["no_changes"] is False


def test_plan_review_marks_predictions():
    diffs = [ResourceDiff("Modify", "Table", "AWS::DynamoDB::Table",
                          [PropertyChange("TableName", "a", "b", "Always")], "True"),
             ResourceDiff("Add", "Q", "AWS::SQS::Queue", [PropertyChange("QueueName", None, "q")])]
    text = report.format_text(review.from_plan("s", "us-east-1", diffs, True))
    assert "REPLACE (True) (predicted)  !! DANGEROUS" in text
    assert text.splitlines()[-1] == "1 to add, 0 to modify, 1 to replace, 0 to remove"


def test_no_changes_text():
    text = report.format_text(review.Review("plan", "s", "t", []))
    assert "no changes" in text


def test_without_schemas_the_targets_answer_decides_and_nothing_is_refused_on_a_guess(no_schemas):
    old = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"ProvisionedThroughput": 5}}}}
    new = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"ProvisionedThroughput": 9}}}}
    diffs = diff_templates(old, new)
    assert diffs[0].predicted_replacement is None

    in_place = {"ChangeSetName": "cs", "Changes": [resource_change(
        "Modify", "Table", "AWS::DynamoDB::Table", "False", [detail("ProvisionedThroughput", "5", "9")])]}
    r = review.from_change_set("s", "t", in_place, diffs, True)
    assert r.dangerous == [] and report.replacement_text(r.changes[0]) == "False"
    assert "DANGEROUS" not in report.format_text(r)

    replaced = {"ChangeSetName": "cs", "Changes": [resource_change("Modify", "Table", "AWS::DynamoDB::Table", "True")]}
    assert review.from_change_set("s", "t", replaced, diffs, True).dangerous == ["Table"]  # AWS's answer stands

    offline = review.from_plan("s", "us-east-1", diffs, True)
    assert offline.dangerous == []
    text = report.format_text(offline)
    assert "unknown (no provider schema)" in text and "UNKNOWN: whether this replaces Table" in text


def test_s3_buckets_hold_data():
    assert review.Change("Remove", "Bucket", "AWS::S3::Bucket").dangerous
    assert review.Change("Modify", "Bucket", "AWS::S3::Bucket", "True").dangerous


def test_details_by_path_inside_a_property_take_its_whole_value_from_the_contexts():
    # AWS with IncludePropertyValues: details by position inside Tags (Tier inserted before Service reads
    # as Service changed into Tier and Service added), and the resource's whole properties in the contexts.
    before = [{"Key": "Owner", "Value": "a"}, {"Key": "Service", "Value": "items"}]
    after = [{"Key": "Owner", "Value": "a"}, {"Key": "Tier", "Value": "gold"}, {"Key": "Service", "Value": "items"}]
    rc = resource_change("Modify", "Queue", "AWS::SQS::Queue", "False", [
        detail("Tags", "Service", "Tier", path="/Properties/Tags/1/Key"),
        detail("Tags", "items", "gold", path="/Properties/Tags/1/Value"),
        detail("Tags", None, '{"Key":"Service","Value":"items"}', path="/Properties/Tags/2"),
        detail("QueueName", "q1", "q2", "Always", path="/Properties/QueueName"),
        detail("DelaySeconds", "0", "5", path="/Properties/DelaySeconds"),
    ])
    rc["ResourceChange"]["BeforeContext"] = json.dumps({"Properties": {"Tags": before, "QueueName": "q1",
                                                                       "DelaySeconds": 0}})
    rc["ResourceChange"]["AfterContext"] = json.dumps({"Properties": {"Tags": after, "QueueName": "q2",
                                                                      "DelaySeconds": 5}})
    [change] = review.from_change_set("s", "t", {"ChangeSetName": "cs", "Changes": [rc]}, [], True).changes
    assert [(p.path, p.before, p.after, p.requires_recreation) for p in change.properties] == [
        ("/Properties/Tags", before, after, "Never"), ("/Properties/QueueName", "q1", "q2", "Always"),
        ("/Properties/DelaySeconds", 0, 5, "Never")]
    text = report.format_text(review.Review("change set", "s", "t", [change], "cs"))
    assert "      Tags + Tier=gold" in text and "Service" not in text
    assert "QueueName: q1 → q2   [requires recreation: Always]" in text


def test_the_strongest_recreation_of_a_propertys_details_stands():
    rc = resource_change("Modify", "Fn", "AWS::Lambda::Function", "Conditional", [
        detail("Code", "k1", "k2", "Never", path="/Properties/Code/S3Key"),
        detail("Code", "b1", "b2", "Conditionally", path="/Properties/Code/S3Bucket"),
    ])
    rc["ResourceChange"]["BeforeContext"] = json.dumps({"Properties": {"Code": {"S3Bucket": "b1", "S3Key": "k1"}}})
    rc["ResourceChange"]["AfterContext"] = json.dumps({"Properties": {"Code": {"S3Bucket": "b2", "S3Key": "k2"}}})
    [change] = review.from_change_set("s", "t", {"ChangeSetName": "cs", "Changes": [rc]}, [], True).changes
    [code] = change.properties
    assert (code.path, code.requires_recreation) == ("/Properties/Code", "Conditionally")
    assert [report.path_text("Code", e.path) for e in code.entries()] == ["Code.S3Bucket", "Code.S3Key"]


def test_the_plan_and_the_change_set_read_a_tag_change_alike():
    tags = [{"Key": "Owner", "Value": "a"}]
    old = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": tags}}}}
    new = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {
        "Tags": tags + [{"Key": "Tier", "Value": "gold"}]}}}}
    plan = report.format_text(review.from_plan("s", "t", diff_templates(old, new), True))
    described = {"ChangeSetName": "cs", "Changes": [resource_change("Modify", "Queue", "AWS::SQS::Queue", "False", [
        detail("Tags", json.dumps(tags), json.dumps(new["Resources"]["Queue"]["Properties"]["Tags"]),
               path="/Properties/Tags")])]}
    changes = report.format_text(review.from_change_set("s", "t", described, [], True))
    assert plan.splitlines()[3:] == changes.splitlines()[3:]  # below the row (the plan's is "(predicted)")
    assert "      Tags + Tier=gold" in changes
