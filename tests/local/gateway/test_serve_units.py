"""The pieces: the template's API model, routing, the VTL subset, the in-process runtime."""
from __future__ import annotations

import sys
import textwrap
import time

import pytest

from blueprint.local.gateway import vtl
from blueprint.local.gateway.routing import Router
from blueprint.local.gateway.runtime import FunctionError, FunctionTimeout, IntegrationTimeout, LambdaRuntime, load_handler


def test_routes_come_from_the_templates_resources_and_methods(dev_doc, dev_api):
    declared = {r["Properties"]["HttpMethod"] for r in dev_doc["Resources"].values()
                if r.get("Type") == "AWS::ApiGateway::Method"}
    served = {(p, v) for p, verbs in dev_api.methods.items() for v in verbs}
    assert served == {("/items", "GET"), ("/items", "POST"), ("/items", "OPTIONS"), ("/items/{id}", "GET"),
                      ("/items/{id}", "PUT"), ("/items/{id}", "DELETE"), ("/items/{id}", "OPTIONS")}
    assert {v for _, v in served} == declared
    assert all(m.api_key_required == (v != "OPTIONS") for verbs in dev_api.methods.values() for v, m in verbs.items())
    assert dev_api.stage == "v1" and dev_api.function.handler == "app.lambda_handler"
    assert dev_api.methods["/items/{id}"]["GET"].timeout_ms == 29000


def test_limits_come_from_the_template(dev_api, prod_api):
    assert dev_api.usage_plans[0].throttle.rate_limit == 50 and dev_api.usage_plans[0].throttle.burst_limit == 100
    assert dev_api.method_throttle("/items", "GET").rate_limit == 50
    assert prod_api.usage_plans[0].throttle.rate_limit == 1000 and prod_api.usage_plans[0].quota.period == "MONTH"


def _gateway(api):
    import io

    from blueprint.local.gateway.accesslog import AccessLog
    from blueprint.local.gateway.core import Gateway

    return Gateway(api, None, keys=[], api_id="x", account_id="1", access_log=AccessLog(None, io.StringIO()))


@pytest.mark.parametrize("name", ["Origin", "origin"])  # HTTP/1.1 clients capitalise, HTTP/2 browsers do not
def test_prod_preflight_echoes_each_of_its_origins_only(prod_api, name):
    from blueprint.local.gateway.core import Request

    gw = _gateway(prod_api)
    for origin, echoed in [("https://app.example.com", True), ("https://admin.example.com", True),
                           ("https://app.example.com.evil", False), ("https://evil.example", False)]:
        answer = gw.handle(Request("OPTIONS", "/v1/items", [(name, origin)]))
        assert answer.status == 204
        assert (dict(answer.headers).get("Access-Control-Allow-Origin") == origin) is echoed, (name, origin)


def test_the_header_map_of_templates_is_case_sensitive_as_on_api_gateway():
    from blueprint.local.gateway.responses import CaseInsensitiveDict, RequestView

    view = RequestView(headers=CaseInsensitiveDict([("origin", "https://a.example")]), query={}, path_params={})
    template = vtl.Template('#set($o = $input.params().header.get("Origin"))\n'
                            '$!o|$input.params().header.get("origin")')
    assert template.render({"input": view, "context": {}}) == "|https://a.example"


@pytest.mark.parametrize("env_api", ["dev_api", "prod_api"])
def test_gateway_responses_name_the_first_allowed_origin_and_never_echo_another(env_api, request):
    from blueprint.local.gateway.core import Request

    api = request.getfixturevalue(env_api)
    allowed = str(api.function.environment["ALLOWED_ORIGINS"]).split(",")
    gw = _gateway(api)
    for origin in [None, *allowed, "https://evil.example", "null"]:
        for name in ("Origin", "origin"):
            headers = [(name, origin)] if origin else []
            for method, path in [("GET", "/v1/items"), ("GET", "/v1/nothing-here"), ("DELETE", "/v1/items")]:
                answer = gw.handle(Request(method, path, headers))
                assert answer.status == 403  # no key; no such resource; no such method
                got = dict(answer.headers)
                assert got["Access-Control-Allow-Origin"] == allowed[0]  # static, whatever was sent
                assert got["Vary"] == "Origin"
                if origin not in allowed:
                    assert origin not in {v for _, v in answer.headers}


