"""SNS: Topic tags, GetAtt TopicArn and in-place updates, and models for AWS::SNS::Subscription and TopicPolicy.

KmsMasterKeyId needs nothing: moto's Topic keeps it and get_topic_attributes shows it.
"""
from __future__ import annotations

import json
from typing import Any

from moto.sns.models import Topic, sns_backends
from moto.utilities.arns import parse_arn

from blueprint.local.patches.base import Model, add_model, flag, ignore_gone, patch, tags_dict, wrap

# Topic properties an update changes in place -> moto's attribute and its value when the property is absent.
TOPIC_IN_PLACE = {"DisplayName": ("display_name", ""), "KmsMasterKeyId": ("kms_master_key_id", ""),
                  "DeliveryPolicy": ("delivery_policy", ""),
                  "ContentBasedDeduplication": ("content_based_deduplication", False)}
TOPIC_CREATE_ONLY = ("TopicName", "FifoTopic")
# Subscription properties set as attributes.
SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy", "DeliveryPolicy",
                           "RedrivePolicy", "SubscriptionRoleArn")
SUBSCRIPTION_CREATE_ONLY = ("TopicArn", "Protocol", "Endpoint")


def backend_of(arn: str) -> Any:
    """The SNS backend of a topic's (or subscription's) own account and region."""
    parsed = parse_arn(arn)
    return sns_backends[parsed.account][parsed.region]


def _text(value: Any) -> str:
    """A policy or attribute CloudFormation gives as an object (or a boolean), as SNS stores it: text."""
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value)


# --------------------------------------------------------------------------- topics

def _topic_in_place(topic: Topic, props: dict[str, Any]) -> Topic:
    for prop, (attribute, absent) in TOPIC_IN_PLACE.items():
        value = props.get(prop, absent)
        setattr(topic, attribute, _text(value) if prop == "DeliveryPolicy" and value else value)
    topic._tags = tags_dict(props.get("Tags"))
    return topic


@patch
def sns_topic_properties() -> None:
    """moto's AWS::SNS::Topic drops Tags (list_tags_for_resource is empty), has no GetAtt TopicArn (only
    TopicName), and updates a topic by deleting and re-creating it, which deletes every subscription
    of the topic, the ones AWS::SNS::Subscription resources made included. This patch sets the tags,
    answers GetAtt TopicArn, and updates DisplayName, KmsMasterKeyId, DeliveryPolicy,
    ContentBasedDeduplication and Tags in place (subscriptions stay); a new TopicName or FifoTopic
    still replaces the topic, as in AWS."""

    def make_create(original):  # type: ignore[no-untyped-def]
        def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            topic = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
            return _topic_in_place(topic, cloudformation_json["Properties"])
        return create

    def make_update(original):  # type: ignore[no-untyped-def]
        def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
            props = cloudformation_json["Properties"]
            if new_resource_name != original_resource.name or \
                    flag(props.get("FifoTopic")) != flag(original_resource.fifo_topic):
                return original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
            return _topic_in_place(original_resource, props)
        return update

    def make_get_attribute(original):  # type: ignore[no-untyped-def]
        def get_cfn_attribute(self, attribute_name):  # type: ignore[no-untyped-def]
            return self.arn if attribute_name == "TopicArn" else original(self, attribute_name)
        return get_cfn_attribute

    wrap(Topic, "create_from_cloudformation_json", make_create)
    wrap(Topic, "update_from_cloudformation_json", make_update)
    wrap(Topic, "has_cfn_attr", lambda original: lambda cls, attr: attr == "TopicArn" or original(cls, attr))
    wrap(Topic, "get_cfn_attribute", make_get_attribute)


# --------------------------------------------------------------------------- subscriptions

