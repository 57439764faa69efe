"""The local AWS's timing option, as the command line, the environment, the state file and the server spell it.

  off  (the default) every stack operation and change set is done when its request returns, as in plain
       moto: the suite stays fast. Rollback triggers' monitoring window is still waited for (scaled).
  aws  CreateChangeSet, ExecuteChangeSet and DeleteStack return at once and the work takes about as long
       as it takes in AWS (blueprint/local/patches/cloudformation/durations.py, docs/local-timing.md),
       multiplied by the time scale.

The time scale multiplies every wait (`--time-scale 0.05`: a 40 s table takes 2 s). This module only
parses and formats; the server's engine (blueprint.local.patches.cloudformation.clock) keeps the time.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MODES = ("off", "aws")
ENV_MODE = "BLUEPRINT_LOCAL_TIMING"
ENV_SCALE = "BLUEPRINT_LOCAL_TIME_SCALE"
MAX_SCALE = 100.0


@dataclass(frozen=True)
class Timing:
    """How the local AWS keeps time: its mode (off | aws) and the factor every wait is multiplied by."""

    mode: str = "off"
    scale: float = 1.0

    def describe(self) -> str:
        return f"timing {self.mode}" + ("" if self.scale == 1.0 else f", time scale {self.scale:g}")

    def server_args(self) -> list[str]:
        """The server's command-line arguments for this timing (also how /proc tells it again)."""
        return ["--timing", self.mode, "--time-scale", repr(self.scale)]

    def as_state(self) -> dict[str, object]:
        return {"timing": self.mode, "time_scale": self.scale}


def parse(mode: str | None, scale: str | float | None) -> Timing:
    """A Timing from text (None: the default); ValueError with a sentence saying what is accepted."""
    mode = "off" if mode in (None, "") else str(mode).strip().lower()
    if mode not in MODES:
        raise ValueError(f"timing {mode!r} is not one of {', '.join(MODES)}")
    try:
        factor = 1.0 if scale in (None, "") else float(scale)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"time scale {scale!r} is not a number (e.g. 0.05)") from None
    if not math.isfinite(factor) or not 0 < factor <= MAX_SCALE:
        raise ValueError(f"time scale {scale} must be above 0 and at most {MAX_SCALE:g}")
    return Timing(mode, factor)


def from_env(environ: Mapping[str, str]) -> Timing | None:
    """The timing asked for through BLUEPRINT_LOCAL_TIMING / BLUEPRINT_LOCAL_TIME_SCALE; None when neither is set."""
    if not environ.get(ENV_MODE) and not environ.get(ENV_SCALE):
        return None
    try:
        return parse(environ.get(ENV_MODE), environ.get(ENV_SCALE))
    except ValueError as exc:
        raise ValueError(f"{ENV_MODE}/{ENV_SCALE}: {exc}") from None


def from_state(state: Mapping[str, object]) -> Timing:
    """The timing a state file (or a server found in /proc) records; the default for older files."""
    try:
        return parse(state.get("timing"), state.get("time_scale"))  # type: ignore[arg-type]
    except ValueError:
        return Timing()


def from_cmdline(cmdline: Sequence[str]) -> Timing:
    """The timing a server was started with, from its command line (the default when it names none)."""
    def value(flag: str) -> str | None:
        return cmdline[cmdline.index(flag) + 1] if flag in cmdline[:-1] else None

    try:
        return parse(value("--timing"), value("--time-scale"))
    except ValueError:
        return Timing()
