"""CSV upload in steps a page can show: read, map, check, commit (in the background).

    plan = open_upload(client, "my_table", uploaded_bytes, name="cells.csv")
    plan.mapping                      # proposal: field -> column (or x, y, z columns)
    plan = plan.remap({"pt_position": ("X", "Y", "Z")})     # the user changed it
    plan = plan.with_resolution([8, 8, 40])                  # the file's voxel size in nm
    check = plan.check()              # report (file notes + mapping + every row), frame
    task = plan.start(upload_key=...)  # a thread; task.done/total/state/result/error
    ids = plan.commit(progress=cb)    # or the same in the foreground
    key = plan.upload_key(file_digest(raw))  # same file, table, mode: same key
    plan.stored(key)                  # what an earlier commit with that key stored, or None
    plan.diff_update()                # updates: which rows change how (anno_core.update_diff)
    plan.subset(rows).start(key)      # commit only some rows (the changed ones)
    go = plan.submission(check, diff, may_write=True)  # what Upload sends, what stops it
    plan.result_csv(ids)              # ids joined to the file's lines, for a download

Every step returns plain objects and never touches a UI; `ingest_csv` does all of it in one
call (the benchmark path: file to committed rows without a Python loop per row).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from anno_core.common import CHUNK, Progress
from anno_core.errors import NotSupported, ValidationFailed
from anno_core.ingest import ng_import
from anno_core.ingest.csvio import CsvData, read_csv
from anno_core.ingest.extent import Extent, ExtentCheck, compare_extents
from anno_core.ingest.frames import csv_frame, scale_factor
from anno_core.ingest.mapping import ColumnMapping, Source, check_mapping, propose_mapping
from anno_core.ingest.outcome import CheckResult, Submission
from anno_core.ingest.results import result_table, table_csv
from anno_core.ingest.update_diff import UpdateDiff, diff_update
from anno_core.ingest.upload_task import UploadTask
from anno_core.schemas import AXES, SchemaSpec, schema_spec
from anno_core.validation.validator import ValidationReport, validate_frame

__all__ = ["CheckResult", "Submission", "UploadPlan", "UploadTask", "file_digest", "open_upload"]


def file_digest(raw: bytes) -> str:
    """The SHA-256 of a file's bytes (hex): what makes two uploads 'the same file'."""
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class UploadPlan:
    """A file read and mapped onto one table; `check` and `commit` use the current mapping."""

    client: Any
    table_name: str
    volume: str
    spec: SchemaSpec
    table_resolution: tuple[float, float, float]
    data: CsvData
    mapping: ColumnMapping
    update: bool = False
    annotation_resolution: tuple[float, float, float] | None = None
    reference_table: str | None = None

    # -- what a page shows -----------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return self.data.columns

    def preview(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` rows as text, indexed by line number."""
        return self.data.head(n)

    def mapping_report(self) -> ValidationReport:
        """Problems of the current mapping (errors block the upload; ignored columns warn)."""
        return check_mapping(
            self.mapping,
            self.columns,
            self.spec,
            update=self.update,
            duplicates=self.data.duplicates,
        )

    def remap(self, changes: Mapping[str, Source]) -> UploadPlan:
        """The same plan with some fields taken from other columns."""
        return replace(self, mapping=self.mapping.with_changes(changes, self.columns))

    def with_resolution(self, annotation_resolution: Sequence[float] | None) -> UploadPlan:
        """The same plan with the file's voxel resolution (nm) for scaling, or None."""
        res = (
            None
            if annotation_resolution is None
            else tuple(float(v) for v in annotation_resolution)
        )
        scale_factor(res, self.table_resolution)  # refuses bad values now, not at commit
        return replace(self, annotation_resolution=res)  # type: ignore[arg-type]

    # -- checking and storing --------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """The rows as the engine will take them (canonical columns, positions scaled)."""
        factor = scale_factor(self.annotation_resolution, self.table_resolution)
        return csv_frame(self.data, self.spec, self.mapping, factor)

    def check(self) -> CheckResult:
        """Validate every row (and the mapping, and reference targets) without storing."""
        report = ValidationReport(rows=self.data.rows, line_label="line")
        report.merge(self.data.notes)
        mapping = self.mapping_report()
        report.merge(mapping)
        frame = self.frame()
        if mapping.ok:
            checked = validate_frame(
                self.spec, frame, update=self.update, lines=self.data.lines, ignored=()
            )
            report.merge(checked.report)
            if report.ok and self.spec.is_reference and "target_id" in checked.columns:
                report.merge(self._targets(checked.columns["target_id"]))
        return CheckResult(report=report, frame=frame, lines=self.data.lines)

    def commit(
        self, progress: Progress | None = None, upload_key: str | None = None
    ) -> list[int] | dict[int, int]:
        """Store every row in one transaction (or nothing); ids, or {old: new} for updates."""
        mapping = self.mapping_report()
        notes = ValidationReport(rows=self.data.rows)
        notes.merge(self.data.notes)
        notes.merge(mapping)
        if not mapping.ok:
            raise ValidationFailed(mapping.describe(), report=notes)
        frame = self.frame()
        backend = self.client.backend
        if self.update:
            return backend.update_frame(
                self.volume,
                self.table_name,
                frame,
                lines=self.data.lines,
                progress=progress,
                upload_key=upload_key,
            )
        return backend.insert_frame(
            self.volume,
            self.table_name,
            frame,
            lines=self.data.lines,
            line_label="line",
            progress=progress,
            upload_key=upload_key,
            prior=notes,
        )

    def start(self, upload_key: str | None = None) -> UploadTask:
        """`commit` in a background thread; poll the task for progress and the result."""
        task = UploadTask(total=self.data.rows)
        task.thread = threading.Thread(
            target=task.run, args=(self, upload_key), name=f"upload-{self.table_name}", daemon=True
        )
        task.thread.start()
        return task

    # -- what the upload page needs beyond checking and storing ------------------------
    def upload_key(self, digest: str) -> str:
        """The idempotency key of storing the file with this digest in this table and mode.

        The engine remembers a committed key, so a second commit with it (a double click, a
        reload, another tab) returns the stored ids and writes nothing."""
        mode = "update" if self.update else "insert"
        raw = "\x00".join(("anno-upload-1", self.volume, self.table_name, mode, digest))
        return "upload-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def stored(self, upload_key: str) -> list[int] | dict[int, int] | None:
        """What an earlier commit with ``upload_key`` stored; None if none (or unknown:
        a server does not say, but still stores a key's rows only once)."""
        try:
            return self.client.backend.upload_result(self.volume, self.table_name, upload_key)
        except NotSupported:
            return None  # the server still stores a key's rows only once

    def subset(self, rows: Sequence[int] | np.ndarray) -> UploadPlan:
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
        if not check.ok:
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

    def result_table(self, result: list[int] | dict[int, int]) -> pa.Table:
        """The stored ids joined to the file: line, id (and new_id for updates), its columns."""
        return result_table(self.data, self.mapping, result)

    def result_frame(self, result: list[int] | dict[int, int]) -> pd.DataFrame:
        """`result_table` as a DataFrame (ids as nullable integers)."""
        return self.result_table(result).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)

    def result_csv(self, result: list[int] | dict[int, int]) -> bytes:
        """`result_table` as CSV bytes, for a download."""
        return table_csv(self.result_table(result))

    def _targets(self, targets: Any) -> ValidationReport:
        """Target ids that do not exist in the reference table, as report rows."""
        rep = ValidationReport(rows=self.data.rows)
        s = pd.Series(targets).astype(object)
        wanted = sorted({int(v) for v in s.dropna()})
        found: set[int] = set()
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            rows = self.client.query_annotations(
                self.reference_table, ids=part, limit=len(part), include_invalid=True
            )
            found.update(int(i) for i in rows["id"])
        missing = set(wanted) - found
        if missing:
            rep.add(
                "unknown_target",
                "target_id",
                s.isin(missing).to_numpy(),
                s,
                f"no annotation with this id in the reference table '{self.reference_table}'",
                self.data.lines,
            )
        return rep


def open_upload(
    client: Any,
    table_name: str,
    source: Any,
    *,
    name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: Mapping[str, Source] | None = None,
    update: bool = False,
    annotation_resolution: Sequence[float] | None = None,
    aligned_volume_name: str | None = None,
    layer: str | None = None,
) -> UploadPlan:
    """Read ``source`` (a CSV file as path, bytes or file; or a Neuroglancer state, link or
    JSON, whose annotation ``layer`` is read) for ``table_name`` and propose a mapping."""
    volume = client._vol(aligned_volume_name)
    meta = client.get_table_metadata(table_name, aligned_volume_name=volume)
    spec = schema_spec(meta["schema_type"])
    resolution = tuple(float(meta[f"voxel_resolution_{a}"]) for a in AXES)
    if isinstance(source, CsvData):
        data = source
    elif ng_import.looks_like_state(source):  # positions come in the table's voxels
        data = ng_import.read_state(source, resolution, layer=layer, name=name)
    else:
        data = read_csv(source, encoding=encoding, delimiter=delimiter, name=name)
    proposal = propose_mapping(data.columns, spec, update=update)
    if data.encoding == ng_import.ENCODING:  # a layer's ends feed the schema's points
        unset = ng_import.suggest_mapping(spec, data.columns)
        unset = {k: v for k, v in unset.items() if proposal.fields.get(k) is None}
        if unset:
            proposal = proposal.with_changes(unset, data.columns)
            why = {k: "the layer's positions" for k in unset}
            proposal = replace(proposal, how={**proposal.how, **why})
    if mapping:
        proposal = proposal.with_changes(mapping, data.columns)
    plan = UploadPlan(
        client=client,
        table_name=table_name,
        volume=volume,
        spec=spec,
        table_resolution=resolution,  # type: ignore[arg-type]
        data=data,
        mapping=proposal,
        update=update,
        reference_table=meta.get("reference_table"),
    )
    return plan.with_resolution(annotation_resolution)


def ingest_csv(
    client: Any,
    table_name: str,
    source: Any,
    *,
    progress: Progress | None = None,
    upload_key: str | None = None,
    **options: Any,
) -> list[int] | dict[int, int]:
    """Read, map, validate and store a CSV file in one call; all rows or none."""
    return open_upload(client, table_name, source, **options).commit(
        progress=progress, upload_key=upload_key
    )
