"""Fixtures: one patched local AWS (a detached server started by blueprint.local) for the session."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import stack`

from blueprint.local import process as local  # noqa: E402

import stack as S  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "canary: asserts a moto gap still exists in plain moto; fails when an upgrade closes it")


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    state_dir = tmp_path_factory.mktemp("local-aws")
    url = local.ensure_running(state_dir)
    yield url
    local.stop(state_dir)


@pytest.fixture(scope="session")
def client(endpoint):
    def make(service: str):
        return boto3.client(service, region_name=S.REGION, **local.client_kwargs(endpoint))
    return make


@pytest.fixture(scope="session")
def deployed(client):
    """The full test stack, created through a change set (env "t1")."""
    S.upload_code(client("s3"))
    cfn = client("cloudformation")
    S.deploy(cfn, "svc-t1", S.template(env="t1"))
    return {"stack": "svc-t1", "ids": S.physical_ids(cfn, "svc-t1"), "outputs": S.outputs(cfn, "svc-t1")}
