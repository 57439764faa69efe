"""What every stack operation of the local AWS's engine shares: the one lock, events and statuses as AWS writes
them, the scheduler that runs resource steps in dependency order, and deletion by DeletionPolicy.

Threads and locks. LOCK (re-entrant) is held for every moto model call the engine makes and every event
and status it writes; the change_set_execution patch also holds it around every CloudFormation request,
so a DescribeStacks, DescribeStackEvents or DescribeChangeSet sees a stack between two steps, never in
the middle of one. An operation runs in the request that starts it when the timing model is off (as moto
does), else in one background thread of its own (clock.spawn). That thread makes its model calls under
LOCK and waits outside it: resources without an order between them overlap in time because each one's
wait is a due time in `run_steps`, not a thread of its own. Every wait is bounded and ends at a server
stop (clock.STOP).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.cloudformation import models as cfn_models
from moto.cloudformation.parsing import OutputMap
from moto.core.utils import utcnow

from blueprint.cfn.refs import dependencies
from blueprint.local.patches.base import log
from blueprint.local.patches.cloudformation import clock

LOCK = threading.RLock()
STACK_TYPE = "AWS::CloudFormation::Stack"
# DeletionPolicy values that keep a resource when its stack is deleted or it leaves the template.
KEPT_ON_DELETE = ("Retain", "RetainExceptOnCreate")


def reason_of(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def listed(what: str, names: list[str]) -> str:
    """AWS's wording for failed resources: "The following resource(s) failed to create: [A, B]. " """
    return f"The following resource(s) failed to {what}: [{', '.join(sorted(names))}]. " if names else ""


@dataclass
class Step:
    """One resource's part in an operation: Create, Update or Delete, after the steps named in `after`."""

    name: str
    resource_type: str
    action: str
    after: set[str] = field(default_factory=set)
    state: str = "pending"  # pending, running, done, failed, cancelled, skipped
    due: float = 0.0
    error: str | None = None
    touched: bool = False  # its model call ran: something exists (or changed) that a rollback must undo
    replaced: str | None = None  # the physical id an Update that replaced the resource left behind

    @property
    def word(self) -> str:
        return self.action.upper()


class FrozenOutputs:
    """A stack's outputs and exports resolved once, at the end of an operation, as AWS shows them.

    moto's OutputMap resolves each output lazily on the first DescribeStacks, through the stack's resource
    map, which creates any resource it does not hold yet: read in the middle of an operation it would create
    resources out of turn, or fail on one deleted a moment ago.
    """

    def __init__(self, output_map: Any):
        self._outputs = []
        for key in output_map:
            try:
                output = output_map[key]
            except Exception as exc:  # noqa: BLE001 - one output that cannot resolve must not hide the others
                log.warning("output %s cannot be resolved: %s", key, reason_of(exc))
                continue
            if output:
                self._outputs.append(output)
        try:
            self.exports = output_map.exports
        except Exception as exc:  # noqa: BLE001
            log.warning("exports cannot be resolved: %s", reason_of(exc))
            self.exports = []

    def values(self) -> list[Any]:
        return list(self._outputs)


