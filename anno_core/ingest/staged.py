"""StagedAnnotations: collect annotations for one table, checked as they are added, then
upload the ones not yet uploaded, remembering per row whether it is stored and its new id.

A plain class (caveclient builds an attrs class per schema at run time): rows live in one
canonical frame (points as ``{field}_position_x/_y/_z`` floats, already scaled by
``annotation_resolution / table_resolution``), plus ``is_uploaded`` and ``new_id``.
`staged_upload.upload` sends the pending rows in batches through the client's backend
(``insert_frame``/``update_frame``, embedded or remote alike), each batch with an upload key
derived from the staged set and the rows in it, so a batch sent again after a failure that
came after the commit is answered from what was stored, never inserted twice. Nothing here
retries: the remote backend's transport is the one place that does.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anno_core.errors import InvalidArgument, ValidationFailed
from anno_core.ingest.frames import scale_factor, scale_points
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import validate_frame

IS_UPLOADED = "is_uploaded"
NEW_ID = "new_id"


class StagedAnnotations:
    """Annotations staged for one table or schema (see the module docstring)."""

    def __init__(
        self,
        spec: SchemaSpec,
        *,
        table_name: str | None = None,
        update: bool = False,
        id_field: bool = False,
        table_resolution: Sequence[float] | None = None,
        annotation_resolution: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        self._spec = spec
        self.table_name = table_name
        self._update = bool(update)
        self._id_field = bool(id_field or update)
        self.table_resolution = None if table_resolution is None else list(table_resolution)
        self.annotation_resolution = (
            None if annotation_resolution is None else list(annotation_resolution)
        )
        self._factor = scale_factor(annotation_resolution, table_resolution)
        self.name = name or table_name or spec.name
        self.key = (
            uuid.uuid4().hex
        )  # names this staged set's batches: a batch sent again is stored once
        self._chunks: list[pd.DataFrame] = []
        self._pending: list[dict[str, Any]] = []
        self._columns = [c for f in spec.user_fields for c in f.storage_columns]

    # -- what caveclient's StagedAnnotations offers ------------------------------------
    @property
    def schema_name(self) -> str:
        return self._spec.name

    @property
    def is_update(self) -> bool:
        return self._update

    @property
    def fields(self) -> list[str]:
        """Flat field names (points as ``{field}_position``), ``id`` first when ids are given."""
        names = [f.column for f in self._spec.user_fields]
        return ["id", *names] if self._id_field else names

    @property
    def fields_required(self) -> list[str]:
        names = [f.column for f in self._spec.user_fields if f.required]
        return ["id", *names] if self._id_field else names

    def __len__(self) -> int:
        return sum(map(len, self._chunks)) + len(self._pending)

    def __repr__(self) -> str:
        target = (
            f"table '{self.table_name}'"
            if self.table_name
            else f"schema '{self._spec.name}' with no table"
        )
        frame = self._frame()
        done = int(frame[IS_UPLOADED].sum()) if len(frame) else 0
        kind = "updated" if self._update else "new"
        return f"Staged annotations for {target} ({len(frame)} {kind} annotations, {done} uploaded)"

    def add(self, **fields: Any) -> None:
        """Add one annotation, checked at once; the error names the field."""
        unknown = [k for k in fields if k not in self.fields]
        if unknown:
            raise InvalidArgument(
                f"{', '.join(map(repr, unknown))} is not a field of schema "
                f"'{self._spec.name}'; the fields are {', '.join(self.fields)}."
            )
        missing = [
            k for k in self.fields_required if k not in fields and not (self._update and k != "id")
        ]
        if missing:
            raise InvalidArgument(
                f"add() needs {', '.join(map(repr, missing))}; the required "
                f"fields are {', '.join(self.fields_required)}."
            )
        row = {k: (list(v) if isinstance(v, np.ndarray) else v) for k, v in fields.items()}
        frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
        row_checked = self._checked(frame, first_line=len(self) + 1).iloc[0].to_dict()
        self._pending.append(row_checked)  # after _checked: it may have flushed _pending

    def add_dataframe(self, df: pd.DataFrame) -> None:
        """Add every row of ``df`` (columns named as `fields`), checked as a whole: all or none."""
        if not isinstance(df, pd.DataFrame):
            raise InvalidArgument(
                f"add_dataframe needs a pandas DataFrame, not {type(df).__name__}."
            )
        extra = [str(c) for c in df.columns if c not in self.fields]
        missing = [
            c
            for c in self.fields_required
            if c not in df.columns and not (self._update and c != "id")
        ]
        if extra or missing:
            parts = []
            if missing:
                parts.append(
                    f"the schema needs columns the DataFrame lacks: {', '.join(map(repr, missing))}"
                )
            if extra:
                parts.append(
                    f"the DataFrame has columns that are not fields: {', '.join(map(repr, extra))}"
                )
            raise InvalidArgument(
                "; ".join(parts).capitalize() + f". The fields are {', '.join(self.fields)}."
            )
        checked = self._checked(df.reset_index(drop=True), first_line=len(self) + 1)
        self._flush()
        self._chunks.append(checked)

    @property
    def annotation_list(self) -> list[dict]:
        """Every staged annotation as a nested record ready for post_annotation."""
        return self._records(self._frame())

    @property
    def annotation_list_nonuploaded(self) -> list[dict]:
        frame = self._frame()
        return self._records(frame[~frame[IS_UPLOADED].to_numpy(dtype=bool)])

    def annotation_dataframe(
        self, only_nonuploaded: bool = False, include_tracking: bool = False
    ) -> pd.DataFrame:
        """One row per annotation, points as ``{field}_position`` [x, y, z] lists; with
        ``include_tracking`` also ``is_uploaded`` and ``new_id`` (the id given on upload)."""
        frame = self._frame()
        if only_nonuploaded:
            frame = frame[~frame[IS_UPLOADED].to_numpy(dtype=bool)]
        out: dict[str, Any] = {}
        if self._id_field:
            out["id"] = frame["id"].to_numpy()
        for f in self._spec.user_fields:
            if f.kind == "point":
                xyz = np.column_stack([frame[c].to_numpy(dtype=float) for c in f.storage_columns])
                blank = np.isnan(xyz).all(axis=1)
                out[f.column] = [
                    None if b else list(map(_num, p))
                    for p, b in zip(xyz.tolist(), blank, strict=True)
                ]
            else:
                out[f.column] = frame[f.column].to_numpy()
        if include_tracking:
            out[IS_UPLOADED] = frame[IS_UPLOADED].to_numpy(dtype=bool)
            out[NEW_ID] = pd.array(frame[NEW_ID], dtype="Int64")
        return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))

    def clear_annotations(self) -> None:
        """Forget every staged annotation (uploaded ones stay in the table)."""
        self._chunks, self._pending = [], []

    def purge_uploaded_annotations(self) -> None:
        """Forget the annotations already uploaded."""
        frame = self._frame()
        self._chunks = [frame[~frame[IS_UPLOADED].to_numpy(dtype=bool)].reset_index(drop=True)]

    # -- internals ---------------------------------------------------------------------
    def _checked(self, frame: pd.DataFrame, first_line: int) -> pd.DataFrame:
        scaled = scale_points(self._spec, frame, self._factor)
        lines = np.arange(first_line, first_line + len(frame))
        checked = validate_frame(
            self._spec, scaled, update=self._update, lines=lines, line_label="annotation"
        )
        checked.report.raise_if_failed()
        out: dict[str, Any] = {}
        for f in self._spec.user_fields:
            for c in f.storage_columns:
                out[c] = checked.columns.get(c, _blank_column(f.kind, len(frame)))
        if self._id_field:
            if checked.ids is None:
                raise InvalidArgument("Each annotation needs an 'id' (id_field or update is set).")
            if checked.ids.isna().any():
                raise ValidationFailed("Every staged annotation needs an id; some are empty.")
            out["id"] = checked.ids.to_numpy(dtype=np.int64)
        out[IS_UPLOADED] = np.zeros(len(frame), dtype=bool)
        out[NEW_ID] = pd.array([pd.NA] * len(frame), dtype="Int64")
        result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
        if self._id_field and len(self):
            clash = np.isin(result["id"].to_numpy(), self._frame()["id"].to_numpy())
            if clash.any():
                raise ValidationFailed(
                    f"Id {int(result['id'].to_numpy()[clash][0])} is already staged; stage each "
                    "annotation once."
                )
        return result

    def _flush(self) -> None:
        if self._pending:
            rows = pd.DataFrame(self._pending)
            for c in (*self._columns, IS_UPLOADED, NEW_ID):
                if c not in rows:
                    rows[c] = None
            rows[NEW_ID] = pd.array(rows[NEW_ID], dtype="Int64")
            self._chunks.append(rows)
            self._pending = []

    def _frame(self) -> pd.DataFrame:
        self._flush()
        if not self._chunks:
            cols = (["id"] if self._id_field else []) + self._columns + [IS_UPLOADED, NEW_ID]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols}).assign(
                **{IS_UPLOADED: pd.Series(dtype=bool)}
            )
        if len(self._chunks) > 1:
            with warnings.catch_warnings():
                # pandas warns that all-blank columns will one day count toward the dtype;
                # ours are typed per chunk already, so today's behaviour is the one we want.
                warnings.filterwarnings(
                    "ignore", "The behavior of DataFrame concatenation", FutureWarning
                )
                self._chunks = [pd.concat(self._chunks, ignore_index=True)]
        return self._chunks[0]

    def _records(self, frame: pd.DataFrame) -> list[dict]:
        flat = self.annotation_dataframe().loc[frame.index] if len(frame) else frame.iloc[0:0]
        out = []
        for rec in flat.astype(object).where(flat.notna(), None).to_dict(orient="records"):
            nested: dict[str, Any] = {}
            for f in self._spec.user_fields:
                v = rec.get(f.column)
                if v is None:
                    continue
                if f.kind == "point":
                    nested[f.column[: -len("_position")]] = {"position": v}
                else:
                    nested[f.column] = _py(v)
            if self._id_field:
                nested = {"id": int(rec["id"]), **nested}
            out.append(nested)
        return out

    def _upload_parts(self, rows: np.ndarray) -> list[tuple[np.ndarray, pd.DataFrame]]:
        """The frames to send for ``rows``: one, or for updates one per set of given fields
        (a field left out of an update keeps its old value, as in CAVE)."""
        frame = self._frame().iloc[rows].reset_index(drop=True)
        if not self._update:
            return [(rows, frame[self._columns])]
        given = {
            f.column: frame[list(f.storage_columns)].notna().any(axis=1).to_numpy()
            for f in self._spec.user_fields
        }
        pattern = pd.DataFrame(given).astype(int).astype(str).agg("".join, axis=1)
        parts = []
        for _, idx in pattern.groupby(pattern, sort=False).indices.items():
            keep = [
                c
                for f in self._spec.user_fields
                if given[f.column][idx[0]]
                for c in f.storage_columns
            ]
            parts.append((rows[idx], frame.iloc[idx][["id", *keep]].reset_index(drop=True)))
        return parts

    def _mark(self, rows: np.ndarray, new_ids: Sequence[int]) -> None:
        frame = self._frame()
        frame.loc[rows, IS_UPLOADED] = True
        frame.loc[rows, NEW_ID] = pd.array(list(new_ids), dtype="Int64")


def _blank_column(kind: str, n: int) -> Any:
    return np.full(n, np.nan) if kind == "point" else pd.Series([None] * n, dtype=object)


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
