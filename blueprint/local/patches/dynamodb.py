"""DynamoDB: the Table properties moto's CloudFormation drops or misreads, and table updates."""
from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from blueprint.local.patches.base import flag, patch, wrap


def _sse_for_api(sse: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification (SSEEnabled) -> the API's shape (Enabled)."""
    if not sse:
        return None
    out = {"Enabled": flag(sse.get("SSEEnabled", sse.get("Enabled")))}
    if sse.get("SSEType"):
        out["SSEType"] = sse["SSEType"]
    if sse.get("KMSMasterKeyId"):
        out["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
    return out if out["Enabled"] else None


def _table_extras(table_name: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = dynamodb_backends[account_id][region_name]
    table = backend.get_table(table_name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        wanted = flag(ttl.get("Enabled"))
        if wanted or table.ttl.get("TimeToLiveStatus") == "ENABLED":
            backend.update_time_to_live(table_name, {"Enabled": wanted, "AttributeName": ttl["AttributeName"]})
    pitr = props.get("PointInTimeRecoverySpecification")
    backend.update_continuous_backups(
        table_name, {"PointInTimeRecoveryEnabled": flag((pitr or {}).get("PointInTimeRecoveryEnabled"))})
    table.sse_specification = _sse_for_api(props.get("SSESpecification"))
    if table.sse_specification and "KMSMasterKeyId" not in table.sse_specification:
        table.sse_specification["KMSMasterKeyId"] = table._get_default_encryption_key(account_id, region_name)
    table.deletion_protection_enabled = flag(props.get("DeletionProtectionEnabled"))


@patch
def dynamodb_table_properties() -> None:
    """moto's AWS::DynamoDB::Table ignores TimeToLiveSpecification and PointInTimeRecoverySpecification,
    and reads SSESpecification with the API's key `Enabled` instead of CloudFormation's `SSEEnabled`, so
    describe_table has no SSEDescription. It also has no update_from_cloudformation_json: a Modify
    replaced the table's entry in the stack with None. This patch applies TTL, PITR, SSE and deletion
    protection on create and update, updates throughput/billing/tags in place, and replaces the table
    (new one, then old one deleted) when its TableName changes."""
    def make_create(original_create):  # type: ignore[no-untyped-def]
        def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            patched = copy.deepcopy(cloudformation_json)
            patched["Properties"].pop("SSESpecification", None)  # applied by _table_extras, in the right shape
            table = original_create(cls, resource_name, patched, account_id, region_name, **kwargs)
            _table_extras(table.name, cloudformation_json["Properties"], account_id, region_name)
            return table
        return create

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            dynamodb_backends[account_id][region_name].delete_table(original_resource.name)
            return new
        table = original_resource
        table.billing_mode = "PAY_PER_REQUEST" if props.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
        if props.get("ProvisionedThroughput"):
            table.throughput = {**table.throughput, **props["ProvisionedThroughput"]}
        if "StreamSpecification" in props:
            table.set_stream_specification(props["StreamSpecification"])
        table.tags = props.get("Tags") or []
        _table_extras(table.name, props, account_id, region_name)
        return table

    wrap(Table, "create_from_cloudformation_json", make_create)
    wrap(Table, "update_from_cloudformation_json", lambda _abstract: update)
