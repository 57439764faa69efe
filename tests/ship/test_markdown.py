"""The review as Markdown for a pull request's comment: a golden file of one change set with an add, a tag
change on several resources, a dangerous replacement and a long string's changed lines."""
from __future__ import annotations

import json
import os

from blueprint.ship import markdown, report, review
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "ship" / "golden" / "review.md"
TAGS = [{"Key": "Service", "Value": "items"}]
GOLD = {"Key": "Tier", "Value": "gold"}


def modify(lid: str, rtype: str, attribute: str, before, after, replacement="False", recreation="Never") -> dict:
    return {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": lid, "ResourceType": rtype, "Replacement": replacement,
        "Details": [{"Target": {"Attribute": "Properties", "Name": attribute, "RequiresRecreation": recreation,
                                "Path": f"/Properties/{attribute}", "BeforeValue": json.dumps(before),
                                "AfterValue": json.dumps(after)},
                     "Evaluation": "Static", "ChangeSource": "DirectModification"}],
        "BeforeContext": json.dumps({"Properties": {attribute: before}}),
        "AfterContext": json.dumps({"Properties": {attribute: after}})}}


def described() -> dict:
    return {"ChangeSetName": "bp-20260101120000-1a2b3c4d-9f8e7d6c", "ChangeSetId": "arn:cs", "Changes": [
        {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "AlarmTopic",
                                                "ResourceType": "AWS::SNS::Topic"}},
        modify("Function", "AWS::Lambda::Function", "Tags", TAGS, TAGS + [GOLD]),
        modify("Queue", "AWS::SQS::Queue", "Tags", TAGS, TAGS + [GOLD]),
        modify("Table", "AWS::DynamoDB::Table", "TableName", "items-prod-items", "items-prod-things", "True",
               "Always"),
        modify("Role", "AWS::IAM::Role", "Description", "line one\nline two\nline three",
               "line one\nline 2\nline three"),
    ]}


def rendered() -> str:
    data = report.to_json(review.from_change_set("items-prod", "us-east-1", described(), [], True, "prod"))
    return markdown.format_markdown({**data, "previous_stacks": []})


def test_the_markdown_review_is_the_golden_one():
    text = rendered()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "run UPDATE_GOLDEN=1 pytest tests/ship/test_markdown.py and review the diff"


def test_it_carries_the_summary_the_dangerous_mark_and_a_table_row_per_change():
    text = rendered()
    assert "**1 to add, 3 to modify, 1 to replace, 0 to remove**" in text
    assert "| Modify | `Table` | `AWS::DynamoDB::Table` | **REPLACE** | ⚠️ **DANGEROUS** |" in text
    assert text.count("\n| ") == 6  # the header and five changes
    assert "--allow-replace Table" in text


def test_no_changes_is_one_line():
    data = report.to_json(review.Review("change set", "items-dev", "us-east-1", [], None, None, True))
    assert markdown.format_markdown(data) == ("### `items-dev` (us-east-1)\n\n"
                                              "No changes: the stack already runs this template and package.\n")


def test_it_says_what_guards_the_deploy_as_the_text_review_does():
    data = report.to_json(review.from_change_set("items-prod", "us-east-1", described(), [], True, "prod"))
    trigger = {"name": "items-prod-health", "arn": "arn:aws:cloudwatch:us-east-1:1:alarm:items-prod-health",
               "type": "AWS::CloudWatch::CompositeAlarm"}
    guarded = {"guarded": True, "triggers": [trigger], "missing": [], "monitoring_minutes": 10, "in_alarm": []}
    text = markdown.format_markdown({**data, "rollback": guarded})
    assert "**Guarded** by rollback trigger(s) `items-prod-health`" in text and "in the 10 min after" in text
    first = {**guarded, "guarded": False, "triggers": [], "missing": ["items-prod-health"]}
    assert "**Unguarded**: the alarm(s) `items-prod-health` do not exist yet" in markdown.format_markdown(
        {**data, "rollback": first})
    off = {**first, "missing": []}
    assert "no alarms (`alarms.enabled` is off)" in markdown.format_markdown({**data, "rollback": off})
