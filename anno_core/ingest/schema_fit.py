"""Which schemas would keep more of a file's columns than the table it goes to.

A column the table's schema has no field for is not stored. `better_schemas` names the
schemas that would keep more of the file: first by field names (the same matching as the
proposed mapping), then by types (a column of numbers can fill a number field, a column of
text a text field, three x, y, z columns or a column of ``[x, y, z]`` text a position), so
the person can create a table that keeps what they care about. Cells are typed with one
Arrow cast per column; nothing here reads a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anno_core.ingest.csvio import CsvData
from anno_core.ingest.mapping import column_triples, norm, propose_mapping
from anno_core.schemas import SchemaSpec, schema_names, schema_spec
from anno_core.validation.positions import parse_positions

SAMPLE = 2_000  # rows looked at to tell numbers from text


@dataclass(frozen=True)
class SchemaFit:
    """A schema and the file's columns it would keep (by name, then by type)."""

    schema: str
    kept: tuple[str, ...]
    by_name: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]  # (field, type label) of the schema

    def describe(self) -> str:
        """'keeps x, y, z, type, roi, neuron (fields: pt_position position, ...)'."""
        fields = ", ".join(f"{name} ({label})" for name, label in self.fields)
        return f"keeps {', '.join(self.kept)}; its fields: {fields}"


def column_kinds(data: CsvData, sample: int = SAMPLE) -> dict[str, str]:
    """Each column as 'number', 'whole' (whole numbers), 'point' ([x, y, z] text), 'text' or
    'empty', judged on its first ``sample`` rows."""
    out = {}
    part = data.table.slice(0, sample)
    for name in data.columns:
        col = part.column(name)
        present = col.drop_null()
        if len(present) == 0:
            out[name] = "empty"
            continue
        try:
            nums = pc.cast(present, pa.float64()).to_numpy(zero_copy_only=False)
            whole = np.isfinite(nums).all() and bool(np.all(np.floor(nums) == nums))
            out[name] = "whole" if whole else "number"
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        _, bad = parse_positions(present)
        out[name] = "point" if not bad.any() else "text"
    return out


def _fits(kind: str, field_kind: str) -> bool:
    if field_kind == "float":
        return kind in ("number", "whole")
    if field_kind == "int":
        return kind == "whole"
    if field_kind == "str":
        return kind == "text"
    return False


def keeps(spec: SchemaSpec, columns: Sequence[str], kinds: dict[str, str]) -> SchemaFit:
    """The file's columns schema ``spec`` would keep: named matches, then fills by type."""
    proposal = propose_mapping(columns, spec)
    by_name: list[str] = []
    free = []
    for f in spec.user_fields:
        src = proposal.fields.get(f.column)
        if src is not None and (f.kind == "point" or _fits(kinds.get(str(src), ""), f.kind)):
            by_name.extend([src] if isinstance(src, str) else src)
        else:
            free.append(f)  # no column of that name, or one of another type
    used = set(by_name)
    kept = list(by_name)
    triples = [t for t in column_triples(columns) if not used & set(t)]
    for f in free:
        if f.kind == "point":
            trio = next((t for t in triples if not used & set(t)), None)
            if trio is not None:
                kept.extend(trio)
                used.update(trio)
                continue
            single = next((c for c in columns if c not in used and kinds.get(c) == "point"), None)
            if single is not None:
                kept.append(single)
                used.add(single)
            continue
        if f.choices:  # a field of fixed values: a column's type says nothing of them
            continue
        pick = next((c for c in columns if c not in used and _fits(kinds.get(c, ""), f.kind)), None)
        if pick is not None:
            kept.append(pick)
            used.add(pick)
    order = {c: i for i, c in enumerate(columns)}
    return SchemaFit(
        schema=spec.name,
        kept=tuple(sorted(kept, key=order.get)),
        by_name=tuple(by_name),
        fields=tuple((f.column, f.type_label) for f in spec.user_fields),
    )


def better_schemas(
    data: CsvData, current: str, kept_now: Sequence[str], most: int = 3
) -> list[SchemaFit]:
    """Up to ``most`` schemas that would keep more of ``data``'s columns than the ``kept_now``
    of schema ``current``, best first (most columns, then most matched by name)."""
    kinds = column_kinds(data)
    wanted = {  # the segmentation fills root and supervoxel ids in: no table keeps them
        c
        for c in data.columns
        if kinds.get(c) != "empty" and not norm(c).endswith(("root_id", "supervoxel_id"))
    }
    now = set(kept_now)
    found = []
    for name in schema_names():
        spec = schema_spec(name)
        if name == current or spec.is_reference:  # a reference table keeps no positions
            continue
        fit = keeps(spec, data.columns, kinds)
        kept = set(fit.kept) & wanted
        if len(kept) > len(now & wanted):
            found.append((-len(kept), -len(fit.by_name), len(spec.user_fields), name, fit))
    found.sort(key=lambda t: t[:4])
    return [t[-1] for t in found[:most]]
