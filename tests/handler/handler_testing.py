"""The handler tests' environment: sys.path, env vars, and the table as the rendered template defines it.

The handler's modules live at the zip root in Lambda (`import app`), so handler/ goes on sys.path.
The environment (HANDLER_ENV, AWS_ENV) is set per test by conftest's autouse fixture, so other
test folders in the same pytest session keep theirs (their AWS_ENDPOINT_URL, say). Named handler_testing (not support/helpers) to stay unique on sys.path.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HANDLER_DIR = ROOT / "handler"
TESTS_DIR = Path(__file__).resolve().parent
# The rendered dev template (the lead's `make render`); BLUEPRINT_TEMPLATE points elsewhere if needed.
TEMPLATE = Path(os.environ.get("BLUEPRINT_TEMPLATE", ROOT / "generated" / "dev" / "template.yaml"))

for p in (str(HANDLER_DIR), str(TESTS_DIR)):
    if p not in sys.path:
        sys.path.insert(0, p)


class _AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short forms (!Ref, !Sub, !GetAtt...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_AnyTagLoader.add_multi_constructor("!", _any_tag)


@dataclass(frozen=True)
class TableSpec:
    """What the template says about the items table."""

    key_schema: list
    attribute_definitions: list
    ttl_attribute: str | None


def template_table() -> TableSpec | None:
    """The AWS::DynamoDB::Table of the rendered template, or None while the template does not exist."""
    if not TEMPLATE.is_file():
        return None
    doc = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    tables = [r for r in (doc.get("Resources") or {}).values()
              if isinstance(r, dict) and r.get("Type") == "AWS::DynamoDB::Table"]
    assert len(tables) == 1, f"{TEMPLATE} should hold exactly one AWS::DynamoDB::Table, found {len(tables)}"
    props = tables[0]["Properties"]
    ttl = props.get("TimeToLiveSpecification") or {}
    return TableSpec(
        key_schema=props["KeySchema"],
        attribute_definitions=props["AttributeDefinitions"],
        ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true") else None,
    )


TABLE_SPEC = template_table()
TTL_ATTRIBUTE = (TABLE_SPEC.ttl_attribute if TABLE_SPEC and TABLE_SPEC.ttl_attribute else "expiresAt")
TABLE_NAME = "items-test"

HANDLER_ENV = {
    "TABLE_NAME": TABLE_NAME,
    "TTL_ATTRIBUTE": TTL_ATTRIBUTE,
    "TTL_DAYS": "30",
    "ALLOWED_ORIGINS": "http://localhost:3000,https://app.example.com",
    "LOG_LEVEL": "WARNING",
    "ENVIRONMENT": "test",
    "MAX_BODY_BYTES": "65536",
    "POWERTOOLS_SERVICE_NAME": "items-test",
}
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
# moto's in-process mock must see DynamoDB's real endpoint, not a local server's.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE")


def template_function() -> dict | None:
    """The Properties of the template's AWS::Lambda::Function running app.lambda_handler, or None."""
    if not TEMPLATE.is_file():
        return None
    doc = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    for resource in (doc.get("Resources") or {}).values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::Function":
            props = resource.get("Properties") or {}
            if props.get("Handler") == "app.lambda_handler":
                return props
    return None
