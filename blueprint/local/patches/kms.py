"""KMS: the Key properties moto's CloudFormation passes on in a shape its own backend cannot take."""
from __future__ import annotations

import copy
import json

from moto.kms.models import Key

from blueprint.local.patches.base import patch, wrap


@patch
def kms_key_properties() -> None:
    """moto's AWS::KMS::Key passes CloudFormation's Tags ([{Key, Value}]) to create_key, which expects the
    KMS API's [{TagKey, TagValue}]: the change set fails with KeyError 'TagKey' (HTTP 500). It also stores
    a KeyPolicy given as a JSON object (as templates do) as a dict, and every later KMS call on the key
    (DescribeKey, ...) fails with HTTP 500 in moto's policy check. This patch translates the tags and
    serialises the policy."""

    def make_create(original):  # type: ignore[no-untyped-def]
        def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            patched = copy.deepcopy(cloudformation_json)
            props = patched["Properties"]
            if props.get("KeyPolicy") is not None and not isinstance(props["KeyPolicy"], str):
                props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
            props["Tags"] = [{"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))}
                             for t in props.get("Tags") or []]
            return original(cls, resource_name, patched, account_id, region_name, **kwargs)
        return create

    wrap(Key, "create_from_cloudformation_json", make_create)
