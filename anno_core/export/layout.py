"""The columns and metadata of an exported file, and each chunk of rows turned into them.

The columns are those an upload takes back: ``id`` and the schema's fields, a point as
``{field}_position_x/_y/_z`` (``positions="split"``) or one ``{field}_position`` column of
``[x, y, z]`` (``"list"``: a fixed-size list in Parquet/Feather, ``[x, y, z]`` text in CSV).
``include_history`` adds ``created``, ``deleted``, ``superceded_id`` and ``valid`` (as they
were at the moment exported). With ``units="nm"`` positions are multiplied by the voxel
resolution. Parquet and Feather carry the table's metadata and the moment in their
key-value metadata (``anno_tables``, JSON); CSV cannot, so it carries only the rows.

CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'``, so a spreadsheet shows it as text instead of running a formula.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anno_core.export.options import ExportOptions
from anno_core.schemas import AXES, SchemaSpec

HISTORY = ("created", "deleted", "superceded_id", "valid")
METADATA_KEY = b"anno_tables"
FORMULA_START = r"^[=+\-@\t\r]"
"""Text a spreadsheet would run as a formula (OWASP's list), guarded in CSV exports."""

_ARROW = {
    "float": pa.float64(),
    "int": pa.int64(),
    "ref": pa.int64(),
    "user": pa.int64(),
    "bool": pa.bool_(),
    "str": pa.string(),
}


@dataclass(frozen=True)
class ExportLayout:
    """Which stored columns are read, and the Arrow schema of what is written."""

    spec: SchemaSpec
    options: ExportOptions
    resolution: tuple[float, float, float]
    metadata: dict[str, Any]

    @property
    def sql_columns(self) -> list[str]:
        """The stored columns to read, in this order (``id`` first: the keyset)."""
        cols = ["id", *(HISTORY if self.options.include_history else ())]
        return cols + [c for f in self.spec.data_fields for c in f.storage_columns]

    @property
    def csv(self) -> bool:
        return self.options.format == "csv"

    @cached_property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the file (with the metadata, except for CSV)."""
        fields = [pa.field("id", pa.int64(), nullable=False)]
        if self.options.include_history:
            fields += [
                pa.field("created", pa.timestamp("us")),
                pa.field("deleted", pa.timestamp("us")),
                pa.field("superceded_id", pa.int64()),
                pa.field("valid", pa.bool_()),
            ]
        for f in self.spec.data_fields:
            if f.kind != "point":
                fields.append(pa.field(f.column, _ARROW[f.kind]))
            elif self.options.positions == "split":
                fields += [pa.field(f"{f.column}_{a}", pa.float64()) for a in AXES]
            elif self.csv:
                fields.append(pa.field(f.column, pa.string()))
            else:
                fields.append(pa.field(f.column, pa.list_(pa.float64(), 3)))
        meta = None if self.csv else {METADATA_KEY: json.dumps(self.metadata).encode()}
        return pa.schema(fields, metadata=meta)

    def batch(self, columns: dict[str, Sequence[Any]]) -> pa.RecordBatch:
        """One chunk of stored values (column -> values, as the driver gave them) as a
        record batch of `schema`."""
        out: list[pa.Array] = [pa.array(columns["id"], type=pa.int64())]
        if self.options.include_history:
            out += [
                times(columns["created"]),
                times(columns["deleted"]),
                pa.array(columns["superceded_id"], type=pa.int64()),
                bools(columns["valid"]),
            ]
        for f in self.spec.data_fields:
            if f.kind == "point":
                xyz = [
                    self._scaled(pa.array(columns[c], type=pa.float64()), i)
                    for i, c in enumerate(f.storage_columns)
                ]
                if self.options.positions == "split":
                    out += xyz
                elif self.csv:
                    out.append(_point_text(xyz))
                else:
                    out.append(_point_list(xyz))
            elif f.kind == "bool":
                out.append(bools(columns[f.column]))
            elif f.kind == "str":
                text = pa.array(columns[f.column], type=pa.string())
                out.append(guard_formulas(text) if self.csv else text)
            else:
                out.append(pa.array(columns[f.column], type=_ARROW[f.kind]))
        return pa.RecordBatch.from_arrays(out, schema=self.schema)

    def _scaled(self, arr: pa.Array, axis: int) -> pa.Array:
        if self.options.units == "voxels" or self.resolution[axis] == 1:
            return arr
        return pc.multiply(arr, pa.scalar(self.resolution[axis], pa.float64()))


def guard_formulas(text: pa.Array) -> pa.Array:
    """Text cells a spreadsheet would run as a formula, with a leading ``'``."""
    risky = pc.fill_null(pc.match_substring_regex(text, FORMULA_START), False)
    if not pc.any(risky).as_py():
        return text
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)


def times(values: Sequence[Any]) -> pa.Array:
    """Stored times as timestamps: SQLite gives ISO text, PostgreSQL datetimes."""
    arr = pa.array(values)
    if pa.types.is_timestamp(arr.type):
        return arr.cast(pa.timestamp("us"))
    return arr.cast(pa.string()).cast(pa.timestamp("us"))


def bools(values: Sequence[Any]) -> pa.Array:
    """Stored booleans (SQLite gives 0 and 1) as booleans."""
    return pa.array(values).cast(pa.bool_())


def _point_list(xyz: list[pa.Array]) -> pa.Array:
    """Three coordinate arrays as one fixed-size list column (null where x is null)."""
    flat = np.column_stack([a.to_numpy(zero_copy_only=False) for a in xyz]).reshape(-1)
    missing = xyz[0].is_null().to_numpy(zero_copy_only=False)
    return pa.FixedSizeListArray.from_arrays(
        pa.array(np.nan_to_num(flat), type=pa.float64()), 3, mask=pa.array(missing)
    )


def _number_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _point_text(xyz: list[pa.Array]) -> pa.Array:
    """Three coordinate arrays as ``[x, y, z]`` text, as an upload reads it back."""
    cols = [a.to_pylist() for a in xyz]
    return pa.array(
        [
            None if x is None else f"[{_number_text(x)}, {_number_text(y)}, {_number_text(z)}]"
            for x, y, z in zip(*cols, strict=True)
        ],
        type=pa.string(),
    )
