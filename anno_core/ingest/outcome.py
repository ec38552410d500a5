"""What checking an upload found, and what pressing Upload would send or what stops it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anno_core.validation.report import ValidationReport


@dataclass(frozen=True)
class CheckResult:
    """What checking found: the whole report, the rows as they would be stored, and counts."""

    report: ValidationReport
    frame: pd.DataFrame
    lines: np.ndarray

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def unmapped(self) -> list[str]:
        """Required fields that have no column yet (a step to do, not a fault of the file)."""
        errors = self.report.errors
        missing = errors[errors["kind"] == "missing_column"]
        return [str(c) for c in dict.fromkeys(missing["column"])]

    @property
    def waiting(self) -> bool:
        """Whether the only thing left is to choose columns for required fields."""
        errors = self.report.errors
        return bool(len(errors)) and bool((errors["kind"] == "missing_column").all())

    def todo(self) -> str:
        """What to do next when `waiting`: which fields still need a column."""
        names = self.unmapped
        quoted = ", ".join(f"'{n}'" for n in names)
        field = "field" if len(names) == 1 else "fields"
        return (
            f"Choose a column of your file for the required {field} {quoted} (in the "
            "table of fields above); then every row is checked."
        )

    @property
    def bad_lines(self) -> np.ndarray:
        """Line numbers of the rows with at least one error."""
        return self.lines[self.report.bad_rows] if len(self.lines) else self.lines

    def summary(self) -> str:
        """One sentence: ready to upload, or what is wrong."""
        if self.ok:
            warn = len(self.report.warnings)
            extra = f", with {warn:,} warning{'s' if warn != 1 else ''} to read" if warn else ""
            rows = f"All {len(self.frame):,} rows are" if len(self.frame) != 1 else "The row is"
            return f"{rows} valid{extra}; ready to upload."
        if self.waiting:
            return self.todo()
        return self.report.describe()


@dataclass(frozen=True)
class Submission:
    """What pressing Upload does (`UploadPlan.submission`): the plan to send (for an update,
    only the rows that change), how many rows are left out as unchanged, and the reasons,
    as sentences, that stop it (none: it may be sent)."""

    send: Any  # an UploadPlan
    unchanged: int = 0
    blockers: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def rows(self) -> int:
        """How many rows would be sent."""
        return int(self.send.data.rows)