def test_routing_prefers_literals_and_decodes_parameters():
    router = Router(["/items", "/items/{id}", "/items/special", "/files/{path+}", "/"])
    assert router.match("/items/special") == ("/items/special", {})
    assert router.match("/items/a%20b") == ("/items/{id}", {"id": "a b"})
    assert router.match("/files/a/b/c") == ("/files/{path+}", {"path": "a/b/c"})
    assert router.match("/") == ("/", {})
    assert router.match("/items/a/b") is None


def test_vtl_runs_the_preflight_template():
    template = vtl.Template('#set($o = $input.params().header.get("Origin"))\n'
                            '#if($o == "https://a.example" || $o == "https://b.example")\n'
                            '#set($context.responseOverride.header.Access-Control-Allow-Origin = $o)\n'
                            '#elseif($o != "")\n#set($context.responseOverride.status = 403)\n#end\n')

    class Input:
        def __init__(self, origin):
            self.origin = origin

        def params(self):
            return {"header": {"Origin": self.origin}}

    for origin, override in [("https://b.example", {"header": {"Access-Control-Allow-Origin": "https://b.example"}}),
                             ("https://c.example", {"status": 403})]:
        scope = {"input": Input(origin), "context": {}}
        assert template.render(scope) == ""
        assert scope["context"]["responseOverride"] == override


def test_vtl_interpolates_double_quoted_strings_only():
    template = vtl.Template('#if("$!missing" == "" && "x$!{v}y" == "x1y" && \'$!v\' == "$!v")\nyes\n#else\nno\n#end')
    assert template.render({"v": 1}) == "no\n"  # single quotes are literal, as in Velocity
    template = vtl.Template('#if("$!missing" == "" && "x$!{v}y" == "x1y" && \'$!v\' != "$!v")\nyes\n#end')
    assert template.render({"v": 1}) == "yes\n"


def test_vtl_renders_text_references_and_refuses_what_it_cannot_run():
    assert vtl.Template('{"m": $context.error.messageString, "x": "$!nothing"}').render(
        {"context": {"error": {"messageString": '"Forbidden"'}}}) == '{"m": "Forbidden", "x": ""}'
    with pytest.raises(vtl.VtlError, match="line 1"):
        vtl.Template("#foreach($x in $list)\n#end")
    with pytest.raises(vtl.VtlError):
        vtl.Template("#if($a)\nno end")


def _handler_dir(tmp_path, source: str):
    (tmp_path / "app.py").write_text(textwrap.dedent(source))
    return tmp_path


def _runtime(code_dir, timeout_s=5.0, **kw):
    return LambdaRuntime(code_dir, "app.lambda_handler", environ={"GREETING": "hi"}, function_name="f",
                         function_arn="arn:aws:lambda:us-east-1:123456789012:function:f", memory_mb=128,
                         timeout_s=timeout_s, **kw)


def test_the_handler_is_imported_privately_with_its_environment(tmp_path, monkeypatch):
    code = _handler_dir(tmp_path, """
        import os
        SEEN = os.environ.get("GREETING")
        def lambda_handler(event, context):
            return {"statusCode": 200, "body": SEEN, "remaining": context.get_remaining_time_in_millis()}
    """)
    monkeypatch.delenv("GREETING", raising=False)
    placeholder = object()
    monkeypatch.setitem(sys.modules, "app", placeholder)  # someone else's `app` (the handler tests')
    first = load_handler(code, "app.lambda_handler", {"GREETING": "hi"})
    second = load_handler(code, "app.lambda_handler", {"GREETING": "hi"})
    assert first is not second and first.__globals__ is not second.__globals__
    assert sys.modules["app"] is placeholder
    assert "GREETING" not in __import__("os").environ
    result = _runtime(code).invoke({}, 29)
    assert result["body"] == "hi" and 0 < result["remaining"] <= 5000


def test_a_handler_exception_is_a_function_error(tmp_path):
    code = _handler_dir(tmp_path, "def lambda_handler(event, context):\n    return 1 / 0\n")
    with pytest.raises(FunctionError, match="ZeroDivisionError"):
        _runtime(code).invoke({}, 29)


