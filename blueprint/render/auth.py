"""What the templates are given for api.auth: each method's authorization, the pool's resource servers,
the IAM resource policy, and the gateway responses an authorizer's refusals use.

With mode `none` every value here is empty or NONE, and the templates render exactly what they did
before api.auth existed (tests/render/test_templates_unchanged_by_the_layout.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blueprint.render.toolkit import Quoted
from blueprint.spec.model import Spec

AUTHORIZATION_TYPE = {"none": "NONE", "cognito": "COGNITO_USER_POOLS", "iam": "AWS_IAM"}

# An authorizer's refusals, as API Gateway answers them: 401 without (or with a bad) token, 403 for
# a token without the method's scope or a signature that does not verify. Their own gateway
# responses keep API Gateway's `{"message": ...}` body, which clients (Amplify, the AWS SDKs) read,
# and carry the same CORS headers as DEFAULT_4XX, so a browser sees the status, not a CORS failure.
AUTH_RESPONSES = (("GatewayResponseUnauthorized", "UNAUTHORIZED", "401"),
                  ("GatewayResponseAccessDenied", "ACCESS_DENIED", "403"))


@dataclass(frozen=True)
class ResourceServer:
    """One resource server of the stack's own pool: the prefix of its scopes and their names."""

    logical_id: str
    identifier: str
    scopes: tuple[str, ...]


def resource_servers(spec: Spec) -> list[ResourceServer]:
    """The own pool's resource servers, one per scope prefix (`items/read` -> server `items`, scope `read`)."""
    if not spec.api.auth.own_pool:
        return []
    by_server: dict[str, set[str]] = {}
    for route in spec.api.routes:
        for scope in route.scopes:
            server, _, name = scope.partition("/")
            by_server.setdefault(server, set()).add(name)
    return [ResourceServer(f"ResourceServer{i}", server, tuple(sorted(names)))
            for i, (server, names) in enumerate(sorted(by_server.items()))]


def all_scopes(spec: Spec) -> list[str]:
    return sorted({s for r in spec.api.routes for s in r.scopes})


def invoke_resources(spec: Spec) -> list[str]:
    """The IAM mode's grant: execute-api:Invoke on each method of the spec, in the stage, and no other.

    `execute-api:/<stage>/<METHOD>/<path>` is the resource policy's short form of this API's ARN;
    a `{param}` segment matches any value (`*`).
    """
    out = []
    for route in spec.api.routes:
        path = "/".join("*" if p.startswith("{") else p for p in route.path.strip("/").split("/"))
        out += [f"execute-api:/{spec.api.stage}/{m}/{path}" for m in route.methods]
    return out


@dataclass(frozen=True)
class IamCallers:
    """api.auth.principals split as the resource policy's Deny tests them."""

    arns: tuple[str, ...]  # role and user ARNs: aws:PrincipalArn (an assumed role's session has its role's)
    accounts: tuple[str, ...]  # account ids: aws:PrincipalAccount


def iam_callers(spec: Spec) -> IamCallers:
    p = spec.api.auth.principals
    return IamCallers(tuple(x for x in p if x.startswith("arn:")), tuple(x for x in p if not x.startswith("arn:")))


def scopes_by_path(spec: Spec) -> dict[str, tuple[str, ...]]:
    return {r.path: r.scopes for r in spec.api.routes if r.scopes}


# cdk-nag's APIG4 and COG4 on each method, by mode: what the spec decided, and why (template Metadata).
METHOD_NAG = {
    "none": (("AwsSolutions-APIG4", "api.auth is none in this environment: the API key identifies the caller for "
                                    "the usage plan's throttle and quota, and is not authorization; set api.auth to "
                                    "cognito or iam to authorize callers."),
             ("AwsSolutions-COG4", "api.auth is none in this environment: no authorizer, Cognito or other; set "
                                   "api.auth cognito for a user pool authorizer.")),
    "iam": (("AwsSolutions-COG4", "api.auth is iam: callers sign with SigV4 and the API's resource policy names them; "
                                  "a Cognito authorizer would admit user-pool tokens instead."),),
    "cognito": (),
}


def auth_context(spec: Spec) -> dict[str, Any]:
    auth = spec.api.auth
    return {
        "auth": auth,
        "method_nag": METHOD_NAG[auth.mode],
        # A fixed word, written plain as the templates always did (NONE), so the default render is unchanged.
        "authorization_type": Quoted(AUTHORIZATION_TYPE[auth.mode]),
        "route_scopes": scopes_by_path(spec),
        "resource_servers": resource_servers(spec),
        "all_scopes": all_scopes(spec),
        "invoke_resources": invoke_resources(spec) if auth.mode == "iam" else [],
        "iam_callers": iam_callers(spec),
        "auth_responses": AUTH_RESPONSES if auth.mode != "none" else (),
        "auth_statuses": {kind: status for _, kind, status in AUTH_RESPONSES},
    }
