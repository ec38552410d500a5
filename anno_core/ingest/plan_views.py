"""What the Upload page asks of an `UploadPlan` beyond checking and storing: the upload key
and what earlier uploads with it stored, the rows an update sends, what stops an upload, where
the points land against the table's or the volume's, and the stored ids joined to the file.

A mixin of `plan.UploadPlan` (a frozen dataclass), which gives it ``client``, ``volume``,
``table_name``, ``data``, ``mapping``, ``update`` and the resolutions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from anno_core.errors import NotSupported
from anno_core.ingest.extent import Extent, ExtentCheck, compare_bounds, compare_extents
from anno_core.ingest.outcome import CheckResult, Submission
from anno_core.ingest.results import result_table, table_csv
from anno_core.ingest.stored import UploadRecord
from anno_core.ingest.update_diff import UpdateDiff, diff_update
from anno_core.validation.report import ValidationReport


class PlanViews:
    """The Upload page's questions to a plan (mixed into `UploadPlan`)."""

    # Provided by UploadPlan.
    client: Any
    table_name: str
    volume: str
    spec: Any
    table_resolution: tuple[float, float, float]
    annotation_resolution: tuple[float, float, float] | None
    data: Any
    mapping: Any
    update: bool
    frame: Any

    def upload_key(self, digest: str, attempt: int = 1) -> str:
        """The idempotency key of storing the file with this digest in this table and mode.

        The engine remembers a committed key, so a second commit with it (a double click, a
        reload, another tab) returns the stored ids and writes nothing. ``attempt`` 2, 3...
        name a deliberate new upload of the same rows (each again stored once only)."""
        mode = "update" if self.update else "insert"
        parts = ["anno-upload-1", self.volume, self.table_name, mode, digest]
        if attempt > 1:
            parts.append(f"again-{int(attempt)}")
        raw = "\x00".join(parts)
        return "upload-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def upload_record(self, upload_key: str) -> UploadRecord | None:
        """What an earlier upload with this key stored, when, by whom, and what became of
        its rows; None if none (or if the backend cannot say: a real CAVE)."""
        try:
            got = self.client.backend.upload_record(
                self.volume,
                self.table_name,
                upload_key,
                rows=self.data.rows,
                update=self.update,
            )
        except NotSupported:
            return None
        return None if got is None else UploadRecord.of(got)

    def past_uploads(self, digest: str, most: int = 20) -> list[tuple[str, UploadRecord]]:
        """Every stored upload of this file into this table and mode (its first, then each
        deliberate new one), oldest first, with its key."""
        out = []
        for attempt in range(1, most + 1):
            key = self.upload_key(digest, attempt)
            record = self.upload_record(key)
            if record is None:
                break
            out.append((key, record))
        return out

    def stored(self, upload_key: str) -> list[int] | dict[int, int] | None:
        """What an earlier commit with ``upload_key`` stored; None if none (or unknown:
        a server does not say, but still stores a key's rows only once)."""
        try:
            return self.client.backend.upload_result(self.volume, self.table_name, upload_key)
        except NotSupported:
            return None  # the server still stores a key's rows only once

    def subset(self, rows: Sequence[int] | np.ndarray) -> Any:
        """The same plan for some rows only (0-based positions), keeping their line numbers."""
        take = np.asarray(rows, dtype=np.int64)
        data = replace(
            self.data,
            table=self.data.table.take(take),
            lines=self.data.lines[take],
            notes=ValidationReport(rows=len(take)),
        )
        return replace(self, data=data)

    def diff_update(self) -> UpdateDiff:
        """For an update: which rows change which fields (an `UpdateDiff`)."""
        return diff_update(
            self.client, self.table_name, self.volume, self.spec, self.frame(), self.data.lines
        )

    def submission(
        self, check: CheckResult, diff: UpdateDiff | None = None, *, may_write: bool = True
    ) -> Submission:
        """What pressing Upload would send and, as sentences for the upload page (whose step
        5 lists the problems), what stops it: no right to write, rows with problems, ids
        that cannot be updated (``diff`` None: not worked out), or nothing to update. An
        update sends only the rows that change."""
        blockers = []
        if not may_write:
            blockers.append(f"You may not write to table '{self.table_name}'.")
        if check.waiting:
            blockers.append(check.todo())
        elif not check.ok:
            blockers.append(
                "Fix the problems listed in step 5 first: nothing is stored while any row has "
                "a problem."
            )
        if self.update and check.ok:
            if diff is None or not diff.ok:
                blockers.append("Some rows name annotations that cannot be updated (step 5).")
            elif diff.n_changed == 0:
                blockers.append("No row differs from what is stored: there is nothing to update.")
            else:
                send = self.subset(diff.changed.nonzero()[0])
                return Submission(send, diff.n_unchanged, tuple(blockers))
        return Submission(self, 0, tuple(blockers))

    def compare_extents(self, new: Extent | None, existing: Extent | None) -> ExtentCheck | None:
        """The file's points' extent (nm) against the table's (nm), naming a likely mistake."""
        return compare_extents(
            new,
            existing,
            file_resolution=self.annotation_resolution or self.table_resolution,
            table_resolution=self.table_resolution,
        )

    def compare_with_volume(
        self, new: Extent | None, volume: Mapping[str, Any] | None
    ) -> ExtentCheck | None:
        """For a table without points yet: the file's extent (nm) against the aligned
        volume's (`AnnotationClient.get_volume_extent`): its other tables' points, then the
        bounds an admin set."""
        if not volume:
            return None
        reading = {
            "file_resolution": self.annotation_resolution or self.table_resolution,
            "table_resolution": self.table_resolution,
        }
        found = None
        if volume.get("points"):
            found = compare_extents(
                new,
                volume["points"],
                against="the points of the other tables in this aligned volume",
                **reading,
            )
        if (found is None or found.ok) and volume.get("bounds"):
            return compare_bounds(new, volume["bounds"], **reading) or found
        return found

    def result_table(
        self, result: list[int] | dict[int, int], states: Mapping[int, str] | None = None
    ) -> pa.Table:
        """The stored ids joined to the file: line, id (and new_id for updates), the state
        of each stored id (live, deleted, replaced by N) when ``states`` are given, then the
        file's columns."""
        return result_table(self.data, self.mapping, result, states)

    def result_frame(
        self, result: list[int] | dict[int, int], states: Mapping[int, str] | None = None
    ) -> pd.DataFrame:
        """`result_table` as a DataFrame (ids as nullable integers)."""
        table = self.result_table(result, states)
        return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)

    def result_csv(
        self, result: list[int] | dict[int, int], upload_key: str | None = None
    ) -> bytes:
        """`result_table` as CSV bytes, for a download; with ``upload_key``, each id's
        state as it is now (asked when the download is made)."""
        record = self.upload_record(upload_key) if upload_key else None
        states = record.states() if record is not None else None
        return table_csv(self.result_table(result, states))
