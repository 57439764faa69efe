"""Creating a change set: the RollbackConfiguration and OnStackFailure it brings, kept with it (DescribeChangeSet
shows them; the engine applies them when it runs), and under the timing model its status over time.

Under the timing model a change set is CREATE_PENDING, then CREATE_IN_PROGRESS, then what moto decided at
once (CREATE_COMPLETE, or FAILED for no changes) after the seconds of durations.CHANGE_SET, scaled; it
shows no Changes and cannot be executed until then, as in AWS.
"""
from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError

from blueprint.local.patches.cloudformation import clock, triggers
from blueprint.local.patches.cloudformation.gates import refuse_update
from blueprint.local.patches.cloudformation.operation import LOCK

ON_STACK_FAILURE = ("DO_NOTHING", "ROLLBACK", "DELETE")
PENDING = ("CREATE_PENDING", "CREATE_IN_PROGRESS")


def make_create_change_set(original):  # type: ignore[no-untyped-def]
    """CloudFormationResponse.create_change_set: an UPDATE of a stack that takes none refused (stack_busy_refusal,
    folded in here: one wrapper per method), RollbackConfiguration and OnStackFailure kept, status timed."""
    def create_change_set(self):  # type: ignore[no-untyped-def]
        if self._get_param("ChangeSetType", "CREATE") == "UPDATE":
            backend, name = self.cloudformation_backend, self._get_param("StackName")
            refuse_update(next((s for s in backend.stacks.values() if name in (s.name, s.stack_id)), None))
        rollback = triggers.from_request(self._get_param("RollbackConfiguration"))
        on_failure = self._get_param("OnStackFailure")
        if on_failure is not None and on_failure not in ON_STACK_FAILURE:
            raise ValidationError(message=f"OnStackFailure {on_failure!r} is not one of {', '.join(ON_STACK_FAILURE)}")
        if on_failure == "DELETE" and self._get_param("ChangeSetType", "CREATE") != "CREATE":
            raise ValidationError(message="OnStackFailure DELETE is only valid when ChangeSetType is CREATE")
        # moto's answer to an unchanged template and parameters is an error; AWS creates the change set and
        # fails it ("didn't contain changes"), which moto's backend already does once the response lets it.
        self._validate_different_update = _takes_any_update
        result = original(self)
        change_set = self.cloudformation_backend.change_sets[result.result["Id"]]
        if rollback is not None:
            change_set.rollback_configuration = rollback
        change_set.on_stack_failure = on_failure
        if clock.timed():
            _take_time(self.cloudformation_backend, change_set)
        return result
    return create_change_set


def _takes_any_update(*_args: Any) -> None:
    """CloudFormationResponse._validate_different_update, for one CreateChangeSet request: no refusal."""


def _take_time(backend: Any, change_set: Any) -> None:
    """Hold back what moto decided at once, and let the change set reach it over time (in the background)."""
    final = (change_set.status, change_set.execution_status, change_set.status_reason)
    change_set.status, change_set.execution_status, change_set.status_reason = "CREATE_PENDING", "UNAVAILABLE", None

    def progress() -> None:
        for status in PENDING:
            if clock.wait_until(clock.now() + clock.change_set_seconds(status)) == "stop":
                return
            with LOCK:
                if backend.change_sets.get(change_set.change_set_id) is not change_set:
                    return  # deleted meanwhile
                if status == "CREATE_PENDING":
                    change_set.status = "CREATE_IN_PROGRESS"
                else:
                    change_set.status, change_set.execution_status, change_set.status_reason = final

    clock.spawn(f"change set {change_set.change_set_name}", progress)
