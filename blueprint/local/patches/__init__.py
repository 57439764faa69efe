"""Where moto (5.2.5, server mode) falls short for this stack, one file per moto service, installed by `apply()`.

  base                    the Patch record, `wrap` (the one wrapper of a moto attribute), the models' interface
  apigateway              REST API types moto has no model for, Deployment's Ref, Method's integration
  applicationautoscaling  ScalableTarget, ScalingPolicy
  awslambda               Function properties and configuration, account settings, the concurrency quota
  cloudformation          the engine (a package): change-set review, creation and execution with AWS's events,
                          timing, rollback and rollback triggers; stack deletion; busy stacks refused
  cloudwatch              Alarm and CompositeAlarm types, PutCompositeAlarm, composite alarms' state
  drift                   CloudFormation's drift API (DetectStackDrift and the rest) over the live resources
  dynamodb                Table properties and updates
  ec2                     deletes for the VPC's route tables, associations and endpoints
  kms                     Key tags and policy
  sns                     Topic tags, TopicArn and updates; Subscription, TopicPolicy
  sqs                     QueuePolicy

Each patch is a `@patch` function in its service's file; its docstring says what moto does wrong and
what the patch does. Importing changes nothing in moto: `apply()` installs every patch, once, and only
the local AWS's server process (blueprint.local.server) calls it, so the tool's own process and the
canaries' plain moto stay unpatched. A new gap = a Patch in the service's file + its test and canary in
tests/local/patches/test_<service>.py.
"""
from __future__ import annotations

from blueprint.local.patches import (
    apigateway,
    applicationautoscaling,
    awslambda,
    cloudformation,
    cloudwatch,
    drift,
    dynamodb,
    ec2,
    kms,
    sns,
    sqs,
)
from blueprint.local.patches.base import Patch

SERVICES = (apigateway, applicationautoscaling, awslambda, cloudformation, cloudwatch, drift, dynamodb, ec2,
            kms, sns, sqs)
PATCHES: tuple[Patch, ...] = tuple(p for module in SERVICES for p in vars(module).values() if isinstance(p, Patch))

_applied: list[str] = []


def apply() -> list[str]:
    """Install every patch once (idempotent); returns the names of the installed patches."""
    for p in PATCHES:
        if p.name not in _applied:
            p.install()
            _applied.append(p.name)
    return list(_applied)
