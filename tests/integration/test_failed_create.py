"""A protected environment whose first create fails, on the local target (issue 10 item 1): the create is executed
with RetainExceptOnCreate, so its rollback deletes the key, queue and log groups it made; the table's deletion
protection stops its deletion (ROLLBACK_FAILED, as on AWS); a new change set is refused with the command to run;
`destroy` removes the never-created stack although prod is protected, the empty table included; the retry succeeds.

The failure is injected as the local AWS's `Blueprint::Test::Fails` resource, added to the rendered prod template
for the first create only (that template never ships: a real account has no such type).
"""
from __future__ import annotations

import botocore.exceptions
import pytest

from blueprint.ship import prepare as prepare_module

pytestmark = pytest.mark.integration
TEMPLATE = "generated/prod/template.yaml"
# What the prod template keeps by DeletionPolicy, with a fixed physical name: each would block a retry if kept.
KEPT = ("KmsKey", "Table", "DeadLetterQueue", "FunctionLogGroup", "AccessLogGroup", "FlowLogGroup", "WafLogGroup")
BOOM = ("  Boom:\n    Type: Blueprint::Test::Fails\n    DependsOn: [" + ", ".join(KEPT) + "]\n"
        "    Properties:\n      Reason: quota exceeded\n")


@pytest.fixture(scope="module")
def bootstrapped(shipped):
    return shipped.bootstrapped_locally("injects a resource type only the local AWS has", env="prod")


def inject_failure(project, monkeypatch) -> str:
    """generated/prod/template.yaml with the failing resource, as prepare's fresh render gives it too."""
    path = project.root / TEMPLATE
    rendered = path.read_text()
    failing = rendered.replace("\nResources:\n", "\nResources:\n" + BOOM, 1)
    assert failing != rendered
    path.write_text(failing)
    real = prepare_module.render_all

    def render_all(root, specs):
        out = real(root, specs)
        if out.get(TEMPLATE) == rendered:
            out[TEMPLATE] = failing
        return out

    monkeypatch.setattr(prepare_module, "render_all", render_all)
    return rendered


def last_statuses(cfn, stack: str) -> dict[str, str]:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"][::-1]
    return {e["LogicalResourceId"]: e["ResourceStatus"] for e in events}


def test_a_failed_first_create_of_prod_is_destroyed_and_the_retry_succeeds(bootstrapped, monkeypatch):
    project = bootstrapped
    cfn = project.client("cloudformation")
    rendered = inject_failure(project, monkeypatch)
    review = project.run("changeset", "--env", "prod")
    assert review.code == 0, review.text
    failed = project.run("deploy", "--env", "prod")
    assert failed.code == 1, failed.text
    assert "Boom (Blueprint::Test::Fails) CREATE_FAILED: InjectedFailure: quota exceeded" in failed.err, failed.err

    stack = cfn.describe_stacks(StackName="items-prod")["Stacks"][0]
    assert stack["RetainExceptOnCreate"] is True  # executed with it: the rollback deletes even Retain
    assert stack["StackStatus"] == "ROLLBACK_FAILED"  # the table's deletion protection refused its deletion
    statuses = last_statuses(cfn, "items-prod")
    assert statuses["Table"] == "DELETE_FAILED"
    assert {name: statuses[name] for name in KEPT if name != "Table"} == \
        {name: "DELETE_COMPLETE" for name in KEPT if name != "Table"}  # nothing else left behind
    with pytest.raises(botocore.exceptions.ClientError, match="NonExistentQueue|does not exist"):
        project.client("sqs").get_queue_url(QueueName="items-prod-dlq")

    again = project.run("changeset", "--env", "prod")
    assert again.code == 2, again.text
    assert "stack items-prod is ROLLBACK_FAILED: its first create failed" in again.err
    assert "`make destroy ENV=prod TARGET=local`" in again.err

    destroyed = project.run("destroy", "--env", "prod", "--yes")
    assert destroyed.code == 0, destroyed.text
    assert "deleted the empty table items-prod-items (Table)" in destroyed.out
    assert "stack items-prod deleted" in destroyed.out
    with pytest.raises(botocore.exceptions.ClientError, match="ResourceNotFoundException"):
        project.client("dynamodb").describe_table(TableName="items-prod-items")

    monkeypatch.undo()
    (project.root / TEMPLATE).write_text(rendered)
    review = project.run("changeset", "--env", "prod")
    assert review.code == 0, review.text
    retried = project.run("deploy", "--env", "prod")
    assert retried.code == 0, retried.text
    assert cfn.describe_stacks(StackName="items-prod")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    refused = project.run("destroy", "--env", "prod", "--yes")  # a prod that ran is never deleted by blueprint
    assert refused.code == 1 and "is a protected environment" in refused.err, refused.text
