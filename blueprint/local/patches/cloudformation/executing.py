"""Executing a change set on the engine: resources created and updated in dependency order with AWS's events,
the rollback triggers watched, removed resources cleaned up, a failure rolled back by DeletionPolicy.

The phases, as CloudFormation runs them: *_IN_PROGRESS (in the ExecuteChangeSet request), the resources
(Create and Update steps, blueprint.cfn.refs' order), the monitoring window of the rollback triggers,
then for an update UPDATE_COMPLETE_CLEANUP_IN_PROGRESS (removed resources deleted, replaced ones' old
copies named), and *_COMPLETE. A failed resource, a trigger in ALARM or a missing trigger alarm rolls
back instead: a first create deletes what it created (ROLLBACK_COMPLETE), an update puts the changed
resources back to the previous template, then deletes what it added (UPDATE_ROLLBACK_COMPLETE).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.core.utils import utcnow

from blueprint.cfn.refs import dependencies
from blueprint.local.patches.base import log
from blueprint.local.patches.cloudformation import clock, triggers
from blueprint.local.patches.cloudformation.operation import (LOCK, Operation, Step, delete, listed, reason_of,
                                                              reverse_steps)

REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."
ATTEMPTED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Options:
    """ExecuteChangeSet's parameters that change what a failure does."""

    retain_except_on_create: bool = False
    disable_rollback: bool = False


