"""Who is calling: the caller's identity from the proxy event's requestContext, for the logs.

API Gateway puts a Cognito authorizer's verified claims in `requestContext.authorizer.claims`
(every value a string; `scope` space-separated) and an IAM caller's principal in
`requestContext.identity` (userArn, accountId, caller). With the API key alone there is only the
key's id. The event has passed API Gateway, but the handler trusts no shape: anything unexpected
is left out, never raised on. Only identifiers are kept, not personal claims such as email.
"""
from __future__ import annotations

from typing import Any

MAX_VALUE = 256  # longer values are cut: an identifier is never longer, and the log line stays small
# claim -> log field: the subject, the user name, the client (`client_id` in access tokens, `aud` in
# ID tokens), the token's use and issuer.
CLAIMS = (("sub", "sub"), ("cognito:username", "username"), ("username", "username"),
          ("client_id", "client_id"), ("aud", "client_id"), ("token_use", "token_use"), ("iss", "issuer"))
IAM_FIELDS = (("userArn", "arn"), ("accountId", "account_id"), ("caller", "caller"), ("accessKey", "access_key"))


def _text(value: Any) -> str | None:
    return value[:MAX_VALUE] if isinstance(value, str) and value else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def identity(event: Any) -> dict[str, Any]:
    """`{"type": "cognito" | "iam" | "api_key" | "unknown", ...identifiers}` of the event's caller."""
    context = _dict(_dict(event).get("requestContext"))
    claims = _dict(_dict(context.get("authorizer")).get("claims"))
    out: dict[str, Any]
    if claims:
        out = {"type": "cognito"}
        for claim, name in CLAIMS:
            value = _text(claims.get(claim))
            if value is not None and name not in out:
                out[name] = value
        scopes = _text(claims.get("scope"))
        if scopes is not None:
            out["scopes"] = scopes.split()
        return out
    ident = _dict(context.get("identity"))
    if _text(ident.get("userArn")) is not None:
        out = {"type": "iam"}
        for key, name in IAM_FIELDS:
            value = _text(ident.get(key))
            if value is not None:
                out[name] = value
        return out
    key_id = _text(ident.get("apiKeyId"))
    return {"type": "api_key", "api_key_id": key_id} if key_id is not None else {"type": "unknown"}
