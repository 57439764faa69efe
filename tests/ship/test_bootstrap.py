"""bootstrap refuses a dangerous change to the account's stack and leaves no change set behind."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from blueprint import cli
from blueprint.errors import DeployFailed
from blueprint.ship import aws, bootstrap
from blueprint.ship.changeset import Submitted
from blueprint.ship.review import Change, Review
from tests.ship.stubs import CS_ID, STACK_ID, stack, stubbed


def test_bootstrap_refuses_a_dangerous_change_and_deletes_its_change_set(project, monkeypatch, capsys):
    assert cli.main(["--root", str(project), "render"]) == 0
    cfn, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", "blueprint-bootstrap")]})  # ours
    stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID})
    session = SimpleNamespace(client=lambda service: cfn, target=aws.Target("aws", "us-east-1"))
    monkeypatch.setattr(aws, "session_for", lambda *args: session)
    monkeypatch.setattr(aws, "check_account", lambda *args: "123456789012")
    danger = Review("change set", "blueprint-bootstrap", "us-east-1",
                    [Change("Modify", "ArtifactBucket", "AWS::S3::Bucket", "True")], "bp-1", CS_ID)
    described = {"ChangeSetName": "bp-1", "ChangeSetId": CS_ID, "StackId": STACK_ID}
    monkeypatch.setattr(bootstrap, "submit", lambda *args, **kwargs: Submitted(
        described, danger, True, False, stack("UPDATE_COMPLETE", "blueprint-bootstrap")))
    args = SimpleNamespace(root=project, env="dev", target="aws", allow_replace=[])
    with pytest.raises(DeployFailed) as err:
        bootstrap.main(args)
    assert "stateful resource(s) ArtifactBucket" in str(err.value) and "nothing was executed" in str(err.value)
    assert "blueprint bootstrap --env dev --allow-replace ArtifactBucket" in str(err.value)
    assert "!! DANGEROUS" in capsys.readouterr().out
    stub.assert_no_pending_responses()
