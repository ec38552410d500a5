"""Nested records (what users post) flattened into a frame the validator reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from anno_core.errors import ValidationFailed
from anno_core.schemas import SchemaSpec

SYSTEM_KEYS = ("id", "created", "deleted", "superceded_id", "valid")


def records_to_frame(spec: SchemaSpec, records: Sequence[dict]) -> pd.DataFrame:
    """Flatten nested records into an object-dtype flat frame (one column per field)."""
    cols: dict[str, list[Any]] = {}
    keys = [f.path for f in spec.fields]
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ValidationFailed(
                f"Annotation {i + 1} is a {type(rec).__name__}, not a record; send a dict like "
                "{'pt': {'position': [x, y, z]}, ...}."
            )
    for f, path in zip(spec.fields, keys, strict=True):
        vals = [_lookup(r, path) for r in records]
        if any(v is not _MISSING for v in vals):
            cols[f.column] = [None if v is _MISSING else v for v in vals]
    extra = {k for r in records for k in r} - {p[0] for p in keys} - set(SYSTEM_KEYS)
    for k in sorted(map(str, extra)):
        cols[k] = [r.get(k) for r in records]
    if any("id" in r for r in records):
        cols["id"] = [r.get("id") for r in records]
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
    if frame.shape[0] != len(records):
        frame = frame.reindex(range(len(records)))
    return frame


class _Missing:
    pass


class BadShape:
    """A nested field given in the wrong shape (e.g. a list where {"position": ...} belongs)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return f"{self.value!r} (expected {{'position': [x, y, z]}})"


_MISSING = _Missing()


def _lookup(rec: dict, path: tuple[str, ...]) -> Any:
    cur: Any = rec
    for _i, key in enumerate(path):
        if not isinstance(cur, dict):
            # A point given as a bare list instead of {"position": [...]}: a shape error.
            return BadShape(cur) if cur is not None else _MISSING
        if key not in cur:
            return _MISSING
        cur = cur[key]
    return cur
