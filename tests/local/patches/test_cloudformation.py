"""blueprint/local/patches/cloudformation/: the engine's patches on the local AWS (the rendered stack reviewed,
executed with its events, updated, failed and rolled back by DeletionPolicy, guarded by rollback triggers,
refused while busy, deleted), their pure parts in-process, and a canary per patch in plain moto. The timing
model has its own module, test_cloudformation_timing.py."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import botocore.exceptions
import pytest

import cfn_engine as E
import stack as S
from blueprint.local.patches.cloudformation import operation, resources, review, triggers
from blueprint.local.timing import Timing


# ---- change_set_review_details

def test_change_set_marks_replacement_with_details(updated):
    table = updated["changes"]["Table"]
    assert table["Action"] == "Modify"
    assert table["Replacement"] == "True"
    assert table["PhysicalResourceId"] == updated["before"]["Table"]
    assert table["Scope"] == ["Properties"]
    by_name = {d["Target"]["Name"]: d for d in table["Details"]}
    name = by_name["TableName"]
    assert name["Target"]["Attribute"] == "Properties"
    assert name["Target"]["RequiresRecreation"] == "Always"
    assert (name["Target"]["BeforeValue"], name["Target"]["AfterValue"]) == ("items-dev-items", "items-dev-items-v2")
    assert name["Evaluation"] == "Static" and name["ChangeSource"] == "DirectModification"
    assert by_name["ProvisionedThroughput"]["Target"]["RequiresRecreation"] == "Never"
    assert json.loads(table["AfterContext"])["Properties"]["TableName"] == "items-dev-items-v2"


def test_change_set_in_place_change_is_not_a_replacement(updated):
    plan = updated["changes"]["UsagePlan"]
    assert plan["Replacement"] == "False"
    [detail] = plan["Details"]
    assert detail["Target"]["Name"] == "Throttle" and detail["Target"]["RequiresRecreation"] == "Never"
    assert json.loads(detail["Target"]["AfterValue"]) == {"BurstLimit": 80, "RateLimit": 40}
    assert set(updated["changes"]) == {"Stage", "Table", "UsagePlan", "RestApi"}


def test_change_set_without_property_values(client, updated):
    cfn = client("cloudformation", updated["region"])
    plain = cfn.describe_change_set(StackName="items-dev", ChangeSetName=updated["review"]["ChangeSetName"])
    [table] = [c["ResourceChange"] for c in plain["Changes"] if c["ResourceChange"]["LogicalResourceId"] == "Table"]
    assert table["Replacement"] == "True"
    assert all("BeforeValue" not in d["Target"] and "Path" not in d["Target"] for d in table["Details"])
    assert "BeforeContext" not in table


def test_details_without_a_schema_are_conditional_and_tags_their_own_attribute(no_schemas):
    old = {"Type": "AWS::Some::Thing", "Properties": {"Size": 1, "Tags": [{"Key": "a", "Value": "1"}]}}
    new = {"Type": "AWS::Some::Thing", "Metadata": {"note": "x"},
           "Properties": {"Size": 2, "Tags": [{"Key": "a", "Value": "2"}]}}
    replacement, scope, details = review.resource_change_details("Thing", old, new)
    assert replacement == "Conditional"
    assert scope == ["Properties", "Tags", "Metadata"]
    assert [d["Target"] for d in details] == [
        {"Attribute": "Properties", "Name": "Size", "RequiresRecreation": "Conditionally", "BeforeValue": "1",
         "AfterValue": "2", "Path": "/Properties/Size", "AttributeChangeType": "Modify"},
        {"Attribute": "Tags", "RequiresRecreation": "Never", "BeforeValue": '[{"Key":"a","Value":"1"}]',
         "AfterValue": '[{"Key":"a","Value":"2"}]', "Path": "/Properties/Tags", "AttributeChangeType": "Modify"},
        {"Attribute": "Metadata", "RequiresRecreation": "Never"},
    ]
    assert review.resource_change_details("Thing", old, {**old, "DeletionPolicy": "Retain"}) == ("False", [], [])


def test_canary_modify_has_no_replacement_or_details(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    template["Resources"]["Table"]["Properties"]["TableName"] += "-v2"
    name = S.create_change_set(cfn, "canary", template, "UPDATE")
    [change] = [c["ResourceChange"] for c in
                cfn.describe_change_set(StackName="canary", ChangeSetName=name, IncludePropertyValues=True)["Changes"]]
    assert change["Action"] == "Modify"
    S.still_broken("Replacement" not in change and not change.get("Details"),
                   "returns Replacement/Details for a Modify in describe_change_set", "change_set_review_details")


# ---- change_set_template

def _queue_then_longer_retention(cfn, stack_name: str) -> tuple[dict, str]:
    """The dev template's dead-letter queue deployed, then an UPDATE change set that keeps its messages longer."""
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "DeadLetterQueue"))
    template["Resources"]["DeadLetterQueue"]["Properties"]["QueueName"] = stack_name  # not the full stack's name
    S.deploy(cfn, stack_name, template)
    template["Resources"]["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] = 86400
    return template, S.create_change_set(cfn, stack_name, template, "UPDATE")


def test_get_template_of_a_change_set_is_the_template_it_would_apply(client):
    cfn = client("cloudformation")
    template, name = _queue_then_longer_retention(cfn, "template-of")
    change_set_id = cfn.describe_change_set(StackName="template-of", ChangeSetName=name)["ChangeSetId"]
    for ref in ({"StackName": "template-of", "ChangeSetName": name}, {"ChangeSetName": change_set_id}):
        got = cfn.get_template(TemplateStage="Original", **ref)["TemplateBody"]
        assert got == template, ref  # boto3 reads a JSON template back as a dict
    assert cfn.get_template(StackName="template-of")["TemplateBody"]["Resources"]["DeadLetterQueue"][
        "Properties"]["MessageRetentionPeriod"] == 1209600  # the stack's own template is still the deployed one


def test_canary_get_template_ignores_the_change_set(plain):
    cfn = plain("cloudformation")
    template, name = _queue_then_longer_retention(cfn, "canary-template-of")
    got = cfn.get_template(StackName="canary-template-of", ChangeSetName=name)["TemplateBody"]
    S.still_broken(got != template, "answers a change set's template in get_template", "change_set_template")


# ---- change_set_creation

def _unchanged_update(cfn, stack_name: str):
    """An UPDATE change set of the stack's own template and parameters (moto compares only with parameters)."""
    template = {"Parameters": {"Size": {"Type": "String"}}, "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    parameters = {"Size": "1"}
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=S.create_change_set(cfn, stack_name, template,
                                                                                  "CREATE", parameters))
    return cfn.create_change_set(StackName=stack_name, ChangeSetName="unchanged", ChangeSetType="UPDATE",
                                 TemplateBody=S.body(template), Parameters=[{"ParameterKey": "Size",
                                                                             "ParameterValue": "1"}])


def test_an_unchanged_update_creates_a_failed_change_set_as_aws_does(client):
    cfn = client("cloudformation")
    created = _unchanged_update(cfn, "no-op")
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"].startswith("The submitted information didn't contain changes.")


def test_canary_an_unchanged_update_is_refused(plain):
    cfn = plain("cloudformation")
    try:
        _unchanged_update(cfn, "canary-no-op")
        refused = False
    except botocore.exceptions.ClientError as exc:
        refused = "No updates are to be performed" in str(exc)
    S.still_broken(refused, "creates a FAILED change set for an unchanged update", "change_set_creation")


def _alarm(cw, name: str) -> str:
    """A metric alarm in OK, created directly (as a guard stack of alarms would be); its ARN."""
    cw.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]


