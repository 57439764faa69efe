"""SQS: a model for AWS::SQS::QueuePolicy, which moto's CloudFormation lacks."""
from __future__ import annotations

import json

from moto.sqs.models import sqs_backends

from blueprint.local.patches.base import Model, add_model, ignore_gone, patch


def _queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


class QueuePolicy(Model):
    TYPE = "AWS::SQS::QueuePolicy"

    def __init__(self, queues: list[str], logical_id: str):
        self.queues = queues
        self.physical_resource_id = logical_id

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        doc = props["PolicyDocument"]
        for url in props.get("Queues") or []:
            sqs_backends[account_id][region_name].set_queue_attributes(
                _queue_name(url), {"Policy": doc if isinstance(doc, str) else json.dumps(doc)})
        return cls(list(props.get("Queues") or []), kwargs.get("LogicalId", name))

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.queues:
            ignore_gone(sqs_backends[account_id][region_name].set_queue_attributes, _queue_name(url), {"Policy": ""})


@patch
def sqs_queue_policy() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::SQS::QueuePolicy (skipped with a warning). This
    patch installs one that sets the queues' Policy attribute (readable with get_queue_attributes)."""
    add_model(QueuePolicy)
