"""Read and validate the function's configuration from environment variables, once, at cold start.

Every problem is collected and reported in one ConfigError so a bad deploy shows all of them
in the first failed invocation (Lambda reports import-time errors as Runtime.ImportModuleError
with this message), instead of one per redeploy.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

# DynamoDB's item limit is 400 KB (409,600 bytes). The body becomes the item's user data; the
# server-managed attributes (id, timestamps, version, TTL) need room too, so the cap on a body
# keeps 1 KB of headroom below the limit.
DYNAMODB_ITEM_LIMIT = 400 * 1024
MAX_BODY_BYTES_CEILING = DYNAMODB_ITEM_LIMIT - 1024

# The fields the handler sets on every item it shows (with the TTL attribute, whose name is
# configured); a client's own values for them are ignored.
MANAGED_FIELDS = ("id", "createdAt", "updatedAt", "version")
# Attribute names the handler writes itself (the fields above plus `data`, the map that holds the
# client's object); the TTL attribute must not collide with them.
MANAGED_ATTRIBUTES = frozenset({*MANAGED_FIELDS, "data"})

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,254}", re.ASCII)
# An origin is scheme://host[:port], no path and no trailing slash: that is what browsers send.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)

ENV_VARS = (
    "TABLE_NAME",
    "TTL_ATTRIBUTE",
    "TTL_DAYS",
    "ALLOWED_ORIGINS",
    "LOG_LEVEL",
    "ENVIRONMENT",
    "MAX_BODY_BYTES",
    "POWERTOOLS_SERVICE_NAME",
)


class ConfigError(RuntimeError):
    """The environment variables are missing or invalid; the message lists every problem."""


@dataclass(frozen=True)
class Config:
    table_name: str
    ttl_attribute: str
    ttl_days: int
    allowed_origins: frozenset[str]
    log_level: str
    environment: str
    max_body_bytes: int
    service_name: str


def _int(problems: list[str], name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        problems.append(f"{name}={raw!r} is not an integer")
        return 0
    if not low <= value <= high:
        problems.append(f"{name}={value} must be between {low} and {high}")
    return value


def load(environ: Mapping[str, str] | None = None) -> Config:
    """Build the Config from `environ` (default os.environ) or raise ConfigError naming every problem."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    missing = [name for name in ENV_VARS if name not in env]
    # ALLOWED_ORIGINS may be present and empty (no browser origin allowed); the rest must hold a value.
    missing += [name for name in ENV_VARS if name in env and name != "ALLOWED_ORIGINS" and not env[name].strip()]
    if missing:
        problems.append("not set or empty: " + ", ".join(sorted(set(missing))))

    table_name = env.get("TABLE_NAME", "").strip()
    if table_name and not _TABLE_NAME.fullmatch(table_name):
        problems.append(f"TABLE_NAME={table_name!r} is not a valid DynamoDB table name")

    ttl_attribute = env.get("TTL_ATTRIBUTE", "").strip()
    if ttl_attribute and not _ATTRIBUTE_NAME.fullmatch(ttl_attribute):
        problems.append(f"TTL_ATTRIBUTE={ttl_attribute!r} is not a valid attribute name")
    if ttl_attribute in MANAGED_ATTRIBUTES:
        problems.append(f"TTL_ATTRIBUTE={ttl_attribute!r} collides with an attribute the handler manages")

    ttl_days = _int(problems, "TTL_DAYS", env["TTL_DAYS"], 1, 36500) if env.get("TTL_DAYS", "").strip() else 0
    max_body = (
        _int(problems, "MAX_BODY_BYTES", env["MAX_BODY_BYTES"], 1, MAX_BODY_BYTES_CEILING)
        if env.get("MAX_BODY_BYTES", "").strip()
        else 0
    )
    if max_body > MAX_BODY_BYTES_CEILING:
        problems[-1] += f" (DynamoDB's item limit is {DYNAMODB_ITEM_LIMIT} bytes, less 1 KB for managed attributes)"

    origins = [o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
    bad = [o for o in origins if o != "*" and not _ORIGIN.fullmatch(o)]
    if bad:
        problems.append(f"ALLOWED_ORIGINS has entries that are not scheme://host[:port]: {', '.join(bad)}")

    log_level = env.get("LOG_LEVEL", "").strip().upper()
    if log_level and log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL={log_level!r} must be one of {', '.join(LOG_LEVELS)}")

    if problems:
        raise ConfigError("invalid handler configuration: " + "; ".join(problems))
    return Config(
        table_name=table_name,
        ttl_attribute=ttl_attribute,
        ttl_days=ttl_days,
        allowed_origins=frozenset(origins),
        log_level=log_level,
        environment=env["ENVIRONMENT"].strip(),
        max_body_bytes=max_body,
        service_name=env["POWERTOOLS_SERVICE_NAME"].strip(),
    )
