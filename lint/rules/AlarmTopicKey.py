"""E9105: an alarm's SNS topic can be published to by CloudWatch: its key and its policy let it.

CloudWatch encrypts an alarm's notification with the topic's KMS key itself. The key's policy must
grant the service principal cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* (an
account-root `kms:*` statement does not cover a service), and AWS's own key for SNS (alias/aws/sns)
cannot grant it at all. A topic policy, when the template has one, replaces the default one and
must allow CloudWatch sns:Publish. Either gap is silent: the alarm changes state, and its
notification is dropped with one line in the alarm's history (aws-cdk#11121).
See docs/real-account.md, "Alarms".
"""
from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")
CLOUDWATCH = "cloudwatch.amazonaws.com"


def _target(value):
    """The logical id a Ref or a GetAtt names, else None."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        return att[0] if isinstance(att, list) else str(att).split(".")[0]
    return None


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _grants(statements, actions) -> bool:
    """Whether an Allow statement for CloudWatch's service principal covers each of `actions`."""
    granted = set()
    for st in statements if isinstance(statements, list) else []:
        principal = st.get("Principal", {}) if isinstance(st, dict) else {}
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if st.get("Effect") == "Allow" and CLOUDWATCH in services:
            granted.update(_as_list(st.get("Action", [])))
    return all(a in granted or a.rstrip("*") in granted for a in actions)


class AlarmTopicKey(CloudFormationLintRule):
    """An alarm action on a topic whose key or policy keeps CloudWatch out."""

    id = "E9105"
    shortdesc = "Alarm topics let CloudWatch encrypt and publish"
    description = ("An alarm's SNS topic key must grant cloudwatch.amazonaws.com kms:Decrypt and "
                   "kms:GenerateDataKey*, and its topic policy sns:Publish, or notifications are dropped")
    source_url = "https://github.com/aws/aws-cdk/issues/11121"
    tags = ["resources", "cloudwatch", "sns", "kms", "blueprint"]

    def match(self, cfn):
        matches = []
        resources = {lid: r for lid, r in cfn.get_resources().items() if isinstance(r, dict)}
        topics = set()
        for lid, alarm in resources.items():
            if alarm.get("Type") in ALARM_TYPES:
                props = alarm.get("Properties", {})
                topics.update(t for key in ACTION_KEYS for t in map(_target, _as_list(props.get(key, [])))
                              if resources.get(t, {}).get("Type") == "AWS::SNS::Topic")
        for topic in sorted(topics):
            key = resources[topic].get("Properties", {}).get("KmsMasterKeyId")
            path = ["Resources", topic, "Properties", "KmsMasterKeyId"]
            if isinstance(key, str) and key.startswith("alias/aws/"):
                matches.append(RuleMatch(path, f"{topic}: AWS's own key {key} cannot let CloudWatch publish; "
                                               "use a customer-managed key"))
            key_id = _target(key)
            if resources.get(key_id, {}).get("Type") == "AWS::KMS::Key":
                policy = resources[key_id].get("Properties", {}).get("KeyPolicy", {})
                if not _grants(policy.get("Statement", []) if isinstance(policy, dict) else [],
                               ("kms:Decrypt", "kms:GenerateDataKey*")):
                    matches.append(RuleMatch(["Resources", key_id, "Properties", "KeyPolicy"], (
                        f"{key_id} encrypts the alarm topic {topic} but does not grant {CLOUDWATCH} "
                        "kms:Decrypt and kms:GenerateDataKey*: its notifications would be dropped")))
            for pid, policy in resources.items():
                props = policy.get("Properties", {})
                if policy.get("Type") == "AWS::SNS::TopicPolicy" and topic in map(_target, _as_list(props.get("Topics", []))):
                    document = props.get("PolicyDocument", {})
                    if not _grants(document.get("Statement", []) if isinstance(document, dict) else [], ("sns:Publish",)):
                        matches.append(RuleMatch(["Resources", pid, "Properties", "PolicyDocument"], (
                            f"{pid} replaces {topic}'s default policy without letting {CLOUDWATCH} sns:Publish")))
        return matches
