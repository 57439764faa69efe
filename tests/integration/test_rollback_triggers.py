"""Guarded deploys on the local target (issue 11 item 2): the change set that creates the alarms is unguarded and
says so; the next one carries the health alarm as its rollback trigger; an alarm set to ALARM during the
monitoring window (boto3 set_alarm_state, over HTTP to the local AWS) rolls the update back to the previous
template and the deploy exits 1 naming the alarm; a deploy that stays out of ALARM leaves its triggers on the stack.

The module's local AWS runs at a time scale of 0.1, so the local target's one-minute window lasts 6 s.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from blueprint.local.timing import Timing

pytestmark = pytest.mark.integration
ALARMS_ON = "alarms:\n  enabled: true\n"  # the alarms (and so the guard) are on in these environments
SCALE = 0.1


@pytest.fixture(scope="module")
def guarded(shipped):
    return shipped.bootstrapped_locally("sets alarms to ALARM by hand: local target only", timing=Timing("off", SCALE))


def first_deploy(project, env: str) -> None:
    review = project.run("changeset", "--env", env)
    assert review.code == 0, review.text
    assert (f"UNGUARDED: no rollback trigger: the alarm items-{env}-health does not exist yet (this change set "
            "creates it") in review.out
    run = project.run("deploy", "--env", env)
    assert run.code == 0, run.text
    assert "unguarded: change set" in run.out
    assert not project.client("cloudformation").describe_stacks(StackName=f"items-{env}")["Stacks"][0].get(
        "RollbackConfiguration", {}).get("RollbackTriggers")


def guarded_review(project, env: str) -> dict:
    """An update's change set (read capacity 5 -> 6), reviewed as guarded; its JSON review's `rollback`."""
    project.new_env(env, ALARMS_ON + "table:\n  read_capacity: 6\n")
    review = project.run("changeset", "--env", env, "--output", "json")
    assert review.code == 0, review.text
    rollback = json.loads(review.out)["rollback"]
    assert rollback["guarded"] is True and rollback["missing"] == []
    assert [t["name"] for t in rollback["triggers"]] == [f"items-{env}-health"]
    assert rollback["configuration"]["MonitoringTimeInMinutes"] == 1  # the spec's 5, shortened locally
    assert rollback["spec_monitoring_minutes"] == 5 and rollback["monitoring_seconds"] == pytest.approx(60 * SCALE)
    return rollback


def test_an_alarm_in_the_monitoring_window_rolls_the_deploy_back_and_names_the_alarm(guarded):
    project, env = guarded, "trip"
    project.new_env(env, ALARMS_ON)
    first_deploy(project, env)
    cfn, cw = project.client("cloudformation"), project.client("cloudwatch")
    previous = cfn.get_template(StackName=f"items-{env}")["TemplateBody"]
    project.new_env(env, ALARMS_ON + "table:\n  read_capacity: 6\n")
    text = project.run("changeset", "--env", env)  # the text review names the guard and its window
    assert text.code == 0, text.text
    assert (f"GUARDED by rollback trigger(s) items-{env}-health: CloudFormation rolls this change set back if it "
            "goes to ALARM while it runs or in the 1 min (the spec's 5 min shortened on the local target") in text.out
    guarded_review(project, env)

    deploy = subprocess.Popen([sys.executable, "-m", "blueprint", "--root", str(project.root), "deploy", "--env", env,
                               "--target", "local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1", "CI": "1"})
    seen = []
    for line in deploy.stdout:
        seen.append(line)
        if "every resource is done; CloudFormation now watches" in line:
            break
    assert any(f"guarded: CloudFormation rolls this deploy back if items-{env}-health goes to ALARM" in s for s in seen), \
        "".join(seen)
    cw.set_alarm_state(AlarmName=f"items-{env}-health", StateValue="ALARM", StateReason="5XX above 1% (injected)")
    out, err = deploy.communicate(timeout=60)
    assert deploy.returncode == 1, "".join(seen) + out + err
    assert err.startswith(f"deploy failed: rolled back: the rollback trigger items-{env}-health went to ALARM"), err
    assert "describe-alarm-history --alarm-name items-" in err
    stack = cfn.describe_stacks(StackName=f"items-{env}")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert cfn.get_template(StackName=f"items-{env}")["TemplateBody"] == previous
    table = project.client("dynamodb").describe_table(TableName=f"items-{env}-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5  # back on the previous template's value


def test_a_guarded_deploy_that_stays_out_of_alarm_leaves_its_triggers_on_the_stack(guarded):
    project, env = guarded, "steady"
    project.new_env(env, ALARMS_ON)
    first_deploy(project, env)
    rollback = guarded_review(project, env)
    started = time.monotonic()
    run = project.run("deploy", "--env", env)
    assert run.code == 0, run.text
    assert time.monotonic() - started >= 60 * SCALE * 0.9  # it waited through the window
    assert f"guard: items-{env}-health stayed out of ALARM through the deploy and its 1 min monitoring window" in run.out
    stack = project.client("cloudformation").describe_stacks(StackName=f"items-{env}")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["RollbackConfiguration"] == rollback["configuration"]
    [trigger] = stack["RollbackConfiguration"]["RollbackTriggers"]
    assert trigger["Arn"].endswith(f":alarm:items-{env}-health") and trigger["Type"] == "AWS::CloudWatch::CompositeAlarm"
