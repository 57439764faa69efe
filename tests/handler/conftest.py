"""Fixtures for the handler's tests: moto's DynamoDB with a table made from the rendered template."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from handler_testing import (  # noqa: E402
    AWS_ENV, HANDLER_DIR, HANDLER_ENV, ROOT, TABLE_NAME, TABLE_SPEC, TEMPLATE, TTL_ATTRIBUTE, UNSET_ENV,
)


@pytest.fixture(autouse=True)
def handler_env(monkeypatch):
    """The handler's env vars and fake AWS credentials for each test here, restored afterwards."""
    for name, value in {**HANDLER_ENV, **AWS_ENV}.items():
        monkeypatch.setenv(name, value)
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def table_from_template():
    """A moto DynamoDB table built from the template's KeySchema, AttributeDefinitions and TTL.

    Yields (client, TableSpec) inside mock_aws. Skips while generated/dev/template.yaml is missing.
    """
    if TABLE_SPEC is None:
        pytest.skip(f"{TEMPLATE.relative_to(ROOT) if TEMPLATE.is_relative_to(ROOT) else TEMPLATE} does not exist "
                    "yet: run `blueprint render` (the handler's table is made from the rendered template)")
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE_NAME,
            KeySchema=TABLE_SPEC.key_schema,
            AttributeDefinitions=TABLE_SPEC.attribute_definitions,
            BillingMode="PAY_PER_REQUEST",
        )
        if TABLE_SPEC.ttl_attribute:
            client.update_time_to_live(
                TableName=TABLE_NAME,
                TimeToLiveSpecification={"AttributeName": TABLE_SPEC.ttl_attribute, "Enabled": True},
            )
        yield client, TABLE_SPEC


@pytest.fixture
def handler_app(handler_env):
    """The handler module `app` as imported with HANDLER_ENV (re-imported if someone imported it otherwise)."""
    import config

    module = sys.modules.get("app")
    expected = config.load(HANDLER_ENV)
    if module is None or Path(getattr(module, "__file__", "")).resolve() != HANDLER_DIR / "app.py" \
            or getattr(module, "CONFIG", None) != expected:
        sys.modules.pop("app", None)
        module = importlib.import_module("app")
    return module


@pytest.fixture
def api(table_from_template, handler_app, monkeypatch):
    """Call lambda_handler against a fresh table; `api.store` is the ItemStore in use (clock is movable)."""
    from events import LambdaContext
    from store import ItemStore, make_client

    client, spec = table_from_template
    store = ItemStore(make_client(), TABLE_NAME, spec.ttl_attribute or TTL_ATTRIBUTE, 30)
    monkeypatch.setattr(handler_app, "STORE", store)

    class Api:
        app = handler_app
        dynamodb = client

        def __init__(self):
            self.store = store

        def __call__(self, event):
            return handler_app.lambda_handler(event, LambdaContext())

    return Api()
