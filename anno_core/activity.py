"""The audit log as people read it: what each kind of entry is called, and its sentence.

Both backends hand out the same entries (`Backend.activity`): id, at, user, action, table,
count (rows touched), ids (the first few, for links), detail. This module only words them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from anno_core.errors import InvalidArgument

KINDS: dict[str, str] = {
    "post_annotation": "rows added",
    "update_annotation": "rows changed",
    "delete_annotation": "rows deleted",
    "track_target_id_updates": "references followed",
    "create_table": "table created",
    "update_metadata": "metadata changed",
    "delete_table": "table deleted",
}
"""Every action the engine logs, with the words the Activity page filters by."""

MAX_PAGE = 500
"""Most entries one page of the activity may hold."""

LINK_IDS = 20
"""How many of an entry's ids it carries for links (its count says how many it touched)."""

_FIELDS = {
    "description": "the description",
    "notice_text": "the notice",
    "read_permission": "who can read",
    "write_permission": "who can write",
    "user_id": "the owner",
    "flat_segmentation_source": "the segmentation source",
}


def rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def sentence(entry: dict[str, Any]) -> str:
    """One entry as a sentence: "alice added 14,836 rows to da1_synapses"."""
    who, table, n = entry.get("user") or "someone", entry.get("table"), entry.get("count") or 0
    detail = entry.get("detail") or {}
    action = entry.get("action")
    if action == "post_annotation":
        source = detail.get("source") if isinstance(detail, dict) else None
        return f"{who} added {rows(n)} to {table}" + (f" from {source}" if source else "")
    if action == "update_annotation":
        return f"{who} changed {rows(n)} of {table}"
    if action == "delete_annotation":
        return f"{who} deleted {rows(n)} of {table}"
    if action == "track_target_id_updates":
        because = detail.get("because_of", "another table")
        return f"{rows(n)} of {table} now point at the new rows {who} made in {because}"
    if action == "create_table":
        schema = detail.get("schema")
        return f"{who} created table {table}" + (f" (schema {schema})" if schema else "")
    if action == "delete_table":
        return f"{who} deleted table {table}"
    if action == "update_metadata":
        return _metadata_sentence(who, table, detail)
    return f"{who}: {action} on {table}"


def _metadata_sentence(who: str, table: Any, detail: dict[str, Any]) -> str:
    read = detail.get("read_permission")
    if read and set(detail) <= {"read_permission", "write_permission"}:
        level = {"PUBLIC": "public", "GROUP": "readable by its group", "PRIVATE": "private"}
        return f"{who} made {table} {level.get(read, read)}"
    changed = [_FIELDS.get(k, k.replace("_", " ")) for k in detail]
    return f"{who} changed {', '.join(changed) or 'the metadata'} of {table}"


def parse_day(value: Any, what: str, end: bool = False) -> datetime | None:
    """A date or ISO date-time as a UTC datetime (``end``: a date means up to its end)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        day = datetime(value.year, value.month, value.day)
        return day + timedelta(days=1) if end else day
    try:
        if isinstance(value, str) and len(value.strip()) == 10:
            return parse_day(date.fromisoformat(value.strip()), what, end)
        return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
    except ValueError as exc:
        raise InvalidArgument(f"{what} must be a date like 2025-03-01, not {value!r}.") from exc


def check_page(limit: Any, before: Any) -> tuple[int, int | None]:
    """A page size of 1..MAX_PAGE entries and an optional entry id to read below."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"A page of activity holds 1 to {MAX_PAGE} entries, not {limit!r}.")
    if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
        raise InvalidArgument(f"'before' must be an entry id, not {before!r}.")
    return limit, before


def check_kind(kind: str | None) -> str | None:
    """An action name of KINDS (or None: every kind)."""
    if kind in (None, ""):
        return None
    if kind not in KINDS:
        raise InvalidArgument(f"{kind!r} is no kind of activity; use one of {', '.join(KINDS)}.")
    return kind


PEOPLE_ELSEWHERE = (
    "People are managed on the annotation server's own machine, with 'python -m anno_core "
    "users ...' there, or on a dashboard that uses the server's database."
)


def activity_params(
    *,
    table: str | None = None,
    user: str | None = None,
    kind: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 50,
    before: int | None = None,
) -> dict[str, Any]:
    """`Backend.activity`'s filters, checked, as the query parameters of our audit route."""
    limit, before = check_page(limit, before)
    start, end = parse_day(since, "since"), parse_day(until, "until")
    return {
        "table": table or None,
        "user": user or None,
        "kind": check_kind(kind),
        # an end date stays a date: the server reads it as "up to the end of that day"
        "since": start.isoformat() if start else None,
        "until": (until.isoformat() if isinstance(until, date) else str(until)) if end else None,
        "limit": limit,
        "before": before,
    }
