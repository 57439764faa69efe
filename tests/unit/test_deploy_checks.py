"""The deploy step's refusals and messages that need no AWS: stale generated/, unreviewed or changed
change sets, dangerous changes, capabilities, polling, and the SDK's errors turned into advice."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import boto3
import botocore.exceptions as bx
import pytest
from botocore.stub import Stubber

from blueprint import aws, changeset, cli, deploy, review
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
        changeset.read_record(tmp_path, "aws", "dev")


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


def test_change_set_name_is_unique_within_one_second_and_carries_the_template_hash(monkeypatch):
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

    monkeypatch.setattr(changeset, "datetime", Frozen)
    names = [changeset.change_set_name("abcdef0123456789") for _ in range(200)]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"bp-20260101120000-abcdef01-[0-9a-f]{8}", name)
        assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name)  # CloudFormation's rule for the name


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
    (client_error("Throttling", "Rate exceeded"), DeployFailed, "throttled CreateChangeSet"),
    (bx.ProfileNotFound(profile="nope"), UserError, "'nope' (AWS_PROFILE) is not configured"),
    (bx.ParamValidationError(report="Invalid length for parameter StackName"), UserError, "parameters"),
    (bx.InvalidConfigError(error_msg="bad config line"), UserError, "aws configure list"),
])
def test_sdk_errors_become_advice(exc, kind, expected):
    with pytest.raises(kind) as err:
        with aws.translated("local"):
            raise exc
    assert expected in str(err.value)


def test_outputs_are_written_for_other_tools(tmp_path, capsys):
    deploy.show_outputs(tmp_path, "local", "dev", {"TableName": "t", "ApiKeyId": "k"})
    assert json.loads((tmp_path / ".blueprint" / "local" / "dev" / "outputs.json").read_text()) == {
        "ApiKeyId": "k", "TableName": "t"}
    assert not (tmp_path / ".blueprint" / "aws").exists()
    assert "TableName  t" in capsys.readouterr().out


def test_destroy_of_a_protected_environment_is_refused_before_any_call(project):
    args = SimpleNamespace(root=project, env="prod", target="aws", yes=True, output="text")
    with pytest.raises(UserError, match="protected environment"):
        deploy.destroy_main(args)


def test_an_unknown_aws_profile_is_advice_not_a_traceback(project, tmp_path):
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_PROFILE="nope-blueprint-test", AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))
    proc = subprocess.run([sys.executable, "-m", "blueprint", "--root", str(project), "status", "--env", "dev",
                           "--target", "aws"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "nope-blueprint-test" in proc.stderr and "aws configure list-profiles" in proc.stderr


def test_missing_stack_settings_are_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"generated/dev/stack.json is missing: run `make render ENV=dev`"):
        changeset.read_settings(tmp_path, "dev")
    with pytest.raises(UserError, match="stack.json is missing"):
        changeset.start_package(tmp_path, "dev").result()
    args = SimpleNamespace(root=tmp_path, env="dev", target="local", output="text")
    with pytest.raises(UserError, match="stack.json is missing"):
        deploy.status_main(args)


def test_state_is_kept_per_target(tmp_path):
    assert aws.env_state_dir(tmp_path, "aws", "dev") == tmp_path / ".blueprint" / "aws" / "dev"
    assert aws.env_state_dir(tmp_path, "local", "dev") == tmp_path / ".blueprint" / "local" / "dev"
    changeset.write_record(tmp_path, "aws", "dev", {"change_set_name": "reviewed-on-aws"})
    changeset.write_record(tmp_path, "local", "dev", {"change_set_name": "local"})
    assert changeset.read_record(tmp_path, "aws", "dev")["change_set_name"] == "reviewed-on-aws"
    with pytest.raises(UserError):
        aws.env_state_dir(tmp_path, "moon", "dev")


# --- client call sequences, with botocore's Stubber ----------------------------------------------

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/items-dev/0a1b"
CS_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/bp-1/9f"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def stubbed(service="cloudformation", region="us-east-1", **kwargs):
    client = boto3.client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s", **kwargs)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def stack(status, name="items-dev", **extra):
    return {"StackId": STACK_ID if name == "items-dev" else f"arn:aws:cloudformation:us-east-1:1:stack/{name}/1",
            "StackName": name, "StackStatus": status, "CreationTime": T0, **extra}


def event(event_id, status, lid="Table", rtype="AWS::DynamoDB::Table", seconds=0):
    return {"StackId": STACK_ID, "StackName": "items-dev", "EventId": event_id, "LogicalResourceId": lid,
            "ResourceType": rtype, "ResourceStatus": status, "Timestamp": T0 + timedelta(seconds=seconds)}


def stack_event(event_id, status, seconds=0):
    return event(event_id, status, "items-dev", "AWS::CloudFormation::Stack", seconds)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(deploy.time, "sleep", lambda s: None)


def test_event_stream_reads_only_new_events_once_across_pages():
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": [event("e3", "UPDATE_COMPLETE"), event("e2", "x")],
                                                "NextToken": "more"}, {"StackName": STACK_ID})
    events = deploy.EventStream(cfn, STACK_ID)  # the marker: the newest event, from the first page only
    assert events.marker == "e3" and events.stack_name == "items-dev"
    # Two pages that overlap (e5 arrived between the calls and pushed e4 onto page 2); the read stops at e3.
    stub.add_response("describe_stack_events", {"StackEvents": [event("e5", "UPDATE_COMPLETE"),
                                                                event("e4", "UPDATE_IN_PROGRESS")],
                                                "NextToken": "p2"}, {"StackName": STACK_ID})
    stub.add_response("describe_stack_events", {"StackEvents": [event("e4", "UPDATE_IN_PROGRESS"),
                                                                event("e3", "UPDATE_COMPLETE"), event("e2", "x")]},
                      {"StackName": STACK_ID, "NextToken": "p2"})
    assert [e["EventId"] for e in events.new()] == ["e4", "e5"]  # oldest first, each once
    assert events.marker == "e5"
    stub.add_response("describe_stack_events", {"StackEvents": [event("e5", "UPDATE_COMPLETE")], "NextToken": "p2"},
                      {"StackName": STACK_ID})
    assert events.new() == []  # stops at the marker on the first page: no second page read
    assert not events.settled
    stub.add_response("describe_stack_events", {"StackEvents": [
        stack_event("e8", "UPDATE_COMPLETE"), event("e7", "UPDATE_FAILED"),
        event("e6", "UPDATE_COMPLETE", "Nested", "AWS::CloudFormation::Stack")]}, {"StackName": STACK_ID})
    assert [e["EventId"] for e in events.new()] == ["e6", "e7", "e8"]
    assert events.settled and events.stack_status == "UPDATE_COMPLETE"  # the nested stack's event did not count
    assert [e["EventId"] for e in events.failures] == ["e7"]
    stub.assert_no_pending_responses()


def test_follow_waits_for_the_stacks_own_final_event_not_a_stale_status(no_sleep):
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("old", "UPDATE_COMPLETE")]})
    events = deploy.EventStream(cfn, STACK_ID)
    # Right after ExecuteChangeSet: no stack event yet, so DescribeStacks (still UPDATE_COMPLETE) is not asked.
    stub.add_response("describe_stack_events", {"StackEvents": [event("r1", "UPDATE_IN_PROGRESS", seconds=1),
                                                                stack_event("old", "UPDATE_COMPLETE")]})
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("s2", "UPDATE_COMPLETE", 3),
                                                                event("r2", "UPDATE_COMPLETE", seconds=2),
                                                                event("r1", "UPDATE_IN_PROGRESS", seconds=1)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0)]})
    out = io.StringIO()
    final = deploy.follow(cfn, STACK_ID, events, "dev", "aws", out=out)
    assert final["StackStatus"] == "UPDATE_COMPLETE"
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["Table", "Table", "items-dev"]
    stub.assert_no_pending_responses()


def test_follow_on_the_local_aws_falls_back_to_a_changed_stack_description(no_sleep):
    cfn, stub = stubbed()
    before = stack("UPDATE_COMPLETE", LastUpdatedTime=T0)
    stub.add_response("describe_stack_events", {"StackEvents": []})
    events = deploy.EventStream(cfn, STACK_ID)
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", {"Stacks": [before]})  # stale: what it was before the execution
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0 + timedelta(1))]})
    stub.add_response("describe_stack_events", {"StackEvents": []})
    final = deploy.follow(cfn, STACK_ID, events, "dev", "local", before, out=io.StringIO())
    assert final["LastUpdatedTime"] == T0 + timedelta(1)
    stub.assert_no_pending_responses()


def test_expired_credentials_while_following_say_that_cloudformation_goes_on(no_sleep):
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": []})
    events = deploy.EventStream(cfn, STACK_ID)
    stub.add_client_error("describe_stack_events", "ExpiredToken", "The security token included in the request is expired")
    with pytest.raises(UserError) as err:
        deploy.follow(cfn, STACK_ID, events, "dev", "aws", out=io.StringIO())
    assert "credentials have expired" in str(err.value)
    assert "CloudFormation keeps working on the stack; follow it with `make status ENV=dev`" in str(err.value)
    stub.add_client_error("describe_stack_events", "Throttling", "Rate exceeded")
    with pytest.raises(DeployFailed, match=r"(?s)throttled.*make status ENV=dev"):
        deploy.follow(cfn, STACK_ID, events, "dev", "aws", out=io.StringIO())


def test_existing_stack_status_branches():
    def run(status=None, **kwargs):
        cfn, stub = stubbed(region="eu-west-1")
        if status is None:
            stub.add_client_error("describe_stacks", "ValidationError", "Stack with id items-dev does not exist")
        else:
            stub.add_response("describe_stacks", {"Stacks": [stack(status, kwargs.pop("name", "items-dev"))]})
        if kwargs.get("target_kind") == "local" and status == "REVIEW_IN_PROGRESS":
            stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
            stub.add_response("describe_stacks", {"Stacks": [stack("DELETE_COMPLETE")]}, {"StackName": STACK_ID})
        try:
            return changeset.existing_stack(cfn, kwargs.pop("stack_name", "items-dev"), "dev", **kwargs)
        finally:
            stub.assert_no_pending_responses()

    assert run(None) is None  # no stack: CREATE
    assert run("UPDATE_COMPLETE")["StackStatus"] == "UPDATE_COMPLETE"
    assert run("UPDATE_ROLLBACK_COMPLETE")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert run("REVIEW_IN_PROGRESS", target_kind="aws") is None  # AWS takes a CREATE change set on it as is
    assert run("REVIEW_IN_PROGRESS", target_kind="local") is None  # moto: deleted first (the stubs check it)
    with pytest.raises(UserError, match=r"ROLLBACK_COMPLETE.*`make destroy ENV=dev`"):
        run("ROLLBACK_COMPLETE")
    with pytest.raises(UserError) as err:
        run("ROLLBACK_COMPLETE", name="blueprint-bootstrap", stack_name="blueprint-bootstrap", bootstrap=True)
    assert ("`aws cloudformation delete-stack --stack-name blueprint-bootstrap --region eu-west-1`" in str(err.value)
            and "make destroy" not in str(err.value) and "make bootstrap ENV=dev" in str(err.value))
    for busy in ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "DELETE_FAILED"):
        with pytest.raises(UserError, match=f"is {busy}: wait for it to settle"):
            run(busy)


REVIEWED = {"change_set_id": CS_ID, "change_set_name": "bp-1", "stack_id": STACK_ID, "stack_name": "items-dev",
            "create": False, "stack_version": f"UPDATE_COMPLETE {T0}"}


def described_change_set(execution="AVAILABLE", status="CREATE_COMPLETE"):
    return {"ChangeSetId": CS_ID, "ChangeSetName": "bp-1", "StackId": STACK_ID, "StackName": "items-dev",
            "Status": status, "ExecutionStatus": execution, "CreationTime": T0}


def summary(cs_id, name, created, status="CREATE_COMPLETE"):
    return {"ChangeSetId": cs_id, "ChangeSetName": name, "StackId": STACK_ID, "StackName": "items-dev",
            "Status": status, "ExecutionStatus": "AVAILABLE", "CreationTime": created}


def test_check_available_refuses_obsolete_gone_superseded_and_changed():
    cfn, stub = stubbed()
    stub.add_client_error("describe_change_set", "ChangeSetNotFound", "ChangeSet [bp-1] does not exist")
    with pytest.raises(UserError, match=r"change set bp-1 is gone .*make changeset ENV=dev"):
        deploy.check_available(cfn, REVIEWED, "dev")

    stub.add_response("describe_change_set", described_change_set("OBSOLETE"), {"ChangeSetName": CS_ID})
    with pytest.raises(UserError, match=r"bp-1 is CREATE_COMPLETE/OBSOLETE, no longer executable"):
        deploy.check_available(cfn, REVIEWED, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)], "NextToken": "n"},
                      {"StackName": STACK_ID})
    stub.add_response("list_change_sets", {"Summaries": [summary("arn:other", "someone-else", T0 + timedelta(1)),
                                                         summary("arn:empty", "empty", T0 + timedelta(1), "FAILED")]},
                      {"StackName": STACK_ID, "NextToken": "n"})
    with pytest.raises(UserError, match=r"someone-else were created on stack items-dev after the reviewed bp-1"):
        deploy.check_available(cfn, REVIEWED, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0 + timedelta(1))]})
    with pytest.raises(UserError, match=r"stack items-dev changed since change set bp-1 was reviewed"):
        deploy.check_available(cfn, REVIEWED, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0)]})
    assert deploy.check_available(cfn, REVIEWED, "dev")["StackId"] == STACK_ID
    stub.assert_no_pending_responses()


POLICY = {"Statement": [{"Effect": "Deny", "Action": "Update:Replace", "Principal": "*",
                         "Resource": "LogicalResourceId/Table"}]}


def test_protect_sets_only_what_is_missing():
    settings = {"stack_policy": POLICY, "termination_protection": True}
    cfn, stub = stubbed()
    stub.add_response("get_stack_policy", {}, {"StackName": STACK_ID})
    stub.add_response("set_stack_policy", {}, {"StackName": STACK_ID, "StackPolicyBody": json.dumps(POLICY)})
    stub.add_response("update_termination_protection", {"StackId": STACK_ID},
                      {"StackName": STACK_ID, "EnableTerminationProtection": True})
    out = io.StringIO()
    changeset.protect(cfn, stack("CREATE_COMPLETE"), settings, "aws", out)
    assert out.getvalue().splitlines() == [
        "stack policy set (refuses Update:Replace and Update:Delete of the table)", "termination protection on"]
    stub.add_response("get_stack_policy", {"StackPolicyBody": json.dumps(POLICY)})
    out = io.StringIO()
    changeset.protect(cfn, stack("UPDATE_COMPLETE", EnableTerminationProtection=True), settings, "aws", out)
    assert out.getvalue() == ""  # already protected: no calls that change anything
    stub.assert_no_pending_responses()
    changeset.protect(cfn, stack("UPDATE_COMPLETE"), {}, "aws", out)  # not prod: nothing at all


def test_a_denied_head_object_names_the_missing_s3_permissions():
    s3, stub = stubbed("s3")
    stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
    with pytest.raises(UserError) as err:
        changeset.upload_if_missing(s3, "blueprint-artifacts-1", "handler/abc.zip", b"zip")
    assert "s3:ListBucket" in str(err.value) and "s3:GetObject" in str(err.value)
    assert "blueprint-artifacts-1" in str(err.value)


@pytest.mark.parametrize("region, endpoint", [
    ("cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
    ("us-gov-west-1", "https://s3.us-gov-west-1.amazonaws.com"),
    ("eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
])
def test_template_url_uses_the_s3_clients_own_endpoint(region, endpoint):
    s3, _ = stubbed("s3", region)
    url = changeset.template_url(s3, "bucket-1", "templates/items-dev/abc.yaml", "aws")
    assert url == f"{endpoint}/bucket-1/templates/items-dev/abc.yaml"


def test_template_url_on_the_local_aws():
    s3, _ = stubbed("s3", endpoint_url="http://127.0.0.1:4566")
    assert changeset.template_url(s3, "b", "k.yaml", "local") == "http://localhost:4566/b/k.yaml"


def test_bootstrap_refuses_a_dangerous_change_and_deletes_its_change_set(project, monkeypatch, capsys):
    assert cli.main(["--root", str(project), "render"]) == 0
    cfn, stub = stubbed()
    stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID})
    session = SimpleNamespace(client=lambda service: cfn, target=aws.Target("aws", "us-east-1"))
    monkeypatch.setattr(aws, "session_for", lambda *args: session)
    monkeypatch.setattr(aws, "check_account", lambda *args: "123456789012")
    danger = review.Review("change set", "blueprint-bootstrap", "us-east-1",
                           [review.Change("Modify", "ArtifactBucket", "AWS::S3::Bucket", "True")], "bp-1", CS_ID)
    described = {"ChangeSetName": "bp-1", "ChangeSetId": CS_ID, "StackId": STACK_ID}
    monkeypatch.setattr(changeset, "submit", lambda *args, **kwargs: changeset.Submitted(
        described, danger, True, False, stack("UPDATE_COMPLETE", "blueprint-bootstrap")))
    args = SimpleNamespace(root=project, env="dev", target="aws", allow_replace=[])
    with pytest.raises(DeployFailed) as err:
        deploy.bootstrap_main(args)
    assert "stateful resource(s) ArtifactBucket" in str(err.value) and "nothing was executed" in str(err.value)
    assert "blueprint bootstrap --env dev --allow-replace ArtifactBucket" in str(err.value)
    assert "!! DANGEROUS" in capsys.readouterr().out
    stub.assert_no_pending_responses()
