"""api.auth (issue 14): each mode's rendered template, per requirement, from temporary specs (the
committed environments keep `none`, whose render the digests in test_templates_unchanged_by_the_layout
pin). Also: the modes' bad inputs exit 2 naming file, line and key, and each mode's template passes
cfn-lint with the project's rules and checkov."""
from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from blueprint import cli
from blueprint.cfn import loader
from blueprint.render.templates import render_environment
from tests.conftest import ROOT
from tests.render.auth_specs import CALLER, POOL_ARN, gate_findings, mode_spec, project_with
from tests.render.test_real_account import project_lint

METHODS = {("/items", "GET"), ("/items", "POST"), ("/items/{id}", "GET"), ("/items/{id}", "PUT"),
           ("/items/{id}", "DELETE")}


@cache
def text(mode: str) -> str:
    import tempfile
    return render_environment(mode_spec(Path(tempfile.mkdtemp()), mode))


@cache
def template(mode: str) -> dict:
    if mode == "none":
        return loader.loads((ROOT / "generated" / "dev" / "template.yaml").read_text())
    return loader.loads(text(mode))


def of_type(t: dict, kind: str) -> dict[str, dict]:
    return {lid: r["Properties"] for lid, r in t["Resources"].items() if r["Type"] == kind}


def methods(t: dict) -> dict[tuple[str, str], dict]:
    """(path, HTTP method) -> the method's properties, OPTIONS included."""
    parts = {lid: p["PathPart"] for lid, p in of_type(t, "AWS::ApiGateway::Resource").items()}
    parent = {lid: p.get("ParentId", {}).get("Ref") for lid, p in of_type(t, "AWS::ApiGateway::Resource").items()}

    def path(lid):
        return (path(parent[lid]) if parent[lid] else "") + "/" + parts[lid]
    return {(path(p["ResourceId"]["Ref"]), p["HttpMethod"]): p for p in of_type(t, "AWS::ApiGateway::Method").values()}


def calls(t):
    return {k: v for k, v in methods(t).items() if k[1] != "OPTIONS"}


@pytest.fixture(params=["cognito", "scoped", "pool", "iam"])
def mode(request):
    return request.param


# --- every mode: the API key stays, the preflight stays open, 401/403 carry CORS -----------------

