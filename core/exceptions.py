"""Domain errors. Services raise these; interfaces translate them.

Each carries a stable machine `code`, a human `message`, and optional
per-field messages; the API's exception handler turns them into
`{code, message, fields}` with the class's HTTP status.
"""


class DomainError(Exception):
    """A business rule refused the request (HTTP 422)."""

    status_code = 422
    default_code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input is malformed or inconsistent (HTTP 400)."""

    status_code = 400
    default_code = "invalid"


class NotFound(DomainError):
    """The object does not exist or the caller may not know it exists (HTTP 404)."""

    status_code = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The object is in a state that does not allow this, or it already exists (HTTP 409)."""

    status_code = 409
    default_code = "conflict"


class PermissionDenied(DomainError):
    """The caller is not allowed to do this (HTTP 403)."""

    status_code = 403
    default_code = "permission_denied"
