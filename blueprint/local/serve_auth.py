"""What the local API's authorizers need from the local AWS (local/gateway/authorize.py).

Cognito: the pool the template's Authorizer names (the stack's own pool through its UserPoolId
output, or the ARN written in the template), its app clients and its signing keys, read from the
local AWS's Cognito as API Gateway reads them from the pool: `/<pool id>/.well-known/jwks.json`.
The issuer is the one moto writes into its tokens, as Cognito does: `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
IAM: the local credentials, the only ones the local AWS hands out. When a pool cannot be found,
the methods that need it refuse every call (401), and the note says why.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from blueprint.local import process
from blueprint.local.gateway import authorize

POOL_ARN_ID = "userpool/"


def _pool_id(doc: dict[str, Any], outputs: dict[str, str]) -> str | None:
    for resource in doc.get("Resources", {}).values():
        if resource.get("Type") == "AWS::ApiGateway::Authorizer":
            for arn in resource.get("Properties", {}).get("ProviderARNs", []):
                if isinstance(arn, str) and POOL_ARN_ID in arn:
                    return arn.split(POOL_ARN_ID, 1)[1]
                return outputs.get("UserPoolId")  # GetAtt UserPool.Arn: the stack's own pool
    return None


def has_cognito_authorizer(doc: dict[str, Any]) -> bool:
    return any(r.get("Type") == "AWS::ApiGateway::Authorizer" for r in doc.get("Resources", {}).values())


def cognito_pool(doc: dict[str, Any], outputs: dict[str, str] | None, endpoint: str | None,
                 region: str) -> tuple[authorize.CognitoPool | None, str | None]:
    """The pool and None, or None and why not (None, None when the template has no Cognito authorizer)."""
    if not has_cognito_authorizer(doc):
        return None, None
    pool_id = _pool_id(doc, outputs or {})
    if not pool_id or not endpoint:
        return None, "no user pool of the stack on the local AWS (deploy it with TARGET=local): every token is refused"
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        idp = boto3.client("cognito-idp", region_name=region, **process.client_kwargs(endpoint))
        clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        with urllib.request.urlopen(f"{endpoint}/{pool_id}/.well-known/jwks.json", timeout=10) as answer:
            jwks = json.loads(answer.read())
    except (ClientError, BotoCoreError, OSError, ValueError) as exc:
        return None, f"user pool {pool_id} is not on the local AWS ({exc}): every token is refused"
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    return authorize.CognitoPool(issuer, frozenset(c["ClientId"] for c in clients), jwks), None


def local_credentials(region: str, account_id: str) -> authorize.LocalCredentials:
    return authorize.LocalCredentials(process.LOCAL_ACCESS_KEY_ID, process.LOCAL_SECRET_ACCESS_KEY, region, account_id,
                                      f"arn:aws:iam::{account_id}:root")