class Subscription(Model):
    TYPE = "AWS::SNS::Subscription"
    ATTRS = ("Arn",)

    def __init__(self, arn: str, props: dict[str, Any]):
        self.physical_resource_id = self.attr_Arn = arn
        self.created_with = {k: props.get(k) for k in SUBSCRIPTION_CREATE_ONLY}

    @staticmethod
    def _set_attributes(arn: str, props: dict[str, Any]) -> None:
        """The attributes the properties give, and moto's defaults for those they no longer give."""
        sns = backend_of(arn)
        attributes = sns.subscriptions[arn].attributes
        for name in SUBSCRIPTION_ATTRIBUTES:  # the scope first: moto checks a FilterPolicy against it
            value = props.get(name)
            if value is not None:
                sns.set_subscription_attributes(arn, name, _text(value))
            elif name == "FilterPolicy":
                sns.set_subscription_attributes(arn, name, "")  # clears moto's filter, then the attribute goes
                attributes.pop(name, None)
            elif name == "RawMessageDelivery":
                attributes[name] = "false"
            else:
                attributes.pop(name, None)

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        subscription = backend_of(props["TopicArn"]).subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        cls._set_attributes(subscription.arn, props)
        return cls(subscription.arn, props)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        """Attributes in place; a new TopicArn, Protocol or Endpoint is a new subscription, as in AWS."""
        if any(props.get(k) != v for k, v in original.created_with.items()):
            return cls.replace(original, props, name, account_id, region_name)
        cls._set_attributes(original.physical_resource_id, props)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        backend_of(self.physical_resource_id).unsubscribe(self.physical_resource_id)


@patch
def sns_subscription() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::SNS::Subscription (skipped with a warning: no
    subscription, and its Ref resolves to None). This patch installs one: it subscribes the endpoint
    (email, https, sqs, lambda, ...) to the topic (in the topic's own region), sets RawMessageDelivery,
    FilterPolicyScope, FilterPolicy, DeliveryPolicy, RedrivePolicy and SubscriptionRoleArn as
    attributes, answers Ref and GetAtt Arn with the subscription ARN, updates attributes in place (a new
    TopicArn, Protocol or Endpoint replaces it) and unsubscribes on delete. As in moto, an email
    subscription is confirmed at once (AWS leaves it PendingConfirmation until the mail is answered)."""
    add_model(Subscription)


# --------------------------------------------------------------------------- topic policies

def _default_policy(arn: str) -> str:
    topic = backend_of(arn).get_topic(arn)
    parsed = parse_arn(arn)
    return json.dumps(topic._create_default_topic_policy(parsed.region, parsed.account, topic.name))


class TopicPolicy(Model):
    TYPE = "AWS::SNS::TopicPolicy"
    ATTRS = ("Id",)

    def __init__(self, physical_id: str, topics: list[str]):
        self.physical_resource_id = self.attr_Id = physical_id
        self.topics = topics

    @staticmethod
    def _apply(topics: list[str], document: Any) -> None:
        for arn in topics:
            backend_of(arn).get_topic(arn).policy = _text(document)

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        topics = list(props.get("Topics") or [])
        cls._apply(topics, props["PolicyDocument"])
        return cls(name, topics)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        topics = list(props.get("Topics") or [])
        TopicPolicy(original.physical_resource_id, [t for t in original.topics if t not in topics]).delete(
            account_id, region_name)
        cls._apply(topics, props["PolicyDocument"])
        original.topics = topics
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        """The topics get SNS's default policy back, as when CloudFormation deletes a TopicPolicy."""
        for arn in self.topics:
            ignore_gone(lambda a: setattr(backend_of(a).get_topic(a), "policy", _default_policy(a)), arn)


@patch
def sns_topic_policy() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::SNS::TopicPolicy (skipped with a warning: the topics
    keep SNS's default policy). This patch installs one that sets the Policy attribute of each topic in
    Topics (readable with get_topic_attributes), moves it when Topics changes, and puts the default policy
    back on delete; Ref and GetAtt Id are its generated id."""
    add_model(TopicPolicy)
