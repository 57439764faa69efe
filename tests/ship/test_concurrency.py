"""Reserved concurrency against the account's Lambda quota (issue 10 item 4): what is free, what the spec asks,
refused before a change set with both ways out; the stack's own reservation counts as free on an update."""
from __future__ import annotations

import io

import pytest

from blueprint.errors import Refused
from blueprint.ship import aws, concurrency
from blueprint.ship.concurrency import Account, Reservation
from tests.ship.stubs import STACK_ID, T0, stack, stubbed

TEMPLATE = {"Resources": {
    "Function": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}},
    "Unreserved": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128}},
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"ReservedConcurrentExecutions": 9}},
}}


def settings(quota: int, unreserved: int) -> dict:
    return {"AccountLimit": {"TotalCodeSize": 1, "CodeSizeUnzipped": 1, "CodeSizeZipped": 1,
                             "ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}}


def session(lam, cfn, kind="aws") -> aws.Session:
    return aws.Session(aws.Target(kind, "eu-west-1"), None, {"lambda": lam, "cloudformation": cfn})


def test_the_templates_reservations_are_its_functions_numbers():
    assert concurrency.asked(TEMPLATE) == [Reservation("Function", 5)]
    assert concurrency.asked({"Resources": {"F": {"Type": "AWS::Lambda::Function",
                                                  "Properties": {"ReservedConcurrentExecutions": {"Ref": "N"}}}}}) == []


def test_free_keeps_100_or_the_whole_small_quota_and_counts_what_the_stack_holds():
    assert concurrency.free(Account("r", 1000, 1000), [Reservation("F", 5)]) == 900
    assert concurrency.free(Account("r", 105, 105), [Reservation("F", 5)]) == 5
    assert concurrency.free(Account("r", 104, 104), [Reservation("F", 5)]) == 4
    assert concurrency.free(Account("r", 50, 50), [Reservation("F", 5)]) == 0  # below 100 the floor is the quota
    assert concurrency.free(Account("r", 105, 100), [Reservation("F", 5, held=5)]) == 5  # an update re-reserves
    assert concurrency.needed_quota(Account("r", 10, 10), [Reservation("F", 5)]) == 105
    assert concurrency.needed_quota(Account("r", 200, 90), [Reservation("F", 5, held=5)]) == 210  # 105 others


def test_a_new_accounts_quota_of_10_is_refused_with_the_figures_and_the_quota_request():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    cfn, _ = stubbed("cloudformation", "eu-west-1")
    lam_stub.add_response("get_account_settings", settings(10, 10), {})
    with pytest.raises(Refused) as refused:
        concurrency.check(session(lam, cfn), TEMPLATE, None, "dev")
    text = str(refused.value)
    assert "the template reserves 5 (Function's ReservedConcurrentExecutions), only 0 can be reserved" in text
    assert "Nothing was created." in text
    assert "  account quota (concurrent executions)   10\n" in text
    assert "  kept unreserved                         10   (the whole quota: below 100" in text
    assert "  free to reserve                         0\n" in text and "  asked by the spec                       5" in text
    assert 'Raise the quota to at least 105: Service Quotas > AWS Lambda > "Concurrent executions" (L-B99A9384)' in text
    assert ("`aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 "
            "--desired-value 1000 --region eu-west-1`") in text
    assert "Lowering function.reserved_concurrency cannot help here" in text
    lam_stub.assert_no_pending_responses()


def test_a_quota_just_short_says_how_far_to_lower_reserved_concurrency():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    cfn, _ = stubbed("cloudformation", "eu-west-1")
    lam_stub.add_response("get_account_settings", settings(113, 103))  # another function reserves 10
    with pytest.raises(Refused) as refused:
        concurrency.check(session(lam, cfn, "local"), TEMPLATE, None, "dev")
    text = str(refused.value)
    assert "  reserved by other functions             10\n" in text
    assert "  free to reserve                         3\n" in text
    assert ("Or lower function.reserved_concurrency to 3 or less for dev (envs/dev.yaml overrides blueprint.yaml), "
            "then `make render ENV=dev` and `make changeset ENV=dev TARGET=local`.") in text


def test_an_update_re_reserves_what_the_stacks_function_holds():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    cfn, cfn_stub = stubbed("cloudformation", "eu-west-1")
    lam_stub.add_response("get_account_settings", settings(105, 100))  # this stack's function holds the 5
    cfn_stub.add_response("describe_stack_resource", {"StackResourceDetail": {
        "LogicalResourceId": "Function", "PhysicalResourceId": "items-dev-api", "ResourceType": "AWS::Lambda::Function",
        "LastUpdatedTimestamp": T0, "ResourceStatus": "CREATE_COMPLETE"}},
        {"StackName": STACK_ID, "LogicalResourceId": "Function"})
    lam_stub.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 5},
                          {"FunctionName": "items-dev-api"})
    concurrency.check(session(lam, cfn), TEMPLATE, stack("UPDATE_COMPLETE"), "dev")  # fits: nothing raised
    lam_stub.assert_no_pending_responses()
    cfn_stub.assert_no_pending_responses()


def test_a_function_not_in_the_stack_yet_holds_nothing():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    cfn, cfn_stub = stubbed("cloudformation", "eu-west-1")
    lam_stub.add_response("get_account_settings", settings(104, 104))
    cfn_stub.add_client_error("describe_stack_resource", "ValidationError",
                              "Resource Function does not exist for stack items-dev")
    with pytest.raises(Refused, match="only 4 can be reserved"):
        concurrency.check(session(lam, cfn), TEMPLATE, stack("UPDATE_COMPLETE"), "dev")


def test_credentials_that_cannot_read_the_settings_skip_the_check_with_a_note():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    cfn, _ = stubbed("cloudformation", "eu-west-1")
    lam_stub.add_client_error("get_account_settings", "AccessDeniedException", "not authorized")
    out = io.StringIO()
    concurrency.check(session(lam, cfn), TEMPLATE, None, "dev", out)
    assert "could not be read (AccessDeniedException on GetAccountSettings)" in out.getvalue()
    assert "allow lambda:GetAccountSettings" in out.getvalue()


def test_a_template_without_reservations_asks_nothing():
    lam, lam_stub = stubbed("lambda", "eu-west-1")
    concurrency.check(session(lam, None), {"Resources": {}}, None, "dev")  # no call was stubbed: none made
    lam_stub.assert_no_pending_responses()
