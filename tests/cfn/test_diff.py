"""The offline plan: template diffing and replacement prediction from cfn-lint's provider schemas."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from blueprint.cfn import schemas
from blueprint.cfn.diff import diff_templates
from blueprint.cfn import loader

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def dev_template():
    return loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())


def test_create_only_properties_from_the_provider_schemas():
    table = schemas.create_only_properties("AWS::DynamoDB::Table")
    assert {"TableName", "KeySchema"} <= table  # KeySchema: AWS documents it, the schema omits it
    assert "ProvisionedThroughput" not in table
    assert "FunctionName" in schemas.create_only_properties("AWS::Lambda::Function")
    assert "QueueName" in schemas.create_only_properties("AWS::SQS::Queue")
    assert schemas.create_only_properties("AWS::Not::AType") is None


@pytest.mark.parametrize("rtype, changed, expected", [
    ("AWS::DynamoDB::Table", ["TableName"], "True"),
    ("AWS::DynamoDB::Table", ["KeySchema", "ProvisionedThroughput"], "True"),
    ("AWS::DynamoDB::Table", ["ProvisionedThroughput"], "False"),
    ("AWS::DynamoDB::Table", ["Tags"], "False"),
    ("AWS::Logs::LogGroup", ["LogGroupName"], "True"),
    ("AWS::Logs::LogGroup", ["RetentionInDays"], "False"),
    ("AWS::Not::AType", ["Anything"], None),  # no schema: unknown, never a guess
])
def test_predict_replacement(rtype, changed, expected):
    assert schemas.predict_replacement(rtype, changed) == expected


def test_nothing_deployed_is_all_adds(dev_template):
    diffs = diff_templates(None, dev_template)
    assert [d.action for d in diffs] == ["Add"] * len(dev_template["Resources"])
    assert [d.logical_id for d in diffs] == list(dev_template["Resources"])


def test_same_template_has_no_diff(dev_template):
    assert diff_templates(dev_template, copy.deepcopy(dev_template)) == []


def test_modified_property_with_values(dev_template):
    new = copy.deepcopy(dev_template)
    new["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 10
    [diff] = diff_templates(dev_template, new)
    assert (diff.action, diff.logical_id, diff.type, diff.predicted_replacement) == (
        "Modify", "Table", "AWS::DynamoDB::Table", "False")
    [prop] = diff.properties
    assert prop.name == "ProvisionedThroughput"
    assert prop.before == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert prop.after == {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    assert prop.requires_recreation == "Never"


def test_rename_predicts_replacement(dev_template):
    new = copy.deepcopy(dev_template)
    new["Resources"]["Table"]["Properties"]["TableName"] = "items-dev-other"
    [diff] = diff_templates(dev_template, new)
    assert diff.predicted_replacement == "True"
    assert diff.properties[0].requires_recreation == "Always"


def test_added_and_removed_resources(dev_template):
    new = copy.deepcopy(dev_template)
    del new["Resources"]["FlowLog"]
    new["Resources"]["Extra"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    diffs = {d.logical_id: d.action for d in diff_templates(dev_template, new)}
    assert diffs == {"Extra": "Add", "FlowLog": "Remove"}


def test_type_change_is_a_replacement():
    old = {"Resources": {"A": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    new = {"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    [diff] = diff_templates(old, new)
    assert diff.predicted_replacement == "True"


def test_deletion_policy_change_is_shown_but_not_a_replacement(dev_template):
    new = copy.deepcopy(dev_template)
    new["Resources"]["Table"]["DeletionPolicy"] = "Retain"
    [diff] = diff_templates(dev_template, new)
    assert [p.name for p in diff.properties] == ["DeletionPolicy"]
    assert diff.predicted_replacement == "False"


def test_template_body_as_text_or_dict():
    assert loader.parse_body({"Resources": {}}) == {"Resources": {}}
    parsed = loader.parse_body("Resources:\n  A:\n    Type: X\n    Properties:\n      V: !Ref B\n")
    assert parsed["Resources"]["A"]["Properties"]["V"] == {"Ref": "B"}


def test_without_provider_schemas_the_prediction_is_unknown(no_schemas, dev_template):
    assert schemas.create_only_properties("AWS::DynamoDB::Table") is None
    assert schemas.predict_replacement("AWS::DynamoDB::Table", ["ProvisionedThroughput"]) is None
    assert schemas.predict_replacement("AWS::DynamoDB::Table", ["TableName"]) is None
    assert schemas.predict_replacement("AWS::DynamoDB::Table", ["Tags"]) == "False"  # tags never replace
    new = copy.deepcopy(dev_template)
    new["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 10
    [diff] = diff_templates(dev_template, new)
    assert diff.predicted_replacement is None
    assert diff.properties[0].requires_recreation == ""  # unknown, not "Conditionally"
    old = {"Resources": {"A": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    [changed_type] = diff_templates(old, {"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {}}}})
    assert changed_type.predicted_replacement == "True"  # a type change replaces, schema or not
