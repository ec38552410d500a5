"""The row-level validation report: every problem as (line, column, value, message)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from anno_core.errors import ValidationFailed
from anno_core.validation.kinds import check_kind, problem_label

REPORT_COLUMNS = ["line", "column", "value", "message", "kind", "severity", "row"]


@dataclass
class ValidationReport:
    """Every problem found: (line, column, value, message), counts by kind, and warnings."""

    rows: int = 0
    _parts: list[pd.DataFrame] = field(default_factory=list, repr=False)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    line_label: str = "line"

    def add(
        self,
        kind: str,
        column: str,
        mask: np.ndarray | None,
        values: pd.Series | Callable[[np.ndarray], pd.Series] | None,
        message: str | pd.Series,
        lines: np.ndarray,
        severity: str = "error",
    ) -> None:
        """Record one problem for every row where ``mask`` is true (or one for the column).

        ``kind`` must be registered in `anno_core.validation.kinds` (ValueError if not)."""
        check_kind(kind)
        if mask is None:
            part = pd.DataFrame(
                {
                    "line": [pd.NA],
                    "column": [column],
                    "value": [""],
                    "message": [message],
                    "kind": [kind],
                    "severity": [severity],
                    "row": [pd.NA],
                }
            )
        else:
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                return
            if values is None:
                vals = pd.Series([""] * idx.size)
            elif callable(values):  # computed for the flagged rows only (cheap on big frames)
                vals = values(idx)
            else:
                vals = values.iloc[idx]
            msg = message.iloc[idx].to_numpy() if isinstance(message, pd.Series) else message
            part = pd.DataFrame(
                {
                    "line": lines[idx],
                    "column": column,
                    "value": _show(vals),
                    "message": msg,
                    "kind": kind,
                    "severity": severity,
                    "row": idx,
                }
            )
        self._parts.append(part)
        self._frame = None

    @property
    def frame(self) -> pd.DataFrame:
        """All problems and warnings, ordered by line, as a DataFrame."""
        if self._frame is None:
            if self._parts:
                df = pd.concat(self._parts, ignore_index=True)
                df = df.sort_values(["row", "column"], na_position="first", kind="stable")
                self._frame = df.reset_index(drop=True)
            else:
                self._frame = pd.DataFrame(columns=REPORT_COLUMNS)
        return self._frame

    @property
    def errors(self) -> pd.DataFrame:
        f = self.frame
        return f[f["severity"] == "error"].reset_index(drop=True)

    @property
    def warnings(self) -> pd.DataFrame:
        f = self.frame
        return f[f["severity"] == "warning"].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        return self.errors.empty

    @property
    def bad_rows(self) -> np.ndarray:
        """0-based positions of the rows that have at least one error."""
        rows = self.errors["row"].dropna()
        return np.unique(rows.to_numpy(dtype=np.int64))

    def counts(self) -> dict[str, int]:
        """Number of problems by kind (errors and warnings)."""
        return {str(k): int(v) for k, v in self.frame["kind"].value_counts().items()}

    def by_kind(self) -> pd.DataFrame:
        """One row per (severity, kind): its label, how many, the first line; errors first."""
        counts = (
            self.frame.groupby(["severity", "kind"], sort=False)
            .agg(rows=("kind", "size"), first=("line", "min"))
            .reset_index()
        )
        counts["problem"] = [problem_label(k) for k in counts["kind"]]
        counts = counts.sort_values(["severity", "rows"], ascending=[True, False])
        return counts[["problem", "severity", "rows", "first", "kind"]]

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, rows: int, line_label: str = "line"
    ) -> ValidationReport:
        """A report holding the problems of ``frame`` (columns as in `REPORT_COLUMNS`)."""
        for kind in frame["kind"].unique():
            check_kind(str(kind))
        rep = cls(rows=rows, line_label=line_label)
        if len(frame):
            rep._parts.append(frame[REPORT_COLUMNS].reset_index(drop=True))
        return rep

    def merge(self, other: ValidationReport) -> None:
        self._parts.extend(other._parts)
        self._frame = None

    def to_csv(self) -> str:
        """The whole report as CSV text (for a download)."""
        buf = io.StringIO()
        self.frame.drop(columns=["row"]).to_csv(buf, index=False)
        return buf.getvalue()

    def to_dict(self, limit: int = 1000) -> dict[str, Any]:
        """A JSON-able summary: counts and the first ``limit`` problems."""
        f = self.frame.head(limit).drop(columns=["row"])
        records = f.astype(object).where(f.notna(), None).to_dict(orient="records")
        return {
            "rows": self.rows,
            "counts": self.counts(),
            "problems": records,
            "total": int(len(self.frame)),
        }

    def describe(self, limit: int = 3) -> str:
        """One or two sentences summing up the errors, naming the first few."""
        errs = self.errors
        if errs.empty:
            return "No problems found."
        shown = []
        for rec in errs.head(limit).itertuples(index=False):
            where = f"{self.line_label} {rec.line}, " if not pd.isna(rec.line) else ""
            # "column 'y' is empty" reads as one sentence; other messages follow a colon
            sep = " " if str(rec.message).startswith(("is ", "are ")) else ": "
            shown.append(f"{where}column '{rec.column}'{sep}{rec.message}")
        more = len(errs) - len(shown)
        rows = len(self.bad_rows)
        head = (
            f"{rows:,} of {self.rows:,} row{'s' if self.rows != 1 else ''} "
            f"{'has' if rows == 1 else 'have'} problems"
            if rows
            else "The data has problems"
        )
        tail = f" (and {more:,} more problem{'s' if more != 1 else ''})" if more > 0 else ""
        listed = "; ".join(shown)
        return f"{head}, nothing was stored: {listed}{tail}. Fix them and try again."

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise ValidationFailed(self.describe(), report=self)


def refusal(
    kind: str, message: str, line: int | None = None, column: str = "", value: str = ""
) -> ValidationFailed:
    """A ValidationFailed for a whole file or request, carrying a one-problem report."""
    rep = ValidationReport(rows=0)
    lines = np.array([line], dtype=object)
    if line is None:
        rep.add(kind, column, None, None, message, lines)
    else:
        rep.add(kind, column, np.array([True]), pd.Series([value]), message, lines)
    return ValidationFailed(message, report=rep)


def _show(values: pd.Series) -> np.ndarray:
    out = values.astype(object).map(_short)
    return out.to_numpy()


def _short(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "" if v is None else "nan"
    if isinstance(v, np.ndarray):
        v = v.tolist()
    text = str(v)
    return text if len(text) <= 200 else text[:197] + "..."
