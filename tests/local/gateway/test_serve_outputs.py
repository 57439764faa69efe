"""Which deploy the local API serves: the stack on the local AWS itself, never an AWS deploy's outputs.

The stack and key live in a region no other test uses (moto's backends are process-wide), so the
session's moto server serves them without disturbing the other tests' (nothing-deployed) API.
"""
from __future__ import annotations

import json

import boto3
import pytest

from blueprint.local import serve
from blueprint.state import env_state_dir
from tests.conftest import ROOT

REGION = "eu-west-3"
STACK = "serve-outputs-test"
VALUE = "deployed-key-value-0123456789abcdefghij"


def _client(service: str, endpoint: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def key_id(moto_endpoint) -> str:
    return _client("apigateway", moto_endpoint).create_api_key(name="items-key", value=VALUE, enabled=True)["id"]


@pytest.fixture(scope="module")
def stack(moto_endpoint, key_id) -> str:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "serve-outputs-test"}}},
        "Outputs": {"ApiKeyId": {"Value": key_id}, "TableName": {"Value": "items-from-the-stack"},
                    "ApiEndpoint": {"Value": "https://abcde12345.execute-api.eu-west-3.amazonaws.com/v1"}},
    }
    _client("cloudformation", moto_endpoint).create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    return STACK


def _write_outputs(path, **outputs) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "outputs.json").write_text(json.dumps(outputs))


def _find(root, doc, api, endpoint, stack_name):
    return serve.find_deployed(root, "dev", doc, api, endpoint=endpoint, region=REGION, stack_name=stack_name)


def test_the_outputs_come_from_the_local_aws_not_from_an_aws_deploys_files(tmp_path, dev_doc, dev_api,
                                                                             moto_endpoint, stack, key_id):
    # An AWS deploy's outputs (the old shared path and the aws target's) name other keys and tables.
    _write_outputs(tmp_path / ".blueprint" / "dev", ApiKeyId="awskey123", TableName="items-on-aws")
    _write_outputs(tmp_path / ".blueprint" / "aws" / "dev", ApiKeyId="awskey123", TableName="items-on-aws")
    _write_outputs(tmp_path / ".blueprint" / "local" / "dev", ApiKeyId="stale", TableName="stale")
    deployed = _find(tmp_path, dev_doc, dev_api, moto_endpoint, stack)
    assert deployed.deployed and deployed.api_key == VALUE and deployed.api_key_id == key_id
    assert deployed.table_name == "items-from-the-stack" and deployed.api_id == "abcde12345"


def test_the_local_targets_outputs_file_is_the_fallback(tmp_path, dev_doc, dev_api, moto_endpoint, key_id):
    _write_outputs(env_state_dir(tmp_path, "local", "dev"), ApiKeyId=key_id, TableName="items-from-the-file")
    deployed = _find(tmp_path, dev_doc, dev_api, moto_endpoint, "no-such-stack")
    assert deployed.deployed and deployed.api_key == VALUE and deployed.table_name == "items-from-the-file"


def test_an_aws_deploys_outputs_alone_mean_nothing_is_deployed_locally(tmp_path, dev_doc, dev_api, moto_endpoint,
                                                                       key_id):
    # Even when its key id happens to exist on the local AWS: those files are not the local target's.
    _write_outputs(tmp_path / ".blueprint" / "dev", ApiKeyId=key_id, TableName="items-on-aws")
    _write_outputs(tmp_path / ".blueprint" / "aws" / "dev", ApiKeyId=key_id, TableName="items-on-aws")
    deployed = _find(tmp_path, dev_doc, dev_api, moto_endpoint, "no-such-stack")
    assert not deployed.deployed and deployed.api_key != VALUE
    assert deployed.table_name != "items-on-aws"


def test_serve_reads_the_stack_name_and_region_from_stack_json_only(tmp_path):
    from blueprint.errors import UserError

    (tmp_path / "generated" / "dev").mkdir(parents=True)
    (tmp_path / "generated" / "dev" / "template.yaml").write_text(
        (ROOT / "generated" / "dev" / "template.yaml").read_text())
    with pytest.raises(UserError, match=r"generated/dev/stack.json is missing: run `make render ENV=dev`"):
        serve.build(tmp_path, "dev", ensure_local_aws=False)



def test_stopping_a_server_that_never_started_returns(dev_api):
    import io
    import threading

    from blueprint.local.gateway.accesslog import AccessLog
    from blueprint.local.gateway.core import Gateway
    from blueprint.local.gateway.httpserver import LocalApiServer

    server = LocalApiServer(Gateway(dev_api, None, keys=[], api_id="x", account_id="1",
                                    access_log=AccessLog(None, io.StringIO())))
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=2)
    assert not stopper.is_alive()
    assert server.socket.fileno() == -1  # closed
