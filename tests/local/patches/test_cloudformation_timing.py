"""The engine under the timing model (`--timing aws`, here at 3/100 of AWS's time): change sets and stack operations
take their time in the background, resources without an order between them overlap, every poll sees a stack
between two steps, and a stack that is busy refuses updates and deletion with AWS's errors."""
from __future__ import annotations

import re
import threading
import time

import botocore.exceptions
import pytest

import cfn_engine as E
import stack as S
from blueprint.cfn.refs import dependencies
from blueprint.local.patches.cloudformation import durations
from blueprint.local.timing import Timing

SCALE = 0.03
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    server = E.Server(tmp_path_factory.mktemp("timed") / ".blueprint", Timing("aws", SCALE))
    yield server
    server.close()


def _refusal(call) -> dict | None:
    try:
        call()
    except botocore.exceptions.ClientError as exc:
        return exc.response["Error"]
    return None


def _critical_path(template: dict) -> float:
    """AWS seconds of the longest chain of creations the template's dependencies force."""
    resources = template["Resources"]
    memo: dict[str, float] = {}

    def finish(name: str) -> float:
        if name not in memo:
            deps = dependencies(resources[name]) & set(resources)
            memo[name] = max((finish(d) for d in deps), default=0.0) + durations.seconds(resources[name]["Type"], "Create")
        return memo[name]

    return max(finish(name) for name in resources)


