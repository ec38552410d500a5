"""What an update file would change: its rows compared with the stored annotations they name.

A CSV with an ``id`` column can update the annotations it names. `diff_update` (called as
`UploadPlan.diff_update()`, with the plan's client, table, schema and frame) reads the
stored rows of those ids and compares every mapped field, typed as the engine would store it
(positions scaled to the table's resolution), with what is stored: the rows that differ and
how (one line per changed cell, old -> new), the rows that are the same (they are not sent:
an update gives a new id, so sending an unchanged row would only bury its history), and, as
report errors naming the CSV line, the ids that are not in the table or are no longer live
(deleted, or replaced by a newer version, which is named). Fields without a column in the
file are not compared: the engine keeps their stored values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anno_core.common import CHUNK
from anno_core.ingest.versions import REPLACED, annotation_state
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import ValidationReport, validate_frame

CHANGE_COLUMNS = ["line", "id", "field", "old", "new"]


@dataclass(frozen=True)
class UpdateDiff:
    """Which rows of an update file change what, which are unchanged, which cannot apply."""

    rows: int
    changed: np.ndarray  # one bool per file row: it differs from the stored annotation
    changes: pd.DataFrame  # line, id, field, old, new: one per changed cell
    report: ValidationReport  # ids that are unknown or no longer live (errors)

    @property
    def n_changed(self) -> int:
        return int(self.changed.sum())

    @property
    def n_unchanged(self) -> int:
        return self.rows - self.n_changed - len(self.report.bad_rows)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def field_counts(self) -> dict[str, int]:
        """Changed rows per field."""
        return {str(k): int(v) for k, v in self.changes["field"].value_counts().items()}

    def summary(self) -> str:
        """One sentence: how many rows change which fields, and what is left alone."""
        if not self.ok:
            return self.report.describe()
        if self.n_changed == 0:
            return "Every row is the same as the stored annotation: there is nothing to update."
        fields = ", ".join(f"{f} in {n:,}" for f, n in self.field_counts().items())
        text = (
            f"{self.n_changed:,} of {self.rows:,} rows change ({fields}): each changed "
            "annotation gets a new id and its old version is kept as superseded"
        )
        if self.n_unchanged:
            text += f"; {self.n_unchanged:,} rows are the same as stored and are not sent"
        return text + "."


def stored_rows(client: Any, table: str, ids: list[int], volume: str | None = None) -> pd.DataFrame:
    """The stored rows (any state) with these ids, indexed by id."""
    parts = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        parts.append(
            client.query_annotations(
                table, ids=part, limit=len(part), include_invalid=True, aligned_volume_name=volume
            )
        )
    parts = [p for p in parts if len(p)] or parts[:1]  # no empty reads in the concat
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"id": []})
    return frame.set_index(frame["id"].astype(np.int64), drop=False)


def diff_update(
    client: Any,
    table: str,
    volume: str | None,
    spec: SchemaSpec,
    frame: pd.DataFrame,
    lines: np.ndarray,
) -> UpdateDiff:
    """Compare an update file's rows (``frame``, as the engine takes them, with the file's
    ``lines``) with the annotations of ``table`` they name (see the module docstring)."""
    n = len(frame)
    checked = validate_frame(spec, frame, update=True, lines=lines)
    report = ValidationReport(rows=n)
    changed = np.zeros(n, dtype=bool)
    if checked.ids is None:
        return UpdateDiff(n, changed, pd.DataFrame(columns=CHANGE_COLUMNS), report)
    ids = checked.ids
    has_id = ids.notna().to_numpy()
    wanted = sorted({int(i) for i in ids[has_id]})
    old = stored_rows(client, table, wanted, volume)
    id_text = pd.Series(ids.astype(object))
    found = has_id & id_text.isin(set(old.index.tolist())).to_numpy()
    report.add(
        "unknown_id",
        "id",
        has_id & ~found,
        id_text,
        f"no annotation with this id in table '{table}'; an update names "
        "an annotation that exists (to add new rows, upload as new annotations)",
        lines,
    )
    live = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(found)
    if rows.size:
        matched = old.loc[ids[found].astype(np.int64).to_numpy()]
        states = [
            annotation_state(s, v, d)
            for s, v, d in zip(
                matched["superceded_id"],
                matched["valid"],
                matched["deleted"] if "deleted" in matched else [None] * len(matched),
                strict=True,
            )
        ]
        live[rows[np.array([s.live for s in states], dtype=bool)]] = True
        message = pd.Series([""] * n, dtype=object)
        message.iloc[rows] = [
            f"annotation {int(i)} was replaced by a newer version, id {s.replaced_by}: update "
            "that one instead"
            if s.kind == REPLACED
            else f"annotation {int(i)} was deleted; deleted annotations cannot be updated"
            for i, s in zip(matched.index, states, strict=True)
        ]
        report.add("not_live", "id", found & ~live, id_text, message, lines)
    take = np.flatnonzero(live)
    base = old.loc[ids[live].astype(np.int64).to_numpy()]
    changes = []
    for f in spec.user_fields:
        columns = [c for c in f.storage_columns if c in checked.columns]
        if not columns or not all(c in base.columns for c in columns):
            continue
        differs = np.zeros(len(take), dtype=bool)
        for c in columns:
            differs |= _differs(
                np.asarray(checked.columns[c], dtype=object)[take]
                if not _numeric(checked.columns[c])
                else np.asarray(checked.columns[c], dtype=np.float64)[take],
                base[c].to_numpy(),
            )
        if not differs.any():
            continue
        rows_f = take[differs]
        changed[rows_f] = True
        changes.append(
            pd.DataFrame(
                {
                    "line": lines[rows_f],
                    "id": ids.iloc[rows_f].astype(np.int64).to_numpy(),
                    "field": f.column,
                    "old": _shown(base.iloc[np.flatnonzero(differs)], columns),
                    "new": _shown_new(checked.columns, columns, rows_f),
                }
            )
        )
    frame = (
        pd.concat(changes, ignore_index=True)
        .sort_values(["line", "field"], kind="stable")
        .reset_index(drop=True)
        if changes
        else pd.DataFrame(columns=CHANGE_COLUMNS)
    )
    return UpdateDiff(n, changed, frame, report)


def _numeric(values: Any) -> bool:
    dtype = getattr(values, "dtype", None)
    return dtype is not None and (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    )


def _differs(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """True where two cells differ; two blanks are the same, numbers to 1e-9 relative."""
    if new.dtype == np.float64:
        o = pd.to_numeric(pd.Series(old), errors="coerce").to_numpy(np.float64)
        both_blank = np.isnan(new) & np.isnan(o)
        with np.errstate(invalid="ignore"):
            close = np.isclose(new, o, rtol=1e-9, atol=1e-9)
        return ~(close | both_blank)
    a = pd.Series(new, dtype=object)
    b = pd.Series(old, dtype=object)
    a_blank, b_blank = a.isna().to_numpy(), b.isna().to_numpy()
    same = (a.where(~a_blank, None) == b.where(~b_blank, None)).to_numpy(dtype=bool)
    return ~((a_blank & b_blank) | (same & ~a_blank & ~b_blank))


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "(empty)"
    if isinstance(v, float | np.floating):
        return f"{float(v):.10g}"
    return str(v)


def _shown(rows: pd.DataFrame, columns: list[str]) -> list[str]:
    if len(columns) == 1:
        return [_fmt(v) for v in rows[columns[0]].tolist()]
    trios = zip(*(rows[c].tolist() for c in columns), strict=True)
    return ["[" + ", ".join(_fmt(v) for v in t) + "]" for t in trios]


def _shown_new(typed: dict, columns: list[str], rows: np.ndarray) -> list[str]:
    vals = [np.asarray(typed[c], dtype=object)[rows].tolist() for c in columns]
    if len(columns) == 1:
        return [_fmt(v) for v in vals[0]]
    return ["[" + ", ".join(_fmt(v) for v in t) + "]" for t in zip(*vals, strict=True)]
