"""blueprint/local/patches/kms.py: the rendered key has its tags, rotation and policy on the local AWS, and plain
moto still fails on both."""
from __future__ import annotations

import json

import stack as S


# ---- kms_key_properties

def test_kms_key_tags_rotation_and_policy(client, deployed):
    kms, key_id = client("kms"), deployed["ids"]["KmsKey"]
    assert {"TagKey": "Environment", "TagValue": "development"} in kms.list_resource_tags(KeyId=key_id)["Tags"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    wanted = deployed["template"]["Resources"]["KmsKey"]["Properties"]["KeyPolicy"]
    assert [s["Sid"] for s in policy["Statement"]] == [s["Sid"] for s in wanted["Statement"]]


def test_canary_kms_key_tags_crash(plain):
    try:
        plain("cloudformation").create_stack(StackName="canary", TemplateBody=S.body(S.cut(S.rendered("dev"), "KmsKey")))
        failed = False
    except KeyError as exc:
        failed = "TagKey" in str(exc)
    S.still_broken(failed, "accepts CloudFormation Tags on AWS::KMS::Key", "kms_key_properties")


def test_canary_kms_key_policy_object_breaks_the_key(plain):
    cfn = plain("cloudformation")
    template = S.cut(S.rendered("dev"), "KmsKey")
    del template["Resources"]["KmsKey"]["Properties"]["Tags"]  # the other half of the gap, above
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    try:
        plain("kms").describe_key(KeyId=S.physical_ids(cfn, "canary")["KmsKey"])
        failed = False
    except TypeError:  # moto's policy check reads the stored dict as a JSON string
        failed = True
    S.still_broken(failed, "accepts a KeyPolicy JSON object on AWS::KMS::Key", "kms_key_properties")
