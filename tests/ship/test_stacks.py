"""Looking at a stack: poll pacing, and which statuses can take a change set."""
from __future__ import annotations

import pytest

from blueprint.errors import UserError
from blueprint.ship import stacks
from tests.ship.stubs import STACK_ID, stack, stubbed


def test_polling_starts_fast_and_backs_off():
    delays = stacks.poll_delays(60)
    first = [next(delays) for _ in range(12)]
    assert first[0] == 0.2 and first[1] == pytest.approx(0.3) and first[-1] == 1.0
    assert first == sorted(first)
    change_set = stacks.poll_delays(60, stacks.CHANGE_SET_POLL_MAX_S)
    assert max(next(change_set) for _ in range(12)) == 1.0


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
            return stacks.existing_stack(cfn, kwargs.pop("stack_name", "items-dev"), "dev", **kwargs)
        finally:
            stub.assert_no_pending_responses()

    assert run(None) is None  # no stack: CREATE
    assert run("UPDATE_COMPLETE")["StackStatus"] == "UPDATE_COMPLETE"
    assert run("UPDATE_ROLLBACK_COMPLETE")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert run("REVIEW_IN_PROGRESS", target_kind="aws") is None  # AWS takes a CREATE change set on it as is
    assert run("REVIEW_IN_PROGRESS", target_kind="local") is None  # moto: deleted first (the stubs check it)
    with pytest.raises(UserError, match=r"ROLLBACK_COMPLETE.*`make destroy ENV=dev`"):
        run("ROLLBACK_COMPLETE")
    # A rollback that could not delete everything (a table's deletion protection) is no different: delete, retry.
    with pytest.raises(UserError, match=r"is ROLLBACK_FAILED: its first create failed and its rollback could not "
                                        r"delete everything \(.*\).*`make destroy ENV=dev TARGET=local`"):
        run("ROLLBACK_FAILED", target_kind="local")
    with pytest.raises(UserError) as err:
        run("ROLLBACK_COMPLETE", name="blueprint-bootstrap", stack_name="blueprint-bootstrap", bootstrap=True)
    assert ("`aws cloudformation delete-stack --stack-name blueprint-bootstrap --region eu-west-1`" in str(err.value)
            and "make destroy" not in str(err.value) and "make bootstrap ENV=dev" in str(err.value))
    for busy in ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "DELETE_FAILED"):
        with pytest.raises(UserError, match=f"is {busy}: wait for it to settle"):
            run(busy)


def _outputs(*keys):
    return [{"OutputKey": k, "OutputValue": "v"} for k in keys]


def test_the_environments_stacks_under_other_names_are_found_by_tags_outputs_and_suffix():
    full = _outputs("ApiEndpoint", "TableName", "FunctionName", "ApiKeyId")
    tagged = [{"Key": "Environment", "Value": "development"}]
    cfn, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [
        stack("CREATE_COMPLETE", "items-dev", Tags=tagged, Outputs=full),            # the renamed service's old stack
        stack("CREATE_COMPLETE", "things-dev", Tags=tagged, Outputs=full),           # the one being created
        stack("CREATE_COMPLETE", "items-prod", Tags=tagged, Outputs=full),           # another environment
        stack("CREATE_COMPLETE", "legacy-dev", Tags=tagged, Outputs=_outputs("TableName")),  # not blueprint's
    ], "NextToken": "n"}, {})
    stub.add_response("describe_stacks", {"Stacks": [
        stack("UPDATE_COMPLETE", "orders-dev", Tags=[{"Key": "Environment", "Value": "staging"}], Outputs=full),
        stack("REVIEW_IN_PROGRESS", "empty-dev", Tags=tagged),
        stack("UPDATE_ROLLBACK_COMPLETE", "old-dev", Tags=tagged, Outputs=full),
    ]}, {"NextToken": "n"})
    found = stacks.environment_stacks(cfn, "dev", "development", "things-dev")
    assert [s["StackName"] for s in found] == ["items-dev", "old-dev"]
    stub.assert_no_pending_responses()


def _summary(name, status="CREATE_COMPLETE"):
    return {"StackName": name, "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1",
            "StackStatus": status, "CreationTime": "2026-01-01T00:00:00Z"}


UUID = "0f3c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f"


@pytest.mark.parametrize("listed,found", [
    ([], None),
    ([_summary(f"StackSet-blueprint-bootstrap-{UUID}")], f"StackSet-blueprint-bootstrap-{UUID}"),
    ([_summary(f"StackSet-blueprint-bootstrap-{UUID}", "DELETE_COMPLETE"), _summary(f"StackSet-other-{UUID}"),
      _summary("blueprint-bootstrap-copy"), _summary(f"StackSet-blueprint-bootstrap-eu-{UUID}"),
      _summary("StackSet-blueprint-bootstrap-1")], None),
])
def test_the_bootstrap_stack_is_ours_else_the_stacksets_instance(listed, found):
    cfn, stub = stubbed()
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id blueprint-bootstrap does not exist")
    stub.add_response("list_stacks", {"StackSummaries": listed})
    if found:
        stub.add_response("describe_stacks", {"Stacks": [stack("CREATE_COMPLETE", found)]}, {"StackName": found})
    got = stacks.bootstrap_stack(cfn, "blueprint-bootstrap")
    assert (got and got["StackName"]) == found
    stub.assert_no_pending_responses()


def test_two_stackset_instances_in_one_region_are_refused():
    cfn, stub = stubbed()
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id blueprint-bootstrap does not exist")
    stub.add_response("list_stacks", {"StackSummaries": [_summary(f"StackSet-blueprint-bootstrap-{UUID}"),
                                                         _summary("StackSet-blueprint-bootstrap-7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d")]})
    with pytest.raises(UserError, match="has 2 stacks in this account and region"):
        stacks.bootstrap_stack(cfn, "blueprint-bootstrap")
