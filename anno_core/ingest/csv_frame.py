"""A CSV file's mapped columns as the canonical frame: every readable cell read and scaled.

`read_rows(data, spec, mapping, factor)` gives a `CsvRows`: the frame the validator and the
engine take (one column per field; a point as ``{field}_x/_y/_z`` floats multiplied by
``factor``), the problems of cells that are not what their field holds, in the file's own
terms (its column, its line, the text as typed: ``line 6, column 'x': 'abc' is not a
number``), and per field the rows those problems cover. One bad cell never stops the rest of
its column from being read and scaled: it is left empty in the frame and reported, and the
validator's own report on those rows is dropped (`in_file_terms`), so each problem is said
once, in the words of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anno_core.ingest.cells import position_messages, read_numbers
from anno_core.schemas import AXES, SchemaSpec
from anno_core.validation.positions import parse_positions
from anno_core.validation.report import REPORT_COLUMNS, ValidationReport

if TYPE_CHECKING:
    from anno_core.ingest.csvio import CsvData
    from anno_core.ingest.mapping import ColumnMapping


@dataclass(frozen=True)
class CsvRows:
    """The canonical frame of a file, the problems of its cells, and the rows they cover."""

    frame: pd.DataFrame
    report: ValidationReport
    covered: dict[str, np.ndarray]


def read_rows(
    data: CsvData,
    spec: SchemaSpec,
    mapping: ColumnMapping,
    factor: np.ndarray | None = None,
    *,
    decimal_comma: bool = False,
) -> CsvRows:
    """Read the mapped columns of ``data`` for ``spec`` (see the module docstring)."""
    n = data.rows
    lines = data.lines
    rep = ValidationReport(rows=n, line_label="line")
    covered: dict[str, np.ndarray] = {}
    out: dict[str, Any] = {}
    for f in spec.user_fields:
        src = mapping.fields.get(f.column)
        if src is None:
            continue
        if f.kind == "point":
            if isinstance(src, str):
                vals, problems = _one_column_point(data, src, rep, decimal_comma)
            else:
                required = f.required or not f.nullable
                vals, problems = _split_point(data, src, rep, decimal_comma, required)
            if problems.any():
                covered[f.column] = problems
            if factor is not None:
                vals = vals * factor
            for j, a in enumerate(AXES):
                out[f"{f.column}_{a}"] = np.ascontiguousarray(vals[:, j])
        elif f.kind == "float":
            cells = read_numbers(data.table.column(src), decimal_comma=decimal_comma)
            cells.report(rep, src, lines)
            if cells.problems.any():
                covered[f.column] = cells.problems
            out[f.column] = cells.values
        elif f.kind in ("int", "ref"):
            out[f.column] = number_column(data.table.column(src), f.kind)
        else:
            out[f.column] = data.text(src).to_numpy()
    if mapping.id_column is not None:
        out["id"] = number_column(data.table.column(mapping.id_column), "int")
    # copy=False: one block per column, as the validator reads them (no 2-D consolidation)
    frame = pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)
    return CsvRows(frame=frame, report=rep, covered=covered)


def _one_column_point(
    data: CsvData, src: str, rep: ValidationReport, decimal_comma: bool
) -> tuple[np.ndarray, np.ndarray]:
    """n x 3 floats of a column of ``[x, y, z]`` text; bad cells reported and left empty."""
    col = data.table.column(src)
    vals, bad = parse_positions(col, decimal_comma=decimal_comma)
    given = col.is_valid().to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        problems = bad | (given & ~np.isfinite(vals).all(axis=1))
    if problems.any():
        rows = np.flatnonzero(problems)
        typed = pd.Series(col.take(pa.array(rows, pa.int64())).to_pylist(), dtype=object)
        message = np.empty(len(problems), dtype=object)
        message[rows] = position_messages(typed, decimal_comma).to_numpy(dtype=object)
        rep.add(
            "bad_position",
            src,
            problems,
            lambda _: typed,
            pd.Series(message, dtype=object),
            data.lines,
        )
        vals = vals.copy()
        vals[problems] = np.nan
    return vals, problems


def _split_point(
    data: CsvData,
    src: tuple[str, str, str],
    rep: ValidationReport,
    decimal_comma: bool,
    required: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """n x 3 floats of three x, y, z columns: each cell read on its own; bad cells and the
    empty cells of a half-given position reported by their own column."""
    cells = [read_numbers(data.table.column(c), decimal_comma=decimal_comma) for c in src]
    for c, cell in zip(src, cells, strict=True):
        cell.report(rep, c, data.lines, what="position")
    blank = np.column_stack([c.blank for c in cells])
    none = blank.all(axis=1)
    partial = blank.any(axis=1) & ~none
    for c, cell in zip(src, cells, strict=True):
        rep.add(
            "missing_value",
            c,
            cell.blank & partial,
            None,
            "is empty; a position needs x, y and z",
            data.lines,
        )
    problems = partial | np.any([c.problems for c in cells], axis=0)
    if required:
        rep.add(
            "missing_value",
            ", ".join(src),
            none,
            None,
            "are empty: every row needs a position",
            data.lines,
        )
        problems = problems | none
    vals = np.column_stack([c.values for c in cells])
    if problems.any():
        vals[problems] = np.nan
    return vals, problems


def number_column(col: pa.ChunkedArray, kind: str) -> Any:
    """Text cells as numbers when every cell reads cleanly and exactly, else the text (the
    validator then decides, or reports, each cell as written)."""
    text = pd.Series(col.to_pandas(), dtype=object).to_numpy
    # Arrow reads "0x10" as 16 in a whole-number cast (never in a float one): text, then.
    if kind != "float" and not pc.any(pc.match_substring(col, "x", ignore_case=True)).as_py():
        try:
            ints = pc.cast(col, pa.int64())
            if ints.null_count == 0:
                return ints.to_numpy()
            return pd.array(ints.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    try:
        floats = pc.cast(col, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return text()
    if pc.any(pc.is_nan(floats)).as_py():  # "NaN" typed in a cell is a value, not a blank
        return text()
    values = floats.to_numpy()
    with np.errstate(invalid="ignore"):
        beyond = kind != "float" and bool((np.abs(values) >= 2.0**53).any())
        zero = values == 0
    if beyond:  # "9007199254740993.0": a float would round it; the validator reads it exactly
        return text()
    if zero.any():  # "1e-400" reads as 0 in a float: the validator refuses it by its text
        cells = col.filter(pa.array(zero))
        if pc.any(pc.match_substring_regex(cells, r"^\s*[+-]?[0-9]*\.?[0-9]*[1-9]")).as_py():
            return text()
    return values


def sources(mapping: ColumnMapping) -> dict[str, str]:
    """Field (and ``id``) -> the file's column(s) it is read from, as a person names them."""
    out = {
        field: src if isinstance(src, str) else ", ".join(src)
        for field, src in mapping.sources().items()
    }
    if mapping.id_column:
        out["id"] = mapping.id_column
    return out


