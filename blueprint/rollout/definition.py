"""rollout.yaml: read with the spec's YAML reader, checked against schema/rollout.schema.json and its rules.

Every problem is reported at once as `rollout.yaml:LINE: key.path: what is wrong (what is allowed)`, as
the spec's are (blueprint.spec.validate), and raised as one SpecErrors (exit 2). The file is read by
blueprint.spec.load (same limits: one document, no tags, YAML 1.1/1.2 ambiguities refused) and its
schema errors are worded by blueprint.spec.schema.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from blueprint.errors import UserError
from blueprint.spec import load, schema
from blueprint.spec.load import KeyPath, Location, dotted
from blueprint.spec.yamlread import SpecErrors

ROLLOUT_FILE = "rollout.yaml"
SCHEMA_FILE = schema.SCHEMA_FILE.parent / "rollout.schema.json"
DEFAULT_PARALLEL = 4


@dataclass(frozen=True)
class Wave:
    name: str
    environments: tuple[str, ...]
    max_parallel: int = DEFAULT_PARALLEL
    alarms_quiet_minutes: int | None = None  # None: no alarm gate
    approval: bool = False


@dataclass(frozen=True)
class Rollout:
    waves: tuple[Wave, ...]

    def wave(self, name: str) -> Wave:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise UserError(f"{ROLLOUT_FILE}: no wave named {name!r} (waves: {', '.join(w.name for w in self.waves)})")

    def before(self, wave: Wave) -> Wave | None:
        """The wave deployed just before `wave`; None for the first."""
        index = self.waves.index(wave)
        return self.waves[index - 1] if index else None

    def after(self, wave: Wave) -> Wave | None:
        """The wave deployed just after `wave`; None for the last."""
        index = self.waves.index(wave)
        return self.waves[index + 1] if index + 1 < len(self.waves) else None

    def environments(self) -> list[str]:
        return [env for wave in self.waves for env in wave.environments]


@cache
def rollout_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator():
    # The spec's validator class (ECMA-262 patterns, finite numbers), given this file's schema.
    return type(schema._validator())(rollout_schema())


def schema_errors(data: Any) -> Iterator[tuple[KeyPath, str]]:
    for err in _validator().iter_errors(data):
        yield from schema._explain(err)


def rule_errors(data: dict[str, Any], known_envs: list[str], protected: dict[str, bool]) -> Iterator[tuple[KeyPath, str]]:
    """What the schema cannot say: unique names, existing environments each in one wave, gates' places."""
    seen_waves: dict[str, int] = {}
    seen_envs: dict[str, str] = {}
    for i, wave in enumerate(data["waves"]):
        name = wave["name"]
        if name in seen_waves:
            yield ("waves", i, "name"), (f"{name!r} names wave {seen_waves[name]} already (each wave has its own "
                                         "name: a CI job is named after it)")
        seen_waves.setdefault(name, i)
        if i == 0 and "gate" in wave:
            yield ("waves", 0, "gate"), ("the first wave has no wave before it to wait for: remove its gate (a "
                                         "gate is what a wave waits for from the one before it)")
        for j, env in enumerate(wave["environments"]):
            where = ("waves", i, "environments", j)
            if env not in known_envs:
                yield where, (f"{env!r} is not an environment (no file envs/{env}.yaml; environments: "
                              f"{', '.join(known_envs) or 'none'})")
            elif env in seen_envs:
                yield where, f"{env!r} is in wave {seen_envs[env]!r} already (an environment is in one wave only)"
            elif protected.get(env) and i > 0 and not (wave.get("gate") or {}).get("approval"):
                yield where, (f"{env!r} is a protected environment: its wave needs `gate: {{approval: true}}` (in CI "
                              "its GitHub environment then requires a reviewer)")
            elif protected.get(env) and i == 0:
                yield where, (f"{env!r} is a protected environment: it cannot be in the first wave (a protected "
                              "environment takes only a digest an earlier wave deployed and found healthy)")
            seen_envs.setdefault(env, name)


def _protected(root: Path, envs: list[str]) -> dict[str, bool]:
    """Each environment's merged `protected` (read, not validated: `make validate` speaks for the spec)."""
    out = {}
    for env in envs:
        try:
            out[env] = load.load(root, env).data.get("protected") is True
        except UserError:
            out[env] = False
    return out


def problems(root: Path, data: Any, locations: dict[KeyPath, Location]) -> list[str]:
    found = list(schema_errors(data))
    if not found:
        known = load.environments(root)
        envs = [e for w in data["waves"] for e in w["environments"] if e in known]
        found = list(rule_errors(data, known, _protected(root, envs)))
    located = set()
    for path, text in found:
        probe = tuple(path)
        while probe and probe not in locations:
            probe = probe[:-1]
        loc = locations.get(probe, Location(ROLLOUT_FILE, 1))
        located.add((loc.line, f"{loc}: {dotted(path) or '(top level)'}: {text}"))
    return [line for _, line in sorted(located)]


def from_data(data: dict[str, Any]) -> Rollout:
    waves = []
    for wave in data["waves"]:
        gate = wave.get("gate") or {}
        waves.append(Wave(wave["name"], tuple(wave["environments"]), int(wave.get("max_parallel", DEFAULT_PARALLEL)),
                          gate.get("alarms_quiet_minutes"), bool(gate.get("approval", False))))
    return Rollout(tuple(waves))


def load_rollout(root: Path) -> Rollout:
    """The project's rollout.yaml, validated; SpecErrors (exit 2) naming every problem's line otherwise."""
    root = Path(root)
    if not (root / ROLLOUT_FILE).exists():
        raise UserError(f"{ROLLOUT_FILE}: file not found: a rollout needs its waves, e.g.\n"
                        "waves:\n  - {name: dev, environments: [dev]}\n"
                        "  - {name: prod, environments: [prod], gate: {alarms_quiet_minutes: 10, approval: true}}")
    try:
        data, locations = load.load_file(root, ROLLOUT_FILE)
    except SpecErrors as exc:  # the spec's reader words its summary for spec files
        raise _errors(exc.problems) from None
    locations[()] = Location(ROLLOUT_FILE, 1)
    found = problems(root, data, locations)
    if found:
        raise _errors(found)
    return from_data(data)


def validate_main(args: Any) -> int:
    """`blueprint validate`: the spec of each environment (blueprint.spec.validate), then rollout.yaml where the
    project has one, so that one command checks every file a deploy reads."""
    from blueprint.spec import validate

    validate.main(args)
    if (Path(args.root) / ROLLOUT_FILE).exists():
        rollout = load_rollout(args.root)
        print(f"{ROLLOUT_FILE} valid: waves {' -> '.join(w.name for w in rollout.waves)}")
    return 0


def _errors(found: list[str]) -> UserError:
    """One SpecErrors (exit 2, no prefix) with every problem, saying nothing was done (no deploy, no file)."""
    n = len(found)
    err = SpecErrors(found)
    err.args = ("\n".join(found) + f"\n{n} problem{'s' if n != 1 else ''} in {ROLLOUT_FILE}; nothing was done.",)
    return err
