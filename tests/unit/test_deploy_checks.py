"""The deploy step's refusals and messages that need no AWS: stale generated/, unreviewed or changed
change sets, dangerous changes, capabilities, polling, and the SDK's errors turned into advice."""
from __future__ import annotations

import json
from types import SimpleNamespace

import botocore.exceptions as bx
import pytest

from blueprint import aws, changeset, cli, deploy
from blueprint.errors import DeployFailed, UserError


def test_stale_generated_is_refused_with_what_to_run(project):
    (project / "envs" / "dev.yaml").write_text((project / "envs" / "dev.yaml").read_text()
                                               + "table:\n  read_capacity: 7\n")
    with pytest.raises(UserError) as err:
        changeset.prepare(project, "dev")
    assert "generated/ is stale for dev" in str(err.value)
    assert "generated/dev/template.yaml" in str(err.value) and "make render" in str(err.value)


def test_prepare_reads_settings_and_hashes_the_template(project):
    assert cli.main(["--root", str(project), "render"]) == 0  # as this checkout's templates render it
    prepared = changeset.prepare(project, "dev")
    text = (project / "generated" / "dev" / "template.yaml").read_text()
    assert prepared.stack_name == "items-dev" and prepared.template_sha256 == changeset.sha256_text(text)
    assert prepared.tags["Environment"] == "development"
    boot = changeset.prepare(project, "dev", bootstrap=True)
    assert boot.stack_name == "blueprint-bootstrap" and boot.tags == {"ManagedBy": "blueprint"}


def test_missing_record_says_to_review_first(tmp_path):
    with pytest.raises(UserError, match=r"no reviewed change set for dev .*run `make changeset ENV=dev`"):
        changeset.read_record(tmp_path, "dev")


RECORD = {"change_set_name": "bp-1", "dangerous": ["Table", "KmsKey"], "target": "local",
          "template_file": "generated/dev/template.yaml", "template_sha256": "0" * 64, "package_sha256": "1" * 64}


def test_dangerous_changes_are_refused_by_name():
    with pytest.raises(DeployFailed) as err:
        deploy.check_dangerous(RECORD, ["Table"], "dev")
    message = str(err.value)
    assert "KmsKey" in message and "Table," not in message
    assert "ALLOW_REPLACE=KmsKey" in message and "--allow-replace KmsKey" in message
    assert "nothing was executed" in message
    deploy.check_dangerous(RECORD, ["Table", "KmsKey"], "dev")  # allowed in so many words


def test_deploy_refuses_another_target_and_a_changed_template(project):
    with pytest.raises(UserError, match="for --target local, not aws"):
        deploy.check_reviewed(project, "dev", RECORD, "aws")
    with pytest.raises(UserError, match="generated/dev/template.yaml changed since change set bp-1"):
        deploy.check_reviewed(project, "dev", RECORD, "local")


def test_capabilities():
    unnamed = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}}}}
    named = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}}
    assert changeset.capabilities(unnamed) == ["CAPABILITY_IAM"]
    assert changeset.capabilities(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def test_change_set_name_is_unique_and_carries_the_template_hash():
    name = changeset.change_set_name("abcdef0123456789")
    assert name.startswith("bp-") and name.endswith("-abcdef01") and len(name) == len("bp-20260101000000-abcdef01")


def test_polling_starts_fast_and_backs_off():
    delays = changeset.poll_delays(60)
    first = [next(delays) for _ in range(12)]
    assert first[0] == 0.2 and first[1] == pytest.approx(0.3) and first[-1] == 5.0
    assert first == sorted(first)
    change_set = changeset.poll_delays(60, changeset.CHANGE_SET_POLL_MAX_S)
    assert max(next(change_set) for _ in range(12)) == 2.0


def test_no_changes_is_recognised():
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason":
                                    "The submitted information didn't contain changes. Submit different information."})
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason": "No updates are to be performed."})
    assert not changeset.is_no_changes({"Status": "FAILED", "StatusReason": "Template format error"})


def test_failure_message_puts_reasons_first():
    events = SimpleNamespace(failures=[{"LogicalResourceId": "Table", "ResourceType": "AWS::DynamoDB::Table",
                                        "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "limit exceeded"}])
    text = deploy.failure_message({"StackId": "id", "StackName": "items-dev",
                                   "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}, events)
    assert text.splitlines() == ["failed resources:",
                                 "  Table (AWS::DynamoDB::Table) UPDATE_FAILED: limit exceeded",
                                 "stack items-dev ended UPDATE_ROLLBACK_COMPLETE"]


def client_error(code, message="m", operation="CreateChangeSet"):
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("exc, kind, expected", [
    (bx.NoCredentialsError(), UserError, "no AWS credentials found: set AWS_PROFILE"),
    (client_error("ExpiredToken"), UserError, "credentials have expired"),
    (client_error("AccessDenied", "not allowed"), UserError, "AWS refused CreateChangeSet (AccessDenied): not allowed"),
    (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), UserError, "make local-up"),
    (client_error("ValidationError", "Template format error"), DeployFailed, "Template format error"),
])
def test_sdk_errors_become_advice(exc, kind, expected):
    with pytest.raises(kind) as err:
        with aws.translated("local"):
            raise exc
    assert expected in str(err.value)


def test_outputs_are_written_for_other_tools(tmp_path, capsys):
    deploy.show_outputs(tmp_path, "dev", {"TableName": "t", "ApiKeyId": "k"})
    assert json.loads((tmp_path / ".blueprint" / "dev" / "outputs.json").read_text()) == {"ApiKeyId": "k", "TableName": "t"}
    assert "TableName  t" in capsys.readouterr().out


def test_destroy_of_a_protected_environment_is_refused_before_any_call(project):
    args = SimpleNamespace(root=project, env="prod", target="aws", yes=True, output="text")
    with pytest.raises(UserError, match="protected environment"):
        deploy.destroy_main(args)
