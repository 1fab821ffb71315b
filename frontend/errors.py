"""The errors a client sees, typed with their HTTP status and OpenAI's error type; every layer raises them and
frontend.api.errors renders them as the one error body. No web stack here, so text can be read without it."""
from __future__ import annotations


class APIError(Exception):
    """An error the client should see, with its HTTP status."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.param, self.code, self.headers = message, param, code, headers


class InvalidRequest(APIError):
    pass


class Unauthorized(APIError):
    status, type = 401, "authentication_error"


class NotFound(APIError):
    status = 404


class PayloadTooLarge(APIError):
    status = 413


class TooManyRequests(APIError):
    status, type = 429, "rate_limit_error"


class BackendUnavailable(APIError):
    status, type = 503, "server_error"


class BackendTimeout(APIError):
    status, type = 504, "server_error"
