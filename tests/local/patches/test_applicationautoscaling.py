"""blueprint/local/patches/applicationautoscaling.py: the prod template's table auto scaling exists on the local
AWS, and plain moto still skips both types."""
from __future__ import annotations

import pytest

import stack as S

POLICIES = ("TableReadScalingPolicy", "TableWriteScalingPolicy")


# ---- applicationautoscaling_resource_types

def test_table_autoscaling(client):
    prod = S.rendered("prod")
    S.deploy(client("cloudformation"), "items-prod-scaling", S.cut(prod, *POLICIES))
    aas = client("application-autoscaling")
    table = f"table/{prod['Resources']['Table']['Properties']['TableName']}"
    targets = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[table])["ScalableTargets"]
    wanted = [prod["Resources"][name]["Properties"] for name in ("TableReadScalableTarget", "TableWriteScalableTarget")]
    assert sorted((t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets) == sorted(
        (w["ScalableDimension"], w["MinCapacity"], w["MaxCapacity"]) for w in wanted)
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=table)["ScalingPolicies"]
    for name in POLICIES:
        props = prod["Resources"][name]["Properties"]
        [policy] = [p for p in policies if p["PolicyName"] == props["PolicyName"]]
        assert policy["PolicyType"] == props["PolicyType"] == "TargetTrackingScaling"
        assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == \
            props["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]


@pytest.mark.parametrize("resource_type", ["AWS::ApplicationAutoScaling::ScalableTarget",
                                           "AWS::ApplicationAutoScaling::ScalingPolicy"])
def test_canary_resource_type_has_no_moto_model(resource_type):
    from moto.cloudformation.parsing import get_model_map
    S.still_broken(resource_type not in get_model_map(), f"has a CloudFormation model for {resource_type}",
                   "applicationautoscaling_resource_types")


def test_canary_table_autoscaling_is_silently_skipped(plain):
    template = S.without_kms_gap(S.cut(S.rendered("prod"), *POLICIES))
    plain("cloudformation").create_stack(StackName="canary", TemplateBody=S.body(template))
    targets = plain("application-autoscaling").describe_scalable_targets(ServiceNamespace="dynamodb")
    S.still_broken(not targets["ScalableTargets"], "creates ScalableTargets from CloudFormation",
                   "applicationautoscaling_resource_types")
