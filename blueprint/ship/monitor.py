"""Watching a guarded deploy's rollback triggers: their alarms' states while the change set runs and through
the monitoring window, and, when CloudFormation rolled it back, which alarm fired.

The triggers are read from the executed change set itself (DescribeChangeSet's RollbackConfiguration), so what
is watched is what CloudFormation watches. On a terminal the watch prints a progress line every so often; in CI
or a pipe only the changes of state and a summary, so logs stay short.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any

from blueprint.ship import aws
from blueprint.ship.events import EventStream

ROLLED_BACK = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
               "ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS")
WORKING = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")


def interactive(out: Any) -> bool:
    """Progress lines for a person at a terminal; not in CI (CI is set) or when the output is a file or pipe."""
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")


def alarm_name(arn: str) -> str:
    return arn.split(":alarm:", 1)[-1]


class Watch:
    """The alarms of one change set's RollbackConfiguration, polled while `follow` waits for the stack."""

    def __init__(self, session: aws.Session, configuration: dict[str, Any] | None, window_s: float, out: Any = None,
                 progress: bool | None = None, expected: set[str] | frozenset[str] = frozenset()):
        config = configuration or {}
        # The resources the change set adds or modifies: the window opens once each is *_COMPLETE (on AWS a
        # moment with none in progress may only be the gap between one resource and the next that needs it).
        self.expected = set(expected)
        self.session = session
        self.arns = [t.get("Arn", "") for t in config.get("RollbackTriggers") or []]
        self.names = [alarm_name(a) for a in self.arns]
        self.minutes = int(config.get("MonitoringTimeInMinutes") or 0)
        self.window_s = window_s  # real seconds of the window (the local AWS scales it)
        self.out = out or sys.stdout
        self.progress = interactive(self.out) if progress is None else progress
        self.local = session.target.kind == "local"
        self.every_s = 1.0 if self.local else 10.0  # DescribeAlarms at most this often
        self.shown_every_s = 2.0 if self.local else 15.0  # a progress line at most this often
        self.states: dict[str, dict[str, str]] = {}
        self.window_started: float | None = None
        self.last_read = self.last_shown = 0.0
        self.breached: dict[str, dict[str, str]] = {}  # alarms seen in ALARM, with their reason
        self.unreadable: str | None = None  # why DescribeAlarms failed (then the states are not shown)

    @property
    def guarded(self) -> bool:
        return bool(self.arns)

    def read(self) -> None:
        import botocore.exceptions as bx

        self.last_read = time.monotonic()
        if self.unreadable:
            return
        try:
            now = aws.alarms(self.session, self.names)
        except bx.ClientError as exc:
            # Only the showing stops: CloudFormation watches the triggers whatever these credentials may read.
            self.unreadable = f"{aws.error_code(exc)}: {aws.error_message(exc)}"
            self.say(f"cannot read the alarms' states ({self.unreadable}); CloudFormation still watches them")
            return
        for name in self.names:
            state = now.get(name, {"state": "MISSING", "reason": "the alarm does not exist"})
            before = self.states.get(name, {}).get("state")
            if state["state"] == "ALARM":
                self.breached[name] = state
            if before is not None and before != state["state"]:
                self.say(f"alarm {name}: {before} → {state['state']}" + (f" ({state['reason']})" if state["reason"]
                                                                         else ""))
            self.states[name] = state

    def say(self, text: str) -> None:
        print(f"  [guard] {text}", file=self.out, flush=True)

    def states_text(self) -> str:
        return ", ".join(f"{n} {self.states.get(n, {}).get('state', '?')}" for n in self.names)

    def poll(self, events: EventStream) -> None:
        """Called by `follow` after each read of the events."""
        if not self.guarded:
            return
        now = time.monotonic()
        if (not self.states and not self.unreadable) or now - self.last_read >= self.every_s:
            self.read()
        status = events.stack_status or ""
        if self.window_started is None and status in WORKING and self.resources_done(events):
            self.window_started = now
            self.say(f"every resource is done; CloudFormation now watches {', '.join(self.names)} for "
                     f"{self.minutes} min ({self.window_s:g} s here) before it completes: {self.states_text()}"
                     if self.local else
                     f"every resource is done; CloudFormation now watches {', '.join(self.names)} for "
                     f"{self.minutes} min before it completes: {self.states_text()}")
            self.last_shown = now
        elif self.progress and now - self.last_shown >= self.shown_every_s and status in WORKING:
            self.last_shown = now
            if self.window_started is None:
                self.say(f"resources in progress; watching {self.states_text()}")
            else:
                left = max(self.window_s - (now - self.window_started), 0)
                self.say(f"monitoring, {left:.0f} s left: {self.states_text()}")

    def resources_done(self, events: EventStream) -> bool:
        if self.expected:
            return self.expected <= events.completed
        return events.resources_seen and not events.busy

    def fired(self, stack: dict[str, Any], events: EventStream) -> str | None:
        """The trigger alarm that rolled the stack back: the one CloudFormation's reason names, else one seen in
        ALARM; None when the stack did not roll back over a trigger."""
        if not self.guarded or stack.get("StackStatus") not in ROLLED_BACK:
            return None
        reasons = " ".join([stack.get("StackStatusReason") or ""] +
                           [e.get("ResourceStatusReason") or "" for e in events.stack_reasons])
        for arn, name in zip(self.arns, self.names):
            if arn in reasons:
                return name
        if "trigger" in reasons.lower():
            self.read()
            return next(iter(self.breached), None)
        return None

    def summary(self, stack: dict[str, Any]) -> str:
        if not self.guarded:
            return "unguarded: no rollback trigger watched this deploy"
        status = stack.get("StackStatus", "")
        if self.breached:
            seen = ", ".join(self.breached)
            return f"guard: {seen} went to ALARM during the deploy; the stack is {status}"
        return (f"guard: {', '.join(self.names)} stayed out of ALARM through the deploy and its {self.minutes} min "
                f"monitoring window ({self.states_text()})")

    def failure(self, name: str, stack: dict[str, Any], env: str) -> str:
        """The deploy-failed message for a rollback the alarm `name` caused."""
        state = self.breached.get(name) or self.states.get(name) or {}
        reason = f" ({state['reason']})" if state.get("reason") else ""
        region = self.session.target.region
        endpoint = f" --endpoint-url {self.session.client('cloudwatch').meta.endpoint_url}" if self.local else ""
        again = aws.make_command("changeset", env, self.session.target.kind)
        return (f"rolled back: the rollback trigger {name} went to ALARM{reason} while CloudFormation watched the "
                f"deploy, so it put {stack.get('StackName', '')} back on its previous template "
                f"({stack.get('StackStatus')}). Find out why the alarm fired (`aws cloudwatch describe-alarm-history "
                f"--alarm-name {name} --region {region}{endpoint}`, the dashboard, the function's logs); once fixed, "
                f"run `{again}` and deploy again")
