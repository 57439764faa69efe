"""The API's authorizers as API Gateway runs them: a Cognito user pool's tokens, SigV4 signatures.

A method's AuthorizationType (the template's) picks the check; it runs before the API key, as on
API Gateway. Each check returns None (allowed, with what it learnt written into $context: the
token's claims in `authorizer.claims`, the signer in `identity`) or the gateway-response type of
the refusal: UNAUTHORIZED (401) without a token or with one that does not verify (signature,
issuer, audience/client, expiry, token use), ACCESS_DENIED (403) for a valid token without one of
the method's scopes; MISSING_AUTHENTICATION_TOKEN (403) for an unsigned call to an IAM method and
INVALID_SIGNATURE (403) for a signature that the local credentials do not reproduce.

What is not checked locally: the IAM resource policy (docs/local-target.md: IAM is not enforced
by the local AWS), so any caller holding the local credentials passes.
"""
from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LEEWAY_SECONDS = 0  # API Gateway accepts no expired token


@dataclass(frozen=True)
class CognitoPool:
    """One user pool as its authorizer knows it: the issuer its tokens name, its app clients, its keys."""

    issuer: str
    client_ids: frozenset[str]
    jwks: dict[str, Any]  # the pool's /.well-known/jwks.json


def _claims(pool: CognitoPool, token: str, now: float) -> dict[str, Any] | None:
    """The token's claims when its signature, issuer, client, expiry and use verify; else None."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(pool.jwks), algorithms=["RS256"])
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    claims = decoded.claims
    use = claims.get("token_use")
    client = claims.get("client_id") if use == "access" else claims.get("aud")
    exp = claims.get("exp")
    # `aud` may be a list in a JWT; Cognito writes one client id, so anything else is not its token.
    if claims.get("iss") != pool.issuer or use not in ("access", "id") or not isinstance(client, str) \
            or client not in pool.client_ids:
        return None
    if not isinstance(exp, (int, float)) or exp + LEEWAY_SECONDS <= now:
        return None
    return claims


def check_cognito(pool: CognitoPool, scopes: tuple[str, ...], authorization: str | None, context: dict[str, Any],
                  now: float | None = None) -> str | None:
    """API Gateway's COGNITO_USER_POOLS authorizer: the raw token in Authorization (a `Bearer ` prefix too)."""
    if not authorization:
        return "UNAUTHORIZED"
    token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
    claims = _claims(pool, token.strip(), time.time() if now is None else now)
    if claims is None:
        return "UNAUTHORIZED"
    if scopes:
        # With scopes only access tokens pass, and they need one of the method's scopes.
        if claims.get("token_use") != "access":
            return "UNAUTHORIZED"
        if not set(str(claims.get("scope", "")).split()) & set(scopes):
            return "ACCESS_DENIED"
    # As API Gateway passes them to a proxy integration: every claim as text.
    context["authorizer"] = {"claims": {k: v if isinstance(v, str) else _text(v) for k, v in claims.items()}}
    return None


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class LocalCredentials:
    """The credentials the local AWS accepts, and who signs with them."""

    access_key: str
    secret_key: str
    region: str
    account_id: str
    principal_arn: str


SIGNATURE_SKEW_S = 5 * 60  # how far API Gateway lets a signature's time be from its own clock
AMZ_DATE = "%Y%m%dT%H%M%SZ"
AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([a-z0-9-]+)/execute-api/aws4_request,\s*"
                           r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$")


def _signed_at(amz_date: str) -> float | None:
    try:
        return datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime(AMZ_DATE)


def _out_of_time(amz_date: str, signed_at: float, now: float) -> str | None:
    """API Gateway's refusal of a signature made more than 5 minutes from its clock (a replay is one), or None."""
    if signed_at < now - SIGNATURE_SKEW_S:
        return (f"Signature expired: {amz_date} is now earlier than {_stamp(now - SIGNATURE_SKEW_S)} "
                f"({_stamp(now)} - 5 min.)")
    if signed_at > now + SIGNATURE_SKEW_S:
        return (f"Signature not yet current: {amz_date} is still later than {_stamp(now + SIGNATURE_SKEW_S)} "
                f"({_stamp(now)} + 5 min.)")
    return None


def check_sigv4(creds: LocalCredentials, method: str, url: str, headers: list[tuple[str, str]], body: bytes,
                context: dict[str, Any], header: Callable[[str], str | None],
                now: float | None = None) -> str | tuple[str, str] | None:
    """API Gateway's AWS_IAM check: recompute the SigV4 signature (botocore's signer) with the local secret.
    None when it holds; else the gateway response type, or (type, message) where API Gateway says why.

    Refused before that, with API Gateway's messages: a credential scope of another region, a signature whose
    headers leave out Host, and a request signed more than 5 minutes before or after `now`."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = header("authorization")
    if not authorization:
        return "MISSING_AUTHENTICATION_TOKEN"
    m = AUTHORIZATION.match(authorization.strip())
    amz_date = header("x-amz-date")
    if not m or not amz_date or m.group(1) != creds.access_key or not amz_date.startswith(m.group(2)):
        return "INVALID_SIGNATURE"
    signed = m.group(4).split(";")
    signed_at = _signed_at(amz_date)
    if signed_at is None:
        return "INVALID_SIGNATURE"
    if m.group(3) != creds.region:
        return "INVALID_SIGNATURE", f"Credential should be scoped to a valid region, not '{m.group(3)}'."
    if "host" not in signed:
        return "INVALID_SIGNATURE", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    late = _out_of_time(amz_date, signed_at, time.time() if now is None else now)
    if late:
        return "INVALID_SIGNATURE", late
    sent = {}
    for name, value in headers:
        if name.lower() in signed:
            sent[name.lower()] = value if name.lower() not in sent else sent[name.lower()] + "," + value
    request = AWSRequest(method=method, url=url, data=body, headers=sent)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(creds.access_key, creds.secret_key, header("x-amz-security-token")),
                       "execute-api", m.group(3))
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, m.group(5)):
        return "INVALID_SIGNATURE"
    context["identity"].update(userArn=creds.principal_arn, accountId=creds.account_id, accessKey=creds.access_key,
                               caller=creds.access_key)
    return None
