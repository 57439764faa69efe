"""CORS headers for every response the function returns, errors and 500s included (R6).

Why not Powertools' CORSConfig: in 3.37.0 it adds no header at all when the Origin is absent
or not allowed and never adds `Vary: Origin`, so a shared cache could hand one origin's
response (with its Access-Control-Allow-Origin) to another; and it only touches responses that
went through a route, not the ones built after an unexpected failure. So the handler applies
this policy once, to the final response dict, in app.lambda_handler.
"""
from __future__ import annotations

from collections.abc import Iterable

# Same lists as the spec's api.cors (blueprint.yaml) and the API's OPTIONS preflight.
ALLOW_HEADERS = "Content-Type,X-Api-Key,Authorization,If-Match"
# Browsers only let scripts read these response headers when they are exposed.
EXPOSE_HEADERS = "ETag,Location,Retry-After"
MAX_AGE_SECONDS = "600"


class CorsPolicy:
    def __init__(self, allowed_origins: Iterable[str], methods: Iterable[str]):
        origins = frozenset(allowed_origins)
        self.any_origin = "*" in origins
        self.origins = origins - {"*"}
        self.allow_methods = ",".join(sorted(set(methods) | {"OPTIONS"}))

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and (self.any_origin or origin in self.origins)

    def headers(self, origin: str | None) -> dict[str, str]:
        """Vary: Origin always (the answer depends on it); the rest only for an allowed origin, echoed."""
        if not self.allows(origin):
            return {"Vary": "Origin"}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": self.allow_methods,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
            "Vary": "Origin",
        }

    def apply(self, response: dict, origin: str | None) -> dict:
        """Add the headers to a Lambda proxy response dict (multiValueHeaders, as Powertools builds it)."""
        multi = response.setdefault("multiValueHeaders", {})
        for name, value in self.headers(origin).items():
            multi[name] = [value]
        return response
