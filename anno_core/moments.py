"""Moments in a table's life: parsing what callers pass as a timestamp, and the wire format.

Every moment is handled as a naive UTC `datetime` (as the engine stores its stamps): an
aware datetime is converted to UTC, a naive one is taken as UTC (as caveclient does), text is
ISO 8601 (``2024-02-01T08:00:00``, with or without an offset or ``Z``), a number is Unix
seconds. Anything else is refused with one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from anno_core.errors import InvalidArgument


def parse_moment(value: Any, what: str = "timestamp") -> datetime | None:
    """``value`` as a naive UTC datetime (None stays None), or a refusal naming ``what``."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime") and not isinstance(value, datetime | date):
        value = value.to_pydatetime()  # a pandas Timestamp that is not a datetime subclass
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise InvalidArgument(f"The {what} {value!r} is not a moment; {_HOW}.")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidArgument(f"The {what} {value!r} is not a moment; {_HOW}.")
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return parse_moment(datetime.fromisoformat(text), what)
        except ValueError:
            pass
    raise InvalidArgument(f"The {what} {value!r} is not a moment; {_HOW}.")


_HOW = "give a datetime or ISO text like '2024-02-01T08:00:00' (UTC unless it names an offset)"


def wire(moment: datetime | None) -> str | None:
    """A moment as the ISO text that travels (always with microseconds, no offset: UTC)."""
    return None if moment is None else moment.isoformat(timespec="microseconds")


def shown(moment: datetime) -> str:
    """A moment as people read it: ``2024-02-01 08:00:00.123456 UTC``."""
    return moment.isoformat(sep=" ", timespec="microseconds") + " UTC"


@dataclass(frozen=True)
class Moment:
    """The moment a read or an export represents: a timestamp, the version that named it
    (if any), or None for "now" (the live rows)."""

    timestamp: datetime | None = None
    version: str | None = None

    def label(self) -> str:
        """How files and pages name it: ``version v1 (2024-...)``, a date, or ``now``."""
        if self.timestamp is None:
            return "now (the live rows)"
        if self.version is not None:
            return f"version {self.version} ({shown(self.timestamp)})"
        return shown(self.timestamp)
