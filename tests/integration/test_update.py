"""Changes to a deployed stack: a Modify, a refused table replacement, a failing deploy, refusals, destroy.

Each test ships its own environment (a copy of envs/dev.yaml under another name) on one local AWS,
so the tests do not depend on each other's order (pytest-xdist may split them across workers).
"""
from __future__ import annotations

import json
import re

import pytest

from blueprint.render import templates as render
from blueprint.ship import changeset, events, upload
from blueprint.ship.prepare import prepare

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bootstrapped(shipped):
    run = shipped.run("bootstrap", "--env", "dev")
    assert run.code == 0, run.text
    return shipped


def edit_template(monkeypatch, env: str, edit):
    """Make `env`'s rendered template differ from what the templates give (a hand-made change).

    The renderer itself is wrapped, so the stale check still compares generated/ with a fresh render.
    """
    original = render.render_environment

    def rendered(spec):
        text = original(spec)
        return edit(text) if spec.env == env else text

    monkeypatch.setattr(render, "render_environment", rendered)


def test_capacity_change_is_a_modify_through_an_s3_template(bootstrapped, monkeypatch):
    project = bootstrapped
    project.new_env("cap")
    first, run = project.ship("cap")
    assert run.code == 0, run.text

    project.new_env("cap", "table:\n  read_capacity: 12\n")
    plan = project.run("plan", "--env", "cap")
    assert plan.code == 0, plan.text
    assert re.search(r"^  Modify +Table +AWS::DynamoDB::Table +False \(predicted\)", plan.out, re.M)

    monkeypatch.setattr(upload, "TEMPLATE_BODY_LIMIT", 1_000)  # G6: go through S3 as a large template would
    review = project.run("changeset", "--env", "cap")
    assert review.code == 0, review.text
    assert re.search(r"^  Modify +Table +AWS::DynamoDB::Table +False", review.out, re.M)
    assert "      ProvisionedThroughput.ReadCapacityUnits: 5 → 12\n" in review.out  # the changed field only
    deploy_command = "make deploy ENV=cap" + (" TARGET=local" if project.target == "local" else "")
    assert review.out.strip().endswith(f"review it, then run `{deploy_command}` to execute exactly this change set")
    assert "0 to add, 1 to modify, 0 to replace, 0 to remove" in review.out
    record = json.loads((project.state("cap") / "changeset.json").read_text())
    key = f"templates/items-cap/{record['template_sha256']}.yaml"
    s3 = project.client("s3")
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("blueprint-artifacts-")][0]
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 1_000
    assert s3.head_object(Bucket=bucket, Key=record["code_key"])["ContentLength"] > 0

    as_json = project.run("changeset", "--env", "cap", "--output", "json")
    data = json.loads(as_json.out)
    replaced = json.loads((project.state("cap") / "changeset.json").read_text())
    pending = [s["ChangeSetId"] for s in project.client("cloudformation").list_change_sets(StackName="items-cap")["Summaries"]
               if s.get("StackName") == "items-cap" and s.get("ExecutionStatus") == "AVAILABLE"]
    assert pending == [replaced["change_set_id"]]  # the first review's change set was deleted with its record
    assert data["summary"] == {"add": 0, "modify": 1, "replace": 0, "remove": 0}
    assert data["changes"][0]["logical_id"] == "Table" and data["dangerous"] == []

    run = project.run("deploy", "--env", "cap", "--output", "json")
    assert run.code == 0, run.text
    assert json.loads(run.out)["TableName"] == "items-cap-items"  # stdout is only JSON; progress on stderr
    assert "UPDATE_COMPLETE" in run.err
    table = project.client("dynamodb").describe_table(TableName="items-cap-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 12


def test_deploy_refuses_a_template_changed_since_review(bootstrapped):
    project = bootstrapped
    project.new_env("drift")
    assert project.run("changeset", "--env", "drift").code == 0
    project.new_env("drift", "table:\n  write_capacity: 9\n")
    run = project.run("deploy", "--env", "drift")
    assert run.code == 2
    assert "generated/drift/template.yaml changed since change set" in run.err
    assert "make changeset ENV=drift" in run.err


def test_table_rename_is_a_dangerous_replacement_refused_without_the_flag(bootstrapped, monkeypatch):
    project = bootstrapped
    project.new_env("ren")
    _, run = project.ship("ren")
    assert run.code == 0, run.text

    edit_template(monkeypatch, "ren", lambda t: t.replace('TableName: "items-ren-items"', 'TableName: "items-ren-items2"'))
    assert project.run("render", "--env", "ren").code == 0
    plan = project.run("plan", "--env", "ren")
    assert re.search(r"Modify +Table +AWS::DynamoDB::Table +REPLACE \(True\) \(predicted\)  !! DANGEROUS", plan.out)

    review = project.run("changeset", "--env", "ren")
    assert review.code == 0, review.text
    assert re.search(r"Modify +Table +AWS::DynamoDB::Table +REPLACE \(True\)  !! DANGEROUS", review.out)
    assert "TableName: items-ren-items → items-ren-items2   [requires recreation: Always]" in review.out
    assert "0 to add, 0 to modify, 1 to replace, 0 to remove" in review.out

    refused = project.run("deploy", "--env", "ren")
    assert refused.code == 1
    assert "stateful resource(s) Table" in refused.err and "ALLOW_REPLACE=Table" in refused.err
    assert "--allow-replace Table" in refused.err
    ddb = project.client("dynamodb")
    assert ddb.describe_table(TableName="items-ren-items")["Table"]["TableStatus"] == "ACTIVE"

    allowed = project.run("deploy", "--env", "ren", "--allow-replace", "Table")
    assert allowed.code == 0, allowed.text
    assert ddb.describe_table(TableName="items-ren-items2")["Table"]["TableStatus"] == "ACTIVE"


def test_a_failing_deploy_gives_the_reason_and_exit_1(bootstrapped, monkeypatch):
    project = bootstrapped
    project.new_env("bad")
    _, run = project.ship("bad")
    assert run.code == 0, run.text
    # A bucket named like the bootstrap's artifacts bucket: it exists, so CloudFormation cannot create it.
    clash = ('  Clash:\n    Type: AWS::S3::Bucket\n    Properties:\n'
             '      BucketName: !Sub "blueprint-artifacts-${AWS::AccountId}-${AWS::Region}"\n')
    edit_template(monkeypatch, "bad", lambda t: t.replace("\nOutputs:\n", "\n" + clash + "\nOutputs:\n"))
    assert project.run("render", "--env", "bad").code == 0
    review, failed = project.ship("bad")
    assert "1 to add" in review.out
    assert failed.code == 1, failed.text
    assert "deploy failed: failed resources:" in failed.err
    assert re.search(r"(?i)bucket.*(already exists|alreadyexists|already owned)", failed.err)
    assert re.search(r"stack items-bad ended (UPDATE_ROLLBACK_COMPLETE|UPDATE_ROLLBACK_FAILED)", failed.err)
    assert not (project.state("bad") / "changeset.json").exists()


def test_stale_generated_is_refused(bootstrapped):
    project = bootstrapped
    project.new_env("stale")
    (project.root / "envs" / "stale.yaml").write_text(
        (project.root / "envs" / "stale.yaml").read_text() + "table:\n  read_capacity: 7\n")
    run = project.run("changeset", "--env", "stale")
    assert run.code == 2
    assert "generated/ is stale for stale" in run.err and "make render" in run.err


def test_a_foreign_account_is_refused(bootstrapped):
    project = bootstrapped
    project.new_env("acct", 'account_id: "111111111111"\n')
    run = project.run("changeset", "--env", "acct")
    assert run.code == 2
    assert "111111111111" in run.err and "envs/acct.yaml" in run.err
    account = project.client("sts").get_caller_identity()["Account"]
    assert account in run.err


def test_prod_gets_the_stack_policy_and_cannot_be_destroyed(bootstrapped):
    project = bootstrapped
    if project.target == "aws":
        pytest.skip("would leave a termination-protected items-prod stack in the live account")
    _, run = project.ship("prod")
    assert run.code == 0, run.text
    policy = json.loads(project.client("cloudformation").get_stack_policy(StackName="items-prod")["StackPolicyBody"])
    denied = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert denied and denied[0]["Resource"] == "LogicalResourceId/Table"
    refused = project.run("destroy", "--env", "prod", "--yes")
    assert refused.code == 1 and "protected" in refused.err
    assert project.client("cloudformation").describe_stacks(StackName="items-prod")["Stacks"]


def test_destroy_asks_then_deletes(bootstrapped):
    project = bootstrapped
    project.new_env("gone")
    _, run = project.ship("gone")
    assert run.code == 0, run.text
    declined = project.run("destroy", "--env", "gone", stdin="no\n")
    assert declined.code == 0 and "nothing deleted" in declined.out
    run = project.run("destroy", "--env", "gone", "--yes")
    assert run.code == 0, run.text
    assert "retained (DeletionPolicy Retain or RetainExceptOnCreate): nothing" in run.out
    assert "stack items-gone deleted" in run.out
    status = project.run("status", "--env", "gone")
    assert "not deployed" in status.out


def _policy(project, stack_name: str):
    body = project.client("cloudformation").get_stack_policy(StackName=stack_name).get("StackPolicyBody")
    return json.loads(body) if body else None


def test_protection_missed_by_a_stopped_deploy_is_applied_by_the_next_command(bootstrapped, monkeypatch):
    project = bootstrapped
    if project.target == "aws":
        pytest.skip("would leave a termination-protected stack in the live account")
    project.new_env("guard", "protected: true\n")
    settings = json.loads((project.root / "generated" / "guard" / "stack.json").read_text())
    assert settings["stack_policy"] and settings["termination_protection"]
    assert project.run("changeset", "--env", "guard").code == 0

    def interrupted(self):
        raise KeyboardInterrupt  # Ctrl-C while following: CloudFormation goes on, protect() never ran

    with monkeypatch.context() as patched:
        patched.setattr(events.EventStream, "new", interrupted)
        stopped = project.run("deploy", "--env", "guard")
    assert stopped.code == 130, stopped.text
    assert "make status ENV=guard" in stopped.err
    assert _policy(project, "items-guard") is None
    assert not (project.state("guard") / "changeset.json").exists()

    again = project.run("changeset", "--env", "guard")  # nothing to change, yet the protection is applied
    assert again.code == 0, again.text
    assert "no changes" in again.out and "stack policy set" in again.out
    assert _policy(project, "items-guard") == settings["stack_policy"]
    quiet = project.run("changeset", "--env", "guard")
    assert quiet.code == 0 and "stack policy set" not in quiet.out  # idempotent: set only when missing

    # A policy lost some other way is restored before the next update executes, so it governs that update.
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}
    project.client("cloudformation").set_stack_policy(StackName="items-guard", StackPolicyBody=json.dumps(allow_all))
    project.new_env("guard", "protected: true\ntable:\n  read_capacity: 6\n")
    review, run = project.ship("guard")
    assert run.code == 0, run.text
    assert run.out.index("stack policy set") < run.out.index("executing change set")
    assert _policy(project, "items-guard") == settings["stack_policy"]


