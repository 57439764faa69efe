"""blueprint/local/patches/awslambda.py: the rendered function's configuration on the local AWS is the template's,
the account's settings answer with its quota and what is left unreserved, and a reservation that leaves
less than 100 is refused; plain moto still drops the function's tracing and dead-letter queue, has no
GetAccountSettings and lets a stack reserve any amount."""
from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

import stack as S


# ---- lambda_function_properties

def test_function_tracing_dlq_kms_logging_vpc_and_tags(client, deployed):
    ids, props = deployed["ids"], deployed["template"]["Resources"]["Function"]["Properties"]
    lam = client("lambda")
    cfg = lam.get_function_configuration(FunctionName=props["FunctionName"])
    assert cfg["TracingConfig"] == {"Mode": "Active"}
    dlq_arn = client("sqs").get_queue_attributes(
        QueueUrl=ids["DeadLetterQueue"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert cfg["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert cfg["KMSKeyArn"].endswith(ids["KmsKey"])
    assert cfg["Architectures"] == props["Architectures"]
    assert cfg["LoggingConfig"] == {**props["LoggingConfig"], "LogGroup": ids["FunctionLogGroup"]}
    assert sorted(cfg["VpcConfig"]["SubnetIds"]) == sorted([ids["PrivateSubnet1"], ids["PrivateSubnet2"]])
    variables = props["Environment"]["Variables"]
    assert cfg["Environment"]["Variables"] == {**variables, "TABLE_NAME": ids["Table"]}
    assert lam.get_function(FunctionName=props["FunctionName"])["Tags"]["Environment"] == "development"


def test_canary_function_tracing_and_dlq_dropped(plain):
    cfn = plain("cloudformation")
    parameters = S.upload_code(plain("s3"))
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Function"))
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    cfg = plain("lambda").get_function_configuration(FunctionName=S.physical_ids(cfn, "canary")["Function"])
    S.still_broken(cfg["TracingConfig"]["Mode"] != "Active", "applies Lambda TracingConfig from CloudFormation",
                   "lambda_function_properties")
    S.still_broken("DeadLetterConfig" not in cfg, "shows a Lambda DeadLetterConfig", "lambda_function_properties")


# ---- lambda_account_settings

def set_quota(endpoint: str, region: str, concurrent_executions: int | None) -> dict:
    """The account's ConcurrentExecutions quota in `region` on the local AWS (None: the default again)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/blueprint/lambda/concurrent-executions", method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"region": region, "ConcurrentExecutions": concurrent_executions}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local AWS on 127.0.0.1
        return json.loads(response.read())


@pytest.fixture
def quota(endpoint):
    """`quota(region, n)` sets a region's quota for one test, then puts the default back."""
    touched: list[str] = []

    def set_(region: str, n: int) -> None:
        touched.append(region)
        assert set_quota(endpoint, region, n)["ConcurrentExecutions"] == n
    yield set_
    for region in touched:
        set_quota(endpoint, region, None)


def _reserved(lam) -> int:
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    return sum(lam.get_function_concurrency(FunctionName=n).get("ReservedConcurrentExecutions", 0) for n in names)


def test_account_settings_after_a_deploy(client, deployed):
    lam = client("lambda")
    settings = lam.get_account_settings()
    limit, usage = settings["AccountLimit"], settings["AccountUsage"]
    assert limit["ConcurrentExecutions"] == 1000  # AWS's default quota
    reserved = deployed["template"]["Resources"]["Function"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved <= _reserved(lam) == limit["ConcurrentExecutions"] - limit["UnreservedConcurrentExecutions"]
    assert limit["CodeSizeZipped"] == 52_428_800 and limit["CodeSizeUnzipped"] == 262_144_000
    assert usage["FunctionCount"] == len(lam.list_functions()["Functions"]) >= 1
    assert usage["TotalCodeSize"] >= len(S.handler_zip())


def test_the_quota_is_set_per_region(client, quota):
    quota("ap-south-1", 50)
    assert client("lambda", "ap-south-1").get_account_settings()["AccountLimit"] == {
        **client("lambda", "ap-south-1").get_account_settings()["AccountLimit"],
        "ConcurrentExecutions": 50, "UnreservedConcurrentExecutions": 50}
    assert client("lambda", "ap-south-2").get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 1000


def test_canary_no_account_settings(plain):
    try:
        plain("lambda").get_account_settings()
        answered = True
    except Exception:  # noqa: BLE001 - moto has no route: a 404 boto3 reports as an error
        answered = False
    S.still_broken(not answered, "answers Lambda GetAccountSettings", "lambda_account_settings")


# ---- lambda_reserved_concurrency_floor

FLOOR_MESSAGE = ("Specified ReservedConcurrentExecutions for function decreases account's "
                 "UnreservedConcurrentExecution below its minimum value of [{}].")


def _create_function(lam, iam, name: str) -> None:
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.lambda_handler",
                        Code={"ZipFile": S.handler_zip()})


def test_put_function_concurrency_keeps_100_unreserved(client, quota):
    region = "ap-southeast-1"
    lam, iam = client("lambda", region), client("iam", region)
    quota(region, 1000)
    _create_function(lam, iam, "floor-a")
    _create_function(lam, iam, "floor-b")
    lam.put_function_concurrency(FunctionName="floor-a", ReservedConcurrentExecutions=900)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match=re.escape(FLOOR_MESSAGE.format(100))):
        lam.put_function_concurrency(FunctionName="floor-b", ReservedConcurrentExecutions=1)
    lam.put_function_concurrency(FunctionName="floor-a", ReservedConcurrentExecutions=899)  # its own 900 is not counted
    lam.put_function_concurrency(FunctionName="floor-b", ReservedConcurrentExecutions=1)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100


def test_a_small_account_cannot_reserve_anything(client, quota):
    region = "ap-northeast-2"
    lam = client("lambda", region)
    quota(region, 10)
    _create_function(lam, client("iam", region), "tiny")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match=re.escape(FLOOR_MESSAGE.format(10))):
        lam.put_function_concurrency(FunctionName="tiny", ReservedConcurrentExecutions=1)


def _settled(cfn, stack_name: str) -> str:
    for _ in range(100):
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{stack_name} is still {status}")


def test_the_stack_function_fails_when_its_reservation_leaves_less_than_100(client, code, quota):
    region = "ap-northeast-1"
    quota(region, 104)  # dev reserves 5: 99 would be left
    cfn, lam = client("cloudformation", region), client("lambda", region)
    template = S.cut(S.rendered("dev"), "Function")
    name = S.create_change_set(cfn, "items-dev", template, "CREATE", code)
    cfn.execute_change_set(StackName="items-dev", ChangeSetName=name)
    assert _settled(cfn, "items-dev") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName="items-dev")["StackEvents"]]
    assert any(FLOOR_MESSAGE.format(100) in r for r in reasons), reasons
    assert lam.list_functions()["Functions"] == []
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 104


