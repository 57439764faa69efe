"""The caller's identity (issue 14, item 3): what the handler reads from requestContext for each
api.auth mode, that no event shape makes it raise, and that the log lines carry it as `caller`."""
from __future__ import annotations

import io
import json

import pytest

import caller
from events import api_event
from hypothesis import given, settings
from hypothesis import strategies as st

POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
ROLE = "arn:aws:sts::123456789012:assumed-role/caller/session"


def with_context(event, **context):
    return {**event, "requestContext": {**event["requestContext"], **context}}


def test_cognito_claims_give_subject_client_scopes_and_issuer_but_no_email():
    claims = {"sub": "u-1", "cognito:username": "alice", "client_id": "client-1", "token_use": "access",
              "iss": POOL, "scope": "items/read items/write", "email": "alice@example.com"}
    got = caller.identity(with_context(api_event("GET", "/items"), authorizer={"claims": claims}))
    assert got == {"type": "cognito", "sub": "u-1", "username": "alice", "client_id": "client-1",
                   "token_use": "access", "issuer": POOL, "scopes": ["items/read", "items/write"]}


def test_an_id_tokens_audience_is_its_client():
    claims = {"sub": "u-1", "aud": "client-1", "token_use": "id", "iss": POOL}
    got = caller.identity(with_context(api_event("GET", "/items"), authorizer={"claims": claims}))
    assert got["client_id"] == "client-1" and "scopes" not in got


def test_an_iam_caller_is_its_principal():
    event = api_event("GET", "/items")
    event = with_context(event, identity={**event["requestContext"]["identity"], "userArn": ROLE,
                                          "accountId": "123456789012", "caller": "AROAEXAMPLE:session",
                                          "accessKey": "ASIAEXAMPLE"})
    assert caller.identity(event) == {"type": "iam", "arn": ROLE, "account_id": "123456789012",
                                      "caller": "AROAEXAMPLE:session", "access_key": "ASIAEXAMPLE"}


def test_the_api_key_alone_is_the_keys_id():
    assert caller.identity(api_event("GET", "/items")) == {"type": "api_key", "api_key_id": "key123"}


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=300),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
                           max_leaves=12)
claim_maps = st.dictionaries(st.sampled_from(["sub", "cognito:username", "username", "client_id", "aud", "token_use",
                                              "iss", "scope", "email"]), json_values, max_size=9)
contexts = st.one_of(json_values, st.fixed_dictionaries({"authorizer": st.one_of(json_values, st.fixed_dictionaries(
    {"claims": st.one_of(json_values, claim_maps)}))}), st.fixed_dictionaries({"identity": st.one_of(
        json_values, st.dictionaries(st.sampled_from(["userArn", "accountId", "caller", "accessKey", "apiKeyId"]),
                                     json_values, max_size=5))}))


@settings(max_examples=300, deadline=None)
@given(contexts)
def test_any_request_context_gives_a_typed_identity_of_short_strings(context):
    got = caller.identity({"requestContext": context})
    assert got["type"] in {"cognito", "iam", "api_key", "unknown"}
    for name, value in got.items():
        values = value if name == "scopes" else [value]
        assert all(isinstance(v, str) and 0 < len(v) <= caller.MAX_VALUE for v in values), (name, value)
    json.dumps(got)  # a log field


@given(st.one_of(json_values, st.text()))
def test_any_event_at_all_never_raises(event):
    assert caller.identity(event)["type"] in {"cognito", "iam", "api_key", "unknown"}


@pytest.fixture
def log_lines(api, monkeypatch):
    """The JSON lines the handler's Powertools logger writes during the test, at INFO whatever the env's level."""
    stream = io.StringIO()
    logger = api.app.logger
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    level = logger.log_level
    logger.setLevel("INFO")
    yield lambda: [json.loads(x) for x in stream.getvalue().splitlines() if x.startswith("{")]
    logger.setLevel(level)


def test_the_handlers_log_lines_name_the_caller(api, log_lines):
    lines = log_lines
    claims = {"sub": "u-1", "client_id": "client-1", "token_use": "access", "iss": POOL, "scope": "items/read"}
    answer = api(with_context(api_event("GET", "/items/not-a-uuid"), authorizer={"claims": claims}))
    assert answer["statusCode"] == 400
    logged = [x["caller"] for x in lines() if x.get("message") == "client error"]
    assert logged == [{"type": "cognito", "sub": "u-1", "client_id": "client-1", "token_use": "access",
                       "issuer": POOL, "scopes": ["items/read"]}]
    # The next call, by another caller, is not logged under the first one's name.
    api(api_event("GET", "/items/not-a-uuid"))
    assert [x["caller"] for x in lines() if x.get("message") == "client error"][-1] == {
        "type": "api_key", "api_key_id": "key123"}
