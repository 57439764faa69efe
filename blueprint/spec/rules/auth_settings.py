"""api.auth's keys belong to its mode: a pool ARN and route scopes to `cognito`, principals to `iam`.

A key of another mode would be silently ignored by the templates, so it is refused instead. The
stack's own pool (no user_pool_arn) defines its scopes on resource servers, which name a scope
`<resource server>/<name>`; an existing pool's scopes are whatever that pool defines.
"""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    auth = d["api"].get("auth", {"mode": "none"})
    mode = auth["mode"]
    if "user_pool_arn" in auth and mode != "cognito":
        yield ("api", "auth", "user_pool_arn"), (
            f"a user pool with mode {mode} (allowed: only with mode cognito; remove it or set mode: cognito)")
    if mode == "iam" and not auth.get("principals"):
        yield ("api", "auth", "mode"), (
            "iam without principals: nobody could call the API (allowed: list the callers' role or user ARNs, "
            "or account ids, in api.auth.principals)")
    if "principals" in auth and mode != "iam":
        yield ("api", "auth", "principals"), (
            f"principals with mode {mode} (allowed: only with mode iam; remove them or set mode: iam)")
    for i, route in enumerate(d["api"]["routes"]):
        for j, scope in enumerate(route.get("scopes", ())):
            if mode != "cognito":
                yield ("api", "routes", i, "scopes", j), (
                    f"scope \"{scope}\" with api.auth mode {mode} (allowed: scopes only with mode cognito; "
                    "remove them or set api.auth.mode: cognito)")
            elif "user_pool_arn" not in auth and (scope.count("/") != 1 or "" in scope.split("/")):
                yield ("api", "routes", i, "scopes", j), (
                    f"scope \"{scope}\" for the stack's own user pool (allowed: `<resource server>/<name>`, "
                    "e.g. items/read: the pool defines each scope on a resource server)")
