"""Shipping state on the local AWS: two deploys of one review, a change set asked to run twice, a spec edited
since the review, a renamed service.

Each test ships its own environment (a copy of envs/dev.yaml under another name), as in test_update.
The two deploys are real processes (`python -m blueprint`), as two terminals would start them.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from blueprint.ship import deploy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bootstrapped(shipped):
    return shipped.bootstrapped_locally("drives the local AWS's own process")


def stack_updates(project, stack_name: str) -> int:
    """How many updates the stack went through (its own UPDATE_COMPLETE events)."""
    events = project.client("cloudformation").describe_stack_events(StackName=stack_name)["StackEvents"]
    return sum(1 for e in events if e["ResourceType"] == "AWS::CloudFormation::Stack"
               and e["ResourceStatus"] == "UPDATE_COMPLETE")


def read_capacity(project, table: str) -> int:
    return project.client("dynamodb").describe_table(TableName=table)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"]


def reviewed_update(project, env: str) -> None:
    """The env deployed, then a change of its read capacity reviewed (not deployed)."""
    project.new_env(env)
    _, run = project.ship(env)
    assert run.code == 0, run.text
    project.new_env(env, "table:\n  read_capacity: 8\n")
    review = project.run("changeset", "--env", env)
    assert review.code == 0, review.text


def holder(lock) -> int | None:
    """The pid named in a lock file (None while it is free or being written)."""
    try:
        return json.loads(lock.read_text())["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cli(project, *argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "blueprint", "--root", str(project.root), *argv,
                             "--target", project.target], text=True, **kwargs)


def test_two_deploys_of_one_review_at_once_run_it_once(bootstrapped, tmp_path):
    project = bootstrapped
    reviewed_update(project, "twin")
    before = stack_updates(project, "items-twin")
    lock = project.state("twin") / "lock"
    with open(tmp_path / "first.out", "w") as out, open(tmp_path / "first.err", "w") as err:
        first = cli(project, "deploy", "--env", "twin", stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while holder(lock) != first.pid:
            assert first.poll() is None and time.monotonic() < deadline, (tmp_path / "first.err").read_text()
            time.sleep(0.01)
        # The first holds the lock: keep it there (as a slow deploy would) while the second starts.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            second = cli(project, "deploy", "--env", "twin", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out2, err2 = second.communicate(timeout=120)
        finally:
            os.kill(first.pid, signal.SIGCONT)
        assert first.wait(timeout=120) == 0, (tmp_path / "first.err").read_text()
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 1, err2
    assert "Traceback" not in err2 + out2
    assert f"the twin stack (the local AWS) is locked by `blueprint deploy --env twin --target local` " \
           f"(pid {first.pid} on " in err2
    assert "did nothing" in err2 and "make status ENV=twin TARGET=local" in err2
    assert "executing change set" not in out2
    assert stack_updates(project, "items-twin") == before + 1  # the change set ran once
    assert read_capacity(project, "items-twin-items") == 8
    assert lock.read_text() == ""  # released


def test_a_change_set_runs_once_however_often_it_is_asked(bootstrapped, monkeypatch):
    project = bootstrapped
    reviewed_update(project, "once")
    saved = (project.state("once") / "changeset.json").read_text()
    record = json.loads(saved)
    before = stack_updates(project, "items-once")
    cfn = project.client("cloudformation")

    # Another checkout (no shared lock) executes the change set between deploy's checks and its own call.
    checked = deploy.check_dangerous

    def executed_meanwhile(*args, **kwargs):
        checked(*args, **kwargs)
        cfn.execute_change_set(ChangeSetName=record["change_set_id"])

    with monkeypatch.context() as patched:
        patched.setattr(deploy, "check_dangerous", executed_meanwhile)
        raced = project.run("deploy", "--env", "once")
    assert raced.code == 1, raced.text
    assert f"refused to execute change set {record['change_set_name']}" in raced.err
    assert "cannot be executed in its current execution status of [EXECUTE_COMPLETE]" in raced.err
    assert "this command executed nothing" in raced.err
    assert stack_updates(project, "items-once") == before + 1  # only the other execution ran

    # The local AWS itself refuses a second execution, as AWS does.
    with pytest.raises(cfn.exceptions.InvalidChangeSetStatusException):
        cfn.execute_change_set(ChangeSetName=record["change_set_id"])
    # And deploy refuses the record of a change set that ran, before asking.
    (project.state("once") / "changeset.json").write_text(saved)
    again = project.run("deploy", "--env", "once")
    assert again.code == 2, again.text
    assert "EXECUTE_COMPLETE, no longer executable" in again.err
    assert stack_updates(project, "items-once") == before + 1


def test_a_spec_edited_since_the_review_but_not_rendered_warns_and_deploys_the_reviewed_template(bootstrapped):
    project = bootstrapped
    project.new_env("digest")
    assert project.run("changeset", "--env", "digest").code == 0
    record = json.loads((project.state("digest") / "changeset.json").read_text())
    assert sorted(record["spec_files"]) == ["blueprint.yaml", "envs/digest.yaml"]
    spec = project.root / "envs" / "digest.yaml"
    spec.write_text(spec.read_text() + "table:\n  read_capacity: 9\n")  # edited, not rendered
    run = project.run("deploy", "--env", "digest")
    assert run.code == 0, run.text  # warned, not refused: the reviewed template is what runs
    assert "warning: envs/digest.yaml (edited) changed since change set" in run.err
    assert "blueprint.yaml (edited)" not in run.err
    assert "this deploy runs the reviewed generated/digest/template.yaml" in run.err
    assert "`make render`" in run.err and "`make changeset ENV=digest TARGET=local`" in run.err
    assert read_capacity(project, "items-digest-items") == 5


def test_a_renamed_service_names_the_stack_it_leaves_running(bootstrapped):
    project = bootstrapped
    project.new_env("svc")
    _, run = project.ship("svc")
    assert run.code == 0, run.text
    project.new_env("svc", "service: things\n")
    review = project.run("changeset", "--env", "svc")
    assert review.code == 0, review.text
    assert re.search(r"Change set \S+ to create stack things-svc", review.out)
    assert "NOTE: this change set creates a new stack, things-svc, while items-svc (CREATE_COMPLETE)" in review.out
    assert "If `service` was renamed, that is this environment's old stack" in review.out
    endpoint = project.client("cloudformation").meta.endpoint_url
    delete = f"aws cloudformation delete-stack --stack-name items-svc --region us-east-1 --endpoint-url {endpoint}"
    assert f"`{delete}`" in review.out
    assert review.out.index("NOTE:") < review.out.index("review it, then run")

    as_json = project.run("changeset", "--env", "svc", "--output", "json")
    assert as_json.code == 0, as_json.text
    data = json.loads(as_json.out)  # stdout is only the JSON, its keys as before plus previous_stacks
    assert {"kind", "stack", "changes", "dangerous", "summary", "summary_line"} <= set(data)
    assert data["previous_stacks"] == [{"stack": "items-svc", "status": "CREATE_COMPLETE", "region": "us-east-1",
                                        "delete_command": delete, "unprotect_command": None}]
    assert "NOTE: this change set creates a new stack, things-svc" in as_json.err

    update = project.run("changeset", "--env", "dev", "--output", "json")  # a create with no other stack of its env
    assert update.code == 0 and json.loads(update.out)["previous_stacks"] == []
