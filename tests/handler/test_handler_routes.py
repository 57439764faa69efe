"""The items API's happy paths through lambda_handler, against moto's DynamoDB."""
from __future__ import annotations

import re

from handler_testing import TTL_ATTRIBUTE
from events import ALLOWED_ORIGIN, api_event, body, header

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
EXPECTED_ROUTES = [
    ("/items", "GET"), ("/items", "POST"),
    ("/items/{id}", "GET"), ("/items/{id}", "PUT"), ("/items/{id}", "DELETE"),
]


def assert_cors(resp, origin=ALLOWED_ORIGIN):
    assert header(resp, "Vary") == "Origin"
    assert header(resp, "Access-Control-Allow-Origin") == origin
    assert "PUT" in header(resp, "Access-Control-Allow-Methods")
    assert "If-Match" in header(resp, "Access-Control-Allow-Headers")
    assert "ETag" in header(resp, "Access-Control-Expose-Headers")


def create(api, data=None):
    resp = api(api_event("POST", "/items", body=data if data is not None else {"name": "widget"}))
    assert resp["statusCode"] == 201, resp
    return body(resp)


def test_routes_are_what_the_resolver_serves(handler_app):
    assert handler_app.ROUTES == EXPECTED_ROUTES
    served = {(r.openapi_path, r.method) for r in handler_app.app._static_routes + handler_app.app._dynamic_routes}
    assert set(handler_app.ROUTES) == served


def test_create_returns_201_location_etag_and_managed_fields(api):
    resp = api(api_event("POST", "/items", body={"name": "widget", "price": 9.5, "tags": ["a", "b"], "n": 3}))
    assert resp["statusCode"] == 201
    item = body(resp)
    assert re.fullmatch(r"[0-9a-f-]{36}", item["id"])
    assert header(resp, "Location") == f"/v1/items/{item['id']}"
    assert header(resp, "ETag") == '"1"'
    assert header(resp, "Content-Type") == "application/json"
    assert item["name"] == "widget" and item["price"] == 9.5 and item["tags"] == ["a", "b"] and item["n"] == 3
    assert item["version"] == 1
    assert ISO_UTC.match(item["createdAt"]) and item["createdAt"] == item["updatedAt"]
    assert_cors(resp)


def test_create_sets_ttl_now_plus_days(api):
    api.store.clock = lambda: 1_800_000_000.25
    item = create(api)
    assert item[TTL_ATTRIBUTE] == 1_800_000_000 + 30 * 86400
    raw = api.dynamodb.get_item(TableName="items-test", Key={"id": {"S": item["id"]}})["Item"]
    assert raw[TTL_ATTRIBUTE] == {"N": str(1_800_000_000 + 30 * 86400)}
    assert item["createdAt"] == "2027-01-15T08:00:00.250Z"


def test_create_ignores_client_sent_managed_fields(api):
    item = create(api, {"id": "mine", "version": 99, "createdAt": "x", TTL_ATTRIBUTE: 1, "name": "n"})
    assert item["id"] != "mine" and item["version"] == 1 and item["createdAt"] != "x"
    assert item[TTL_ATTRIBUTE] > 1


def test_get_returns_item_with_etag(api):
    item = create(api, {"name": "ü ☃", "nested": {"deep": [1, {"x": None, "t": True}]}, "big": 12345678901234567890})
    resp = api(api_event("GET", f"/items/{item['id']}"))
    assert resp["statusCode"] == 200
    assert body(resp) == item
    assert header(resp, "ETag") == '"1"'
    assert_cors(resp)


def test_get_missing_is_404(api):
    resp = api(api_event("GET", "/items/00000000-0000-4000-8000-000000000000"))
    assert resp["statusCode"] == 404
    assert body(resp)["error"]["code"] == "NOT_FOUND"
    assert_cors(resp)


def test_put_replaces_fields_bumps_version_keeps_created(api):
    item = create(api, {"name": "a", "old": 1})
    later = __import__("time").time() + 86400
    api.store.clock = lambda: later
    resp = api(api_event("PUT", f"/items/{item['id']}", body={"name": "b"}, headers={"If-Match": '"1"'}))
    assert resp["statusCode"] == 200
    new = body(resp)
    assert new["name"] == "b" and "old" not in new
    assert new["version"] == 2 and header(resp, "ETag") == '"2"'
    assert new["createdAt"] == item["createdAt"] and new["updatedAt"] != item["updatedAt"]
    assert new[TTL_ATTRIBUTE] == int(later) + 30 * 86400  # TTL refreshed on write
    assert body(api(api_event("GET", f"/items/{item['id']}"))) == new
    assert_cors(resp)


def test_put_without_if_match_is_unconditional(api):
    item = create(api)
    resp = api(api_event("PUT", f"/items/{item['id']}", body={"name": "c"}))
    assert resp["statusCode"] == 200 and body(resp)["version"] == 2


def test_put_if_match_star_and_lists(api):
    item = create(api)
    assert api(api_event("PUT", f"/items/{item['id']}", body={}, headers={"If-Match": "*"}))["statusCode"] == 200
    resp = api(api_event("PUT", f"/items/{item['id']}", body={}, headers={"If-Match": '"7", "2"'}))
    assert resp["statusCode"] == 200 and header(resp, "ETag") == '"3"'


