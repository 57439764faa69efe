"""The API's error vocabulary: one exception per HTTP error status, and the JSON body they all share.

Routes and the store raise these; app.py turns any of them into
`{"error": {"code": ..., "message": ...}, "requestId": ...}` with the status and headers below.
"""
from __future__ import annotations


class ApiError(Exception):
    """An error the client sees as is: status, a stable machine-readable code, a message for people."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "BAD_REQUEST"


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status, code = 405, "METHOD_NOT_ALLOWED"


class Conflict(ApiError):
    status, code = 409, "CONFLICT"


class PreconditionFailed(ApiError):
    status, code = 412, "PRECONDITION_FAILED"


class PayloadTooLarge(ApiError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class ServiceUnavailable(ApiError):
    status, code = 503, "SERVICE_UNAVAILABLE"


def error_body(code: str, message: str, request_id: str | None) -> dict:
    return {"error": {"code": code, "message": message}, "requestId": request_id}
