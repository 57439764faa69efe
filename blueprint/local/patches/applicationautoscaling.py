"""Application Auto Scaling: models for ScalableTarget and ScalingPolicy, which moto's CloudFormation lacks."""
from __future__ import annotations

from moto.applicationautoscaling.models import applicationautoscaling_backends

from blueprint.local.patches.base import Model, add_model, ignore_gone, patch


class ScalableTarget(Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    def __init__(self, namespace: str, resource_id: str, dimension: str):
        self.namespace, self.resource_id, self.dimension = namespace, resource_id, dimension
        self.physical_resource_id = f"{resource_id}|{dimension}|{namespace}"  # AWS's Ref

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"],
            min_capacity=props.get("MinCapacity"), max_capacity=props.get("MaxCapacity"),
            role_arn=props.get("RoleARN"), suspended_state=props.get("SuspendedState"))
        return cls(props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"])

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        if (props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"]) != (
                original.namespace, original.resource_id, original.dimension):
            original.delete(account_id, region_name)
        # Registering an existing target again updates it in place, as AWS does.
        return cls.create(props, name, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(applicationautoscaling_backends[account_id][region_name].deregister_scalable_target,
                    self.namespace, self.resource_id, self.dimension)


class ScalingPolicy(Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRS = ("Arn",)

    def __init__(self, name: str, namespace: str, resource_id: str, dimension: str, arn: str):
        self.name, self.namespace, self.resource_id, self.dimension = name, namespace, resource_id, dimension
        self.physical_resource_id = self.attr_Arn = arn

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        if props.get("ScalingTargetId"):
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]
        policy_name = props.get("PolicyName") or name
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=policy_name, service_namespace=namespace, resource_id=resource_id,
            scalable_dimension=dimension, policy_type=props.get("PolicyType"),
            policy_body=props.get("StepScalingPolicyConfiguration")
            or props.get("TargetTrackingScalingPolicyConfiguration"))
        return cls(policy_name, namespace, resource_id, dimension, policy.policy_arn)

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(applicationautoscaling_backends[account_id][region_name].delete_scaling_policy,
                    self.name, self.namespace, self.resource_id, self.dimension)


@patch
def applicationautoscaling_resource_types() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::ApplicationAutoScaling::ScalableTarget and
    ScalingPolicy (skipped with a warning). This patch installs models that call moto's Application
    Auto Scaling backend; the target's Ref is `resourceId|dimension|namespace` as in AWS."""
    add_model(ScalableTarget)
    add_model(ScalingPolicy)