def _trigger(arn: str, kind: str = "AWS::CloudWatch::Alarm") -> dict:
    return {"Arn": arn, "Type": kind}


def test_change_set_keeps_its_rollback_configuration(client):
    cfn = client("cloudformation", "ca-central-1")
    config = {"RollbackTriggers": [_trigger("arn:aws:cloudwatch:ca-central-1:123456789012:alarm:health")],
              "MonitoringTimeInMinutes": 7}
    cfn.create_change_set(StackName="kept", ChangeSetName="kept", ChangeSetType="CREATE", OnStackFailure="DELETE",
                          TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")), RollbackConfiguration=config)
    described = cfn.describe_change_set(StackName="kept", ChangeSetName="kept")
    assert described["RollbackConfiguration"] == config
    assert described["OnStackFailure"] == "DELETE"
    cfn.delete_stack(StackName="kept")


@pytest.mark.parametrize("config, refused", [
    ({"RollbackTriggers": [_trigger(f"arn:aws:cloudwatch:ca-central-1:123456789012:alarm:a{i}") for i in range(6)]},
     "less than or equal to 5"),
    ({"RollbackTriggers": [_trigger("arn:aws:sns:ca-central-1:123456789012:topic", "AWS::SNS::Topic")]},
     "must be one of AWS::CloudWatch::Alarm, AWS::CloudWatch::CompositeAlarm"),
    ({"MonitoringTimeInMinutes": 181}, "between 0 and 180"),
])
def test_rollback_configuration_aws_refuses_is_refused(client, config, refused):
    cfn = client("cloudformation", "ca-central-1")
    with pytest.raises(botocore.exceptions.ClientError, match=refused) as caught:
        cfn.create_change_set(StackName="refused", ChangeSetName="refused", ChangeSetType="CREATE",
                              TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")), RollbackConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_what_a_stack_keeps_of_the_rollback_configuration_it_is_given():
    previous = {"RollbackTriggers": [_trigger("arn:a")], "MonitoringTimeInMinutes": 5}
    assert triggers.applied(previous, None) == previous  # not given: the stack's triggers stay
    assert triggers.applied(previous, {"MonitoringTimeInMinutes": 3}) == {**previous, "MonitoringTimeInMinutes": 3}
    assert triggers.applied(previous, {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}) == \
        {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}  # an empty list clears them
    assert triggers.from_request({"RollbackTriggers": ""}) == {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
    assert triggers.from_request(None) is None


def test_canary_change_set_drops_its_rollback_configuration(plain):
    cfn = plain("cloudformation")
    config = {"RollbackTriggers": [_trigger("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:health")],
              "MonitoringTimeInMinutes": 7}
    cfn.create_change_set(StackName="canary", ChangeSetName="canary", ChangeSetType="CREATE",
                          TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")), RollbackConfiguration=config)
    described = cfn.describe_change_set(StackName="canary", ChangeSetName="canary")
    S.still_broken(not described.get("RollbackConfiguration"), "keeps a change set's RollbackConfiguration",
                   "change_set_creation")


# ---- change_set_execution

def test_outputs_after_execute_change_set(deployed):
    out, ids = deployed["outputs"], deployed["ids"]
    assert out["TableName"] == "items-dev-items"
    assert out["FunctionName"] == "items-dev-api"
    assert out["ApiKeyId"] == ids["ApiKey"]
    assert out["ApiEndpoint"] == f"https://{ids['RestApi']}.execute-api.{S.REGION}.amazonaws.com/v1"


def test_failed_execution_rolls_back_instead_of_erroring(client, code):
    cfn = client("cloudformation", "eu-west-3")
    name = S.create_change_set(cfn, "items-dev", S.rendered("dev"), "CREATE", {**code, "ArtifactBucket": "no-such-bucket"})
    cfn.execute_change_set(StackName="items-dev", ChangeSetName=name)  # accepted, as in AWS
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="items-dev", WaiterConfig={"Delay": 0.2, "MaxAttempts": 20})
    assert cfn.describe_stacks(StackName="items-dev")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="items-dev")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and "NoSuchBucket" in failed[0]["ResourceStatusReason"]
    assert cfn.describe_change_set(StackName="items-dev", ChangeSetName=name)["ExecutionStatus"] == "EXECUTE_FAILED"


def test_every_resource_has_its_events_in_dependency_order(client, deployed):
    cfn = client("cloudformation")
    records = E.events(cfn, "items-dev")
    template, ids = deployed["template"], deployed["ids"]
    for name, resource in template["Resources"].items():
        mine = [e for e in records if e["LogicalResourceId"] == name]
        assert [e["ResourceStatus"] for e in mine] == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"], name
        assert {e["ResourceType"] for e in mine} == {resource["Type"]}
        assert mine[0]["PhysicalResourceId"] == "" and mine[1]["ResourceStatusReason"] == "Resource creation Initiated"
        assert mine[-1]["PhysicalResourceId"] == (ids[name] or "")  # moto gives some types none
        assert mine[-1]["Timestamp"] >= mine[0]["Timestamp"]
    assert E.out_of_order(template, records, "CREATE_COMPLETE", "CREATE_IN_PROGRESS") == []
    stack = [e for e in records if e["ResourceType"] == "AWS::CloudFormation::Stack"]
    assert [e["ResourceStatus"] for e in stack] == ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert {e["LogicalResourceId"] for e in stack} == {"items-dev"}
    assert {e["PhysicalResourceId"] for e in stack} == {cfn.describe_stacks(StackName="items-dev")["Stacks"][0]["StackId"]}
    assert records[-1]["ResourceType"] == "AWS::CloudFormation::Stack"


def test_a_failed_first_create_deletes_what_it_created(client, code):
    cfn = client("cloudformation", "eu-west-3")
    stack = E.ship(cfn, "items-dev", S.rendered("dev"), {**code, "ArtifactBucket": "no-such-bucket"})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "The following resource(s) failed to create: [Function]" in stack["StackStatusReason"]
    records = E.events(cfn, "items-dev")
    created = {e["LogicalResourceId"] for e in records if e.get("ResourceStatusReason") == "Resource creation Initiated"}
    assert {"KmsKey", "Table", "FunctionRole"} <= created
    deleted = {e["LogicalResourceId"] for e in records if e["ResourceStatus"] == "DELETE_COMPLETE"}
    assert created | {"Function"} <= deleted
    assert S.physical_ids(cfn, "items-dev") == {}
    with pytest.raises(botocore.exceptions.ClientError, match="ResourceNotFound"):
        client("dynamodb", "eu-west-3").describe_table(TableName="items-dev-items")
    stack_events = E.stack_statuses(cfn, "items-dev")
    assert stack_events[-2:] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]


def _retained_names(client, region: str) -> dict[str, bool]:
    """Which of the prod template's fixed-name resources exist in a region."""
    ddb, logs, sqs = client("dynamodb", region), client("logs", region), client("sqs", region)
    groups = {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    try:
        sqs.get_queue_url(QueueName="items-prod-dlq")
        queue = True
    except botocore.exceptions.ClientError:
        queue = False
    return {"Table": "items-prod-items" in ddb.list_tables()["TableNames"], "DeadLetterQueue": queue,
            "FunctionLogGroup": "/aws/lambda/items-prod-api" in groups,
            "AccessLogGroup": "/aws/apigateway/items-prod/access" in groups,
            "FlowLogGroup": "/aws/vpc/items-prod/flow-logs" in groups, "WafLogGroup": "aws-waf-logs-items-prod" in groups}


def _failing_prod(policy: str, deletion_protection: bool = True) -> dict:
    """The rendered prod template, its Retain resources under `policy`, with a resource that fails once they exist."""
    template = E.deletion_policy(S.rendered("prod"), policy)
    template["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"] = deletion_protection
    return E.with_failure(template, E.RETAINED, Reason="quota exceeded")


@pytest.mark.parametrize("policy, execute", [("RetainExceptOnCreate", {}), ("Retain", {"RetainExceptOnCreate": True})],
                         ids=["RetainExceptOnCreate in the template", "Retain and ExecuteChangeSet's parameter"])
def test_a_failed_first_prod_create_leaves_nothing_and_a_retry_succeeds(client, code, policy, execute):
    region = {"Retain": "us-west-1"}.get(policy, "us-west-2")
    cfn = client("cloudformation", region)
    # Deletion protection on would stop the table's deletion: see the test after this one.
    failed = E.ship(cfn, "items-prod", _failing_prod(policy, deletion_protection=False), code, **execute)
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE", failed.get("StackStatusReason")
    assert "failed to create: [Boom]" in failed["StackStatusReason"]
    assert "InjectedFailure: quota exceeded" in [e.get("ResourceStatusReason") for e in E.events(cfn, "items-prod")
                                                 if e["ResourceStatus"] == "CREATE_FAILED"]
    for name in E.RETAINED:
        assert E.statuses(cfn, "items-prod", name)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"], name
    assert not any(_retained_names(client, region).values())
    [key] = {e["PhysicalResourceId"] for e in E.events(cfn, "items-prod")
             if e["LogicalResourceId"] == "KmsKey" and e["PhysicalResourceId"]}
    with pytest.raises(botocore.exceptions.ClientError, match="NotFound"):
        client("kms", region).describe_key(KeyId=key)
    assert failed.get("RetainExceptOnCreate", False) is bool(execute)
    with pytest.raises(botocore.exceptions.ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
        S.create_change_set(cfn, "items-prod", S.rendered("prod"), "UPDATE", code)

    cfn.delete_stack(StackName="items-prod")  # a ROLLBACK_COMPLETE stack can only be deleted
    retried = E.ship(cfn, "items-prod", E.deletion_policy(S.rendered("prod"), policy), code)
    assert retried["StackStatus"] == "CREATE_COMPLETE"
    assert all(_retained_names(client, region).values())


def test_deletion_protection_stops_the_rollback_of_a_failed_prod_create(client, code):
    """RetainExceptOnCreate deletes the table on rollback, but the rendered table's deletion protection refuses
    that, in AWS as here: the rollback fails and the table stays."""
    region = "sa-east-1"
    cfn = client("cloudformation", region)
    failed = E.ship(cfn, "items-prod", _failing_prod("RetainExceptOnCreate"), code)
    assert failed["StackStatus"] == "ROLLBACK_FAILED"
    assert failed["StackStatusReason"] == "The following resource(s) failed to delete: [Table]."
    [table_failed] = [e for e in E.events(cfn, "items-prod")
                      if e["LogicalResourceId"] == "Table" and e["ResourceStatus"] == "DELETE_FAILED"]
    assert "DeletionProtectionEnabled is set to True" in table_failed["ResourceStatusReason"]
    assert _retained_names(client, region) == {"Table": True, "DeadLetterQueue": False, "FunctionLogGroup": False,
                                               "AccessLogGroup": False, "FlowLogGroup": False, "WafLogGroup": False}


def test_a_failed_first_prod_create_keeps_what_retain_keeps(client, code):
    """With DeletionPolicy Retain and no parameter, the rollback skips the fixed-name resources: a retry of the
    create then fails on them, as on a real account."""
    region = "ap-southeast-2"
    cfn = client("cloudformation", region)
    failed = E.ship(cfn, "items-prod", _failing_prod("Retain"), code)
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE"
    for name in E.RETAINED:
        assert E.statuses(cfn, "items-prod", name)[-1] == "DELETE_SKIPPED", name
    assert all(_retained_names(client, region).values())
    cfn.delete_stack(StackName="items-prod")
    retried = E.ship(cfn, "items-prod", S.rendered("prod"), code)
    assert retried["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = " ".join(e.get("ResourceStatusReason") or "" for e in E.events(cfn, "items-prod")
                       if e["ResourceStatus"] == "CREATE_FAILED")
    assert "already exists" in reasons


def test_a_failed_update_puts_the_stack_back_on_its_previous_template(client, code):
    region = "eu-central-1"
    cfn, ddb = client("cloudformation", region), client("dynamodb", region)
    template = S.rendered("dev")
    assert E.ship(cfn, "items-dev", template, code)["StackStatus"] == "CREATE_COMPLETE"
    before = S.physical_ids(cfn, "items-dev")
    changed = S.rendered("dev")
    changed["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 9
    changed["Resources"]["Extra"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "items-dev-extra"}}
    E.with_failure(changed, ["Table", "Extra"])
    rolled_back = E.ship(cfn, "items-dev", changed, code, kind="UPDATE")
    assert rolled_back["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert E.stack_statuses(cfn, "items-dev")[-3:] == [
        "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    assert E.statuses(cfn, "items-dev", "Table")[-4:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE",
                                                          "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert E.statuses(cfn, "items-dev", "Extra")[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert S.physical_ids(cfn, "items-dev") == before
    assert S.outputs(cfn, "items-dev")["TableName"] == "items-dev-items"
    assert cfn.get_template(StackName="items-dev")["TemplateBody"] == json.loads(S.body(template))
    # The stack takes the next update as usual.
    changed = S.rendered("dev")
    changed["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 9
    assert E.ship(cfn, "items-dev", changed, code, kind="UPDATE")["StackStatus"] == "UPDATE_COMPLETE"
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 9


def test_an_update_that_replaces_a_resource_names_both_copies(client, updated):
    cfn = client("cloudformation", updated["region"])
    table = [e for e in E.events(cfn, "items-dev") if e["LogicalResourceId"] == "Table"][-5:]
    assert [(e["ResourceStatus"], e.get("ResourceStatusReason"), e["PhysicalResourceId"]) for e in table] == [
        ("UPDATE_IN_PROGRESS", None, "items-dev-items"),
        ("UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.",
         "items-dev-items-v2"),
        ("UPDATE_COMPLETE", None, "items-dev-items-v2"),
        ("DELETE_IN_PROGRESS", None, "items-dev-items"),  # the old copy, in the cleanup
        ("DELETE_COMPLETE", None, "items-dev-items")]
    assert E.stack_statuses(cfn, "items-dev")[-2:] == ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_a_resource_removed_by_an_update_is_kept_by_its_deletion_policy(client):
    region = "eu-south-1"
    cfn, ddb = client("cloudformation", region), client("dynamodb", region)
    template = S.cut(S.rendered("dev"), "Table", "Vpc")
    template["Resources"]["Table"]["DeletionPolicy"] = "RetainExceptOnCreate"
    E.ship(cfn, "removal", template)
    del template["Resources"]["Table"]
    template.pop("Outputs", None)
    assert E.ship(cfn, "removal", template, kind="UPDATE")["StackStatus"] == "UPDATE_COMPLETE"
    assert E.statuses(cfn, "removal", "Table")[-1] == "DELETE_SKIPPED"
    assert "Table" not in S.physical_ids(cfn, "removal")
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["TableStatus"] == "ACTIVE"
    cfn.delete_stack(StackName="removal")


def test_disable_rollback_stops_at_the_failure(client):
    cfn = client("cloudformation", "eu-north-1")
    template = E.with_failure(S.cut(S.rendered("dev"), "Vpc"), ["Vpc"])
    stack = E.ship(cfn, "halted", template, DisableRollback=True)
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert set(S.physical_ids(cfn, "halted")) == {"Vpc"}  # kept, to look at
    cfn.delete_stack(StackName="halted")


def test_on_stack_failure_delete_deletes_the_stack(client):
    cfn = client("cloudformation", "eu-north-1")
    template = E.with_failure(S.cut(S.rendered("dev"), "Vpc"), ["Vpc"])
    cfn.create_change_set(StackName="gone", ChangeSetName="gone", ChangeSetType="CREATE", OnStackFailure="DELETE",
                          TemplateBody=S.body(template))
    stack_id = cfn.describe_stacks(StackName="gone")["Stacks"][0]["StackId"]
    cfn.execute_change_set(StackName="gone", ChangeSetName="gone")
    assert E.settled(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert E.stack_statuses(cfn, stack_id)[-4:] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS",
                                                    "DELETE_COMPLETE"]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """A local AWS of this module's own, timing off, every wait at 1/20: a minute's monitoring window is 3 s."""
    server = E.Server(tmp_path_factory.mktemp("scaled") / ".blueprint", Timing("off", 0.05))
    yield server
    server.close()


def _guarded_update(server, region: str, monitoring: int = 1, alarm: str = "items-dev-health"):
    """The dev table's stack, an alarm, and an update change set (read capacity 5 -> 9) guarded by it."""
    cfn, cw = server.client("cloudformation", region), server.client("cloudwatch", region)
    template = S.cut(S.rendered("dev"), "Table")
    assert E.ship(cfn, "guarded", template)["StackStatus"] == "CREATE_COMPLETE"
    arn = _alarm(cw, alarm)
    template["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 9
    name = f"guarded-{region}"
    cfn.create_change_set(StackName="guarded", ChangeSetName=name, ChangeSetType="UPDATE", TemplateBody=S.body(template),
                          RollbackConfiguration={"RollbackTriggers": [_trigger(arn)],
                                                 "MonitoringTimeInMinutes": monitoring})
    cfn.get_waiter("change_set_create_complete").wait(StackName="guarded", ChangeSetName=name,
                                                       WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    return cfn, cw, arn, name


def test_an_alarm_in_the_monitoring_window_rolls_the_update_back(scaled):
    cfn, cw, arn, name = _guarded_update(scaled, "us-east-2")
    ddb = scaled.client("dynamodb", "us-east-2")
    previous = cfn.get_template(StackName="guarded")["TemplateBody"]
    cfn.execute_change_set(StackName="guarded", ChangeSetName=name)
    # With timing off the resources are done when ExecuteChangeSet returns; the window has begun.
    stack = cfn.describe_stacks(StackName="guarded")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_IN_PROGRESS"
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 9
    cw.set_alarm_state(AlarmName="items-dev-health", StateValue="ALARM", StateReason="5XX above 1%")
    stack = E.settled(cfn, "guarded")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ddb.describe_table(TableName="items-dev-items")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    [rollback] = [e for e in E.events(cfn, "guarded") if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert arn in rollback["ResourceStatusReason"] and "items-dev-health" in rollback["ResourceStatusReason"]
    assert E.statuses(cfn, "guarded", "Table")[-2:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert cfn.describe_change_set(StackName="guarded", ChangeSetName=name)["ExecutionStatus"] == "EXECUTE_FAILED"
    assert stack["RollbackConfiguration"] == {}  # the failed operation's triggers went with it
    assert cfn.get_template(StackName="guarded")["TemplateBody"] == previous


def test_a_deploy_keeps_its_rollback_triggers_on_the_stack(scaled):
    cfn, cw, arn, name = _guarded_update(scaled, "us-west-1")
    started = time.monotonic()
    cfn.execute_change_set(StackName="guarded", ChangeSetName=name)
    stack = E.settled(cfn, "guarded")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert time.monotonic() - started >= 60 * 0.05 * 0.9  # the monitoring minute, scaled
    assert E.stack_statuses(cfn, "guarded")[-2:] == ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert stack["RollbackConfiguration"] == {"RollbackTriggers": [_trigger(arn)], "MonitoringTimeInMinutes": 1}
    # A change set without RollbackConfiguration keeps the stack's triggers; an empty list clears them.
    template = S.cut(S.rendered("dev"), "Table")
    E.ship(cfn, "guarded", template, kind="UPDATE")
    assert cfn.describe_stacks(StackName="guarded")["Stacks"][0]["RollbackConfiguration"]["RollbackTriggers"] == \
        [_trigger(arn)]
    template["Resources"]["Table"]["Properties"]["ProvisionedThroughput"]["ReadCapacityUnits"] = 6
    cfn.create_change_set(StackName="guarded", ChangeSetName="clear", ChangeSetType="UPDATE", TemplateBody=S.body(template),
                          RollbackConfiguration={"RollbackTriggers": []})
    cfn.execute_change_set(StackName="guarded", ChangeSetName="clear")
    assert E.settled(cfn, "guarded")["RollbackConfiguration"] == {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}


def test_a_missing_trigger_alarm_fails_the_update(scaled):
    cfn, cw, arn, name = _guarded_update(scaled, "eu-west-3", alarm="soon-gone")
    cw.delete_alarms(AlarmNames=["soon-gone"])
    cfn.execute_change_set(StackName="guarded", ChangeSetName=name)
    stack = E.settled(cfn, "guarded")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert f"Rollback trigger(s) {arn} do not exist" in stack["StackStatusReason"]
    assert E.statuses(cfn, "guarded", "Table")[-1] == "CREATE_COMPLETE"  # never touched


def test_a_composite_alarm_is_a_trigger_too(scaled):
    region = "ap-northeast-1"
    cfn, cw = scaled.client("cloudformation", region), scaled.client("cloudwatch", region)
    _alarm(cw, "errors")
    try:
        cw.put_composite_alarm(AlarmName="health", AlarmRule='ALARM("errors")')
    except botocore.exceptions.ClientError as exc:  # HTTP 500 "not implemented"
        pytest.skip(f"this moto has no PutCompositeAlarm ({exc.response['Error']['Code']}): the cloudwatch patches add it")
    arn = cw.describe_alarms(AlarmNames=["health"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]["AlarmArn"]
    cw.set_alarm_state(AlarmName="health", StateValue="ALARM", StateReason="already failing")
    cfn.create_change_set(StackName="composite", ChangeSetName="composite", ChangeSetType="CREATE",
                          TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")),
                          RollbackConfiguration={"RollbackTriggers": [_trigger(arn, "AWS::CloudWatch::CompositeAlarm")]})
    cfn.execute_change_set(StackName="composite", ChangeSetName="composite")
    stack = E.settled(cfn, "composite")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE" and "alarm health" in stack["StackStatusReason"]


def test_canary_execution_writes_no_resource_events(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    kinds = {e["ResourceType"] for e in cfn.describe_stack_events(StackName="canary")["StackEvents"]}
    S.still_broken(kinds == {"AWS::CloudFormation::Stack"}, "writes per-resource stack events", "change_set_execution")


def test_an_error_of_the_engine_itself_ends_the_operation_instead_of_leaving_it_in_progress():
    stack = SimpleNamespace(name="s", stack_id="arn:s", account_id="123456789012", region_name=S.REGION,
                            notification_arns=[], events=[], status="UPDATE_IN_PROGRESS", status_reason=None,
                            resource_map=None)
    operation.Operation(backend=None, stack=stack).guard(lambda: {}["missing"], "UPDATE_ROLLBACK_FAILED")()
    assert stack.status == "UPDATE_ROLLBACK_FAILED"
    assert stack.status_reason == "The local AWS's engine failed: KeyError: 'missing' (see its log)"
    assert stack.events[-1].resource_status == "UPDATE_ROLLBACK_FAILED"


def test_canary_no_outputs_after_execute_change_set(plain):
    cfn = plain("cloudformation")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    assert "TableName" in template["Outputs"]
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    S.still_broken(not cfn.describe_stacks(StackName="canary")["Stacks"][0].get("Outputs"),
                   "shows Outputs after execute_change_set", "change_set_execution")


def test_canary_failed_execution_raises_and_leaves_the_stack_in_review(plain):
    cfn = plain("cloudformation")
    parameters = {**S.upload_code(plain("s3")), "ArtifactBucket": "no-such-bucket"}
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Function"))
    name = S.create_change_set(cfn, "canary", template, "CREATE", parameters)
    try:
        cfn.execute_change_set(StackName="canary", ChangeSetName=name)
        raised = False
    except Exception:  # noqa: BLE001 - moto's error, unparseable by boto3
        raised = True
    status = cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"]
    S.still_broken(raised and status == "REVIEW_IN_PROGRESS",
                   "reports a failed change-set execution as a rolled-back stack", "change_set_execution")


# ---- change_set_execute_once

def _refusal(call) -> dict | None:
    """The error a call answered (None when it succeeded)."""
    try:
        call()
    except botocore.exceptions.ClientError as exc:
        return {**exc.response["Error"], "http": exc.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None


def _stack_events(cfn, stack_name: str) -> list[str]:
    return [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            if e["ResourceType"] == "AWS::CloudFormation::Stack"]


def test_an_executed_change_set_cannot_run_again(client):
    cfn = client("cloudformation")
    name = S.create_change_set(cfn, "once", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    assert _refusal(lambda: cfn.execute_change_set(StackName="once", ChangeSetName=name)) is None
    again = _refusal(lambda: cfn.execute_change_set(StackName="once", ChangeSetName=name))
    assert again is not None and again["Code"] == "InvalidChangeSetStatus" and again["http"] == 400
    stack_id = cfn.describe_stacks(StackName="once")["Stacks"][0]["StackId"]
    assert again["Message"] == (f"ChangeSet [{stack_id}] cannot be executed in its current execution status "
                                "of [EXECUTE_COMPLETE]")
    assert _stack_events(cfn, "once").count("CREATE_COMPLETE") == 1  # the template was not applied twice
    cfn.delete_stack(StackName="once")


def test_two_executions_at_once_run_the_change_set_once(client):
    cfn = client("cloudformation")
    name = S.create_change_set(cfn, "twice", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _refusal(lambda: cfn.execute_change_set(StackName="twice",
                                                                                   ChangeSetName=name)), range(2)))
    assert sorted(a["Code"] if a else "ok" for a in answers) == ["InvalidChangeSetStatus", "ok"]
    assert cfn.describe_change_set(StackName="twice", ChangeSetName=name)["ExecutionStatus"] == "EXECUTE_COMPLETE"
    assert _stack_events(cfn, "twice").count("CREATE_COMPLETE") == 1
    cfn.delete_stack(StackName="twice")


def test_canary_a_change_set_executes_twice(plain):
    cfn = plain("cloudformation")
    name = S.create_change_set(cfn, "canary", S.cut(S.rendered("dev"), "Vpc"), "CREATE")
    cfn.execute_change_set(StackName="canary", ChangeSetName=name)
    S.still_broken(_refusal(lambda: cfn.execute_change_set(StackName="canary", ChangeSetName=name)) is None,
                   "refuses to execute a change set twice (InvalidChangeSetStatus)", "change_set_execute_once")


# ---- stack_busy_refusal

def test_a_stack_whose_first_create_rolled_back_takes_no_update(client):
    cfn = client("cloudformation", "eu-north-1")
    stack = E.ship(cfn, "rolled", E.with_failure(S.cut(S.rendered("dev"), "Vpc")))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    expected = f"Stack:{stack['StackId']} is in ROLLBACK_COMPLETE state and can not be updated."
    refused = _refusal(lambda: S.create_change_set(cfn, "rolled", S.cut(S.rendered("dev"), "Vpc"), "UPDATE"))
    assert refused == {"Code": "ValidationError", "Message": expected, "Type": "Sender", "http": 400}
    refused = _refusal(lambda: cfn.update_stack(StackName="rolled", TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc"))))
    assert refused["Code"] == "ValidationError" and refused["Message"] == expected
    cfn.delete_stack(StackName="rolled")


def test_canary_an_update_of_a_stack_in_progress_goes_through(plain):
    from moto.cloudformation.models import cloudformation_backends

    cfn = plain("cloudformation")
    template = S.cut(S.rendered("dev"), "Vpc")
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    [stack] = [s for s in cloudformation_backends["123456789012"][S.REGION].stacks.values() if s.name == "canary"]
    stack.status = "UPDATE_IN_PROGRESS"  # what a long update looks like while it runs
    template["Resources"]["Vpc"]["Properties"]["Tags"] = [{"Key": "x", "Value": "y"}]
    S.still_broken(_refusal(lambda: S.create_change_set(cfn, "canary", template, "UPDATE", wait=False)) is None,
                   "refuses an update of a stack in progress", "stack_busy_refusal")


# ---- change_set_dependency_order

def test_added_resources_follow_depends_on(deployed):
    template = deployed["template"]
    deployment = S.logical_id(template, "AWS::ApiGateway::Deployment")
    # The body is sent with sorted keys: the Deployment comes before the methods it DependsOn.
    order = list(json.loads(S.body(template))["Resources"])
    assert all(order.index(deployment) < order.index(m) for m in template["Resources"][deployment]["DependsOn"])
    assert deployed["ids"][deployment]


def test_dependency_order_puts_each_after_what_it_uses():
    template = {"Deployment": {"DependsOn": "Method", "Properties": {"RestApiId": {"Ref": "Api"}}},
                 "Method": {"Properties": {"Uri": {"Fn::Sub": "${Function.Arn}/invocations"}}},
                 "Function": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
                 "Role": {}, "Api": {}}
    assert resources.dependency_order(template, ["Deployment", "Method", "Function", "Api"]) == \
        ["Api", "Function", "Method", "Deployment"]


def test_canary_change_set_ignores_depends_on(plain):
    cfn = plain("cloudformation")
    dev = S.rendered("dev")
    template = S.without_kms_gap(S.cut(dev, S.logical_id(dev, "AWS::ApiGateway::Deployment")))
    name = S.create_change_set(cfn, "canary", template, "CREATE", S.upload_code(plain("s3")))
    try:
        cfn.execute_change_set(StackName="canary", ChangeSetName=name)
        failed = False
    except Exception as exc:  # noqa: BLE001 - moto's error, unparseable by boto3
        failed = "contain any methods" in str(exc)  # "The REST API doesn't contain any methods"
    S.still_broken(failed, "creates a change set's resources in DependsOn order", "change_set_dependency_order")


# ---- keep_resources_moto_cannot_update

def test_resource_moto_cannot_update_stays_in_the_stack(client, updated):
    assert updated["after"]["RestApi"] == updated["before"]["RestApi"]
    outputs = S.outputs(client("cloudformation", updated["region"]), "items-dev")
    assert outputs["ApiEndpoint"].startswith(f"https://{updated['before']['RestApi']}.execute-api.")
    assert outputs["TableName"] == "items-dev-items-v2"


def test_canary_resource_without_update_is_lost(plain):
    cfn = plain("cloudformation")
    template = S.cut(S.rendered("dev"), "RestApi")
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "CREATE"))
    template["Resources"]["RestApi"]["Properties"]["Description"] = "changed"
    cfn.execute_change_set(StackName="canary", ChangeSetName=S.create_change_set(cfn, "canary", template, "UPDATE"))
    S.still_broken(not S.physical_ids(cfn, "canary").get("RestApi"),
                   "keeps (or updates) a RestApi modified through a change set", "keep_resources_moto_cannot_update")


# ---- stack_deletion

def _vpc_with_an_outsider(cfn, ec2) -> str:
    """The rendered VPC alone, with a subnet the stack does not own: deleting the stack must fail."""
    cfn.create_stack(StackName="vpc", TemplateBody=S.body(S.cut(S.rendered("dev"), "Vpc")))
    vpc_id = S.physical_ids(cfn, "vpc")["Vpc"]
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.21.255.0/24")["Subnet"]["SubnetId"]


def test_delete_failure_keeps_the_stack_as_delete_failed(client):
    cfn, ec2 = client("cloudformation"), client("ec2")
    outsider = _vpc_with_an_outsider(cfn, ec2)
    cfn.delete_stack(StackName="vpc")
    assert cfn.describe_stacks(StackName="vpc")["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    ec2.delete_subnet(SubnetId=outsider)
    cfn.delete_stack(StackName="vpc")  # a retry succeeds
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="vpc")


def test_stack_deletion_keeps_retain_and_retain_except_on_create(client):
    region = "ap-southeast-1"
    cfn, ddb, logs = client("cloudformation", region), client("dynamodb", region), client("logs", region)
    template = S.cut(S.rendered("prod"), "Table", "FunctionLogGroup")
    template["Resources"]["Table"]["DeletionPolicy"] = "RetainExceptOnCreate"
    template["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"] = False
    template["Resources"]["FunctionLogGroup"]["DeletionPolicy"] = "Retain"
    template["Resources"]["KmsKey"]["DeletionPolicy"] = "Snapshot"  # no snapshot here: deleted
    stack_id = E.ship(cfn, "kept", template)["StackId"]
    key = S.physical_ids(cfn, "kept")["KmsKey"]
    cfn.delete_stack(StackName="kept")
    assert E.settled(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert E.statuses(cfn, stack_id, "Table")[-1] == "DELETE_SKIPPED"
    assert E.statuses(cfn, stack_id, "FunctionLogGroup")[-1] == "DELETE_SKIPPED"
    assert E.statuses(cfn, stack_id, "KmsKey")[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert ddb.describe_table(TableName="items-prod-items")["Table"]["TableStatus"] == "ACTIVE"
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/items-prod-api")["logGroups"]
    with pytest.raises(botocore.exceptions.ClientError, match="NotFound"):
        client("kms", region).describe_key(KeyId=key)


def test_deletion_goes_in_reverse_dependency_order(client, code):
    cfn = client("cloudformation", "ca-central-1")
    template = S.rendered("dev")
    stack_id = E.ship(cfn, "items-dev", template, code)["StackId"]
    cfn.delete_stack(StackName="items-dev")
    assert E.settled(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    records = E.events(cfn, stack_id)
    deletion = records[[e["ResourceStatus"] for e in records].index("DELETE_IN_PROGRESS"):]
    assert {e["LogicalResourceId"] for e in deletion if e["ResourceStatus"] == "DELETE_COMPLETE"} == \
        set(template["Resources"]) | {"items-dev"}
    assert E.out_of_order(template, deletion, "DELETE_COMPLETE", "DELETE_IN_PROGRESS", reverse=True) == []
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"


def test_canary_deletion_deletes_retain_except_on_create(plain):
    cfn, ddb = plain("cloudformation"), plain("dynamodb")
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Table"))
    template["Resources"]["Table"]["DeletionPolicy"] = "RetainExceptOnCreate"
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    cfn.delete_stack(StackName="canary")
    S.still_broken("items-dev-items" not in ddb.list_tables()["TableNames"],
                   "keeps a RetainExceptOnCreate resource when its stack is deleted", "stack_deletion")


def test_canary_failed_delete_makes_the_stack_vanish(plain):
    cfn = plain("cloudformation")
    _vpc_with_an_outsider(cfn, plain("ec2"))
    with pytest.raises(cfn.exceptions.ClientError, match="DependencyViolation"):
        cfn.delete_stack(StackName="vpc")
    try:
        cfn.describe_stacks(StackName="vpc")
        vanished = False
    except cfn.exceptions.ClientError:
        vanished = True
    S.still_broken(vanished, "keeps a stack whose deletion failed (DELETE_FAILED)", "stack_deletion")


# ---- unsupported_types_visible

def _web_acl() -> dict:
    template = S.cut(S.rendered("prod"), "WebAcl")
    template["Outputs"] = {"AclArn": {"Value": {"Fn::GetAtt": ["WebAcl", "Arn"]}}}
    return template


def test_unsupported_type_is_a_visible_placeholder(client):
    cfn = client("cloudformation")
    S.deploy(cfn, "items-prod-acl", _web_acl())
    assert S.physical_ids(cfn, "items-prod-acl")["WebAcl"] == "not-emulated-WebAcl"
    assert S.outputs(cfn, "items-prod-acl")["AclArn"] == "not-emulated-WebAcl.Arn"
    cfn.delete_stack(StackName="items-prod-acl")


def test_canary_unknown_type_is_silently_skipped(plain):
    cfn = plain("cloudformation")
    template = _web_acl()
    del template["Outputs"]  # plain moto cannot resolve it
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    S.still_broken("WebAcl" not in S.physical_ids(cfn, "canary"), "lists (or emulates) AWS::WAFv2::WebACL in a stack",
                   "unsupported_types_visible")


# ---- failure_injection

def test_an_injected_failure_fails_where_it_is_told_to(client):
    cfn = client("cloudformation", "eu-south-1")
    created = E.ship(cfn, "faults", E.with_failure(S.cut(S.rendered("dev"), "Vpc"), ["Vpc"], FailOn=["Delete"]))
    assert created["StackStatus"] == "CREATE_COMPLETE"
    assert S.physical_ids(cfn, "faults")["Boom"] == "blueprint-test-Boom"
    template = E.with_failure(S.cut(S.rendered("dev"), "Vpc"), ["Vpc"], FailOn="Update", Reason="bad update")
    updated = E.ship(cfn, "faults", template, kind="UPDATE")
    assert updated["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "InjectedFailure: bad update" in [e.get("ResourceStatusReason") for e in E.events(cfn, "faults")]
    cfn.delete_stack(StackName="faults")
    stack = E.settled(cfn, "faults")
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [Boom]."
    assert set(S.physical_ids(cfn, "faults")) == {"Boom"}  # the VPC went, the failing resource stays


def test_canary_a_test_failure_type_is_silently_skipped(plain):
    cfn = plain("cloudformation")
    cfn.create_stack(StackName="canary", TemplateBody=S.body(E.with_failure(S.cut(S.rendered("dev"), "Vpc"))))
    S.still_broken(cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE",
                   f"fails a {E.FAILS} resource", "failure_injection")