def in_file_terms(
    report: ValidationReport,
    data: CsvData,
    mapping: ColumnMapping,
    covered: Mapping[str, np.ndarray],
) -> ValidationReport:
    """The validator's report on a file's frame, said in the file's terms: problems on rows
    already reported cell by cell are dropped, fields are named by their column(s) in the
    file, and values are shown as typed (never a float read back, like 3029.2000000000003)."""
    frame = report.frame
    if frame.empty:
        return report
    names = sources(mapping)
    keep = np.ones(len(frame), dtype=bool)
    rows = frame["row"]
    has_row = rows.notna().to_numpy()
    values = frame["value"].to_numpy(dtype=object).copy()
    columns = frame["column"].to_numpy(dtype=object).copy()
    for field, mask in covered.items():
        hit = (frame["column"] == field).to_numpy() & has_row
        idx = np.flatnonzero(hit)
        keep[idx[mask[rows.iloc[idx].to_numpy(dtype=np.int64)]]] = False
    for field, shown in names.items():
        hit = np.flatnonzero((frame["column"] == field).to_numpy())
        if not hit.size:
            continue
        columns[hit] = shown
        with_row = hit[has_row[hit]]
        if with_row.size:
            at = pa.array(rows.iloc[with_row].to_numpy(dtype=np.int64))
            values[with_row] = _typed(data, mapping, field, at)
    out = frame.assign(column=columns, value=values)[keep]
    return ValidationReport.from_frame(out[REPORT_COLUMNS], report.rows, report.line_label)


def _typed(data: CsvData, mapping: ColumnMapping, field: str, at: pa.Array) -> np.ndarray:
    src = mapping.id_column if field == "id" else mapping.fields[field]
    cols = [src] if isinstance(src, str) else list(src)  # type: ignore[arg-type]
    parts = [np.asarray(data.table.column(c).take(at).to_pylist(), dtype=object) for c in cols]
    if len(parts) == 1:
        return np.array(["" if v is None else v for v in parts[0]], dtype=object)
    return np.array(
        [
            "[" + ", ".join("" if v is None else v for v in t) + "]"
            for t in zip(*parts, strict=True)
        ],
        dtype=object,
    )
