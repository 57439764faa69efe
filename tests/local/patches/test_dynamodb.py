"""blueprint/local/patches/dynamodb.py: the rendered table has its TTL, PITR, encryption and updates on the local
AWS, and plain moto still drops them."""
from __future__ import annotations

import pytest

import stack as S


# ---- dynamodb_table_properties

def test_table_ttl_pitr_sse(client, deployed):
    ddb = client("dynamodb")
    props = deployed["template"]["Resources"]["Table"]["Properties"]
    name = props["TableName"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": props["TimeToLiveSpecification"]["AttributeName"]}
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    table = ddb.describe_table(TableName=name)["Table"]
    sse = table["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    assert sse["KMSMasterKeyArn"].endswith(deployed["ids"]["KmsKey"])  # the template gives the key id
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == props["ProvisionedThroughput"]["ReadCapacityUnits"]
    assert table["DeletionProtectionEnabled"] is False


def test_update_in_place_and_replacement(client, updated):
    ddb = client("dynamodb", updated["region"])
    new_name = updated["template"]["Resources"]["Table"]["Properties"]["TableName"]
    assert updated["after"]["Table"] == new_name == updated["before"]["Table"] + "-v2"
    table = ddb.describe_table(TableName=new_name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert ddb.describe_time_to_live(TableName=new_name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=updated["before"]["Table"])


def test_canary_table_ttl_pitr_sse_dropped(plain):
    cfn, ddb = plain("cloudformation"), plain("dynamodb")
    cfn.create_stack(StackName="canary", TemplateBody=S.body(S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))))
    name = S.physical_ids(cfn, "canary")["Table"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    sse = ddb.describe_table(TableName=name)["Table"].get("SSEDescription")
    S.still_broken(ttl == "DISABLED", "applies TimeToLiveSpecification from CloudFormation", "dynamodb_table_properties")
    S.still_broken(pitr == "DISABLED", "applies PointInTimeRecoverySpecification from CloudFormation",
                   "dynamodb_table_properties")
    S.still_broken(sse is None, "applies SSESpecification (SSEEnabled) from CloudFormation", "dynamodb_table_properties")


def test_canary_table_has_no_update():
    from moto.dynamodb.models.table import Table
    S.still_broken(hasattr(Table.update_from_cloudformation_json, "__isabstractmethod__"),
                   "updates AWS::DynamoDB::Table through CloudFormation", "dynamodb_table_properties")