class TestEveryMode:
    def test_every_method_still_needs_the_api_key(self, mode):
        assert set(calls(template(mode))) == METHODS
        assert all(p["ApiKeyRequired"] is True for p in calls(template(mode)).values())

    def test_the_preflight_needs_neither_key_nor_authorizer(self, mode):
        pre = [p for k, p in methods(template(mode)).items() if k[1] == "OPTIONS"]
        assert len(pre) == 2
        assert all(p["AuthorizationType"] == "NONE" and p["ApiKeyRequired"] is False and "AuthorizerId" not in p
                   for p in pre)

    def test_401_and_403_answers_carry_cors_and_api_gateways_message_body(self, mode):
        t = template(mode)
        responses = {p["ResponseType"]: p for p in of_type(t, "AWS::ApiGateway::GatewayResponse").values()}
        default = responses["DEFAULT_4XX"]["ResponseParameters"]
        for kind, status in (("UNAUTHORIZED", "401"), ("ACCESS_DENIED", "403")):
            r = responses[kind]
            assert r["StatusCode"] == status
            assert r["ResponseParameters"] == default
            assert r["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'http://localhost:3000'"
            assert r["ResponseTemplates"]["application/json"] == '{"message": $context.error.messageString}'

    def test_the_deployment_waits_for_the_authorizers_answers(self, mode):
        t = template(mode)
        deployment = next(r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGateway::Deployment")
        assert {"GatewayResponseUnauthorized", "GatewayResponseAccessDenied"} <= set(deployment["DependsOn"])

    def test_turning_auth_on_redeploys_the_api(self, mode):
        def deployment_id(t):
            return next(lid for lid, r in t["Resources"].items() if r["Type"] == "AWS::ApiGateway::Deployment")
        assert deployment_id(template(mode)) != deployment_id(template("none"))

    def test_the_project_lint_rules_pass(self, mode):
        assert project_lint(template(mode)) == []


class TestNone:
    def test_no_authorizer_pool_or_policy_and_no_extra_answers(self):
        t = template("none")
        assert not of_type(t, "AWS::ApiGateway::Authorizer") and not of_type(t, "AWS::Cognito::UserPool")
        assert "Policy" not in t["Resources"]["RestApi"]["Properties"]
        assert {p["ResponseType"] for p in of_type(t, "AWS::ApiGateway::GatewayResponse").values()} == {
            "DEFAULT_4XX", "DEFAULT_5XX"}
        assert all(p["AuthorizationType"] == "NONE" for p in methods(t).values())


# --- cognito -------------------------------------------------------------------------------------

class TestCognito:
    @pytest.mark.parametrize("m", ["cognito", "scoped", "pool"])
    def test_every_method_uses_the_pool_authorizer(self, m):
        t = template(m)
        assert all(p["AuthorizationType"] == "COGNITO_USER_POOLS" and p["AuthorizerId"] == {"Ref": "Authorizer"}
                   for p in calls(t).values())
        a = of_type(t, "AWS::ApiGateway::Authorizer")["Authorizer"]
        assert a["Type"] == "COGNITO_USER_POOLS" and a["IdentitySource"] == "method.request.header.Authorization"
        assert a["RestApiId"] == {"Ref": "RestApi"}

    def test_the_own_pool_and_its_client(self):
        t = template("cognito")
        assert of_type(t, "AWS::ApiGateway::Authorizer")["Authorizer"]["ProviderARNs"] == [
            {"Fn::GetAtt": ["UserPool", "Arn"]}]
        pool = of_type(t, "AWS::Cognito::UserPool")["UserPool"]
        assert pool["UserPoolName"] == "items-cognito" and pool["MfaConfiguration"] == "ON"
        assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
        assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 14
        assert pool["UserPoolTags"]["Environment"] == "development"
        client = of_type(t, "AWS::Cognito::UserPoolClient")["UserPoolClient"]
        assert client["UserPoolId"] == {"Ref": "UserPool"} and client["GenerateSecret"] is False
        assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"] and "AllowedOAuthFlows" not in client
        assert not of_type(t, "AWS::Cognito::UserPoolResourceServer")
        assert t["Outputs"]["UserPoolId"]["Value"] == {"Ref": "UserPool"}
        assert t["Outputs"]["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
        assert all("AuthorizationScopes" not in p for p in calls(t).values())

    def test_the_pool_is_kept_as_state_where_the_environment_is_protected(self):
        r = template("cognito")["Resources"]["UserPool"]
        assert (r["DeletionPolicy"], r["Properties"]["DeletionProtection"]) == ("Delete", "INACTIVE")

    def test_scopes_per_route_and_the_resource_server_that_defines_them(self):
        t = template("scoped")
        assert {k: p["AuthorizationScopes"] for k, p in calls(t).items()} == {
            ("/items", "GET"): ["items/read", "items/write"], ("/items", "POST"): ["items/read", "items/write"],
            ("/items/{id}", "GET"): ["items/write"], ("/items/{id}", "PUT"): ["items/write"],
            ("/items/{id}", "DELETE"): ["items/write"]}
        servers = of_type(t, "AWS::Cognito::UserPoolResourceServer")
        assert [(s["Identifier"], [x["ScopeName"] for x in s["Scopes"]]) for s in servers.values()] == [
            ("items", ["read", "write"])]
        client = of_type(t, "AWS::Cognito::UserPoolClient")["UserPoolClient"]
        assert client["AllowedOAuthFlows"] == ["client_credentials"] and client["GenerateSecret"] is True
        assert client["AllowedOAuthScopes"] == ["items/read", "items/write"]
        assert t["Resources"]["UserPoolClient"]["DependsOn"] == list(servers)
        assert of_type(t, "AWS::Cognito::UserPoolDomain")["UserPoolDomain"]["Domain"] == {
            "Fn::Sub": "items-scoped-${AWS::AccountId}"}

    def test_an_existing_pool_is_named_and_none_is_created(self):
        t = template("pool")
        assert of_type(t, "AWS::ApiGateway::Authorizer")["Authorizer"]["ProviderARNs"] == [POOL_ARN]
        assert not of_type(t, "AWS::Cognito::UserPool") and not of_type(t, "AWS::Cognito::UserPoolClient")
        assert "UserPoolId" not in t["Outputs"]
        scoped = {k: p.get("AuthorizationScopes") for k, p in calls(t).items()}
        assert scoped[("/items", "GET")] == ["openid"] and scoped[("/items/{id}", "GET")] is None


# --- iam -----------------------------------------------------------------------------------------

class TestIam:
    def test_every_method_needs_a_signature(self):
        t = template("iam")
        assert all(p["AuthorizationType"] == "AWS_IAM" and "AuthorizerId" not in p for p in calls(t).values())
        assert not of_type(t, "AWS::ApiGateway::Authorizer") and not of_type(t, "AWS::Cognito::UserPool")

    def test_the_principals_may_invoke_this_apis_methods_only(self):
        statements = {s["Sid"]: s for s in template("iam")["Resources"]["RestApi"]["Properties"]["Policy"]["Statement"]}
        allow, deny = statements["CallersInvokeTheMethods"], statements["NobodyElseInvokesThem"]
        assert allow["Effect"] == "Allow" and allow["Principal"] == {"AWS": [CALLER, "210987654321"]}
        assert allow["Action"] == "execute-api:Invoke"
        assert sorted(allow["Resource"]) == sorted([
            "execute-api:/v1/GET/items", "execute-api:/v1/POST/items", "execute-api:/v1/GET/items/*",
            "execute-api:/v1/PUT/items/*", "execute-api:/v1/DELETE/items/*"])
        assert deny["Effect"] == "Deny" and deny["Resource"] == allow["Resource"]
        assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": [CALLER]},
                                     "StringNotEqualsIfExists": {"aws:PrincipalAccount": ["210987654321"]}}

    def test_the_preflight_stays_open_under_the_resource_policy(self):
        statements = {s["Sid"]: s for s in template("iam")["Resources"]["RestApi"]["Properties"]["Policy"]["Statement"]}
        assert statements["AnyonePreflights"] == {"Sid": "AnyonePreflights", "Effect": "Allow", "Principal": "*",
                                                  "Action": "execute-api:Invoke", "Resource": "execute-api:/v1/OPTIONS/*"}


# --- bad input -----------------------------------------------------------------------------------

BAD = {
    "principals-with-cognito": ("api:\n  auth:\n    mode: cognito\n    principals: [\"123456789012\"]\n",
                                "api.auth.principals: principals with mode cognito"),
    "pool-with-iam": (f"api:\n  auth:\n    mode: iam\n    principals: [\"123456789012\"]\n    user_pool_arn: \"{POOL_ARN}\"\n"
                      "  cors:\n    allow_headers: [Content-Type, X-Api-Key, Authorization, X-Amz-Date, X-Amz-Security-Token]\n",
                      "api.auth.user_pool_arn: a user pool with mode iam"),
    "iam-without-principals": ("api:\n  auth:\n    mode: iam\n  cors:\n    allow_headers: [Content-Type, X-Api-Key, "
                               "Authorization, X-Amz-Date, X-Amz-Security-Token]\n",
                               "api.auth.mode: iam without principals"),
    "iam-without-sigv4-headers": ("api:\n  auth:\n    mode: iam\n    principals: [\"123456789012\"]\n",
                                  "api.cors.allow_headers: X-Amz-Date is missing with api.auth mode iam"),
    "cognito-without-authorization": ("api:\n  auth:\n    mode: cognito\n  cors:\n    allow_headers: [Content-Type, X-Api-Key]\n",
                                      "api.cors.allow_headers: Authorization is missing with api.auth mode cognito"),
    "scopes-without-cognito": ("api:\n  routes:\n    - path: /items\n      methods: [GET]\n      scopes: [items/read]\n",
                               "api.routes[0].scopes[0]: scope \"items/read\" with api.auth mode none"),
    "own-pool-scope-without-server": ("api:\n  auth:\n    mode: cognito\n  routes:\n    - path: /items\n      methods: [GET]\n"
                                      "      scopes: [read]\n", "scope \"read\" for the stack's own user pool"),
    "own-pool-scope-without-server-name": ("api:\n  auth:\n    mode: cognito\n  routes:\n    - path: /items\n"
                                           "      methods: [GET]\n      scopes: [/read]\n",
                                           "scope \"/read\" for the stack's own user pool"),
    "own-pool-scope-without-name": ("api:\n  auth:\n    mode: cognito\n  routes:\n    - path: /items\n"
                                    "      methods: [GET]\n      scopes: [items/]\n",
                                    "scope \"items/\" for the stack's own user pool"),
    "unknown-mode": ("api:\n  auth:\n    mode: oauth\n", "api.auth.mode"),
    "bad-pool-arn": ("api:\n  auth:\n    mode: cognito\n    user_pool_arn: us-east-1_abc\n", "api.auth.user_pool_arn"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_auth_input_exits_2_with_file_line_and_key(case, tmp_path, capsys):
    extra, message = BAD[case]
    project = project_with(tmp_path, "dev", extra)
    shutil.copytree(ROOT / "generated", project / "generated")
    code = cli.main(["--root", str(project), "validate", "--env", "dev"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if message in x)
    # The file that set the value: the env file, or blueprint.yaml for a value the env left as it is.
    assert re.match(r"^(envs/dev|blueprint)\.yaml:\d+: ", line) and "(" in line and line.endswith(")"), line


# --- the gates: cfn-lint (with lint/rules) and checkov on each mode's template -------------------

@pytest.mark.parametrize("m", ["cognito", "scoped", "pool", "iam"])
def test_each_mode_passes_cfn_lint_and_checkov(m, tmp_path):
    assert gate_findings(text(m), tmp_path) == ""
