"""The demo's api.auth step (issue 14): a call with a Cognito token and one without.

Kept out of demo.py so that its step list only gains one line. The demo's stack is dev, whose
auth is `none`; deploying a second stack with auth on would double the demo's time, so this step
renders dev with `api.auth: cognito` in memory, serves that API definition in-process with the
deployed stack's own handler, table and key, and signs a user of a pool it creates in the demo's
local Cognito in. The token is verified as API Gateway does (local/gateway/authorize.py).
"""
from __future__ import annotations

import dataclasses
import io
import json
import secrets
from typing import Any

from blueprint import state
from blueprint.cfn import loader
from blueprint.errors import UserError
from blueprint.local import process, serve_auth
from blueprint.local.serve import LOCAL_ACCOUNT_ID
from blueprint.local.gateway import definition
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request
from blueprint.render.templates import render_environment
from blueprint.spec.model import Auth
from blueprint.spec.validate import load_valid


def _signed_in_token(endpoint: str, region: str) -> tuple[str, str, str]:
    """(pool id, client id, ID token) of a user of a fresh pool in the local Cognito."""
    import boto3

    idp = boto3.client("cognito-idp", region_name=region, **process.client_kwargs(endpoint))
    pool = idp.create_user_pool(PoolName="items-demo-auth")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="demo",
                                         ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    password = "Demo-" + secrets.token_urlsafe(12) + "9!"
    idp.admin_create_user(UserPoolId=pool, Username="demo-user", TemporaryPassword=password)
    idp.admin_set_user_password(UserPoolId=pool, Username="demo-user", Password=password, Permanent=True)
    result = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_NO_SRP_AUTH",
                                     AuthParameters={"USERNAME": "demo-user", "PASSWORD": password})
    return pool, client, result["AuthenticationResult"]["IdToken"]


def token_and_no_token(demo: Any, env: str) -> None:
    """With api.auth cognito: GET /items with a token (200) and without one (401, with CORS)."""
    spec = load_valid(demo.scratch, [env])[0]
    spec = dataclasses.replace(spec, api=dataclasses.replace(spec.api, auth=Auth(mode="cognito")))
    doc = loader.loads(render_environment(spec))
    endpoint = process.ensure_running(state.state_dir(demo.scratch))
    pool_id, client_id, token = _signed_in_token(endpoint, spec.region)
    pool, why_not = serve_auth.cognito_pool(doc, {"UserPoolId": pool_id}, endpoint, spec.region)
    if pool is None:
        raise UserError(f"the demo's user pool: {why_not}")
    demo.say(f"dev rendered with api.auth: cognito; user pool {pool_id}, app client {client_id}, "
             "an ID token for demo-user from the local Cognito")
    served = demo.api
    gateway = Gateway(definition.load(doc), served.gateway.runtime,
                      keys=[ApiKeyInfo(served.api_key, served.deployed.api_key_id, "ApiKey")],
                      api_id=served.deployed.api_id, account_id=LOCAL_ACCOUNT_ID,
                      access_log=AccessLog(None, io.StringIO()), throttling=False, cognito=pool)
    origin = demo.allowed_origin()
    for label, extra in (("with the token", [("Authorization", token)]), ("without a token", [])):
        answer = gateway.handle(Request("GET", f"/{spec.api.stage}/items?limit=1",
                                        [("Host", "127.0.0.1"), ("Origin", origin), ("X-Api-Key", served.api_key), *extra]))
        headers = {k.lower(): v for k, v in answer.headers}
        demo.say(f"GET /items?limit=1 with x-api-key, {label}")
        demo.say(f"  -> {answer.status} {answer.body.decode()[:120]}  "
                 f"(access-control-allow-origin: {headers.get('access-control-allow-origin')})")
        wanted = 200 if extra else 401
        if answer.status != wanted:
            raise UserError(f"auth {label}: expected {wanted}, got {answer.status}")
    if json.loads(answer.body) != {"message": "Unauthorized"} or "access-control-allow-origin" not in headers:
        raise UserError("the 401 is not API Gateway's {\"message\": \"Unauthorized\"} with CORS headers")
