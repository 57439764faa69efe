"""The gates between waves: an environment's health alarms (its stack's rollback triggers, stack.json) read in
CloudWatch, healthy when none is in ALARM, and quiet when none has been in ALARM for N minutes since its deploy.

An environment without alarms is healthy once its deploy completed: there is nothing more to read.
The alarms are watched by the gated-on wave's own run, with its account's credentials, and the result is
recorded in its manifest entry (`quiet`); the next wave re-reads them where it can (same account) and
otherwise takes that record, since another account's alarms are not its credentials' to read.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable

from blueprint.errors import Refused
from blueprint.render.settings import StackSettings
from blueprint.ship import aws

POLL_S = 30.0
# How long a run's record of quiet alarms stands for a next wave that cannot read them itself: it says nothing
# of the time since, so a next wave approved later asks for a fresh watch (re-run the wave's job).
RECORD_VALID_MINUTES = 60


def alarm_states(cloudwatch: Any, settings: StackSettings) -> list[dict[str, Any]]:
    """Each health alarm of the stack: {name, state, since (a datetime)}; [] when it has none."""
    names = [t.name for t in settings.rollback_triggers] if settings.alarms_enabled else []
    if not names:
        return []
    found = aws.describe_alarms(cloudwatch, names)
    return [{"name": n, "state": found[n]["state"] if n in found else "MISSING",
             "since": found[n]["since"] if n in found else None} for n in names]


def health(cloudwatch: Any, settings: StackSettings) -> tuple[bool, str]:
    """(healthy, what was seen): healthy when no health alarm is in ALARM or missing."""
    states = alarm_states(cloudwatch, settings)
    if not states:
        return True, "no alarms (healthy once deployed)"
    seen = ", ".join(f"{s['name']} {s['state']}" for s in states)
    return all(s["state"] in ("OK", "INSUFFICIENT_DATA") for s in states), seen


def _parse(at: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(at) if at else None
    except ValueError:  # a manifest's time that is not one: as if there were none
        return None


def wait_quiet(cloudwatch: Any, settings: StackSettings, env: str, minutes: int, deployed_at: str | None,
               say: Callable[[str], None], sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> str:
    """Wait until `env`'s health alarms have been out of ALARM for `minutes` since its deploy; Refused on ALARM."""
    start = _parse(deployed_at)
    while True:
        states = alarm_states(cloudwatch, settings)
        if not states:
            return f"{env}: no alarms"
        loud = [s for s in states if s["state"] not in ("OK", "INSUFFICIENT_DATA")]
        if loud:
            names = ", ".join(f"{s['name']} ({s['state']})" for s in loud)
            raise Refused(f"the gate refused: {env}'s health alarm {names} is not quiet; the next wave was not "
                          f"started. Look at the alarm in CloudWatch; once it is OK, run the rollout again")
        quiet_since = max([s["since"] for s in states if s["since"]] + ([start] if start else []), default=None)
        waited = (clock() - quiet_since).total_seconds() / 60 if quiet_since else minutes
        if waited >= minutes:
            return f"{env}: health alarms quiet for {waited:.0f} min (gate: {minutes})"
        left = minutes - waited
        say(f"gate: {env}'s health alarms quiet for {waited:.1f} of {minutes} min; waiting {left:.1f} min more")
        sleep(min(POLL_S, left * 60))


def quiet_record(minutes: float, seen: str, at: str) -> dict[str, Any]:
    """What a wave's run writes in an environment's manifest entry once its alarms were quiet long enough."""
    return {"minutes": minutes, "at": at, "seen": seen}


def recorded_quiet(entry: dict[str, Any], minutes: float, now: str) -> str | None:
    """What the environment's own run saw, when it watched its alarms for at least `minutes` after its latest
    deploy, within the last RECORD_VALID_MINUTES of `now`; None when it did not (no record, a shorter gate, a
    record older than the deploy or too old to speak for now, or an environment unhealthy since)."""
    quiet = entry.get("quiet")
    if not isinstance(quiet, dict) or not isinstance(quiet.get("minutes"), (int, float)) or not entry.get("healthy"):
        return None
    watched, deployed = _parse(str(quiet.get("at") or "")), _parse(str(entry.get("at") or ""))
    if quiet["minutes"] < minutes or watched is None or (deployed and watched < deployed):
        return None
    if (_parse(now) - watched).total_seconds() > RECORD_VALID_MINUTES * 60:
        return None
    return f"{quiet.get('seen', '?')} (watched by its own wave's run, {quiet['at']})"
