"""The review in words: one line per structural entry, tags as `+ Tier=gold`, the same line on many resources
folded into one, long strings by their changed lines, and the entries and folds in the JSON for CI."""
from __future__ import annotations

import json

from blueprint.cfn.diff import PropertyChange, diff_templates
from blueprint.ship import report, review

TAGS = [{"Key": "Environment", "Value": "development"}, {"Key": "Owner", "Value": "platform-team"},
        {"Key": "Service", "Value": "items"}]
GOLD = {"Key": "Tier", "Value": "gold"}


def tagged(lid: str, rtype: str, tags: list[dict], before: list[dict] = TAGS) -> dict:
    """A Modify as the local AWS describes a tags change: the values as JSON text, the contexts beside them."""
    return {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": lid, "ResourceType": rtype, "Replacement": "False",
        "Details": [{"Target": {"Attribute": "Tags", "RequiresRecreation": "Never", "Path": "/Properties/Tags",
                                "BeforeValue": json.dumps(before), "AfterValue": json.dumps(tags)},
                     "Evaluation": "Static", "ChangeSource": "DirectModification"}],
        "BeforeContext": json.dumps({"Properties": {"Tags": before}}),
        "AfterContext": json.dumps({"Properties": {"Tags": tags}})}}


def text_of(*changes: dict) -> str:
    described = {"ChangeSetName": "cs", "Changes": list(changes)}
    return report.format_text(review.from_change_set("items-dev", "t", described, [], True))


def lines_of(p: PropertyChange) -> list[str]:
    return [line for entry in report.property_lines(p) for line in entry]


# --- tags -----------------------------------------------------------------------------------------

def test_tags_read_as_added_removed_and_changed_tags():
    after = [{"Key": "Environment", "Value": "production"}, {"Key": "Service", "Value": "items"}, GOLD]
    assert lines_of(PropertyChange("Tags", json.dumps(TAGS), json.dumps(after), "Never", "/Properties/Tags")) == [
        "Tags ~ Environment: development → production", "Tags - Owner=platform-team", "Tags + Tier=gold"]
    as_map = PropertyChange("Tags", {"Owner": "a", "Old": "x"}, {"Owner": "b", "Tier": "gold"})
    assert lines_of(as_map) == ["Tags - Old=x", "Tags ~ Owner: a → b", "Tags + Tier=gold"]
    assert lines_of(PropertyChange("Tags", None, [GOLD])) == ["Tags + Tier=gold"]


def test_a_one_tag_change_on_many_resources_is_one_folded_line():
    names = ["Vpc", "Table", "Function", "ApiKey", "AccessLogGroup"]
    text = text_of(*(tagged(n, "AWS::X::Y", TAGS + [GOLD]) for n in names))
    assert text.count("+ Tier=gold") == 1
    assert "      Tags + Tier=gold   on all 5 modified resources: AccessLogGroup, ApiKey, Function, Table, Vpc" in text
    assert "Environment" not in text  # the tags that did not change are not shown
    assert text.splitlines()[-1] == "0 to add, 5 to modify, 0 to replace, 0 to remove"


def test_tags_fold_wherever_the_new_tag_sits_and_the_rest_stays_with_its_resource():
    vpc_before = [{"Key": "Name", "Value": "items-dev"}] + TAGS
    text = text_of(tagged("Table", "AWS::DynamoDB::Table", TAGS + [GOLD]),
                   tagged("Vpc", "AWS::EC2::VPC", [GOLD] + vpc_before[:3], vpc_before))
    assert "Tags + Tier=gold   on all 2 modified resources: Table, Vpc" in text
    lines = text.splitlines()
    vpc = lines.index(next(line for line in lines if line.startswith("  Modify  Vpc")))
    assert lines[vpc + 1] == "      Tags - Service=items"  # only on the Vpc: under its row
    assert not lines[vpc + 2].startswith("      ")


def test_reordered_tags_say_so_once():
    assert lines_of(PropertyChange("Tags", TAGS, TAGS[::-1])) == [
        "Tags: order Environment, Owner, Service → Service, Owner, Environment"]


def test_folded_names_wrap_and_are_all_there():
    names = [f"Resource{n:02d}WithALongishName" for n in range(12)]
    text = text_of(*(tagged(n, "AWS::X::Y", TAGS + [GOLD]) for n in names))
    assert all(name in text for name in names)
    assert max(len(line) for line in text.splitlines()) <= report.NAMES_WIDTH + 30


def test_the_same_change_on_some_resources_names_how_many():
    text = text_of(tagged("A", "AWS::X::Y", TAGS + [GOLD]), tagged("B", "AWS::X::Y", TAGS + [GOLD]),
                   tagged("C", "AWS::X::Y", TAGS[:2]))
    assert "Tags + Tier=gold   on 2 resources: A, B" in text
    assert "  Modify  C" in text and "      Tags - Service=items" in text


# --- other values ---------------------------------------------------------------------------------

SETTINGS = [{"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "INFO", "ThrottlingRateLimit": 50,
             "ThrottlingBurstLimit": 100}]


def test_method_settings_show_the_setting_that_changed():
    after = [{**SETTINGS[0], "ThrottlingRateLimit": 80},
             {"HttpMethod": "GET", "ResourcePath": "/items", "ThrottlingRateLimit": 5}]
    p = PropertyChange("MethodSettings", json.dumps(SETTINGS), json.dumps(after), "Never", "/Properties/MethodSettings")
    assert lines_of(p) == ["MethodSettings[* /*].ThrottlingRateLimit: 50 → 80",
                           'MethodSettings[GET /items] + {"HttpMethod":"GET","ResourcePath":"/items",'
                           '"ThrottlingRateLimit":5}']


