"""The replacement guard: a stateful resource replaced or removed runs only when named."""
from __future__ import annotations

import pytest

from blueprint.errors import DeployFailed
from blueprint.ship.execute import check_dangerous, execute
from blueprint.ship.review import Change, Review
from tests.ship.stubs import CS_ID, STACK_ID, stack_event, stubbed

DANGER = Review("change set", "items-dev", "us-east-1", [
    Change("Modify", "Table", "AWS::DynamoDB::Table", "True"),
    Change("Remove", "KmsKey", "AWS::KMS::Key"),
    Change("Modify", "Function", "AWS::Lambda::Function", "True"),
], "bp-1")


def test_dangerous_changes_are_refused_by_name():
    assert DANGER.dangerous == ["Table", "KmsKey"]  # replacing the function loses no data
    with pytest.raises(DeployFailed) as err:
        check_dangerous(DANGER, ["Table"], "dev")
    message = str(err.value)
    assert "KmsKey" in message and "Table," not in message
    assert "ALLOW_REPLACE=KmsKey" in message and "--allow-replace KmsKey" in message
    assert "nothing was executed" in message
    check_dangerous(DANGER, ["Table", "KmsKey"], "dev")  # allowed in so many words


def test_a_change_set_executed_by_something_else_meanwhile_is_a_clear_refusal():
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("e0", "UPDATE_COMPLETE")]})
    stub.add_client_error("execute_change_set", "InvalidChangeSetStatus", http_status_code=400,
                          service_message=f"ChangeSet [{STACK_ID}] cannot be executed in its current execution "
                                          "status of [EXECUTE_COMPLETE]")
    started = []
    with pytest.raises(DeployFailed) as err:
        execute(cfn, CS_ID, STACK_ID, "dev", "local", started=lambda: started.append(1))
    message = str(err.value)
    assert "refused to execute change set bp-1" in message and "execution status of [EXECUTE_COMPLETE]" in message
    assert "executed nothing" in message and "make changeset ENV=dev TARGET=local" in message
    assert started == []  # the record of the review is kept: nothing of it ran here
    stub.assert_no_pending_responses()
