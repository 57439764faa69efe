"""The API fits API Gateway's resources per API and the stack fits CloudFormation's resources per template.

API Gateway allows 300 resources (path segments) per REST API by default, and CloudFormation 500
resources per template; either is only found out at deploy time otherwise. Each path segment is an
AWS::ApiGateway::Resource, each route method an AWS::ApiGateway::Method, and a segment with methods
also gets its OPTIONS preflight; each of the alarm topic's subscriptions is one more. FIXED_RESOURCES
is the most the rest of the template holds (every switch on, alarms and dashboard too, 4 AZs);
tests/render renders that spec and checks the figure.
"""
from __future__ import annotations

from typing import Any, Iterator

from blueprint.spec.model import path_prefixes

SECTIONS = ("api", "alarms")
RESOURCES_PER_API = 300  # API Gateway's default quota (adjustable per API)
RESOURCES_PER_TEMPLATE = 500  # CloudFormation's limit
FIXED_RESOURCES = 55


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    routes = d["api"]["routes"]
    paths = {prefix for route in routes for prefix in path_prefixes(route["path"])}
    with_methods = {route["path"] for route in routes}
    if len(paths) > RESOURCES_PER_API:
        yield ("api", "routes"), (f"the routes make {len(paths)} API Gateway resources (path segments), more than its "
                                  f"{RESOURCES_PER_API} per API (allowed: fewer paths, or a quota raise and a change here)")
    notify = d["alarms"]["notify"]
    subscriptions = len(notify["emails"]) + len(notify["https"])
    stack = (FIXED_RESOURCES + subscriptions + len(paths) + len(with_methods)
             + sum(len(route["methods"]) for route in routes))
    if stack > RESOURCES_PER_TEMPLATE:
        yield ("api", "routes"), (f"the routes make the template hold up to {stack} resources, more than "
                                  f"CloudFormation's {RESOURCES_PER_TEMPLATE} (allowed: fewer paths or methods)")