def test_long_strings_show_their_changed_lines_under_the_property():
    vtl = '#set($id = $input.params("id"))\n{\n  "id": "$id",\n  "limit": 10\n}'
    old = {"Resources": {"Method": {"Type": "AWS::ApiGateway::Method", "Properties": {
        "Integration": {"RequestTemplates": {"application/json": vtl}}}}}}
    new = json.loads(json.dumps(old))
    new["Resources"]["Method"]["Properties"]["Integration"]["RequestTemplates"]["application/json"] = \
        vtl.replace("10", "25")
    text = report.format_text(review.from_plan("s", "t", diff_templates(old, new), True))
    lines = text.splitlines()
    at = lines.index("      Integration.RequestTemplates.application/json: changed lines")
    assert lines[at + 1:at + 5] == ["          @@ -3,3 +3,3 @@", '             "id": "$id",',
                                    '          -  "limit": 10', '          +  "limit": 25']


def test_a_policy_statement_change_names_the_statement():
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
        {"Sid": "Write", "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": "*"}]}
    after = json.loads(json.dumps(doc))
    after["Statement"][1]["Action"].append("dynamodb:DeleteItem")
    p = PropertyChange("PolicyDocument", json.dumps(doc), json.dumps(after), "Never", "/Properties/PolicyDocument")
    assert lines_of(p) == ["PolicyDocument.Statement[Write].Action[1] + dynamodb:DeleteItem"]


def test_recreation_is_noted_on_each_line_and_folds_with_it():
    p = PropertyChange("TableName", "a", "b", "Always", "/Properties/TableName")
    assert lines_of(p) == ["TableName: a → b   [requires recreation: Always]"]


def test_a_property_without_values():
    assert lines_of(PropertyChange("Tags", None, None, "Never", "/Tags")) == [
        "Tags: changed (the target gives no values)"]
    assert lines_of(PropertyChange("Policy", '{"a": 1}', '{"a":1}')) == [
        'Policy: the same value written differently: {"a": 1} → {"a":1}']


def test_a_long_added_value_is_shortened_in_text_only():
    p = PropertyChange("Body", None, {"paths": {f"/p{n}": {} for n in range(100)}})
    [line] = lines_of(p)
    assert line.startswith("Body: (none) → {") and "--output json has it whole" in line


# --- JSON ---------------------------------------------------------------------------------------

def test_json_carries_whole_values_the_entries_and_the_folds():
    described = {"ChangeSetName": "cs", "ChangeSetId": "arn:cs", "Changes": [
        tagged("Table", "AWS::DynamoDB::Table", TAGS + [GOLD]), tagged("Vpc", "AWS::EC2::VPC", TAGS + [GOLD])]}
    data = report.to_json(review.from_change_set("s", "t", described, [], True))
    [prop] = data["changes"][0]["properties"]
    assert (prop["name"], prop["path"], prop["requires_recreation"]) == ("Tags", "/Properties/Tags", "Never")
    assert prop["before"] == TAGS and prop["after"] == TAGS + [GOLD]  # whole, from the contexts
    assert prop["entries"] == [{"op": "add", "path": "Tags[Tier]", "before": None, "after": GOLD}]
    assert data["folded"] == [{"lines": ["Tags + Tier=gold"], "logical_ids": ["Table", "Vpc"]}]
    assert data["summary_line"] == "0 to add, 2 to modify, 0 to replace, 0 to remove"
    json.dumps(data)  # all of it serialisable


def test_lines_folded_over_the_same_resources_name_them_once():
    after = [{"Key": "Environment", "Value": "development"}, {"Key": "Owner", "Value": "billing"},
             {"Key": "Service", "Value": "items"}, GOLD]
    text = text_of(tagged("A", "AWS::X::Y", after), tagged("B", "AWS::X::Y", after))
    assert "      Tags ~ Owner: platform-team → billing   on all 2 modified resources: A, B\n" \
           "      Tags + Tier=gold   on the same 2 resources\n" in text


def test_a_drift_aware_change_set_says_so_and_marks_the_drifted_resources():
    described = {"ChangeSetName": "cs", "ChangeSetId": "arn:cs", "DeploymentMode": "REVERT_DRIFT",
                 "StackDriftStatus": "DRIFTED", "Changes": [
                     {**tagged("Table", "AWS::DynamoDB::Table", TAGS + [GOLD]),
                      "ResourceChange": {**tagged("Table", "AWS::DynamoDB::Table", TAGS + [GOLD])["ResourceChange"],
                                         "ResourceDriftStatus": "MODIFIED"}}]}
    made = review.from_change_set("s", "t", described, [], True)
    text = report.format_text(made)
    assert text.splitlines()[0] == "Change set cs to update stack s (t), drift-aware (REVERT_DRIFT; the stack is DRIFTED)"
    assert "  (drifted: MODIFIED)" in text.splitlines()[2]
    data = report.to_json(made)
    assert (data["deployment_mode"], data["stack_drift_status"], data["changes"][0]["drift_status"]) == (
        "REVERT_DRIFT", "DRIFTED", "MODIFIED")