class Operation:
    """A stack operation: its events and statuses, and its steps run by `run_steps`."""

    def __init__(self, backend: Any, stack: Any):
        self.backend, self.stack = backend, stack
        self.rm = stack.resource_map

    # ---- events and statuses (under LOCK)

    def event(self, status: str, reason: str | None = None, step: Step | None = None,
              physical: str | None = None) -> None:
        stack = self.stack
        if step is None:
            logical, kind, physical = stack.name, STACK_TYPE, stack.stack_id
        else:
            logical, kind = step.name, step.resource_type
            physical = self.physical_id(step.name) if physical is None else physical
        event = cfn_models.Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical,
                                 physical_resource_id=physical, resource_type=kind, resource_status=status,
                                 resource_status_reason=reason, resource_properties=None)
        event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
        stack.events.append(event)

    def status(self, status: str, reason: str | None = None) -> None:
        """Set the stack's status and StackStatusReason, and write its own event with that reason."""
        self.stack.status = status
        self.stack.status_reason = reason
        self.event(status, reason)

    def physical_id(self, name: str) -> str:
        resource = self.rm._parsed_resources.get(name)
        if resource is None or isinstance(resource, str):
            return ""
        return str(getattr(resource, "physical_resource_id", "") or "")

    def freeze_outputs(self, template: dict[str, Any]) -> None:
        """Resolve the stack's outputs and exports from `template` now, and publish the exports."""
        for name in [n for n, e in self.backend.exports.items() if e.exporting_stack_id == self.stack.stack_id]:
            del self.backend.exports[name]
        self.stack.output_map = FrozenOutputs(OutputMap(self.rm, template, self.stack.stack_id))
        for export in self.stack.exports:
            self.backend.exports[export.name] = export

    def guard(self, work: Callable[[], None], final: str) -> Callable[[], None]:
        """`work`, but an error of the engine itself (not a resource's: those are caught per step) ends the
        operation at `final` with the error as its reason, instead of leaving the stack in progress forever."""
        def guarded() -> None:
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - whatever it is, the stack must not stay in progress
                log.exception("the engine failed on stack %s", self.stack.name)
                with LOCK:
                    if self.stack.status.endswith("_IN_PROGRESS"):
                        self.status(final, f"The local AWS's engine failed: {reason_of(exc)} (see its log)")
        return guarded

    # ---- the scheduler

    def run_steps(self, steps: list[Step], begin: Callable[[Step], float], end: Callable[[Step], None],
                  cancel: Callable[[Step], None] | None = None, poll: Callable[[], bool] | None = None) -> bool:
        """Run `steps` in dependency order: `begin(step)` (under LOCK) makes the model call, writes the first
        events and returns the step's real duration; `end(step)` (under LOCK) writes its last event that long
        after. Steps with no order between them overlap in time. With `cancel`, a failed step (or `poll()`
        true: a rollback trigger in ALARM) halts the run: nothing new starts and each running step is
        cancelled. True when every step ran and none failed; False on a halt, a failure or a server stop."""
        names = {s.name for s in steps}
        pending, running, done = list(steps), [], set()
        failed = halted = False  # halted: a step failed (or a trigger fired), start nothing new
        while pending or running:
            if not halted:
                ready = [s for s in pending if (s.after & names) <= done]
                if not ready and not running and pending:
                    ready = pending[:1]  # a dependency cycle (cfn-lint refuses them): go on in template order
                for step in ready:
                    pending.remove(step)
                    step.state = "running"
                    with LOCK:
                        seconds = begin(step)
                    step.due = clock.now() + seconds
                    running.append(step)
            if not running:
                break
            outcome = clock.wait_until(min(s.due for s in running), poll)
            if outcome == "stop":
                return False
            if outcome == "poll":
                halted = True
            for step in sorted((s for s in running if s.due <= clock.now()), key=lambda s: s.due):
                running.remove(step)
                with LOCK:
                    end(step)
                done.add(step.name)
                if step.state == "failed":
                    failed = True
                    halted = halted or cancel is not None
            if halted and cancel is not None:
                with LOCK:
                    for step in running:
                        step.state = "cancelled"
                        cancel(step)
                return False
        return not failed and not halted

    # ---- deleting a resource by its DeletionPolicy

    def kept(self, resource: dict[str, Any], created_here: bool, retain_except_on_create: bool = False) -> bool:
        """Whether a resource's DeletionPolicy keeps it. Stack deletion and removal keep Retain and
        RetainExceptOnCreate; the rollback of the operation that created it keeps only Retain, and not even
        that with ExecuteChangeSet's RetainExceptOnCreate=true. Snapshot deletes (no snapshot here)."""
        policy = resource.get("DeletionPolicy")
        if created_here:
            return policy == "Retain" and not retain_except_on_create
        return policy in KEPT_ON_DELETE

    def delete_all(self, steps: list[Step], resources: dict[str, dict[str, Any]], created_here: bool,
                   retain_except_on_create: bool = False) -> list[str]:
        """Delete `steps` (each after the steps in its `after`) by their DeletionPolicy, then retry the failed
        ones while a retry frees any (moto's models know dependencies a template does not state, as a VPC
        its subnets); the names that could not be deleted, each with its DELETE_FAILED event."""
        def begin(step: Step) -> float:
            resource = resources.get(step.name) or {}
            if step.touched and self.kept(resource, created_here, retain_except_on_create):
                self.event("DELETE_SKIPPED", step=step)
                self.forget(step.name)
                step.state = "skipped"
                return 0.0
            if step.replaced is None:  # first attempt; the id is gone from the stack once deleted
                step.replaced = self.physical_id(step.name)
                self.event("DELETE_IN_PROGRESS", step=step)
            step.error = None
            try:
                if step.touched:
                    parsed = self.rm._parsed_resources.get(step.name)
                    if parsed is not None and not isinstance(parsed, str):
                        self.rm._delete_resource(parsed, resource)
                self.forget(step.name)
            except Exception as exc:  # noqa: BLE001 - whatever moto raises is the resource's failure
                log.warning("deleting %s (%s) failed: %s", step.name, step.resource_type, reason_of(exc))
                step.error = reason_of(exc)
            return clock.step_seconds(step.resource_type, "Delete")

        def end(step: Step) -> None:
            if step.state == "skipped":
                return
            if step.error:
                step.state = "failed"
                return
            step.state = "done"
            self.event("DELETE_COMPLETE", step=step, physical=step.replaced)

        self.run_steps(steps, begin, end)
        failed = [s for s in steps if s.state == "failed"]
        while failed and not clock.STOP.is_set():
            for step in failed:
                step.after, step.state = set(), "pending"
            self.run_steps(failed, begin, end)
            still = [s for s in failed if s.state == "failed"]
            if len(still) == len(failed):
                break
            failed = still
        with LOCK:
            for step in failed:
                self.event("DELETE_FAILED", step.error, step=step, physical=step.replaced)
        return [s.name for s in failed]

    def forget(self, name: str) -> None:
        """The resource is no longer the stack's (deleted, or kept by its DeletionPolicy)."""
        self.rm._parsed_resources.pop(name, None)
        self.rm._resource_json_map.pop(name, None)


