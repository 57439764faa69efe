"""The guards before a change runs, on the local target: the account's Lambda concurrency before a change set
(issue 10 item 4).

Each test ships its own environment (dev's file under another name, or dev itself) on the module's local AWS.
The tests change resources out of band or the account's quota, which a live account cannot be trusted with.
"""
from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.integration
LOCAL_ONLY = "changes resources out of band and the account's Lambda quota: local target only"


@pytest.fixture(scope="module")
def bootstrapped(shipped):
    if shipped.target != "local":
        pytest.skip(LOCAL_ONLY)
    run = shipped.run("bootstrap", "--env", "dev")
    assert run.code == 0, run.text
    return shipped


def new_env(project, name: str, extra: str = "") -> None:
    """envs/<name>.yaml = dev's file (+ extra YAML), rendered."""
    text = (project.root / "envs" / "dev.yaml").read_text()
    (project.root / "envs" / f"{name}.yaml").write_text(text + extra)
    assert project.run("render", "--env", name).code == 0


def ship(project, env: str, *deploy_args: str):
    review = project.run("changeset", "--env", env)
    assert review.code == 0, review.text
    return review, project.run("deploy", "--env", env, *deploy_args)


def set_quota(project, n: int | None) -> None:
    """The account's Lambda quota in us-east-1 on the local AWS (docs/local-target.md); None: the default."""
    endpoint = project.client("lambda").meta.endpoint_url
    request = urllib.request.Request(
        f"{endpoint}/moto-api/blueprint/lambda/concurrent-executions", method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"region": "us-east-1", "ConcurrentExecutions": n}).encode())
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the local AWS on 127.0.0.1
        pass


def test_reserved_concurrency_beyond_the_quota_is_refused_before_any_change_set(bootstrapped):
    project = bootstrapped
    new_env(project, "quota")
    limit = project.client("lambda").get_account_settings()["AccountLimit"]
    reserved = limit["ConcurrentExecutions"] - limit["UnreservedConcurrentExecutions"]  # the module's other stacks
    cfn = project.client("cloudformation")
    try:
        set_quota(project, 10)  # a new account's
        refused = project.run("changeset", "--env", "quota")
        assert refused.code == 1, refused.text
        assert refused.err.startswith("refused: function.reserved_concurrency does not fit the account's Lambda "
                                      "concurrency in us-east-1: the template reserves 5")
        assert "only 0 can be reserved" in refused.err and "L-B99A9384" in refused.err
        assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "items-quota"]
        assert not (project.state("quota") / "changeset.json").exists()

        set_quota(project, reserved + 104)
        short = project.run("changeset", "--env", "quota")
        assert short.code == 1 and "only 4 can be reserved" in short.err
        assert "Or lower function.reserved_concurrency to 4 or less for quota" in short.err

        set_quota(project, reserved + 105)  # exactly enough
        _, run = ship(project, "quota")
        assert run.code == 0, run.text
        new_env(project, "quota", "table:\n  read_capacity: 6\n")  # an update re-reserves the function's own 5
        review = project.run("changeset", "--env", "quota")
        assert review.code == 0, review.text
    finally:
        set_quota(project, None)
