"""Failures on purpose: the resource type Blueprint::Test::Fails, which exists only on the local AWS, for tests
that need a stack operation to fail at a chosen point (a first create, an update, a deletion).

    Boom:
      Type: Blueprint::Test::Fails
      DependsOn: Table                 # fails once the table exists, so the rollback has something to undo
      Properties:
        FailOn: [Create]               # any of Create, Update, Delete; default Create
        Reason: quota exceeded         # the failure's message (default: says it is on purpose)

Its Ref is `blueprint-test-<LogicalId>`. The failure reads `InjectedFailure: <Reason>` in the resource's
*_FAILED event. A real account refuses the type: never render it into a template that ships.
"""
from __future__ import annotations

from typing import Any

from blueprint.local.patches.base import Model

TYPE = "Blueprint::Test::Fails"
DEFAULT_REASON = f"{TYPE} fails on purpose (a test's injected failure)"
ACTIONS = ("Create", "Update", "Delete")


class InjectedFailure(Exception):
    """What a Blueprint::Test::Fails resource raises: its reason, as the resource's failure."""


def _fail_on(props: dict[str, Any]) -> tuple[str, ...]:
    value = props.get("FailOn", ["Create"])
    chosen = (value,) if isinstance(value, str) else tuple(value)
    unknown = [a for a in chosen if a not in ACTIONS]
    if unknown:
        raise InjectedFailure(f"FailOn {unknown} is not one of {', '.join(ACTIONS)}")
    return chosen


class Fails(Model):
    """A resource that does nothing but fail when asked to (FailOn), with its Reason."""

    TYPE = TYPE

    def __init__(self, logical_id: str, props: dict[str, Any]):
        self.physical_resource_id = f"blueprint-test-{logical_id}"
        self.fail_on = _fail_on(props)
        self.reason = str(props.get("Reason") or DEFAULT_REASON)

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        resource = cls(kwargs.get("LogicalId", name), props)
        if "Create" in resource.fail_on:
            raise InjectedFailure(resource.reason)
        return resource

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        updated = cls(original.physical_resource_id.removeprefix("blueprint-test-"), props)
        if "Update" in updated.fail_on:  # the new properties say: a rollback to the old ones succeeds
            raise InjectedFailure(updated.reason)
        return updated

    def delete(self, account_id: str, region_name: str) -> None:
        if "Delete" in self.fail_on:
            raise InjectedFailure(self.reason)
