"""DataFrames and CSV files into the canonical flat frame the validator and engine take.

The canonical frame has one column per schema field (`FieldSpec.column`); a point either as
one column of ``[x, y, z]`` values or strings, or as ``{field}_position_x/_y/_z`` columns;
and optionally ``id``. Nothing here decides what is valid (that is `validation`): values
are moved and typed, never filled, rounded or dropped. Positions are scaled here, by
``annotation_resolution / table_resolution`` per axis, only once they are known numbers.
A CSV file's cells are read by `anno_core.ingest.csv_frame` (each cell on its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anno_core.errors import InvalidArgument
from anno_core.ingest.csv_frame import read_rows
from anno_core.schemas import AXES, SchemaSpec
from anno_core.validation.positions import parse_positions

if TYPE_CHECKING:
    from anno_core.ingest.csvio import CsvData
    from anno_core.ingest.mapping import ColumnMapping

PositionColumns = Iterable[str] | Mapping[str, str] | None


# -- DataFrames (the seed's post_annotation_df / process_position_columns) ----------------
def position_sources(
    df: pd.DataFrame, position_columns: PositionColumns
) -> dict[str, str | tuple[str, str, str]]:
    """Point field name (``pre_pt``) -> its column, or its x, y, z columns, in ``df``.

    None: every ``*_position`` column and every ``*_position_x/_y/_z`` triple; a list: the
    listed columns (``pt_position`` may also name a ``pt_position_x/_y/_z`` triple); a mapping:
    column name -> field name (``{"loc": "pt"}``, ``"pt_position"`` works too)."""
    cols = [str(c) for c in df.columns]
    present = set(cols)
    if position_columns is None:
        out: dict[str, str | tuple[str, str, str]] = {
            c[: -len("_position")]: c for c in cols if c.endswith("_position")
        }
        for c in cols:
            if c.endswith("_position_x"):
                base = c[: -len("_x")]
                trio = tuple(f"{base}_{a}" for a in AXES)
                if all(t in present for t in trio) and base[: -len("_position")] not in out:
                    out[base[: -len("_position")]] = trio  # type: ignore[assignment]
        return out
    if isinstance(position_columns, str):
        position_columns = [position_columns]
    if isinstance(position_columns, Mapping):
        pairs = [(str(k), str(v)) for k, v in position_columns.items()]
    elif isinstance(position_columns, Iterable):
        pairs = [(str(c), str(c).rsplit("_", 1)[0]) for c in position_columns]
    else:
        raise InvalidArgument(
            "position_columns must be None, a list of column names or a "
            f"mapping of column name to field name, not {position_columns!r}."
        )
    out = {}
    for col, fld in pairs:
        fld = fld[: -len("_position")] if fld.endswith("_position") else fld
        if col in present:
            out[fld] = col
            continue
        trio = tuple(f"{col}_{a}" for a in AXES)
        if all(t in present for t in trio):
            out[fld] = trio  # type: ignore[assignment]
            continue
        raise InvalidArgument(
            f"The position column {col!r} is not in the DataFrame (nor are {col}_x, {col}_y, "
            f"{col}_z); its columns are: {', '.join(map(repr, cols)) or 'none'}."
        )
    return out


def frame_for_table(
    spec: SchemaSpec, df: pd.DataFrame, position_columns: PositionColumns, keep_id: bool = False
) -> pd.DataFrame:
    """The canonical flat frame of ``df`` for schema ``spec`` (see the module docstring).

    ``keep_id=True`` is for updates: the ``id`` column is required. Without it an ``id``
    column is still passed on (a new row keeps a given id, as CAVE does)."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgument(f"Expected a pandas DataFrame, not {type(df).__name__}.")
    if keep_id and "id" not in df.columns:
        raise InvalidArgument(
            "Updates need an 'id' column naming the annotations to change; "
            f"the DataFrame has {', '.join(map(repr, df.columns)) or 'none'}."
        )
    sources = position_sources(df, position_columns)
    points = {f.column[: -len("_position")]: f for f in spec.point_fields}
    out: dict[str, Any] = {}
    moved: set[str] = set()
    for fld, src in sources.items():
        f = points.get(fld)
        if f is None:
            raise InvalidArgument(
                f"The position column {src!r} goes to a field {fld!r}, which is not a point of "
                f"schema '{spec.name}'; its points are "
                f"{', '.join(p.column for p in spec.point_fields) or 'none'}."
            )
        if isinstance(src, str):
            out[f.column] = (
                df[src].to_numpy(dtype=object) if df[src].dtype == object else df[src].to_numpy()
            )
            moved.add(src)
        else:
            for a, c in zip(AXES, src, strict=True):
                out[f"{f.column}_{a}"] = df[c].to_numpy()
            moved.update(src)
    for c in df.columns:
        if str(c) in moved or str(c) in out:
            continue
        out[str(c)] = df[c].to_numpy()
    # Object columns stay objects: pandas would otherwise re-infer them (and fail on 10**400).
    cols = {
        k: pd.Series(v, dtype=object) if getattr(v, "dtype", None) is np.dtype(object) else v
        for k, v in out.items()
    }
    return pd.DataFrame(cols, index=pd.RangeIndex(len(df)))