def reverse_steps(entries: list[tuple[str, str, bool]], resources: dict[str, Any]) -> list[Step]:
    """Delete steps for (name, type, touched) entries: each after the entries that depend on it."""
    names = {name for name, _, _ in entries}
    steps = [Step(name, kind, "Delete", touched=touched) for name, kind, touched in reversed(entries)]
    for step in steps:
        step.after = {other for other in names if step.name in dependencies(resources.get(other) or {})}
    return steps


class Deletion(Operation):
    """One DeleteStack: `start` in the request, then `run`."""

    def start(self) -> None:
        self.status("DELETE_IN_PROGRESS", "User Initiated")

    def run(self) -> None:
        with LOCK:
            resources = dict(self.rm._resource_json_map)
            parsed = self.rm._parsed_resources
            held = [(name, resource.get("Type", ""), True) for name, resource in resources.items()
                    if parsed.get(name) is not None and not isinstance(parsed.get(name), str)]
            for name in set(resources) - {name for name, _, _ in held}:
                self.forget(name)  # never created (a false Condition, a type moto drops): nothing to delete
        left = self.delete_all(reverse_steps(held, resources), resources, created_here=False)
        if clock.STOP.is_set():
            return
        with LOCK:
            if left:
                self.status("DELETE_FAILED", listed("delete", left).strip())
                return
            stack, backend = self.stack, self.backend
            for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
                del backend.exports[name]
            backend.stacks.pop(stack.stack_id, None)
            backend.deleted_stacks[stack.stack_id] = stack
            stack.deletion_time = utcnow()
            self.status("DELETE_COMPLETE")


def delete(backend: Any, stack: Any) -> None:
    """Delete one stack (the request holds LOCK): within the request with timing off, else in the background."""
    operation = Deletion(backend, stack)
    operation.start()
    work = operation.guard(operation.run, "DELETE_FAILED")
    if clock.timed():
        clock.spawn(f"delete {stack.name}", work)
    else:
        work()
