"""One exception tree for everything `anno_core` refuses.

    AnnoError                       (400, kind "bad_request")
     +-- InvalidName                400  a table / volume / user name breaks the rule
     +-- InvalidArgument            400  an argument has the wrong value or shape
     +-- TableExists                409
     +-- NotFound                   404
     |    +-- TableNotFound
     |    +-- SchemaNotFound
     |    +-- AnnotationNotFound
     |    +-- UserNotFound
     |    +-- VersionNotFound
     +-- ValidationFailed           422  carries a row-level ValidationReport
     +-- NotAuthenticated           401
     +-- PermissionDenied           403
     +-- AlreadySuperseded          409
     +-- Conflict                   409
     +-- TooManyAnnotations         413
     +-- TooManyAttempts            429  failed sign-ins: wait before trying again
     +-- RemoteError                502  what a server said, when it fits nothing above
     +-- NotSupported               501  this backend cannot do that (a real CAVE cannot
                                         page rows, count a filtered view, list users...)

    AnnoWarning (a UserWarning)     what a read says beside its answer (a moment before the
                                    table existed: no rows, and why)

Every message is one plain sentence saying what is wrong and how to fix it. Outside
exceptions (sqlite3, SQLAlchemy, marshmallow, requests) are translated at the boundary
with ``raise ... from exc`` and never reach the caller.
"""

from __future__ import annotations

from typing import Any


class AnnoError(Exception):
    """Base of every refusal; ``status`` is the HTTP status, ``kind`` a stable short name."""

    status: int = 400
    kind: str = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The JSON error body our REST server sends (built only here)."""
        body: dict[str, Any] = {"error": self.kind, "message": self.message}
        report = self.details.get("report")
        if report is not None:
            body["report"] = report.to_dict()
        return body


class InvalidName(AnnoError):
    kind = "invalid_name"


class InvalidArgument(AnnoError):
    kind = "invalid_argument"


class TableExists(AnnoError):
    status = 409
    kind = "table_exists"


class NotFound(AnnoError):
    status = 404
    kind = "not_found"


class TableNotFound(NotFound):
    kind = "table_not_found"


class SchemaNotFound(NotFound):
    kind = "schema_not_found"


class AnnotationNotFound(NotFound):
    kind = "annotation_not_found"


class UserNotFound(NotFound):
    kind = "user_not_found"


class VersionNotFound(NotFound):
    kind = "version_not_found"


class ValidationFailed(AnnoError):
    status = 422
    kind = "validation_failed"

    @property
    def report(self) -> Any:
        return self.details.get("report")


class NotAuthenticated(AnnoError):
    status = 401
    kind = "not_authenticated"


class PermissionDenied(AnnoError):
    status = 403
    kind = "permission_denied"


class AlreadySuperseded(AnnoError):
    status = 409
    kind = "already_superseded"


class Conflict(AnnoError):
    status = 409
    kind = "conflict"


class TooManyAnnotations(AnnoError):
    status = 413
    kind = "too_many_annotations"


class TooManyAttempts(AnnoError):
    status = 429
    kind = "too_many_attempts"


class RemoteError(AnnoError):
    status = 502
    kind = "remote_error"


class NotSupported(AnnoError):
    """A `Backend` method this backend cannot carry out; callers show the sentence and
    offer what is possible instead (the Edit page asks for ids on a CAVE server)."""

    status = 501
    kind = "not_supported"


ERROR_KINDS: dict[str, type[AnnoError]] = {
    cls.kind: cls
    for cls in (
        AnnoError,
        InvalidName,
        InvalidArgument,
        TableExists,
        NotFound,
        TableNotFound,
        SchemaNotFound,
        AnnotationNotFound,
        UserNotFound,
        VersionNotFound,
        ValidationFailed,
        NotAuthenticated,
        PermissionDenied,
        AlreadySuperseded,
        Conflict,
        TooManyAnnotations,
        TooManyAttempts,
        RemoteError,
        NotSupported,
    )
}


class AnnoWarning(UserWarning):
    """A sentence a read says beside its answer (``warnings.warn``), e.g. that a table did
    not exist yet at the moment asked, so it had no rows."""
