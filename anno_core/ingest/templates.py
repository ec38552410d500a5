"""CSV templates: the header row an upload of a schema needs.

Positions are written as split ``{field}_position_x/_y/_z`` columns, one number per cell,
because that is what spreadsheets produce and what the ingest reads without guessing
(it also accepts one ``{field}_position`` column holding ``[x, y, z]``).
"""

from __future__ import annotations

from anno_core.schemas import AXES, schema_spec


def template_columns(schema_name: str) -> list[str]:
    """The columns a user fills for ``schema_name``: required fields first, then by name.

    (emannotationschemas declares fields in no fixed order, so the order is ours.)
    """
    columns: list[str] = []
    fields = sorted(schema_spec(schema_name).user_fields, key=lambda f: (not f.required, f.column))
    for f in fields:
        if f.kind == "point":
            columns.extend(f"{f.column}_{axis}" for axis in AXES)
        else:
            columns.append(f.column)
    return columns


def csv_template(schema_name: str) -> str:
    """A CSV text holding only the header row of an upload for ``schema_name``."""
    return ",".join(template_columns(schema_name)) + "\n"
