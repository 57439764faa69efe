"""The replacement guard: a stateful resource replaced or removed runs only when named."""
from __future__ import annotations

import pytest

from blueprint.errors import DeployFailed
from blueprint.ship.execute import check_dangerous
from blueprint.ship.review import Change, Review

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
