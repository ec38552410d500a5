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
    plan.upload_record(key)           # that, with when, by whom and what became of the rows
    plan.past_uploads(digest)         # every stored upload of this file, oldest first
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

import pandas as pd

from anno_core.common import CHUNK, Progress
from anno_core.errors import ValidationFailed
from anno_core.ingest import ng_import
from anno_core.ingest.csv_frame import CsvRows, in_file_terms, read_rows
from anno_core.ingest.csvio import CsvData, read_csv
from anno_core.ingest.frames import scale_factor
from anno_core.ingest.mapping import ColumnMapping, Source, check_mapping, propose_mapping
from anno_core.ingest.outcome import CheckResult, Submission
from anno_core.ingest.plan_views import PlanViews
from anno_core.ingest.upload_task import UploadTask
from anno_core.schemas import AXES, SchemaSpec, schema_spec
from anno_core.validation.validator import ValidationReport, validate_frame

__all__ = ["CheckResult", "Submission", "UploadPlan", "UploadTask", "file_digest", "open_upload"]


def file_digest(raw: bytes) -> str:
    """The SHA-256 of a file's bytes (hex): what makes two uploads 'the same file'."""
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class UploadPlan(PlanViews):
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
    decimal_comma: bool = False

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

    def with_decimal_comma(self, decimal_comma: bool) -> UploadPlan:
        """The same plan reading numbers written like ``1,5`` (a decimal comma) or not."""
        return replace(self, decimal_comma=bool(decimal_comma))

    # -- checking and storing --------------------------------------------------------
    def rows(self) -> CsvRows:
        """The file's cells read for the mapped fields: the frame and its cells' problems."""
        factor = scale_factor(self.annotation_resolution, self.table_resolution)
        return read_rows(
            self.data, self.spec, self.mapping, factor, decimal_comma=self.decimal_comma
        )

    def frame(self) -> pd.DataFrame:
        """The rows as the engine will take them (canonical columns, positions scaled)."""
        return self.rows().frame

    def check(self) -> CheckResult:
        """Validate every row (and the mapping, and reference targets) without storing.
        Problems name the file's columns and show its cells as typed."""
        report = ValidationReport(rows=self.data.rows, line_label="line")
        report.merge(self.data.notes)
        mapping = self.mapping_report()
        report.merge(mapping)
        rows = self.rows()
        if mapping.ok:
            report.merge(rows.report)
            checked = validate_frame(
                self.spec, rows.frame, update=self.update, lines=self.data.lines, ignored=()
            )
            report.merge(in_file_terms(checked.report, self.data, self.mapping, rows.covered))
            if report.ok and self.spec.is_reference and "target_id" in checked.columns:
                report.merge(self._targets(checked.columns["target_id"]))
        return CheckResult(report=report, frame=rows.frame, lines=self.data.lines)

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
        rows = self.rows()
        if not rows.report.ok:  # cells left empty in the frame must never reach storage
            report = self.check().report
            raise ValidationFailed(report.describe(), report=report)
        frame = rows.frame
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
