"""Cold-start configuration, the DynamoDB client's settings, tracing hooks and the unit pieces."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest
from handler_testing import HANDLER_DIR, HANDLER_ENV

import config
import parsing
import store
from cors import CorsPolicy
from errors import BadRequest


def test_valid_environment_loads():
    cfg = config.load(HANDLER_ENV)
    assert cfg.table_name == "items-test"
    assert cfg.ttl_days == 30 and cfg.max_body_bytes == 65536
    assert cfg.allowed_origins == frozenset({"http://localhost:3000", "https://app.example.com"})
    assert cfg.log_level == "WARNING" and cfg.environment == "test" and cfg.service_name == "items-test"


@pytest.mark.parametrize("name", config.ENV_VARS)
def test_each_missing_variable_is_named(name):
    env = {k: v for k, v in HANDLER_ENV.items() if k != name}
    with pytest.raises(config.ConfigError, match=name):
        config.load(env)


def test_empty_allowed_origins_means_none_allowed():
    assert config.load(HANDLER_ENV | {"ALLOWED_ORIGINS": ""}).allowed_origins == frozenset()


@pytest.mark.parametrize("name, value, words", [
    ("TTL_DAYS", "0", "between 1"),
    ("TTL_DAYS", "thirty", "not an integer"),
    ("MAX_BODY_BYTES", "409600", "item limit"),
    ("MAX_BODY_BYTES", "-5", "between 1"),
    ("MAX_BODY_BYTES", "64k", "not an integer"),
    ("LOG_LEVEL", "LOUD", "must be one of"),
    ("TABLE_NAME", "a b", "table name"),
    ("TTL_ATTRIBUTE", "version", "collides"),
    ("ALLOWED_ORIGINS", "localhost:3000,https://ok.example.com", "localhost:3000"),
    ("ALLOWED_ORIGINS", "https://x.example.com/", "x.example.com/"),
    ("ENVIRONMENT", "  ", "ENVIRONMENT"),
])
def test_bad_values_are_explained(name, value, words):
    with pytest.raises(config.ConfigError) as err:
        config.load(HANDLER_ENV | {name: value})
    assert name in str(err.value) and words in str(err.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(config.ConfigError) as err:
        config.load(HANDLER_ENV | {"TTL_DAYS": "x", "LOG_LEVEL": "nope", "MAX_BODY_BYTES": "999999999"})
    assert all(n in str(err.value) for n in ("TTL_DAYS", "LOG_LEVEL", "MAX_BODY_BYTES"))


def test_bad_environment_fails_the_cold_start_clearly():
    env = {k: v for k, v in os.environ.items() if k != "TABLE_NAME"}
    proc = subprocess.run([sys.executable, "-c", "import app"], cwd=HANDLER_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "ConfigError: invalid handler configuration" in proc.stderr and "TABLE_NAME" in proc.stderr


def test_client_has_short_timeouts_and_standard_retries(handler_app):
    for client in (store.make_client(), handler_app.STORE.client):  # the one made at cold start too
        c = client.meta.config
        assert c.connect_timeout <= 2 and c.read_timeout <= 3
        assert c.retries["mode"] == "standard"
        assert c.retries["total_max_attempts"] * (c.connect_timeout + c.read_timeout) < 10  # function timeout


def test_client_honours_endpoint_env(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5999")
    assert store.make_client().meta.endpoint_url == "http://127.0.0.1:5999"


def test_tracer_is_disabled_in_tests(handler_app):
    assert handler_app.tracer.disabled


def test_store_operations_open_subsegments_when_tracing(api, monkeypatch):
    names = []

    class Provider:
        @contextlib.contextmanager
        def in_subsegment(self, name):
            names.append(name)
            yield None

    monkeypatch.setattr(store.tracer, "disabled", False)
    monkeypatch.setattr(store.tracer, "provider", Provider())
    item = api.store.create({"a": 1})
    api.store.get(item["id"])
    api.store.list(5, None)
    api.store.replace(item["id"], {"b": 2}, None)
    api.store.delete(item["id"], None)
    assert names == [f"## ItemStore.{op}" for op in ("create", "get", "list", "replace", "delete")]


def test_cursor_round_trip():
    cursor = parsing.encode_cursor("00000000-0000-4000-8000-000000000000")
    assert "=" not in cursor
    assert parsing.decode_cursor(cursor) == "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("header, expected", [
    (None, None), ("*", "*"), ('"3"', frozenset({3})), ('"1", "2"', frozenset({1, 2})),
    ('W/"3"', frozenset()), ("junk", frozenset()),
])
def test_if_match_parsing(header, expected):
    assert parsing.if_match(header) == expected


def test_if_match_empty_is_bad():
    with pytest.raises(BadRequest):
        parsing.if_match(",")


def test_cors_policy_wildcard_echoes_any_origin():
    policy = CorsPolicy({"*"}, {"GET"})
    assert policy.headers("https://a.example.com")["Access-Control-Allow-Origin"] == "https://a.example.com"
    assert policy.headers(None) == {"Vary": "Origin"}
    assert policy.allow_methods == "GET,OPTIONS"


def test_rendered_template_configures_the_handler_it_runs():
    """The template's function: our entry point, every env var we read (valid), a timeout above the client's."""
    from handler_testing import TEMPLATE, template_function

    props = template_function()
    if props is None:
        pytest.skip(f"{TEMPLATE} does not exist yet (or has no function with Handler app.lambda_handler)")
    variables = {k: str(v) for k, v in props["Environment"]["Variables"].items()}
    assert set(config.ENV_VARS) <= set(variables)
    cfg = config.load(variables)  # !Ref Table reads as the logical id "Table": still a valid name
    assert cfg.ttl_days >= 1
    c = store.CLIENT_CONFIG
    assert c.connect_timeout + c.read_timeout < int(props["Timeout"]) < 29
