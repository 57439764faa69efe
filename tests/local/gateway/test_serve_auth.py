"""The local API enforces api.auth (issue 14, item 4), from each mode's rendered template.

Cognito: a token the local AWS's Cognito (moto) issued passes, and the handler's event carries its
claims; expired, foreign-issuer, wrong-audience, tampered and scope-less tokens (minted with moto's
own signing key, as moto has no token endpoint for scoped tokens) get API Gateway's 401 or 403,
with CORS and `{"message": ...}`. IAM: a SigV4 call signed with the local credentials passes, a
tampered one and an unsigned one get 403.
"""
from __future__ import annotations

import io
import json
import tempfile
import time
from functools import cache
from pathlib import Path

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from blueprint.cfn import loader
from blueprint.local.gateway import authorize, definition
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request
from blueprint.render.templates import render_environment
from tests.render.auth_specs import mode_spec

REGION, ACCOUNT = "us-east-1", "123456789012"
KEY = "auth-test-key-0123456789abcdefghijklmn"
ORIGIN = "http://localhost:3000"
PRIVATE = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
PUBLIC = load_resource("cognitoidp/resources/jwks-public.json")


@cache
def api_of(mode: str) -> definition.Api:
    return definition.load(loader.loads(render_environment(mode_spec(Path(tempfile.mkdtemp()), mode))))


class EchoRuntime:
    """Stands in for the handler: answers 200 with the event's requestContext."""

    def invoke(self, event, timeout, queued_since=None):
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps(event["requestContext"])}


def gateway(mode: str, **auth) -> Gateway:
    return Gateway(api_of(mode), EchoRuntime(), keys=[ApiKeyInfo(KEY, "keyid", "ApiKey")], api_id="abc",
                   account_id=ACCOUNT, access_log=AccessLog(None, io.StringIO()), throttling=False, **auth)


def call(gw: Gateway, method: str = "GET", target: str = "/v1/items", headers=(), key: bool = True, body=b""):
    h = [("Host", "127.0.0.1:8080"), ("Origin", ORIGIN), *headers] + ([("X-Api-Key", KEY)] if key else [])
    answer = gw.handle(Request(method, target, h, body, host="127.0.0.1", port=8080))
    return answer.status, {k.lower(): v for k, v in answer.headers}, answer.body


# --- cognito -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pool(moto_endpoint):
    """A pool, its app client and a user in the session's moto server, and a token it issued for the user.

    Through the server, never moto's in-process mock: leaving that resets the backends the server
    shares with this process, the other tests' table included.
    """
    from blueprint.local import process

    idp = boto3.client("cognito-idp", region_name=REGION, **process.client_kwargs(moto_endpoint))
    pool_id = idp.create_user_pool(PoolName="items-cognito")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c",
                                            ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", TemporaryPassword="Temp-Passw0rd!x")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="Passw0rd!long-x", Permanent=True)
    tokens = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_NO_SRP_AUTH",
                                     AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!long-x"})
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    return {"pool": authorize.CognitoPool(issuer, frozenset({client_id}), PUBLIC), "client_id": client_id,
            "pool_id": pool_id, "issuer": issuer, "id_token": tokens["AuthenticationResult"]["IdToken"],
            "access_token": tokens["AuthenticationResult"]["AccessToken"]}


def minted(pool, **claims) -> str:
    """An access token signed with moto's own key, as the pool would issue it with these claims."""
    now = int(time.time())
    payload = {"iss": pool["issuer"], "sub": "u-1", "client_id": pool["client_id"], "token_use": "access",
               "iat": now, "exp": now + 300, "scope": "items/read", **claims}
    return jwt.encode({"kid": "dummy", "alg": "RS256"}, {k: v for k, v in payload.items() if v is not None}, PRIVATE)


def assert_refused(answer, status: int, message: str):
    code, headers, body = answer
    assert code == status, body
    assert json.loads(body) == {"message": message}
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "x-api-key" in headers["access-control-allow-headers"].lower()


def test_a_token_the_local_cognito_issued_passes_and_the_handler_gets_its_claims(pool):
    for token in (pool["id_token"], "Bearer " + pool["access_token"]):
        code, _, body = call(gateway("cognito", cognito=pool["pool"]), headers=[("Authorization", token)])
        assert code == 200, body
        claims = json.loads(body)["authorizer"]["claims"]
        assert claims["iss"] == pool["issuer"] and claims["token_use"] in ("id", "access")


