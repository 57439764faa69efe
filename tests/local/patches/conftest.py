"""Fixtures: one patched local AWS (a detached server started by blueprint.local) for the session, the
rendered dev stack deployed to it, and plain in-process moto for the canaries."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).parent))  # `import stack`

from blueprint.local import process as local  # noqa: E402

import stack as S  # noqa: E402


HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "canary: asserts a moto gap still exists in plain moto; fails when an upgrade closes it")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marked by what they do: `canary` (named test_canary_*), `integration` (they use the local AWS)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            if item.name.startswith("test_canary_"):
                item.add_marker(pytest.mark.canary)
            elif "endpoint" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    state_dir = tmp_path_factory.mktemp("local-aws")
    url = local.ensure_running(state_dir)
    yield url
    local.stop(state_dir)


@pytest.fixture(scope="session")
def client(endpoint):
    """`client(service, region)`: a boto3 client of the patched local AWS."""
    def make(service: str, region: str = S.REGION):
        return boto3.client(service, region_name=region, **local.client_kwargs(endpoint))
    return make


@pytest.fixture(scope="session")
def code(client) -> dict[str, str]:
    """The template's parameters, with the handler zip uploaded."""
    return S.upload_code(client("s3"))


@pytest.fixture(scope="session")
def deployed(client, code):
    """The rendered dev template, created through a change set (in S.REGION)."""
    template = S.rendered("dev")
    cfn = client("cloudformation")
    S.deploy(cfn, "items-dev", template, code)
    return {"template": template, "stack": "items-dev", "ids": S.physical_ids(cfn, "items-dev"),
            "outputs": S.outputs(cfn, "items-dev")}


@pytest.fixture
def plain():
    """`plain(service)`: a boto3 client of plain, unpatched moto, in-process (the canaries')."""
    with mock_aws():
        def make(service: str):
            return boto3.client(service, region_name=S.REGION, aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        yield make


@pytest.fixture(scope="session")
def updated(client, code):
    """Another copy of the dev stack (in eu-west-2), then changed by one change set: the usage plan's and
    stage's throttle and the read capacity (in place), the API's description (moto cannot update a
    RestApi) and the table's name (create-only: a replacement)."""
    region = "eu-west-2"
    cfn = client("cloudformation", region)
    S.deploy(cfn, "items-dev", S.rendered("dev"), code)
    before = S.physical_ids(cfn, "items-dev")
    changed = S.rendered("dev")
    resources = changed["Resources"]
    resources["Table"]["Properties"]["TableName"] += "-v2"
    resources["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 7
    resources["UsagePlan"]["Properties"]["Throttle"] = {"RateLimit": 40, "BurstLimit": 80}
    [setting] = resources["Stage"]["Properties"]["MethodSettings"]
    setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"] = 40, 80
    resources["RestApi"]["Properties"]["Description"] = "changed"
    review = S.deploy(cfn, "items-dev", changed, code)
    return {"region": region, "template": changed, "before": before, "after": S.physical_ids(cfn, "items-dev"),
            "review": review,
            "changes": {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in review["Changes"]}}
