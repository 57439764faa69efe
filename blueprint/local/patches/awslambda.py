"""Lambda: the Function properties moto's CloudFormation drops, and the configuration fields moto never shows."""
from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction

from blueprint.local.patches.base import patch, tags_dict, wrap


def _set_extras(fn: Any, props: dict[str, Any]) -> Any:
    fn.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
    fn.dead_letter_config = props.get("DeadLetterConfig")
    fn.kms_key_arn = props.get("KmsKeyArn")
    fn.architectures = props.get("Architectures") or ["x86_64"]
    fn.tags = tags_dict(props.get("Tags"))
    fn.logging_config = props.get("LoggingConfig")
    fn.reserved_concurrency = props.get("ReservedConcurrentExecutions")
    if props.get("EphemeralStorage"):
        fn.ephemeral_storage = props["EphemeralStorage"].get("Size", 512)
    return fn


@patch
def lambda_function_properties() -> None:
    """moto's AWS::Lambda::Function passes only Description, MemorySize, Publish, Timeout, VpcConfig,
    Environment and ReservedConcurrentExecutions to the backend: TracingConfig (X-Ray Active),
    DeadLetterConfig, KmsKeyArn, Architectures, LoggingConfig and Tags are dropped, and moto's Lambda has
    no DeadLetterConfig at all (get_function_configuration never shows one). This patch sets them on
    create and update and adds DeadLetterConfig/LoggingConfig to the function's configuration."""

    def make_create(original):  # type: ignore[no-untyped-def]
        def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
            return _set_extras(fn, cloudformation_json["Properties"])
        return create

    def make_update(original):  # type: ignore[no-untyped-def]
        def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
            fn = original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
            return _set_extras(fn, cloudformation_json["Properties"])
        return update

    def make_get_configuration(original):  # type: ignore[no-untyped-def]
        def get_configuration(self, on_create: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
            config = original(self, on_create=on_create)
            if getattr(self, "dead_letter_config", None):
                config["DeadLetterConfig"] = self.dead_letter_config
            if getattr(self, "logging_config", None):
                config["LoggingConfig"] = self.logging_config
            return config
        return get_configuration

    wrap(LambdaFunction, "create_from_cloudformation_json", make_create)
    wrap(LambdaFunction, "update_from_cloudformation_json", make_update)
    wrap(LambdaFunction, "get_configuration", make_get_configuration)