def test_a_stack_update_that_reserves_too_much_fails(client, code, quota):
    region = "ap-northeast-3"
    cfn, lam = client("cloudformation", region), client("lambda", region)
    template = S.cut(S.rendered("dev"), "Function")
    S.deploy(cfn, "items-dev", template, code)
    quota(region, 200)
    template["Resources"]["Function"]["Properties"]["ReservedConcurrentExecutions"] = 101
    name = S.create_change_set(cfn, "items-dev", template, "UPDATE", code)
    cfn.execute_change_set(StackName="items-dev", ChangeSetName=name)
    assert _settled(cfn, "items-dev") == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName="items-dev")["StackEvents"]]
    assert any(FLOOR_MESSAGE.format(100) in r for r in reasons), reasons
    assert lam.get_function_concurrency(FunctionName="items-dev-api")["ReservedConcurrentExecutions"] == 5


def test_canary_a_stack_reserves_any_amount(plain):
    cfn = plain("cloudformation")
    parameters = S.upload_code(plain("s3"))
    template = S.without_kms_gap(S.cut(S.rendered("dev"), "Function"))
    template["Resources"]["Function"]["Properties"]["ReservedConcurrentExecutions"] = 1000  # 0 left unreserved
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    status = cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"]
    S.still_broken(status == "CREATE_COMPLETE", "refuses a Lambda reservation that leaves less than 100 unreserved",
                   "lambda_reserved_concurrency_floor")