@pytest.mark.parametrize("case, claims", [
    ("expired", {"exp": int(time.time()) - 1}),
    ("foreign issuer", {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}),
    ("wrong audience", {"client_id": "another-client"}),
    ("no expiry", {"exp": None}),
    ("refresh token use", {"token_use": "refresh"}),
    ("audience as a list", {"token_use": "id", "client_id": None, "aud": ["a-client", "another"]}),
])
def test_tokens_that_do_not_verify_get_401_with_cors(pool, case, claims):
    assert_refused(call(gateway("cognito", cognito=pool["pool"]), headers=[("Authorization", minted(pool, **claims))]),
                   401, "Unauthorized")


def test_a_tampered_or_foreign_signed_token_gets_401(pool):
    header, payload, signature = minted(pool).split(".")
    other = RSAKey.generate_key(2048, parameters={"kid": "dummy"})
    foreign = jwt.encode({"kid": "dummy", "alg": "RS256"}, {"iss": pool["issuer"], "client_id": pool["client_id"],
                                                           "token_use": "access", "exp": int(time.time()) + 60}, other)
    for token in (f"{header}.{payload}.{signature[:-4]}AAAA", foreign, "not-a-jwt"):
        assert_refused(call(gateway("cognito", cognito=pool["pool"]), headers=[("Authorization", token)]),
                       401, "Unauthorized")


def test_no_token_gets_401_even_with_the_key_and_the_key_is_still_needed(pool):
    assert_refused(call(gateway("cognito", cognito=pool["pool"])), 401, "Unauthorized")
    code, _, _ = call(gateway("cognito", cognito=pool["pool"]), headers=[("Authorization", minted(pool))], key=False)
    assert code == 403


def test_scopes_a_token_without_the_routes_scope_gets_403(pool):
    gw = gateway("scoped", cognito=pool["pool"])
    # /items/{id} needs items/write; /items takes items/read or items/write.
    assert call(gw, target="/v1/items", headers=[("Authorization", minted(pool))])[0] == 200
    assert_refused(call(gw, target="/v1/items/abc", headers=[("Authorization", minted(pool))]), 403, "Forbidden")
    assert call(gw, target="/v1/items/abc", headers=[("Authorization", minted(pool, scope="items/write"))])[0] == 200
    # With scopes an ID token, which carries none, is not accepted.
    assert_refused(call(gw, headers=[("Authorization", pool["id_token"])]), 401, "Unauthorized")


def test_the_preflight_stays_open(pool):
    code, headers, _ = call(gateway("cognito", cognito=pool["pool"]), method="OPTIONS", key=False,
                            headers=[("Access-Control-Request-Method", "GET")])
    assert code == 204 and headers["access-control-allow-origin"] == ORIGIN


# --- iam -----------------------------------------------------------------------------------------

