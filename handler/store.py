"""Persist items in DynamoDB: create, read, list, replace and delete, each in one conditional request.

Item layout (partition key `id`, a string):
  id         S  server-made UUID4
  data       M  the client's JSON object (a map, so PUT replaces it in one UpdateItem and
                createdAt survives without a read-before-write)
  createdAt  S  ISO-8601 UTC, set once
  updatedAt  S  ISO-8601 UTC
  version    N  1 on create, +1 on each replace; the ETag is its value
  <TTL>      N  epoch seconds, now + TTL_DAYS, refreshed on every write; the name is TTL_ATTRIBUTE

DynamoDB deletes expired items lazily (hours to days late), so every read, list and
conditional write here treats an item whose TTL has passed as absent.
"""
from __future__ import annotations

import functools
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools import Tracer
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from errors import Conflict, NotFound, PreconditionFailed
from parsing import MATCH_ANY

tracer = Tracer()


def _traced(method):
    """An X-Ray subsegment `## ItemStore.<op>` around a store operation (Tracer also patches botocore,
    so each DynamoDB call inside gets its own subsegment).

    Not tracer.capture_method: it logs every exception at ERROR with a traceback, and 404/412
    are ordinary outcomes here. No-op when tracing is disabled (locally, in tests).
    """
    name = f"## ItemStore.{method.__name__}"

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if tracer.disabled:
            return method(*args, **kwargs)
        with tracer.provider.in_subsegment(name=name):
            return method(*args, **kwargs)

    return wrapper

# Per attempt at most 1 s to connect and 2 s to read, 3 attempts (standard mode, with backoff):
# well inside the function's timeout (10 s by default; API Gateway gives up at 29 s), so a
# slow DynamoDB ends as our 503/500 with CORS headers rather than as a Lambda timeout.
CLIENT_CONFIG = BotoConfig(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 3},
    tcp_keepalive=True,
)

MAX_SCAN_PAGES = 5  # a list request makes at most this many Scan calls: bounded latency and cost

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def make_client():
    """The one DynamoDB client of this container. boto3 honours AWS_ENDPOINT_URL(_DYNAMODB) itself."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ItemStore:
    """The items table. `clock` and `new_id` are injectable so tests can move time and force collisions."""

    def __init__(self, client, table_name: str, ttl_attribute: str, ttl_days: int, *, clock=time.time, new_id=None):
        self.client = client
        self.table = table_name
        self.ttl = ttl_attribute
        self.ttl_seconds = ttl_days * 86400
        self.clock = clock
        self.new_id = new_id or (lambda: str(uuid.uuid4()))

    # -- conversion between DynamoDB items and the API's JSON objects --------------------------

    def to_api(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB item as the API shows it: the client's fields plus the managed ones."""
        body = _deserialize(raw["data"]) if "data" in raw else {}
        body["id"] = raw["id"]["S"]
        body["createdAt"] = raw["createdAt"]["S"]
        body["updatedAt"] = raw["updatedAt"]["S"]
        body["version"] = int(raw["version"]["N"])
        if self.ttl in raw:
            body[self.ttl] = int(Decimal(raw[self.ttl]["N"]))
        return body

    def _live(self, raw: dict[str, Any] | None, now: float) -> bool:
        """Present and not past its TTL (G8: TTL deletion is lazy)."""
        if not raw:
            return False
        ttl = raw.get(self.ttl)
        return ttl is None or "N" not in ttl or Decimal(ttl["N"]) > int(now)

    def _live_condition(self) -> str:
        return "attribute_exists(#id) AND (attribute_not_exists(#ttl) OR #ttl > :now)"

    @staticmethod
    def _version_condition(if_match: str | frozenset[int] | None, values: dict) -> str:
        """The If-Match part of a condition: '' for none or '*', else `#version IN (...)`."""
        if if_match is None or if_match == MATCH_ANY:
            return ""
        versions = sorted(if_match) or [-1]  # no usable tag: a version that never exists -> 412
        names = []
        for i, v in enumerate(versions):
            values[f":v{i}"] = {"N": str(v)}
            names.append(f":v{i}")
        return " AND #version IN (" + ", ".join(names) + ")"

    def _failed_write(self, exc: ClientError, now: float, item_id: str):
        """Turn a ConditionalCheckFailed into 404 (absent or expired) or 412 (version mismatch)."""
        old = exc.response.get("Item")
        if not self._live(old, now):
            raise NotFound(f"item {item_id} does not exist") from None
        raise PreconditionFailed(
            f"item {item_id} is at version {old['version']['N']}; If-Match does not match",
            headers={"ETag": f'"{old["version"]["N"]}"'},
        ) from None

    # -- operations ----------------------------------------------------------------------------

    @_traced
    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        stamp = _iso(now)
        item = {
            "id": {"S": self.new_id()},
            "data": _serialize(data),
            "createdAt": {"S": stamp},
            "updatedAt": {"S": stamp},
            "version": {"N": "1"},
            self.ttl: {"N": str(int(now) + self.ttl_seconds)},
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(f"an item with id {item['id']['S']} already exists") from None
            raise
        return self.to_api(item)

    @_traced
    def get(self, item_id: str) -> dict[str, Any] | None:
        # Strongly consistent: a client that just wrote must read its own ETag back.
        raw = self.client.get_item(TableName=self.table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
        return self.to_api(raw) if self._live(raw, self.clock()) else None

    @_traced
    def list(self, limit: int, start_id: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` live items in table order, and the id to continue from (None at the end).

        Scan's Limit counts items before the TTL filter, so one page can come back short; scan on
        with Limit = what is still missing, for at most MAX_SCAN_PAGES calls.
        """
        now = int(self.clock())
        items: list[dict[str, Any]] = []
        start = {"id": {"S": start_id}} if start_id else None
        for _ in range(MAX_SCAN_PAGES):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Limit": limit - len(items),
                "FilterExpression": "attribute_not_exists(#ttl) OR #ttl > :now",
                "ExpressionAttributeNames": {"#ttl": self.ttl},
                "ExpressionAttributeValues": {":now": {"N": str(now)}},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.client.scan(**kwargs)
            items.extend(self.to_api(raw) for raw in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start or len(items) >= limit:
                break
        return items, (start["id"]["S"] if start else None)

    @_traced
    def replace(self, item_id: str, data: dict[str, Any], if_match) -> dict[str, Any]:
        """Replace the client's fields of a live item, bump version, refresh updatedAt and TTL."""
        now = self.clock()
        values = {
            ":data": _serialize(data),
            ":stamp": {"S": _iso(now)},
            ":one": {"N": "1"},
            ":expires": {"N": str(int(now) + self.ttl_seconds)},
            ":now": {"N": str(int(now))},
        }
        condition = self._live_condition() + self._version_condition(if_match, values)
        try:
            out = self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": item_id}},
                UpdateExpression="SET #data = :data, #updatedAt = :stamp, #version = #version + :one, #ttl = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#id": "id", "#data": "data", "#updatedAt": "updatedAt", "#version": "version", "#ttl": self.ttl,
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                # One round trip also on failure: the old item tells 404 from 412.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                self._failed_write(exc, now, item_id)
            raise
        return self.to_api(out["Attributes"])

    @_traced
    def delete(self, item_id: str, if_match) -> None:
        now = self.clock()
        values = {":now": {"N": str(int(now))}}
        names = {"#id": "id", "#ttl": self.ttl}
        condition = self._live_condition() + self._version_condition(if_match, values)
        if ":v0" in values:
            names["#version"] = "version"
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"id": {"S": item_id}},
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                self._failed_write(exc, now, item_id)
            raise
