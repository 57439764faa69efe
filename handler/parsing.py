"""Turn the untrusted parts of a request into checked values, or raise the fitting 4xx ApiError.

Covers the item id, the JSON body (content type, size, encoding, shape, what DynamoDB can
store), the list query (limit, cursor) and If-Match. Nothing here talks to AWS.
"""
from __future__ import annotations

import base64
import binascii
import decimal
import json
import re
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT

from errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_DEPTH = 31  # DynamoDB nests 32 levels; the client's object is itself one level (the `data` map)
MAX_IF_MATCH_TAGS = 20
MATCH_ANY = "*"

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ETAG = re.compile(r'^"([0-9]{1,18})"$')
_LIMIT = re.compile(r"^[0-9]{1,3}$")


def item_id(raw: str) -> str:
    """Ids are the server's lower-case UUIDs; anything else cannot name an item."""
    if not _UUID.match(raw):
        raise BadRequest("the item id must be a lower-case UUID", code="INVALID_ID")
    return raw


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _exact_in_json(value: decimal.Decimal) -> bool:
    """True when the answers give the number back unchanged: integers are emitted exactly, the rest
    as a float (app._decimal), whose shortest repr must read back as the same number."""
    return value == value.to_integral_value() or decimal.Decimal(repr(float(value))) == value


def _check_value(value: Any, depth: int) -> None:
    """Walk the decoded JSON once: what DynamoDB refuses becomes a 400 here, not a 500 later."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # lone surrogates from \\ud800 escapes cannot be sent to DynamoDB
        except UnicodeEncodeError:
            raise BadRequest("strings must be valid Unicode", code="INVALID_ITEM") from None
    elif isinstance(value, decimal.Decimal):
        try:
            DYNAMODB_CONTEXT.create_decimal(value)  # 38 digits, 1E-130 .. 9.99E+125, same check boto3 makes
        except decimal.DecimalException:
            raise BadRequest("numbers must fit DynamoDB: at most 38 significant digits, "
                             "magnitude between 1E-130 and 9.99E+125", code="INVALID_ITEM") from None
        if not _exact_in_json(value):
            raise BadRequest("numbers with a fractional part must be exact as a 64-bit float (about 15 "
                             "significant digits), or the answers would return another number; send more "
                             "precise values as strings", code="INVALID_ITEM")
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise BadRequest(f"the item nests deeper than {MAX_DEPTH} levels", code="INVALID_ITEM")
        for key, inner in value.items():
            if not key:
                raise BadRequest("object keys must not be empty", code="INVALID_ITEM")
            _check_value(key, depth)
            _check_value(inner, depth + 1)
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise BadRequest(f"the item nests deeper than {MAX_DEPTH} levels", code="INVALID_ITEM")
        for inner in value:
            _check_value(inner, depth + 1)


def _media_type_ok(content_type: str | None) -> bool:
    if not content_type:
        return False
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def json_object(body: Any, is_base64: Any, content_type: str | None, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object with Decimal numbers, checked in the order 415, 413, 400."""
    if not _media_type_ok(content_type):
        raise UnsupportedMediaType("send the body as Content-Type: application/json (UTF-8)")
    if body is None or body == "":
        raise BadRequest("the request needs a JSON object body", code="INVALID_JSON")
    if not isinstance(body, str):
        raise BadRequest("the request body is not text", code="INVALID_JSON")
    # Cheap checks first: a str of n characters is at least n bytes, base64 carries 3 bytes per 4.
    if len(body) * (3 / 4 if is_base64 is True else 1) > max_bytes + 3:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    if is_base64 is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64", code="INVALID_JSON") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("the body is not valid UTF-8", code="INVALID_JSON") from None
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8", code="INVALID_JSON") from None
    try:
        value = json.loads(text, parse_float=decimal.Decimal, parse_int=decimal.Decimal,
                           parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON", code="INVALID_JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object", code="NOT_AN_OBJECT")
    _check_value(value, 0)
    return value


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"give `{name}` at most once", code="INVALID_QUERY")
    return values[0]


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """A cursor is opaque to clients; here it is base64url JSON {"id": <uuid>}, checked strictly."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True))
        if isinstance(data, dict) and set(data) == {"id"} and isinstance(data["id"], str) and _UUID.match(data["id"]):
            return data["id"]
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        pass
    raise BadRequest("`cursor` is not a cursor this API returned", code="INVALID_QUERY")


def list_query(params: dict[str, list[str]]) -> tuple[int, str | None]:
    """`limit` (1..100, default 25) and the optional `cursor`; other parameters are ignored."""
    raw_limit = _single(params, "limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not _LIMIT.match(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"`limit` must be an integer from 1 to {MAX_LIMIT}", code="INVALID_QUERY")
        limit = int(raw_limit)
    raw_cursor = _single(params, "cursor")
    return limit, (decode_cursor(raw_cursor) if raw_cursor is not None else None)


def if_match(header: str | None) -> str | frozenset[int] | None:
    """None (no header), MATCH_ANY for `*`, else the versions named by strong tags.

    Weak tags (W/"3") never match under If-Match's strong comparison (RFC 9110 13.1.1) and
    unparseable ones cannot match either: they yield an empty set, which the store turns into 412.
    """
    if header is None:
        return None
    header = header.strip()
    if header == MATCH_ANY:
        return MATCH_ANY
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if not tags:
        raise BadRequest("If-Match is empty", code="INVALID_HEADER")
    if len(tags) > MAX_IF_MATCH_TAGS:
        raise BadRequest(f"If-Match lists more than {MAX_IF_MATCH_TAGS} entity tags", code="INVALID_HEADER")
    versions = set()
    for tag in tags:
        m = _ETAG.match(tag)
        if m:
            versions.add(int(m.group(1)))
    return frozenset(versions)
