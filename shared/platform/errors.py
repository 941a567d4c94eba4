"""The ServiceError tree: every expected failure, mapped by the HTTP adapter to the error envelope."""

from __future__ import annotations


class ServiceError(Exception):
    """A failure the caller can act on; `code` and `message` form the contract's error envelope."""

    status = 500
    code = "internal_error"
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.fields = dict(fields or {})
        if code:
            self.code = code

    def headers(self) -> dict[str, str]:
        """Extra response headers this error carries (e.g. Retry-After)."""
        return {}

    def envelope(self) -> dict:
        """The body the contract documents: {"error", "message"}, plus the operation's own fields if any."""
        return {"error": self.code, "message": self.message, **self.fields}


class BadRequest(ServiceError):
    status, code, default_message = 400, "bad_request", "The request is not valid"


class ValidationFailed(BadRequest):
    code = "validation_error"


class Unauthorized(ServiceError):
    status, code, default_message = 401, "unauthorized", "Authentication is required"


class Forbidden(ServiceError):
    status, code, default_message = 403, "forbidden", "You are not allowed to do this"


class NotFound(ServiceError):
    status, code, default_message = 404, "not_found", "Not found"


class MethodNotAllowed(ServiceError):
    status, code, default_message = 405, "method_not_allowed", "Method not allowed"


class Conflict(ServiceError):
    status, code, default_message = 409, "conflict", "The resource was changed or already exists"


class PreconditionFailed(ServiceError):
    status, code, default_message = 412, "precondition_failed", "The resource changed since it was read"


class PayloadTooLarge(ServiceError):
    status, code, default_message = 413, "payload_too_large", "The request body is too large"


class UnsupportedMediaType(ServiceError):
    status, code, default_message = 415, "unsupported_media_type", "The request body's media type is not accepted"


class TooManyRequests(ServiceError):
    status, code, default_message = 429, "rate_limited", "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class BadGateway(ServiceError):
    status, code, default_message = 502, "bad_gateway", "An upstream provider failed"


class ServiceUnavailable(ServiceError):
    status, code, default_message = 503, "service_unavailable", "The service is not available"
