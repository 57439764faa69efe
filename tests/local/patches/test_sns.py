"""blueprint/local/patches/sns.py: an encrypted alarm topic with tags, its email and https subscriptions and its
policy deploy through a change set on the local AWS, update in place and read back through SNS's API; plain
moto still drops the topic's tags and skips subscriptions and topic policies."""
from __future__ import annotations

import json

import pytest

import stack as S

REGION = "sa-east-1"  # this file's stacks, apart from the other files' regions
TAGS = [{"Key": "Environment", "Value": "development"}, {"Key": "Service", "Value": "items"}]
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "cloudwatch", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
     "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
     "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
    {"Sid": "tls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
FILTER = {"severity": ["critical"]}


def topic_template(prefix: str) -> dict:
    return {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": f"{prefix}-alarms", "DisplayName": "items alarms", "KmsMasterKeyId": {"Ref": "Key"}, "Tags": TAGS}},
        "Email": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "oncall@example.com"}},
        "Hook": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "https", "Endpoint": "https://hooks.example.com/alarms",
            "RawMessageDelivery": True, "FilterPolicyScope": "MessageAttributes", "FilterPolicy": FILTER}},
        "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": POLICY}},
    }, "Outputs": {"TopicArn": {"Value": {"Fn::GetAtt": ["Topic", "TopicArn"]}},
                   "TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}},
                   "EmailArn": {"Value": {"Ref": "Email"}}, "HookArn": {"Value": {"Fn::GetAtt": ["Hook", "Arn"]}},
                   "PolicyId": {"Value": {"Ref": "Policy"}}}}


@pytest.fixture(scope="module")
def topic(client):
    cfn = client("cloudformation", REGION)
    template = topic_template("topic")
    S.deploy(cfn, "topic", template)
    outputs = S.outputs(cfn, "topic")
    return {"template": template, "ids": S.physical_ids(cfn, "topic"), "outputs": outputs, "arn": outputs["TopicArn"]}


def _subscriptions(sns, arn: str) -> dict[str, dict]:
    """Protocol -> the subscription's attributes."""
    return {s["Protocol"]: sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
            for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]}


# ---- sns_topic_properties

def test_topic_has_its_key_tags_and_arn(client, topic):
    sns = client("sns", REGION)
    arn = topic["arn"]
    assert arn == topic["ids"]["Topic"] == f"arn:aws:sns:{REGION}:123456789012:topic-alarms"
    assert topic["outputs"]["TopicName"] == "topic-alarms"
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["KmsMasterKeyId"] == topic["ids"]["Key"]
    assert attributes["DisplayName"] == "items alarms"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == TAGS


def test_topic_update_is_in_place_and_keeps_its_subscriptions(client):
    cfn, sns = client("cloudformation", REGION), client("sns", REGION)
    template = topic_template("update")
    S.deploy(cfn, "topic-update", template)
    arn = S.outputs(cfn, "topic-update")["TopicArn"]
    before = _subscriptions(sns, arn)
    props = template["Resources"]["Topic"]["Properties"]
    props["DisplayName"], props["Tags"] = "renamed", [*TAGS, {"Key": "Tier", "Value": "gold"}]
    del props["KmsMasterKeyId"]
    template["Resources"]["Hook"]["Properties"]["FilterPolicy"] = {"severity": ["critical", "high"]}
    del template["Resources"]["Policy"]
    template["Outputs"].pop("PolicyId")
    S.deploy(cfn, "topic-update", template)
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "renamed" and not attributes.get("KmsMasterKeyId")
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"][-1] == {"Key": "Tier", "Value": "gold"}
    after = _subscriptions(sns, arn)
    assert {p: a["SubscriptionArn"] for p, a in after.items()} == {p: a["SubscriptionArn"] for p, a in before.items()}
    assert json.loads(after["https"]["FilterPolicy"]) == {"severity": ["critical", "high"]}
    assert "__default_statement_ID" in attributes["Policy"]  # the TopicPolicy's removal gave the default back


def test_canary_topic_tags_dropped(plain):
    cfn = plain("cloudformation")
    template = topic_template("canary")
    template["Resources"] = {"Topic": template["Resources"]["Topic"]}
    template["Resources"]["Topic"]["Properties"].pop("KmsMasterKeyId")
    template["Outputs"] = {}
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    arn = S.physical_ids(cfn, "canary")["Topic"]
    S.still_broken(not plain("sns").list_tags_for_resource(ResourceArn=arn)["Tags"],
                   "applies SNS Topic Tags from CloudFormation", "sns_topic_properties")


# ---- sns_subscription

def test_email_and_https_subscriptions(client, topic):
    subscriptions = _subscriptions(client("sns", REGION), topic["arn"])
    assert set(subscriptions) == {"email", "https"}
    email, hook = subscriptions["email"], subscriptions["https"]
    assert email["Endpoint"] == "oncall@example.com" and email["SubscriptionArn"] == topic["outputs"]["EmailArn"]
    assert hook["SubscriptionArn"] == topic["outputs"]["HookArn"] == topic["ids"]["Hook"]
    assert hook["Endpoint"] == "https://hooks.example.com/alarms" and hook["RawMessageDelivery"] == "true"
    assert json.loads(hook["FilterPolicy"]) == FILTER and hook["FilterPolicyScope"] == "MessageAttributes"
    assert email["RawMessageDelivery"] in ("false", False) and "FilterPolicy" not in email


def test_deleting_the_stack_unsubscribes(client):
    cfn, sns = client("cloudformation", REGION), client("sns", REGION)
    S.deploy(cfn, "topic-delete", topic_template("delete"))
    cfn.delete_stack(StackName="topic-delete")
    cfn.get_waiter("stack_delete_complete").wait(StackName="topic-delete", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert [s for s in sns.list_subscriptions()["Subscriptions"] if "delete-alarms" in s["TopicArn"]] == []


def test_canary_subscriptions_skipped(plain):
    cfn = plain("cloudformation")
    template = topic_template("canary")
    template["Resources"] = {k: v for k, v in template["Resources"].items() if k in ("Topic", "Email")}
    template["Resources"]["Topic"]["Properties"].pop("KmsMasterKeyId")
    template["Outputs"] = {}
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    S.still_broken(not plain("sns").list_subscriptions()["Subscriptions"],
                   "creates AWS::SNS::Subscription from CloudFormation", "sns_subscription")


# ---- sns_topic_policy

def test_topic_policy_is_the_topics_policy(client, topic):
    policy = json.loads(client("sns", REGION).get_topic_attributes(TopicArn=topic["arn"])["Attributes"]["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"cloudwatch", "tls"}
    assert statements["cloudwatch"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statements["cloudwatch"]["Resource"] == topic["arn"]
    assert statements["cloudwatch"]["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert statements["tls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert topic["outputs"]["PolicyId"] == topic["ids"]["Policy"]


def test_canary_topic_policy_skipped(plain):
    cfn = plain("cloudformation")
    template = topic_template("canary")
    template["Resources"] = {k: v for k, v in template["Resources"].items() if k in ("Topic", "Policy")}
    template["Resources"]["Topic"]["Properties"].pop("KmsMasterKeyId")
    template["Outputs"] = {}
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    sns = plain("sns")
    arn = sns.list_topics()["Topics"][0]["TopicArn"]
    S.still_broken("__default_statement_ID" in sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"],
                   "applies AWS::SNS::TopicPolicy from CloudFormation", "sns_topic_policy")
