"""botocore Stubber clients and canned AWS answers for the shipping tests that need no AWS."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
from botocore.stub import Stubber

from blueprint.render.settings import StackSettings
from blueprint.ship.records import ReviewRecord

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/items-dev/0a1b"
CS_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/bp-1/9f"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SETTINGS = StackSettings(stack_name="items-dev", region="us-east-1", account_id=None, tags={"Environment": "dev"},
                         termination_protection=False, stack_policy=None, runtime="python3.14", architecture="arm64")


def stubbed(service="cloudformation", region="us-east-1", **kwargs):
    client = boto3.client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s", **kwargs)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def stack(status, name="items-dev", **extra):
    return {"StackId": STACK_ID if name == "items-dev" else f"arn:aws:cloudformation:us-east-1:1:stack/{name}/1",
            "StackName": name, "StackStatus": status, "CreationTime": T0, **extra}


def event(event_id, status, lid="Table", rtype="AWS::DynamoDB::Table", seconds=0):
    return {"StackId": STACK_ID, "StackName": "items-dev", "EventId": event_id, "LogicalResourceId": lid,
            "ResourceType": rtype, "ResourceStatus": status, "Timestamp": T0 + timedelta(seconds=seconds)}


def stack_event(event_id, status, seconds=0):
    return event(event_id, status, "items-dev", "AWS::CloudFormation::Stack", seconds)


def record(**changes) -> ReviewRecord:
    """A review record of an update of items-dev on the local target, as `changeset` writes it."""
    values = dict(change_set_id=CS_ID, change_set_name="bp-1", stack_id=STACK_ID, stack_name="items-dev",
                  stack_version=f"UPDATE_COMPLETE {T0}", create=False, target="local", region="us-east-1",
                  template_file="generated/dev/template.yaml", template_sha256="0" * 64, package_sha256="1" * 64,
                  code_key="handler/" + "1" * 64 + ".zip", settings=SETTINGS, summary="0 to add, 1 to modify",
                  reviewed_at="2026-01-01T00:00:00+00:00",
                  spec_files={"blueprint.yaml": "2" * 64, "envs/dev.yaml": "3" * 64})
    values.update(changes)
    return ReviewRecord(**values)
