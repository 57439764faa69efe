"""blueprint/local/patches/sqs.py: the dead-letter queue's policy is set on the local AWS, and plain moto still
skips AWS::SQS::QueuePolicy."""
from __future__ import annotations

import json

import stack as S


# ---- sqs_queue_policy

def test_dlq_policy(client, deployed):
    attrs = client("sqs").get_queue_attributes(QueueUrl=deployed["ids"]["DeadLetterQueue"], AttributeNames=["Policy"])
    policy = json.loads(attrs["Attributes"]["Policy"])
    [wanted] = deployed["template"]["Resources"]["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert policy["Statement"][0]["Sid"] == wanted["Sid"]
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_canary_queue_policy_has_no_moto_model():
    from moto.cloudformation.parsing import get_model_map
    S.still_broken("AWS::SQS::QueuePolicy" not in get_model_map(),
                   "has a CloudFormation model for AWS::SQS::QueuePolicy", "sqs_queue_policy")


def test_canary_queue_policy_is_silently_skipped(plain):
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "DeadLetterQueuePolicy"))
    cfn, sqs = plain("cloudformation"), plain("sqs")
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    url = S.physical_ids(cfn, "canary")["DeadLetterQueue"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    S.still_broken("Policy" not in attrs.get("Attributes", {}), "sets a queue's Policy from AWS::SQS::QueuePolicy",
                   "sqs_queue_policy")
