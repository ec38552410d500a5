"""What a server's refusal means: the matching AnnoError, with its report rebuilt.

Two error forms come back. Our server answers with a real status and
``{"error": kind, "message": sentence}`` (plus ``report`` for 422); a real CAVE server wraps
almost everything as HTTP 500 with ``{"code", "message", "traceback"}``, the message often
starting with the status it meant ("400 Bad Request: Table foo already exists"). Both become
the matching `AnnoError` subclass carrying the server's own words; a traceback never does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import requests

from anno_core.errors import (
    ERROR_KINDS,
    AlreadySuperseded,
    AnnoError,
    Conflict,
    InvalidArgument,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RemoteError,
    TableExists,
    TableNotFound,
    TooManyAnnotations,
    ValidationFailed,
)
from anno_core.validation.kinds import known_kind
from anno_core.validation.validator import ValidationReport

_WRAPPED = re.compile(r"^\s*(\d{3})\s+[A-Za-z][A-Za-z ]*?:\s*(.*)$", re.DOTALL)

_BY_STATUS: dict[int, type[AnnoError]] = {
    400: InvalidArgument,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: TooManyAnnotations,
    422: ValidationFailed,
}


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?")) else text + "."


def error_from_response(
    r: requests.Response, server: str, row_of_line: dict[Any, int] | None = None
) -> AnnoError:
    """The AnnoError a refusal stands for; ``row_of_line`` maps report lines to rows."""
    try:
        body = r.json()
    except ValueError:
        body = None
    if (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
    ):
        cls = ERROR_KINDS.get(body["error"])
        if cls is not None:
            if cls is ValidationFailed and isinstance(body.get("report"), dict):
                report = report_from_dict(body["report"], row_of_line)
                return ValidationFailed(body["message"], report=report)
            return cls(body["message"])
    message = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]  # a real CAVE server: {code, message, traceback}
    elif isinstance(body, str):
        message = body
    status = r.status_code
    if message is not None:
        wrapped = _WRAPPED.match(message)
        if wrapped:
            status, message = int(wrapped.group(1)), wrapped.group(2)
    if message is None or not message.strip():
        message = (r.text or "").strip()[:300] or r.reason or "no explanation"
    if 300 <= r.status_code < 400:
        return RemoteError(
            f"The annotation server at {server} answered with a redirect to "
            f"{r.headers.get('Location', 'another page')}; check the server address and "
            "the token (a redirect usually means a login page)."
        )
    return _classify(status, message, server, r.status_code)


def _classify(status: int, message: str, server: str, http_status: int) -> AnnoError:
    low = message.lower()
    if "supersed" in low or "superced" in low:
        return AlreadySuperseded(_sentence(message))
    if "already exists" in low and "table" in low:
        return TableExists(_sentence(message))
    if status == 404 and "table" in low:
        return TableNotFound(_sentence(message))
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(_sentence(message))
    return RemoteError(
        f"The annotation server at {server} failed (HTTP {http_status}): {_sentence(message)}"
    )


def report_from_dict(data: dict[str, Any], row_of_line: dict[Any, int] | None) -> ValidationReport:
    """A ValidationReport rebuilt from its JSON form (``ValidationReport.to_dict``)."""
    problems = [p for p in data.get("problems") or [] if isinstance(p, dict)]
    rows_of = row_of_line or {}
    rows = [rows_of.get(p.get("line")) if p.get("line") is not None else None for p in problems]
    known = [r for r in rows if r is not None]
    n = max([int(data.get("rows") or 0), *(r + 1 for r in known)] or [0])
    rep = ValidationReport(rows=n)
    groups: dict[tuple, list[tuple[int | None, dict]]] = {}
    for row, p in zip(rows, problems, strict=True):
        key = (
            known_kind(p.get("kind")),  # a kind this version does not know: "problem"
            p.get("column", ""),
            p.get("message", ""),
            p.get("severity", "error"),
        )
        groups.setdefault(key, []).append((row, p))
    for (kind, column, message, severity), items in groups.items():
        at_rows = [(r, p) for r, p in items if r is not None]
        for r, p in items:
            if r is None:
                rep.add(
                    kind, column, None, None, message, np.array([p.get("line")]), severity=severity
                )
        if not at_rows:
            continue
        mask = np.zeros(n, dtype=bool)
        values = pd.Series([""] * n, dtype=object)
        lines = np.empty(n, dtype=object)
        for r, p in at_rows:
            mask[r] = True
            values.iat[r] = p.get("value", "")
            lines[r] = p.get("line")
        rep.add(kind, column, mask, values, message, lines, severity=severity)
    return rep


def lines_index(lines: Sequence[Any], offset: int) -> dict[Any, int]:
    """Line number -> row position (first occurrence), rows counted from ``offset``."""
    out: dict[Any, int] = {}
    for i, line in enumerate(lines):
        key = line.item() if isinstance(line, np.generic) else line
        out.setdefault(key, offset + i)
    return out