def test_an_unserialisable_result_is_a_function_error(tmp_path):
    code = _handler_dir(tmp_path, "def lambda_handler(event, context):\n    return {'body': object()}\n")
    with pytest.raises(FunctionError, match="TypeError"):
        _runtime(code).invoke({}, 29)


def test_the_function_timeout_and_the_integration_timeout(tmp_path):
    code = _handler_dir(tmp_path, """
        import time
        def lambda_handler(event, context):
            if event.get("slow"):
                time.sleep(5)
            return {"ok": True}
    """)
    for runtime, refused, integration_timeout in [
        (_runtime(code, timeout_s=0.2, max_containers=1), FunctionTimeout, 29),
        (_runtime(code, timeout_s=10, max_containers=1), IntegrationTimeout, 0.2),
    ]:
        started = time.monotonic()
        with pytest.raises(refused):
            runtime.invoke({"slow": True}, integration_timeout)
        assert time.monotonic() - started < 2  # far from the handler's 5 s: the machine may be busy
        # The stuck container is abandoned: with room for one container only, the next call gets a
        # fresh one at once, neither queued behind the sleeping handler nor refused for want of one.
        started = time.monotonic()
        assert runtime.invoke({}, 29) == {"ok": True}
        assert time.monotonic() - started < 2


def test_a_handler_that_does_not_import_is_reported(tmp_path):
    from blueprint.local.gateway.runtime import HandlerLoadError

    code = _handler_dir(tmp_path, "raise RuntimeError('invalid handler configuration: TABLE_NAME not set')\n")
    with pytest.raises(HandlerLoadError, match="TABLE_NAME not set"):
        _runtime(code).warm()


def test_a_busy_function_queues_first_come_first_served_then_refuses_as_lambda_throttles(tmp_path):
    import threading

    from blueprint.local.gateway.runtime import ConcurrencyExhausted

    code = _handler_dir(tmp_path, """
        import time
        def lambda_handler(event, context):
            time.sleep(event["sleep"])
            return event["n"]
    """)
    runtime = _runtime(code, max_containers=1, queue_wait_s=0.6)
    runtime.warm()
    done: list = []
    first = threading.Thread(target=lambda: done.append(runtime.invoke({"sleep": 0.3, "n": 1}, 29)))
    first.start()
    time.sleep(0.05)
    # Queued behind the first call (0.3 s), within the queue wait (0.6 s): served when it ends.
    assert runtime.invoke({"sleep": 0, "n": 2}, 29) == 2
    first.join()
    assert done == [1]
    # Busy for longer than the queue wait: refused at the wait's end, as Lambda refuses past its concurrency.
    slow = threading.Thread(target=lambda: runtime.invoke({"sleep": 2.5, "n": 3}, 29))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(ConcurrencyExhausted):
        runtime.invoke({"sleep": 0, "n": 4}, 29)
    assert 0.5 < time.monotonic() - started < 1.8  # the wait's end, well before the slow call's
    # The wait counts from the request's arrival (queued_since), not from the call.
    with pytest.raises(ConcurrencyExhausted):
        runtime.invoke({"sleep": 0, "n": 5}, 29, queued_since=time.monotonic() - 1)
    slow.join()
    assert runtime.invoke({"sleep": 0, "n": 6}, 29) == 6


def test_a_throttled_invocation_is_500_integration_failure_with_cors(dev_api):
    import io

    from blueprint.local.gateway.accesslog import AccessLog
    from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request
    from blueprint.local.gateway.runtime import ConcurrencyExhausted

    class BusyRuntime:
        def invoke(self, event, timeout_s, queued_since=None):
            raise ConcurrencyExhausted("all 4 containers stayed busy")

    logged: list[str] = []
    gw = Gateway(dev_api, BusyRuntime(), keys=[ApiKeyInfo("k" * 40, "kid", "ApiKey")], api_id="x", account_id="1",
                 access_log=AccessLog(None, io.StringIO()), throttling=False, function_log=logged.append)
    answer = gw.handle(Request("GET", "/v1/items", [("x-api-key", "k" * 40), ("Origin", "http://localhost:3000")]))
    headers = dict(answer.headers)
    assert answer.status == 500 and headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert b'"INTEGRATION_FAILURE"' in answer.body and b"Internal server error" in answer.body
    assert "429" in logged[0] and "TooManyRequestsException" in logged[0]
