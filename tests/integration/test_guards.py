"""The guards before a change runs, on the local target: the account's Lambda concurrency before a change set
(issue 10 item 4), drift detection and its table, and a protected environment's deploy refused over drift
until `--accept-drift` (issue 11 item 3).

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
    return shipped.bootstrapped_locally(LOCAL_ONLY)


def set_capacity(project, table: str, read: int = 5, write: int = 5) -> None:
    project.client("dynamodb").update_table(
        TableName=table, ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write})


def test_drift_names_the_changed_table_capacity_with_both_values(bootstrapped):
    project = bootstrapped
    _, run = project.ship("dev")
    assert run.code == 0, run.text
    in_sync = project.run("drift", "--env", "dev")
    assert in_sync.code == 0, in_sync.text
    assert in_sync.out.startswith("Drift of stack items-dev (us-east-1, local AWS at ") and ": IN_SYNC\n" in in_sync.out

    set_capacity(project, "items-dev-items", read=7)  # out of band, as a console change would
    drifted = project.run("drift", "--env", "dev")
    assert drifted.code == 1, drifted.text
    assert "  Table  AWS::DynamoDB::Table  items-dev-items\n" \
           "      /ProvisionedThroughput/ReadCapacityUnits  5 → 7\n" in drifted.out
    assert drifted.err.startswith("drift: items-dev has drifted: Table differs from the template it runs.")
    assert "Traceback" not in drifted.text

    as_json = project.run("drift", "--env", "dev", "--output", "json")
    assert as_json.code == 1
    data = json.loads(as_json.out)  # stdout is only the JSON
    assert data["status"] == "DRIFTED" and [r["logical_id"] for r in data["drifted"]] == ["Table"]
    assert data["drifted"][0]["differences"] == [{"path": "/ProvisionedThroughput/ReadCapacityUnits",
                                                  "expected": "5", "actual": "7", "kind": "NOT_EQUAL"}]

    revert = project.run("changeset", "--env", "dev", "--revert-drift")  # the local AWS ignores it, and says so
    assert revert.code == 0, revert.text
    assert "DeploymentMode=REVERT_DRIFT was sent, but the local AWS ignores it" in revert.out

    bad = project.run("drift", "--env", "nowhere")
    assert bad.code == 2 and "Traceback" not in bad.text

    dev = project.root / "envs" / "dev.yaml"
    original = dev.read_text()  # the other tests copy dev's file: it is put back below
    try:
        project.new_env("dev", "table:\n  read_capacity: 8\n")  # unprotected: deploy does not check drift
        _, run = project.ship("dev")
        assert run.code == 0, run.text
        assert "drift:" not in run.text
    finally:
        dev.write_text(original)
        assert project.run("render", "--env", "dev").code == 0


def test_capacity_set_by_the_stacks_auto_scaling_is_not_drift(bootstrapped):
    project = bootstrapped
    project.new_env("scaled", "table:\n  autoscaling:\n    max_read_capacity: 20\n    max_write_capacity: 20\n"
                               "    target_utilization: 70\n")
    _, run = project.ship("scaled")
    assert run.code == 0, run.text
    set_capacity(project, "items-scaled-items", read=9)  # what the scaler does under load
    checked = project.run("drift", "--env", "scaled")
    assert checked.code == 0, checked.text
    assert ": IN_SYNC\n" in checked.out
    assert ("not drift: Table /ProvisionedThroughput/ReadCapacityUnits 5 → 9, set by its auto scaling "
            "(TableReadScalableTarget), which the stack owns") in checked.out


def test_a_protected_environment_refuses_to_deploy_over_drift_until_accepted(bootstrapped):
    project = bootstrapped
    project.new_env("guard", "protected: true\n")
    _, run = project.ship("guard")
    assert run.code == 0, run.text

    project.new_env("guard", "protected: true\ntable:\n  read_capacity: 6\n")
    _, run = project.ship("guard")  # in sync: checked, and through
    assert run.code == 0, run.text
    assert "drift: none on items-guard (checked before executing on a protected environment)" in run.out

    set_capacity(project, "items-guard-items", read=6, write=8)  # someone raised the writes by hand
    project.new_env("guard", "protected: true\ntable:\n  read_capacity: 7\n")
    review = project.run("changeset", "--env", "guard")
    assert review.code == 0, review.text
    refused = project.run("deploy", "--env", "guard")
    assert refused.code == 1, refused.text
    assert refused.err.startswith("refused: items-guard is a protected environment and it has drifted")
    assert "This change set modifies Table: deploying it overwrites the drift marked below" in refused.err
    assert "  Table  AWS::DynamoDB::Table  items-guard-items   <- this change set modifies it" in refused.err
    assert "      /ProvisionedThroughput/WriteCapacityUnits  5 → 8\n" in refused.err
    assert "`make deploy ENV=guard TARGET=local ACCEPT_DRIFT=1`" in refused.err
    assert "`make drift ENV=guard TARGET=local`" in refused.err
    table = project.client("dynamodb").describe_table(TableName="items-guard-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 6  # nothing was executed
    assert (project.state("guard") / "changeset.json").exists()  # the review still stands

    accepted = project.run("deploy", "--env", "guard", "--accept-drift")
    assert accepted.code == 0, accepted.text
    assert "drift: not checked (--accept-drift)" in accepted.out
    table = project.client("dynamodb").describe_table(TableName="items-guard-items")["Table"]
    assert (table["ProvisionedThroughput"]["ReadCapacityUnits"], table["ProvisionedThroughput"]["WriteCapacityUnits"]) \
        == (7, 5)  # the template's values: the drift was overwritten
    assert project.run("drift", "--env", "guard").code == 0


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
    project.new_env("quota")
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
        _, run = project.ship("quota")
        assert run.code == 0, run.text
        project.new_env("quota", "table:\n  read_capacity: 6\n")  # an update re-reserves the function's own 5
        review = project.run("changeset", "--env", "quota")
        assert review.code == 0, review.text
    finally:
        set_quota(project, None)


def test_a_record_naming_a_change_set_of_another_template_is_refused(bootstrapped):
    """A review record is a file (in CI, a pull request job's artifact): the change set it names must apply the
    template it hashes. Here the record is pointed at a change set made beside the reviewed one, with the same
    package but a template that adds a resource; deploy reads the change set's own template and refuses it."""
    from blueprint.state import review_record_path

    project = bootstrapped
    project.new_env("tamper")
    _, first = project.ship("tamper")
    assert first.code == 0, first.text
    project.new_env("tamper", "tags:\n  Team: reviewed\n")  # a change to review
    review = project.run("changeset", "--env", "tamper")
    assert review.code == 0, review.text

    path = review_record_path(project.root, "local", "tamper")
    data = json.loads(path.read_text())
    cfn = project.client("cloudformation")
    reviewed = cfn.describe_change_set(ChangeSetName=data["change_set_id"])
    body = (project.root / "generated" / "tamper" / "template.yaml").read_text().replace(
        "\nResources:\n", "\nResources:\n  Extra:\n    Type: AWS::SQS::Queue\n", 1)
    other = cfn.create_change_set(StackName="items-tamper", ChangeSetName="bp-other", ChangeSetType="UPDATE",
                                  TemplateBody=body, Parameters=reviewed["Parameters"],
                                  Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=other["Id"],
                                                      WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    path.write_text(json.dumps({**data, "change_set_id": other["Id"], "change_set_name": "bp-other"}))

    run = project.run("deploy", "--env", "tamper")
    assert run.code == 1, run.text
    assert ("change set bp-other would apply a template that is not the reviewed generated/tamper/template.yaml "
            "(it differs in resource Extra)") in run.err
    assert "Extra" not in {r["LogicalResourceId"] for r in
                           cfn.describe_stack_resources(StackName="items-tamper")["StackResources"]}