def test_put_missing_is_404(api):
    resp = api(api_event("PUT", "/items/00000000-0000-4000-8000-000000000000", body={"a": 1}))
    assert resp["statusCode"] == 404 and body(resp)["error"]["code"] == "NOT_FOUND"


def test_delete_is_204_then_404(api):
    item = create(api)
    resp = api(api_event("DELETE", f"/items/{item['id']}", headers={"If-Match": '"1"'}))
    assert resp["statusCode"] == 204
    assert not resp["body"]
    assert_cors(resp)
    assert api(api_event("GET", f"/items/{item['id']}"))["statusCode"] == 404
    assert api(api_event("DELETE", f"/items/{item['id']}"))["statusCode"] == 404


def test_list_paginates_with_opaque_cursor(api):
    ids = {create(api, {"i": i})["id"] for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        resp = api(api_event("GET", "/items", query=query))
        assert resp["statusCode"] == 200, resp
        page = body(resp)
        assert len(page["items"]) <= 3
        seen += [it["id"] for it in page["items"]]
        cursor = page["nextCursor"]
        pages += 1
        assert_cors(resp)
        if not cursor:
            break
        assert pages < 10
    assert sorted(seen) == sorted(ids)


def test_list_default_limit_and_empty_table(api):
    resp = api(api_event("GET", "/items"))
    assert resp["statusCode"] == 200
    assert body(resp) == {"items": [], "nextCursor": None}


def test_expired_items_are_absent_from_get_list_put_delete(api):
    live = create(api, {"k": "live"})
    api.store.clock = lambda: 1_000_000_000.0  # far in the past: this item's TTL is long gone by "now"
    old = create(api, {"k": "old"})
    api.store.clock = __import__("time").time
    assert api(api_event("GET", f"/items/{old['id']}"))["statusCode"] == 404
    listed = [it["id"] for it in body(api(api_event("GET", "/items")))["items"]]
    assert listed == [live["id"]]
    assert api(api_event("PUT", f"/items/{old['id']}", body={"a": 1}))["statusCode"] == 404
    assert api(api_event("DELETE", f"/items/{old['id']}"))["statusCode"] == 404
    # still physically there: DynamoDB deletes lazily
    assert "Item" in api.dynamodb.get_item(TableName="items-test", Key={"id": {"S": old["id"]}})


def test_list_fills_a_page_past_expired_items(api):
    # Scan returns items in key order: four expired ids sort before the two live ones, so a Scan
    # with Limit=2 finds nothing live on its first two pages. One request must still fill the page.
    ids = iter([f"0000000{i}-0000-4000-8000-000000000000" for i in range(4)]
               + [f"f000000{i}-0000-4000-8000-000000000000" for i in range(2)])
    api.store.new_id = lambda: next(ids)
    api.store.clock = lambda: 1_000_000_000.0
    for i in range(4):
        create(api, {"expired": i})
    api.store.clock = __import__("time").time
    live = [create(api, {"live": i})["id"] for i in range(2)]
    resp = api(api_event("GET", "/items", query={"limit": "2"}))
    assert resp["statusCode"] == 200, resp
    assert [it["id"] for it in body(resp)["items"]] == live


def test_base64_encoded_body_is_accepted(api):
    resp = api(api_event("POST", "/items", body='{"name": "b64"}', base64_body=True))
    assert resp["statusCode"] == 201 and body(resp)["name"] == "b64"


def test_json_suffix_content_type_and_charset(api):
    ev = api_event("POST", "/items", body={"a": 1}, content_type="application/vnd.items+json; charset=UTF-8")
    assert api(ev)["statusCode"] == 201


def test_header_names_are_case_insensitive(api):
    item = create(api)
    ev = api_event("PUT", f"/items/{item['id']}", body={"a": 1}, content_type=None,
                   headers={"content-type": "application/json", "if-match": '"9"'})
    assert api(ev)["statusCode"] == 412


def test_cors_disallowed_origin_gets_only_vary(api):
    resp = api(api_event("GET", "/items", origin="https://evil.example.com"))
    assert resp["statusCode"] == 200
    assert header(resp, "Vary") == "Origin"
    assert header(resp, "Access-Control-Allow-Origin") is None


def test_cors_second_allowed_origin_is_echoed(api):
    resp = api(api_event("GET", "/items", origin="https://app.example.com"))
    assert header(resp, "Access-Control-Allow-Origin") == "https://app.example.com"


def test_cors_without_origin_still_varies(api):
    resp = api(api_event("GET", "/items", origin=None))
    assert header(resp, "Vary") == "Origin" and header(resp, "Access-Control-Allow-Origin") is None


def test_options_preflight_is_answered_locally(api):
    resp = api(api_event("OPTIONS", "/items/00000000-0000-4000-8000-000000000000",
                         headers={"Access-Control-Request-Method": "PUT"}))
    assert resp["statusCode"] == 204
    assert header(resp, "Access-Control-Max-Age") == "600"
    assert header(resp, "Allow") == "DELETE, GET, PUT, OPTIONS"
    assert_cors(resp)


def test_trailing_slash_and_stage_path(api):
    assert api(api_event("GET", "/items/"))["statusCode"] == 200