CREDS = authorize.LocalCredentials("testing", "testing-secret", REGION, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")


def signed(method: str, target: str, body: bytes = b"", secret: str = CREDS.secret_key) -> list[tuple[str, str]]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    request = AWSRequest(method=method, url=f"http://127.0.0.1:8080{target}", data=body,
                         headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(Credentials(CREDS.access_key, secret), "execute-api", REGION).add_auth(request)
    return list(request.headers.items())


def test_a_call_signed_with_the_local_credentials_passes_and_names_its_signer():
    gw = gateway("iam", credentials=CREDS)
    code, _, body = call(gw, headers=[(k, v) for k, v in signed("GET", "/v1/items?limit=5") if k.lower() != "host"],
                         target="/v1/items?limit=5")
    assert code == 200, body
    identity = json.loads(body)["identity"]
    assert identity["userArn"] == CREDS.principal_arn and identity["accessKey"] == "testing"


def test_a_tampered_call_gets_403():
    gw = gateway("iam", credentials=CREDS)
    body = b'{"name": "a"}'
    headers = [(k, v) for k, v in signed("POST", "/v1/items", body) if k.lower() != "host"]
    for target, sent, hdrs in (("/v1/items", b'{"name": "b"}', headers),  # another body
                               ("/v1/items?x=1", body, headers),  # another query
                               ("/v1/items", body, [(k, v) for k, v in signed("POST", "/v1/items", body, "wrong")
                                                    if k.lower() != "host"])):  # another secret
        code, h, out = call(gw, method="POST", target=target, headers=hdrs, body=sent)
        assert code == 403 and h["access-control-allow-origin"] == ORIGIN, out
        assert "signature" in json.loads(out)["error"]["message"]


def _check(headers, now=None, creds=CREDS):
    context = {"identity": {}}
    found = {k.lower(): v for k, v in headers}
    return authorize.check_sigv4(creds, "GET", "http://127.0.0.1:8080/v1/items", headers, b"", context,
                                 found.get, now)


def _signed_without_host() -> list[tuple[str, str]]:
    """A good signature over every header but Host (botocore's signer always signs Host: one that leaves it out)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class WithoutHost(SigV4Auth):
        def headers_to_sign(self, request):
            found = super().headers_to_sign(request)
            del found["host"]
            return found

    request = AWSRequest(method="GET", url="http://127.0.0.1:8080/v1/items", headers={"X-Custom": "1"})
    WithoutHost(Credentials(CREDS.access_key, CREDS.secret_key), "execute-api", REGION).add_auth(request)
    return list(request.headers.items())


def test_a_signature_of_another_time_region_or_without_host_is_refused_with_api_gateways_message():
    import time
    from dataclasses import replace

    headers = signed("GET", "/v1/items")
    assert _check(headers) is None  # as signed: good
    assert _check(headers, now=time.time() + 4 * 60) is None  # within API Gateway's 5 minutes
    kind, why = _check(headers, now=time.time() + 6 * 60)  # a replay
    assert kind == "INVALID_SIGNATURE" and why.startswith("Signature expired: ") and why.endswith(" - 5 min.)")
    kind, why = _check(headers, now=time.time() - 6 * 60)
    assert kind == "INVALID_SIGNATURE" and why.startswith("Signature not yet current: ")
    other = signed("GET", "/v1/items")  # scoped to another region than the local API's
    assert _check(other, creds=replace(CREDS, region="eu-west-1")) == (
        "INVALID_SIGNATURE", f"Credential should be scoped to a valid region, not '{REGION}'.")
    assert _check(_signed_without_host()) == (
        "INVALID_SIGNATURE", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")


def test_the_gateway_answers_a_refused_signature_with_its_reason():
    code, headers, body = call(gateway("iam", credentials=CREDS), target="/v1/items",
                               headers=[(k, v) for k, v in _signed_without_host()])
    assert code == 403 and headers["access-control-allow-origin"] == ORIGIN
    assert json.loads(body)["error"]["message"].startswith("'Host' or ':authority' must be")


def test_an_unsigned_call_gets_403_missing_authentication_token():
    code, headers, body = call(gateway("iam", credentials=CREDS))
    assert code == 403 and headers["access-control-allow-origin"] == ORIGIN
    assert json.loads(body)["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"


# --- serve: the pool and the credentials come from the local AWS --------------------------------

def test_serve_reads_the_stacks_pool_its_clients_and_keys_from_the_local_aws(moto_endpoint, pool):
    from blueprint.local import serve_auth

    pool_id, client_id, token = pool["pool_id"], pool["client_id"], pool["id_token"]
    doc = loader.loads(render_environment(mode_spec(Path(tempfile.mkdtemp()), "cognito")))
    found, why_not = serve_auth.cognito_pool(doc, {"UserPoolId": pool_id}, moto_endpoint, REGION)
    assert why_not is None and found.client_ids == {client_id}
    assert call(gateway("cognito", cognito=found), headers=[("Authorization", token)])[0] == 200
    # No such pool on the local AWS: a note, and the methods refuse every token.
    missing, why_not = serve_auth.cognito_pool(doc, {}, moto_endpoint, REGION)
    assert missing is None and "every token is refused" in why_not
    assert serve_auth.cognito_pool(loader.loads(render_environment(mode_spec(Path(tempfile.mkdtemp()), "iam"))),
                                   {}, moto_endpoint, REGION) == (None, None)
