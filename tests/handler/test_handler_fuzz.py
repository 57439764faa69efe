"""Property: whatever a client sends through API Gateway, the handler answers sanely.

Malformed requests (random paths, methods, headers, query strings; bodies that are not JSON,
not UTF-8, base64 or not, oversized) must never raise, never get a 5xx (DynamoDB is healthy
here, so any 5xx would be the handler's bug), always carry a JSON body (204 aside) and always
the CORS headers with Vary: Origin.
"""
from __future__ import annotations

import base64
import json
import os

from events import ALLOWED_ORIGIN, api_event, body, header
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_label
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("HANDLER_FUZZ_EXAMPLES", "300"))
EXISTING = "00000000-0000-4000-8000-0000000000aa"

# one_of picks its branches evenly: served methods and item paths are repeated to get past routing.
served = st.sampled_from(["GET", "POST", "PUT", "DELETE"])
methods = st.one_of(
    served, served, served, served,
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "TRACE"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
)
segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), max_size=40)
ids = st.one_of(st.uuids().map(str), st.just(EXISTING), segment, st.uuids().map(lambda u: str(u).upper()))
paths = st.one_of(
    st.just("/items"), st.just("/items"), st.just("/items/"),
    ids.map(lambda i: f"/items/{i}"), ids.map(lambda i: f"/items/{i}"), ids.map(lambda i: f"/items/{i}"),
    st.lists(segment, min_size=0, max_size=4).map(lambda segs: "/" + "/".join(segs)),
    st.text(max_size=60),
)
ROUTES = [("/items", "GET"), ("/items", "POST"), ("/items/{id}", "GET"), ("/items/{id}", "PUT"), ("/items/{id}", "DELETE")]
routed = st.tuples(st.sampled_from(ROUTES), ids).map(lambda r: (r[0][1], r[0][0].replace("{id}", r[1])))
# Two thirds of the requests hit a served route (to get past routing), a third is anything.
requests = st.one_of(routed, routed, st.tuples(methods, paths))
header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=20)
header_values = st.text(max_size=80)
content_types = st.one_of(
    st.just("application/json"), st.just("application/json"), st.none(),
    st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "application/x+json",
                     "application/json; charset=iso-8859-1", "", "*/*", "application/JSON"]),
    header_values,
)
origins = st.one_of(st.none(), st.just(ALLOWED_ORIGIN), st.just("https://evil.example.com"), header_values)
if_match = st.one_of(st.none(), st.just("*"), st.integers(0, 5).map(lambda v: f'"{v}"'), header_values)
query_values = st.one_of(st.text(max_size=30), st.lists(st.text(max_size=30), min_size=1, max_size=3),
                         st.integers(-5, 200).map(str),
                         st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()))
queries = st.one_of(st.none(), st.dictionaries(st.sampled_from(["limit", "cursor", "foo", ""]) | st.text(max_size=10),
                                                query_values, max_size=4))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(json.dumps),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(json.dumps),
    st.binary(max_size=200),  # sent base64-encoded; mostly not UTF-8
    st.integers(60_000, 80_000).map(lambda n: '{"a": "' + "x" * n + '"}'),  # around MAX_BODY_BYTES
    st.just('{"a": "\udc80"}'),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
@given(call=requests, extra_headers=st.dictionaries(header_names, header_values, max_size=4),
       content_type=content_types, origin=origins, tag=if_match, query=queries, raw_body=bodies,
       encoding=st.sampled_from(["plain", "base64", "claims-base64"]))
def test_any_request_gets_a_sane_answer(api, call, extra_headers, content_type, origin, tag, query,
                                        raw_body, encoding):
    if api.store.get(EXISTING) is None:
        api.store.new_id = lambda: EXISTING
        api.store.create({"seed": True})
        api.store.new_id = lambda: str(__import__("uuid").uuid4())
    method, path = call
    headers = dict(extra_headers)
    if tag is not None:
        headers["If-Match"] = tag
    event = api_event(method, path, body=raw_body, headers=headers, query=query, origin=origin,
                      content_type=content_type, base64_body=encoding == "base64" and isinstance(raw_body, str))
    if encoding == "claims-base64" and isinstance(raw_body, str):
        event["isBase64Encoded"] = True  # says base64, is not (or only by chance)
    resp = api(event)
    event_label(f"status {resp['statusCode']}")

    assert isinstance(resp["statusCode"], int)
    assert resp["statusCode"] < 500, resp
    assert header(resp, "Vary") == "Origin"
    if origin == ALLOWED_ORIGIN:
        assert header(resp, "Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    else:
        assert header(resp, "Access-Control-Allow-Origin") is None
    if resp["statusCode"] == 204:
        assert not resp["body"]
        return
    data = body(resp)
    assert isinstance(data, dict)
    if resp["statusCode"] >= 400:
        assert set(data) == {"error", "requestId"} and set(data["error"]) == {"code", "message"}
    json.dumps(resp)  # what the Lambda runtime does with it