def test_a_change_set_is_pending_then_in_progress_then_complete(timed):
    cfn = timed.client("cloudformation", "us-east-2")
    cfn.create_change_set(StackName="slow", ChangeSetName="slow", ChangeSetType="CREATE",
                          TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")))
    first = cfn.describe_change_set(StackName="slow", ChangeSetName="slow")
    # CREATE_PENDING lasts 2 s of AWS time (0.06 s here): a slow machine may already see CREATE_IN_PROGRESS.
    assert first["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
    assert (first["ExecutionStatus"], first["Changes"]) == ("UNAVAILABLE", [])
    refused = _refusal(lambda: cfn.execute_change_set(StackName="slow", ChangeSetName="slow"))
    assert refused["Code"] == "InvalidChangeSetStatus"
    assert re.search(r"cannot be executed in its current status of \[CREATE_(PENDING|IN_PROGRESS)\]$", refused["Message"])
    seen = [first["Status"]]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = cfn.describe_change_set(StackName="slow", ChangeSetName="slow")
        if not seen or seen[-1] != described["Status"]:
            seen.append(described["Status"])
        if described["Status"] == "CREATE_COMPLETE":
            break
        time.sleep(0.02)
    assert seen[-2:] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"] and seen[0] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
    assert described["ExecutionStatus"] == "AVAILABLE" and [c["ResourceChange"]["LogicalResourceId"]
                                                            for c in described["Changes"]] == ["Vpc"]
    cfn.delete_stack(StackName="slow")


def test_the_rendered_stack_takes_aws_time_in_parallel_and_every_poll_is_consistent(timed):
    region = "us-west-2"
    cfn = timed.client("cloudformation", region)
    template = S.rendered("dev")
    name = S.create_change_set(cfn, "items-dev", template, "CREATE", S.upload_code(timed.client("s3", region), region))
    seen: list[tuple[set, list]] = []
    done = threading.Event()
    poller = timed.client("cloudformation", region)

    def poll() -> None:  # resources first, then events: each resource listed must have been started by then
        while not done.is_set():
            listed = {r["LogicalResourceId"] for r in poller.describe_stack_resources(StackName="items-dev")["StackResources"]}
            seen.append((listed, E.events(poller, "items-dev")))
            time.sleep(0.05)

    started = time.monotonic()
    cfn.execute_change_set(StackName="items-dev", ChangeSetName=name)
    answered = time.monotonic() - started
    assert cfn.describe_stacks(StackName="items-dev")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    watcher = threading.Thread(target=poll)
    watcher.start()
    try:
        stack = E.settled(cfn, "items-dev")
    finally:
        done.set()
        watcher.join()
    took = time.monotonic() - started
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert answered < 1.0  # ExecuteChangeSet returned at once
    serial = sum(durations.seconds(r["Type"], "Create") for r in template["Resources"].values()) * SCALE
    assert _critical_path(template) * SCALE * 0.9 <= took < serial * 0.75, (took, serial)  # not one after another
    records = E.events(cfn, "items-dev")
    assert E.out_of_order(template, records, "CREATE_COMPLETE", "CREATE_IN_PROGRESS") == []
    statuses = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in records]
    overlapping = [n for n, s in statuses if s == "CREATE_COMPLETE"
                   and statuses.index((n, "CREATE_COMPLETE")) > statuses.index(("Vpc", "CREATE_IN_PROGRESS"))
                   and statuses.index((n, "CREATE_IN_PROGRESS")) < statuses.index(("Vpc", "CREATE_COMPLETE"))]
    assert set(overlapping) - {"Vpc"}, "nothing was created while the VPC was"
    assert len(seen) > 5
    previous: list[str] = []
    for listed, polled in seen:
        initiated = {e["LogicalResourceId"] for e in polled if e.get("ResourceStatusReason") == "Resource creation Initiated"}
        assert listed <= initiated  # a resource is never listed before its creation began
        ids = [e["EventId"] for e in polled]
        assert ids[:len(previous)] == previous  # events only ever grow, in order
        previous = ids
        if polled[-1]["ResourceType"] == "AWS::CloudFormation::Stack" and polled[-1]["ResourceStatus"] == "CREATE_COMPLETE":
            completed = {e["LogicalResourceId"] for e in polled if e["ResourceStatus"] == "CREATE_COMPLETE"}
            assert completed >= set(template["Resources"])  # the stack is complete only with all of them


def test_a_busy_stack_refuses_updates_and_deletion_with_aws_errors(timed):
    cfn = timed.client("cloudformation", "eu-north-1")
    template = S.cut(S.rendered("dev"), "KmsKey")
    stack_id = E.ship(cfn, "busy", template)["StackId"]
    template["Resources"]["KmsKey"]["Properties"]["Description"] = "changed"  # 65 s of AWS time: the KMS provider's wait
    first = S.create_change_set(cfn, "busy", template, "UPDATE")
    template["Resources"]["KmsKey"]["Properties"]["Description"] = "changed again"
    second = S.create_change_set(cfn, "busy", template, "UPDATE")
    cfn.execute_change_set(StackName="busy", ChangeSetName=first)
    assert cfn.describe_stacks(StackName="busy")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"

    updating = f"Stack:{stack_id} is in UPDATE_IN_PROGRESS state and can not be updated."
    body = S.body(template)
    assert _refusal(lambda: cfn.update_stack(StackName="busy", TemplateBody=body)) == \
        {"Type": "Sender", "Code": "ValidationError", "Message": updating}
    assert _refusal(lambda: cfn.create_change_set(StackName="busy", ChangeSetName="third", ChangeSetType="UPDATE",
                                                  TemplateBody=body))["Message"] == updating
    assert _refusal(lambda: cfn.execute_change_set(StackName="busy", ChangeSetName=second))["Message"] == updating
    again = _refusal(lambda: cfn.execute_change_set(StackName="busy", ChangeSetName=first))
    assert again["Code"] == "InvalidChangeSetStatus" and again["Message"].endswith("execution status of [EXECUTE_IN_PROGRESS]")
    deleting = _refusal(lambda: cfn.delete_stack(StackName="busy"))
    assert deleting == {"Type": "Sender", "Code": "ValidationError",
                        "Message": f"Stack [{stack_id}] cannot be deleted while in status UPDATE_IN_PROGRESS"}
    assert cfn.describe_stacks(StackName="busy")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
    assert E.settled(cfn, "busy")["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn.describe_change_set(StackName="busy", ChangeSetName=second)["ExecutionStatus"] == "AVAILABLE"

    cfn.delete_stack(StackName="busy")  # returns at once; the deletion takes its time
    assert cfn.describe_stacks(StackName="busy")["Stacks"][0]["StackStatus"] == "DELETE_IN_PROGRESS"
    assert _refusal(lambda: cfn.delete_stack(StackName="busy")) is None  # already being deleted: accepted
    assert E.settled(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert E.stack_statuses(cfn, stack_id)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]


def test_an_alarm_during_the_resources_cancels_them_and_rolls_back(timed):
    region = "ap-south-1"
    cfn, cw = timed.client("cloudformation", region), timed.client("cloudwatch", region)
    template = S.cut(S.rendered("dev"), "Table")
    E.ship(cfn, "guarded", template)
    cw.put_metric_alarm(AlarmName="health", Namespace="AWS/ApiGateway", MetricName="5XXError", Statistic="Average",
                        Period=60, EvaluationPeriods=1, Threshold=0.01, ComparisonOperator="GreaterThanThreshold")
    arn = cw.describe_alarms(AlarmNames=["health"])["MetricAlarms"][0]["AlarmArn"]
    template["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 9
    cfn.create_change_set(StackName="guarded", ChangeSetName="guarded", ChangeSetType="UPDATE",
                          TemplateBody=S.body(template),
                          RollbackConfiguration={"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}]})
    cfn.get_waiter("change_set_create_complete").wait(StackName="guarded", ChangeSetName="guarded",
                                                       WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    cfn.execute_change_set(StackName="guarded", ChangeSetName="guarded")
    cw.set_alarm_state(AlarmName="health", StateValue="ALARM", StateReason="errors")  # the table takes 0.9 s
    stack = E.settled(cfn, "guarded")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert E.statuses(cfn, "guarded", "Table")[-4:] == ["UPDATE_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_IN_PROGRESS",
                                                        "UPDATE_COMPLETE"]
    [cancelled] = [e for e in E.events(cfn, "guarded") if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert cancelled["ResourceStatusReason"] == "Resource update cancelled"
    ddb = timed.client("dynamodb", region)
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
