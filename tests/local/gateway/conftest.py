"""Fixtures for the local API's tests: the rendered dev template, a moto server with its table, the API.

The table is made from the template's own key schema, so the handler meets the table the
stack would create. The handler is imported in-process by blueprint.local.gateway.runtime, which
leaves this process's environment and sys.modules as they were.
"""
from __future__ import annotations

import io
from pathlib import Path

import boto3
import pytest

from blueprint.cfn import loader
from blueprint.local.gateway import definition

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
KEY = "serve-test-key-0123456789abcdefghijklmn"


def template(env: str) -> dict:
    return loader.loads((ROOT / "generated" / env / "template.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dev_doc() -> dict:
    return template("dev")


@pytest.fixture(scope="session")
def dev_api(dev_doc) -> definition.Api:
    return definition.load(dev_doc)


@pytest.fixture(scope="session")
def prod_api() -> definition.Api:
    return definition.load(template("prod"))


def _table_props(doc: dict) -> dict:
    (props,) = [r["Properties"] for r in doc["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    return props


@pytest.fixture(scope="session")
def moto_endpoint(dev_doc):
    """One moto server per session (moto's backends are process-wide) on 127.0.0.1 holding the dev table, created from the template's key schema."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    props = _table_props(dev_doc)
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ddb.create_table(TableName=props["TableName"], KeySchema=props["KeySchema"],
                     AttributeDefinitions=props["AttributeDefinitions"],
                     ProvisionedThroughput=props["ProvisionedThroughput"])
    yield endpoint
    server.stop()


def build_api(endpoint: str, *, throttling: bool, log: io.StringIO, function_log=None, **kwargs):
    from blueprint.local import serve

    return serve.build(ROOT, "dev", endpoint=endpoint, region=REGION, api_key=KEY, access_log=log,
                       throttling=throttling, function_log=function_log or (lambda text: None), **kwargs).start()


@pytest.fixture(scope="module")
def access_log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def local_api(moto_endpoint, access_log):
    """The dev API served on a free port with throttling off, the handler talking to moto."""
    api = build_api(moto_endpoint, throttling=False, log=access_log)
    yield api
    api.stop()