class Execution(Operation):
    """One ExecuteChangeSet: `start` in the request, then `resources`, `conclude` or `fail`."""

    def __init__(self, backend: Any, change_set: Any):
        super().__init__(backend, backend.stacks[change_set.stack_id])
        self.change_set = change_set
        self.options: Options = getattr(change_set, "execution_options", None) or Options()
        self.creating = change_set.change_set_type == "CREATE"
        self.word = "CREATE" if self.creating else "UPDATE"
        on_failure = getattr(change_set, "on_stack_failure", None)
        self.roll_back = not (self.options.disable_rollback or on_failure == "DO_NOTHING")
        self.delete_on_failure = self.creating and on_failure == "DELETE"
        stack, rm = self.stack, self.rm
        # What a rollback returns to.
        self.old_template, self.old_json = rm._template, dict(rm._resource_json_map)
        self.old_parameters, self.old_stack_parameters = dict(rm.input_parameters), stack.parameters
        self.old_stack_template = stack.template
        self.old_rollback = getattr(stack, "rollback_configuration", None)
        self.new_template = change_set.template_dict
        self.new_json: dict[str, Any] = self.new_template.get("Resources") or {}
        self.steps: list[Step] = []
        self.removed: list[str] = []
        self.reason: str | None = None

    # ---- in the ExecuteChangeSet request, under LOCK

    def start(self) -> None:
        stack = self.stack
        self.status(f"{self.word}_IN_PROGRESS", "User Initiated")
        if not self.creating:
            stack.last_updated_time = utcnow()
        stack.template = self.change_set.template
        stack.rollback_configuration = triggers.applied(self.old_rollback,
                                                        getattr(self.change_set, "rollback_configuration", None))
        stack.retain_except_on_create = self.options.retain_except_on_create
        try:
            self.plan()
        except Exception as exc:  # noqa: BLE001 - a template moto cannot load fails the operation, as in AWS
            log.exception("change set %s cannot be applied", self.change_set.change_set_name)
            self.reason = reason_of(exc)

    def plan(self) -> None:
        """The steps: added and modified resources (moto's diff, dependency ordered) and the removed ones."""
        rm, parameters = self.rm, self.change_set.parameters
        diff = rm.build_resource_diff(self.new_template, parameters)
        rm._template, rm.input_parameters = self.new_template, parameters
        rm.load_mapping()
        rm.load_parameters()
        rm.load_conditions()
        for action, names in (("Create", diff["Add"]), ("Update", diff["Modify"])):
            for name in names:
                condition = self.new_json[name].get("Condition")
                if condition and not rm.lazy_condition_map[condition]:
                    if action == "Update":
                        self.removed.append(name)  # its condition turned false: it goes
                    continue
                self.steps.append(Step(name, self.new_json[name]["Type"], action))
        planned = {s.name for s in self.steps}
        for step in self.steps:
            step.after = dependencies(self.new_json[step.name]) & planned
        self.removed += diff["Remove"]

    # ---- the resources

    def run(self) -> None:
        """The whole operation after `start` (the timing model's background thread)."""
        if self.resources():
            self.conclude()
        else:
            self.fail()

    def resources(self) -> bool:
        if self.reason is None:
            gone = triggers.missing(self.stack.rollback_configuration)
            if gone:
                self.reason = (f"Rollback trigger(s) {', '.join(gone)} do not exist: no CloudWatch alarm of "
                               f"that name. ")
        if self.reason is not None:
            return False
        if self.run_steps(self.steps, self.begin, self.end, self.cancel, poll=self.breached):
            return True
        if self.reason is None:
            failed = [s for s in self.steps if s.state == "failed"]
            self.reason = (listed("create", [s.name for s in failed if s.action == "Create"])
                           + listed("update", [s.name for s in failed if s.action == "Update"])
                           + ("Rollback requested by user." if self.creating else "")).strip() or \
                "The operation was stopped."
        return False

    def breached(self) -> bool:
        """A poll for run_steps and the monitoring window: is a rollback trigger's alarm in ALARM?"""
        arn = triggers.in_alarm(self.stack.rollback_configuration)
        if arn is None:
            return False
        self.reason = f"Rollback trigger {arn} (alarm {triggers.alarm_name(arn)}) is in ALARM state."
        return True

    def begin(self, step: Step) -> float:
        resource = self.new_json[step.name]
        if step.action == "Create":
            self.event("CREATE_IN_PROGRESS", step=step, physical="")
            self.rm._resource_json_map[step.name] = resource  # the stack holds it from now on
            try:
                self.rm[step.name]  # moto's lazy resource map creates the model
            except Exception as exc:  # noqa: BLE001 - whatever moto raises is the resource's failure
                self.rm._resource_json_map.pop(step.name, None)
                self.failed(step, exc)
            else:
                step.touched = True
                self.event("CREATE_IN_PROGRESS", "Resource creation Initiated", step=step)
        else:
            self.event("UPDATE_IN_PROGRESS", step=step)
            self.update_model(step, resource, self.old_json[step.name])
            if step.touched and step.replaced:
                self.event("UPDATE_IN_PROGRESS", REPLACING, step=step)
        return clock.step_seconds(step.resource_type, step.action)

    def update_model(self, step: Step, resource: dict[str, Any], previous: dict[str, Any]) -> None:
        """Update a resource's model to `resource` (moto's update; `previous` is put back if it raises)."""
        before = self.physical_id(step.name)
        self.rm._resource_json_map[step.name] = resource
        try:
            changed = parsing.parse_and_update_resource(step.name, resource, self.rm, self.stack.account_id,
                                                        self.stack.region_name)
        except Exception as exc:  # noqa: BLE001
            self.rm._resource_json_map[step.name] = previous
            self.failed(step, exc)
            return
        step.touched = True
        if changed is not None:
            self.rm._parsed_resources[step.name] = changed
        if self.physical_id(step.name) != before:
            step.replaced = before

    def failed(self, step: Step, exc: Exception) -> None:
        log.error("%s %s (%s) failed on stack %s", step.action, step.name, step.resource_type, self.stack.name,
                  exc_info=exc)
        step.error = reason_of(exc)

    def end(self, step: Step) -> None:
        step.state = "failed" if step.error else "done"
        self.event(f"{step.word}_FAILED" if step.error else f"{step.word}_COMPLETE", step.error, step=step)

    def cancel(self, step: Step) -> None:
        what = "creation" if step.action == "Create" else "update"
        self.event(f"{step.word}_FAILED", f"Resource {what} cancelled", step=step)

    # ---- success: monitoring, cleanup, completion

    def monitoring_seconds(self) -> float:
        return clock.monitoring_seconds((self.stack.rollback_configuration or {}).get("MonitoringTimeInMinutes", 0))

    def conclude(self) -> None:
        watched = triggers.arns(self.stack.rollback_configuration)
        outcome = clock.wait_until(clock.now() + self.monitoring_seconds(), self.breached if watched else None)
        if outcome == "stop":
            return
        if outcome == "poll":
            self.fail()
            return
        if not self.creating:
            with LOCK:
                self.status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            removals = [(n, self.old_json[n]["Type"], True) for n in self.removed if n in self.old_json]
            self.delete_all(reverse_steps(removals, self.old_json), self.old_json, created_here=False)
            with LOCK:
                for step in self.steps:
                    if step.replaced:  # moto's update deleted the old copy already; say so as AWS does here
                        self.event("DELETE_IN_PROGRESS", step=step, physical=step.replaced)
                        self.event("DELETE_COMPLETE", step=step, physical=step.replaced)
        with LOCK:
            for name in self.removed:
                self.forget(name)
            self.settle(self.change_set.template, self.new_template, self.new_json, self.change_set.parameters)
            self.change_set.execution_status = "EXECUTE_COMPLETE"
            self.status(f"{self.word}_COMPLETE")

    def settle(self, template: Any, template_dict: dict[str, Any], resources: dict[str, Any],
               parameters: dict[str, Any]) -> None:
        """The stack's template, resources, parameters and outputs once the operation is over."""
        stack = self.stack
        self.rm._resource_json_map = resources
        stack.template, stack.parameters = template, parameters
        if template_dict:
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
        self.freeze_outputs(template_dict)

    # ---- failure: the rollback

    def fail(self) -> None:
        if clock.STOP.is_set():
            return
        with LOCK:
            self.change_set.execution_status = "EXECUTE_FAILED"
            self.change_set.status_reason = self.reason
            if not self.roll_back:
                self.status(f"{self.word}_FAILED", self.reason)
                return
        if self.creating:
            self.rollback_create()
        else:
            self.rollback_update()

    def attempted(self, action: str) -> list[Step]:
        return [s for s in self.steps if s.action == action and s.state in ATTEMPTED]

    def rollback_create(self) -> None:
        with LOCK:
            self.status("ROLLBACK_IN_PROGRESS", self.reason)
        created = [(s.name, s.resource_type, s.touched) for s in self.attempted("Create")]
        left = self.delete_all(reverse_steps(created, self.new_json), self.new_json, created_here=True,
                               retain_except_on_create=self.options.retain_except_on_create)
        with LOCK:
            # Only what could not be deleted is still the stack's (a retry of DeleteStack takes it on).
            self.settle(self.change_set.template, {}, {n: self.new_json[n] for n in left}, self.change_set.parameters)
            if left:
                self.status("ROLLBACK_FAILED", listed("delete", left).strip())
            else:
                self.status("ROLLBACK_COMPLETE")
                self.stack.status_reason = self.reason  # why it rolled back, for DescribeStacks
        if self.delete_on_failure and not left and not clock.STOP.is_set():
            delete(self.backend, self.stack)  # OnStackFailure=DELETE

    def rollback_update(self) -> None:
        rm = self.rm
        with LOCK:
            self.status("UPDATE_ROLLBACK_IN_PROGRESS", self.reason)
            rm._template, rm.input_parameters = self.old_template, self.old_parameters
            rm.load_mapping()
            rm.load_parameters()
            rm.load_conditions()
            self.stack.template, self.stack.rollback_configuration = self.old_stack_template, self.old_rollback
        changed = [Step(s.name, self.old_json[s.name]["Type"], "Update") for s in self.attempted("Update")]
        names = {s.name for s in changed}
        for step in changed:
            step.after = dependencies(self.old_json[step.name]) & names
        restored = self.run_steps(changed, self.begin_restore, self.end)
        if clock.STOP.is_set():
            return
        if not restored:
            with LOCK:
                failed = [s.name for s in changed if s.state == "failed"]
                self.status("UPDATE_ROLLBACK_FAILED", listed("update", failed).strip())
            return
        with LOCK:
            self.status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        added = [(s.name, s.resource_type, s.touched) for s in self.attempted("Create")]
        self.delete_all(reverse_steps(added, self.new_json), self.new_json, created_here=True,
                        retain_except_on_create=self.options.retain_except_on_create)
        with LOCK:
            for name, _, _ in added:
                self.forget(name)
            self.settle(self.old_stack_template, self.old_template, dict(self.old_json), self.old_stack_parameters)
            self.status("UPDATE_ROLLBACK_COMPLETE")
            self.stack.status_reason = self.reason

    def begin_restore(self, step: Step) -> float:
        self.event("UPDATE_IN_PROGRESS", step=step)
        self.update_model(step, self.old_json[step.name], self.old_json[step.name])
        return clock.step_seconds(step.resource_type, "Update")


def execute(backend: Any, change_set: Any) -> None:
    """ExecuteChangeSet (the request holds LOCK): done before it returns with timing off, except a rollback
    trigger's monitoring window; under the timing model, everything after `start` runs in the background."""
    operation = Execution(backend, change_set)
    operation.start()
    final = "ROLLBACK_FAILED" if operation.creating else "UPDATE_ROLLBACK_FAILED"
    name = f"execute {change_set.change_set_name} on {operation.stack.name}"
    if clock.timed():
        clock.spawn(name, operation.guard(operation.run, final))
        return

    def within_the_request() -> None:
        if not operation.resources():
            operation.fail()
        elif operation.monitoring_seconds() > 0:
            clock.spawn(f"monitor {operation.stack.name}", operation.guard(operation.conclude, final))
        else:
            operation.conclude()

    operation.guard(within_the_request, final)()
