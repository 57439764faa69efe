"""blueprint's CLI against a local AWS that keeps time like AWS (`--timing aws`, here at 3/100 of AWS's time): the
deploy transcript lists every resource's events as they come, a second update of a stack being updated is
refused with AWS's message, and Ctrl-C during a deploy leaves CloudFormation going and says how to follow it.

The deploys that must be interrupted or overlapped run as real subprocesses (`python -m blueprint deploy`).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import botocore.exceptions
import pytest

from blueprint.cfn import loader
from blueprint.cfn.refs import dependencies
from blueprint.local.timing import Timing

pytestmark = pytest.mark.integration
SCALE = 0.03
EVENT_LINE = re.compile(r"^\s+\d+\.\ds\s+(\S+)\s+(\S+)\s+(\S+)", re.M)


@pytest.fixture(scope="module")
def timed(shipped):
    """The module's project on a local AWS started with the timing model, bootstrapped."""
    return shipped.bootstrapped_locally("the timing model is the local AWS's", timing=Timing("aws", SCALE))


def _interruptible() -> None:
    # A shell runs a background job with SIGINT ignored, and a child inherits that (Python then installs no
    # Ctrl-C handler): give the deploy the terminal's default, as a user's own shell would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def deploy_process(project, env: str) -> subprocess.Popen:
    """`blueprint deploy` in a process of its own, its output line by line."""
    return subprocess.Popen([sys.executable, "-m", "blueprint", "--root", str(project.root), "deploy", "--env", env,
                             "--target", "local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_interruptible)


def read_until(proc: subprocess.Popen, pattern: str, timeout_s: float = 60) -> list[str]:
    """The process's stdout lines up to the first one matching `pattern`."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(lines)}")


def settled(cfn, stack: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            return found
        time.sleep(0.1)
    raise AssertionError(f"{stack} still in progress")


def test_the_deploy_transcript_lists_every_resource_in_dependency_order(timed):
    project = timed
    project.new_env("seen")
    assert project.run("changeset", "--env", "seen").code == 0
    run = project.run("deploy", "--env", "seen")
    assert run.code == 0, run.text
    template = loader.loads((project.root / "generated" / "seen" / "template.yaml").read_text())
    lines = [(m.group(1), m.group(3)) for m in EVENT_LINE.finditer(run.out)]
    for name, resource in template["Resources"].items():
        assert [s for n, s in lines if n == name] == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"], name
        started = lines.index((name, "CREATE_IN_PROGRESS"))
        for dep in dependencies(resource) & set(template["Resources"]):
            assert lines.index((dep, "CREATE_COMPLETE")) < started, f"{name} started before {dep} was complete"
    assert lines[0] == ("items-seen", "CREATE_IN_PROGRESS") and lines[-1] == ("items-seen", "CREATE_COMPLETE")
    seconds = [float(m.group(0).split("s", 1)[0]) for m in re.finditer(r"^\s+\d+\.\ds", run.out, re.M)]
    assert seconds[-1] > seconds[0]  # they came over time, printed as they came
    assert "stack items-seen is CREATE_COMPLETE" in run.out


def test_a_second_update_while_one_runs_is_refused_with_aws_message(timed):
    project = timed
    project.new_env("busy")
    assert project.run("changeset", "--env", "busy").code == 0
    assert project.run("deploy", "--env", "busy").code == 0
    project.new_env("busy", "table:\n  read_capacity: 7\n")
    assert project.run("changeset", "--env", "busy").code == 0
    cfn = project.client("cloudformation")
    stack_id = cfn.describe_stacks(StackName="items-busy")["Stacks"][0]["StackId"]

    deploying = deploy_process(project, "busy")
    try:
        # The deploy prints the stack's UPDATE_IN_PROGRESS as soon as ExecuteChangeSet returned; the table's
        # update then takes 30 s of AWS time (0.9 s here). An update from anywhere else (past blueprint's own
        # lock, which only keeps this checkout's commands apart) is refused with AWS's words.
        read_until(deploying, r"items-busy\s+AWS::CloudFormation::Stack\s+UPDATE_IN_PROGRESS")
        previous = [{"ParameterKey": k, "UsePreviousValue": True} for k in ("ArtifactBucket", "CodeKey")]
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            cfn.update_stack(StackName="items-busy", UsePreviousTemplate=True, Capabilities=["CAPABILITY_IAM"],
                             Parameters=previous)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert refused.value.response["Error"]["Message"] == \
            f"Stack:{stack_id} is in UPDATE_IN_PROGRESS state and can not be updated."
        out, err = deploying.communicate(timeout=60)
    finally:
        deploying.kill() if deploying.poll() is None else None
    assert deploying.returncode == 0, out + err
    assert "stack items-busy is UPDATE_COMPLETE" in out
    table = project.client("dynamodb").describe_table(TableName="items-busy-items")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7


def test_ctrl_c_during_a_deploy_leaves_the_stack_going_and_says_how_to_follow_it(timed):
    project = timed
    project.new_env("ctrlc")
    assert project.run("changeset", "--env", "ctrlc").code == 0
    deploying = deploy_process(project, "ctrlc")
    try:
        read_until(deploying, r"\s(?!items-ctrlc)\S+\s+AWS::\S+\s+CREATE_IN_PROGRESS")  # a resource under way
        deploying.send_signal(signal.SIGINT)
        out, err = deploying.communicate(timeout=30)
    finally:
        deploying.kill() if deploying.poll() is None else None
    assert deploying.returncode == 130, out + err
    assert "stopped following; CloudFormation keeps working on the stack; follow it with `make status ENV=ctrlc`" in err
    assert "Traceback" not in err
    assert not (project.state("ctrlc") / "changeset.json").exists()  # executed: the review cannot run again

    cfn = project.client("cloudformation")
    assert cfn.describe_stacks(StackName="items-ctrlc")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    status = project.run("status", "--env", "ctrlc")
    assert status.code == 0 and "stack items-ctrlc: CREATE_IN_PROGRESS" in status.out
    assert settled(cfn, "items-ctrlc")["StackStatus"] == "CREATE_COMPLETE"  # it went on without the deploy
    again = project.run("changeset", "--env", "ctrlc")
    assert again.code == 0 and "no changes" in again.out