def test_deploy_refuses_when_another_change_set_was_created_after_the_review(bootstrapped):
    project = bootstrapped
    project.new_env("race")
    _, run = project.ship("race")
    assert run.code == 0, run.text
    project.new_env("race", "table:\n  read_capacity: 8\n")
    assert project.run("changeset", "--env", "race").code == 0
    record = json.loads((project.state("race") / "changeset.json").read_text())

    # Someone else (another checkout, the console) creates a change set on the stack after our review.
    cfn = project.client("cloudformation")
    bucket = [o["OutputValue"] for o in cfn.describe_stacks(StackName="blueprint-bootstrap")["Stacks"][0]["Outputs"]
              if o["OutputKey"] == "ArtifactBucketName"][0]
    text = (project.root / "generated" / "race" / "template.yaml").read_text()
    other = cfn.create_change_set(
        StackName="items-race", ChangeSetName="someone-else", ChangeSetType="UPDATE", TemplateBody=text,
        Capabilities=changeset.capabilities(prepare(project.root, "race", with_package=False).template),
        Parameters=[{"ParameterKey": "ArtifactBucket", "ParameterValue": bucket},
                    {"ParameterKey": "CodeKey", "ParameterValue": record["code_key"]}])
    changeset.wait_created(cfn, other["Id"])

    refused = project.run("deploy", "--env", "race")
    assert refused.code == 2, refused.text
    assert "someone-else" in refused.err and "nothing was executed" in refused.err
    table = project.client("dynamodb").describe_table(TableName="items-race-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert (project.state("race") / "changeset.json").exists()  # nothing ran: the review still stands

    cfn.delete_change_set(ChangeSetName=other["Id"])  # the other change set was stale after all
    run = project.run("deploy", "--env", "race")
    assert run.code == 0, run.text
    table = project.client("dynamodb").describe_table(TableName="items-race-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 8