def process_position_columns(df: pd.DataFrame, position_columns: PositionColumns) -> list[dict]:
    """Records ready for post_annotation: ``{"pt": {"position": [x, y, z]}, ...}``.

    Cells written as ``"[x, y, z]"``, ``"x y z"`` or ``"x,y,z"`` become lists of numbers;
    cells that cannot be read that way are passed on unchanged, for post_annotation to refuse
    with its report. An empty cell (None or NaN) becomes None."""
    sources = position_sources(df, position_columns)
    n = len(df)
    positions: dict[str, list[Any]] = {}
    for fld, src in sources.items():
        if isinstance(src, str):
            s = df[src].reset_index(drop=True)
            vals, bad = parse_positions(s, allow_strings=True)
            null = (
                pd.isna(s).to_numpy()
                if s.dtype != object
                else s.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v))).to_numpy()
            )
            listed = [_num_list(v) for v in vals.tolist()]
            orig = s.tolist()
            positions[fld] = [
                None if null[i] else (orig[i] if bad[i] else listed[i]) for i in range(n)
            ]
        else:
            trio = np.column_stack([df[c].to_numpy() for c in src]).tolist()
            positions[fld] = [
                None if all(_blank(v) for v in t) else [_py(v) for v in t] for t in trio
            ]
    skip = {c for src in sources.values() for c in ([src] if isinstance(src, str) else src)}
    others = [c for c in df.columns if c not in skip]
    records = []
    plain = (  # a frame of positions only still gives one record per row
        df[others].astype(object).where(df[others].notna(), None).to_dict(orient="records")
        if others
        else [{} for _ in range(n)]
    )
    for i, rec in enumerate(plain):
        rec = {k: _py(v) for k, v in rec.items()}
        for fld, vals in positions.items():
            rec[fld] = {"position": vals[i]}
        records.append(rec)
    return records


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return None if _blank(v) else v


def _num_list(t: list[float]) -> list[int | float]:
    return [int(v) if np.isfinite(v) and float(v).is_integer() and abs(v) < 2**53 else v for v in t]


# -- resolution ------------------------------------------------------------------------
def scale_factor(
    annotation_resolution: Sequence[float] | None, table_resolution: Sequence[float] | None
) -> np.ndarray | None:
    """Per-axis factor ``annotation_resolution / table_resolution`` (None: no scaling)."""
    if annotation_resolution is None:
        return None
    if table_resolution is None:
        raise InvalidArgument(
            "annotation_resolution was given but the table's resolution is unknown, so the "
            "positions cannot be scaled; give table_resolution (or a table name) as well."
        )
    out = []
    for name, res in (
        ("annotation_resolution", annotation_resolution),
        ("table_resolution", table_resolution),
    ):
        try:
            arr = np.asarray([float(v) for v in res], dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"{name} must be 3 numbers in nm, like [4, 4, 40], not {res!r}."
            ) from exc
        if arr.shape != (3,) or not (np.isfinite(arr).all() and (arr > 0).all()):
            raise InvalidArgument(
                f"{name} must be 3 positive numbers in nm, like [4, 4, 40], not {res!r}."
            )
        out.append(arr)
    factor = out[0] / out[1]
    return None if np.all(factor == 1) else factor


def scale_points(spec: SchemaSpec, frame: pd.DataFrame, factor: np.ndarray | None) -> pd.DataFrame:
    """``frame`` with readable positions as x/y/z float columns multiplied by ``factor``.

    A point column holding something that is not 3 numbers is left as it is (unscaled) so
    the validator reports the user's own value; such a frame is refused anyway."""
    if factor is None:
        return frame
    out = frame.copy()
    for f in spec.point_fields:
        if f.column in out.columns:
            vals, bad = parse_positions(out[f.column], allow_strings=True)
            if bad.any():
                continue
            out = out.drop(columns=[f.column])
        elif all(f"{f.column}_{a}" in out.columns for a in AXES):
            typed = [out[f"{f.column}_{a}"] for a in AXES]
            if any(t.dtype.kind in "mM" for t in typed):
                continue  # dates are no positions: left as they are for the validator to refuse
            split = [pd.to_numeric(t, errors="coerce") for t in typed]
            if any((s.isna() & t.notna()).any() for s, t in zip(split, typed, strict=True)):
                continue
            vals = np.column_stack([s.to_numpy(dtype=float) for s in split])
        else:
            continue
        for j, a in enumerate(AXES):
            out[f"{f.column}_{a}"] = vals[:, j] * factor[j]
    return out


# -- CSV files -------------------------------------------------------------------------
def csv_frame(
    data: CsvData,
    spec: SchemaSpec,
    mapping: ColumnMapping,
    factor: np.ndarray | None = None,
    *,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """The canonical frame of a CSV file's mapped columns (`csv_frame.read_rows`'s frame:
    cells that are not numbers are left empty there and reported by `read_rows`)."""
    return read_rows(data, spec, mapping, factor, decimal_comma=decimal_comma).frame
