"""Where requests enter the engine, and what they must pass first, with AWS's errors: a change set executes
once, and a stack that another operation works on (or whose first create rolled back) takes no update
and, while busy, no DeleteStack.

Also the one wrapper that makes every CloudFormation request hold the engine's lock: moto has none, and
the engine's background threads change stacks while requests read them.
"""
from __future__ import annotations

import threading
from typing import Any

from moto.cloudformation.exceptions import CloudFormationError, ValidationError

from blueprint.local.patches.cloudformation import executing
from blueprint.local.patches.cloudformation.executing import Options
from blueprint.local.patches.cloudformation.operation import LOCK, delete

# Statuses after which AWS takes no update until the stack is deleted (or, for UPDATE_ROLLBACK_FAILED, the
# rollback continued).
NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED")


class InvalidChangeSetStatus(CloudFormationError):
    """AWS's answer (HTTP 400) to executing a change set that is not CREATE_COMPLETE and AVAILABLE."""

    code = "InvalidChangeSetStatus"


def busy(status: str) -> bool:
    """An operation works on the stack (REVIEW_IN_PROGRESS is a stack with only change sets: not busy)."""
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def refuse_update(stack: Any) -> None:
    """AWS's ValidationError for an update (UpdateStack, an UPDATE change set, its execution) it refuses."""
    if stack is not None and (busy(stack.status) or stack.status in NOT_UPDATABLE):
        raise ValidationError(stack.stack_id, message=f"Stack:{stack.stack_id} is in {stack.status} state and "
                                                      "can not be updated.")


# Checking a change set's status and claiming it must be one step, or two concurrent executions both pass
# the check (every CloudFormation request holds LOCK too; this lock keeps the claim atomic on its own).
_EXECUTION_CLAIM = threading.Lock()


def claim_for_execution(change_set: Any, stack: Any = None) -> None:
    """Mark a change set EXECUTE_IN_PROGRESS, or raise AWS's error: InvalidChangeSetStatus for a change set
    that is not executable (its wording), else the stack's ValidationError when it takes no update now."""
    with _EXECUTION_CLAIM:
        if change_set.status != "CREATE_COMPLETE":
            raise InvalidChangeSetStatus(f"ChangeSet [{change_set.stack_id}] cannot be executed in its current "
                                         f"status of [{change_set.status}]")
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(f"ChangeSet [{change_set.stack_id}] cannot be executed in its current "
                                         f"execution status of [{change_set.execution_status}]")
        refuse_update(stack)
        change_set.execution_status = "EXECUTE_IN_PROGRESS"


def make_execute_change_set_request(original):  # type: ignore[no-untyped-def]
    """CloudFormationResponse.execute_change_set: claim the change set, keep its execution's parameters."""
    def execute_change_set(self):  # type: ignore[no-untyped-def]
        backend = self.cloudformation_backend
        try:
            change_set = backend.describe_change_set(self._get_param("ChangeSetName"))
        except CloudFormationError:
            change_set = None  # unknown: moto's own answer
        if change_set is not None:
            claim_for_execution(change_set, backend.stacks.get(change_set.stack_id))
            change_set.execution_options = Options(
                retain_except_on_create=bool(self._get_bool_param("RetainExceptOnCreate", False)),
                disable_rollback=bool(self._get_bool_param("DisableRollback", False)))
        return original(self)
    return execute_change_set


def make_update_stack_request(original):  # type: ignore[no-untyped-def]
    """CloudFormationResponse.update_stack: a stack that takes no update is refused before moto looks at the
    template (moto would answer "No updates are to be performed." first)."""
    def update_stack(self):  # type: ignore[no-untyped-def]
        refuse_update(self.cloudformation_backend.get_stack(self._get_param("StackName")))
        return original(self)
    return update_stack


def make_call_action(original):  # type: ignore[no-untyped-def]
    """CloudFormationResponse.call_action under the engine's lock: each request, its answer serialised
    included, sees the stacks between two engine steps."""
    def call_action(self):  # type: ignore[no-untyped-def]
        with LOCK:
            return original(self)
    return call_action


def make_delete_stack(_moto):  # type: ignore[no-untyped-def]
    """CloudFormationBackend.delete_stack on the engine (moto's own is not used): a stack another operation
    works on is refused, one already being deleted takes the call as done."""
    def delete_stack(self, name_or_stack_id):  # type: ignore[no-untyped-def]
        stacks = [s for s in list(self.stacks.values()) if name_or_stack_id in (s.stack_id, s.name)]
        for stack in stacks:
            if busy(stack.status) and stack.status != "DELETE_IN_PROGRESS":
                raise ValidationError(stack.stack_id, message=f"Stack [{stack.stack_id}] cannot be deleted while "
                                                              f"in status {stack.status}")
        for stack in stacks:
            if stack.status != "DELETE_IN_PROGRESS":  # already being deleted: AWS takes the call as done
                delete(self, stack)
    return delete_stack


def make_execute_change_set(_moto):  # type: ignore[no-untyped-def]
    """CloudFormationBackend.execute_change_set on the engine (moto's own is not used)."""
    def execute_change_set(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
        executing.execute(self, self.describe_change_set(change_set_name))
    return execute_change_set
