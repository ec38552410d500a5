"""Edits made in a table view, turned into updates and deletes; and what changed between
versions of one annotation.

A page shows a page of rows from `AnnotationClient.query_annotations` (points as
``{field}_position_x/_y/_z`` columns), lets a person change cells and tick rows to delete,
and hands both frames here. `plan_edits` finds exactly the rows whose values changed and
builds the update records (only changed rows are sent); `apply_edits` sends them.
`edit_columns` says which frame columns a person may change and how (their kind), and
`filter_value` turns what a person typed into a filter into the value `query_annotations`
compares with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from anno_core.errors import InvalidArgument
from anno_core.ingest.versions import REPLACED, state_of, why_gone, why_made
from anno_core.schemas import AXES, SchemaSpec, schema_spec
from anno_core.validation.booleans import parse_bool


@dataclass(frozen=True)
class EditColumn:
    """One column of a table view a person may change (a point gives one per axis)."""

    column: str  # in the frame: pre_pt_position_x, size
    field: str  # in the schema: pre_pt_position, size
    kind: str  # float, int, bool, str or ref (a point's axes are float)
    required: bool
    choices: tuple[Any, ...] | None = None
    description: str = ""
    axis: str | None = None


def edit_columns(schema: str | SchemaSpec) -> list[EditColumn]:
    """The columns of a `query_annotations` frame that hold what users supply."""
    spec = schema_spec(schema) if isinstance(schema, str) else schema
    out = []
    for f in spec.user_fields:
        if f.kind == "point":
            out.extend(
                EditColumn(f"{f.column}_{a}", f.column, "float", f.required, None, f.description, a)
                for a in AXES
            )
        else:
            out.append(EditColumn(f.column, f.column, f.kind, f.required, f.choices, f.description))
    return out


def filter_value(schema: str | SchemaSpec, column: str, text: str) -> Any:
    """What a person typed to filter ``column`` on, as the value to compare with."""
    cols = {c.column: c for c in edit_columns(schema)}
    col = cols.get(column)
    if col is None:
        raise InvalidArgument(
            f"Rows cannot be filtered on {column!r}; choose one of " + ", ".join(cols) + "."
        )
    raw = str(text).strip()
    if not raw:
        raise InvalidArgument(f"Type the value of {column} to look for.")
    if col.kind == "str":
        return raw  # matched as a part of the text
    if col.kind == "bool":
        value = parse_bool(raw)  # the words an upload accepts, no more and no fewer
        if value is None:
            raise InvalidArgument(f"{column} is true or false; {raw!r} is neither.")
        return value
    try:
        number = float(raw.replace(",", ""))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        what = "a position in voxels" if col.axis else "a number"
        raise InvalidArgument(f"{column} holds {what}, like 120; {raw!r} is not one.")
    if col.kind in ("int", "ref"):
        if not number.is_integer():
            raise InvalidArgument(f"{column} holds whole numbers; {raw!r} is not one.")
        return int(number)
    return number


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


@dataclass
class EditPlan:
    """What saving would do: updates (records with ids), deletes, restores of deleted
    annotations, and a readable diff."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # id, field, old, new
    restores: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.updates and not self.deletes and not self.restores

    def summary(self) -> str:
        """One sentence for the confirmation dialog."""
        parts = []
        if self.updates:
            parts.append(
                f"{_n(len(self.updates), 'annotation')} will be updated: each gets a new id "
                "and its old version is kept as superseded"
            )
        if self.deletes:
            parts.append(
                f"{_n(len(self.deletes), 'annotation')} will be marked deleted (kept, never erased)"
            )
        if self.restores:
            parts.append(
                f"{_n(len(self.restores), 'deleted annotation')} will be restored: each gets "
                "a new version, with a new id, carrying its values"
            )
        return "; ".join(parts) + "." if parts else "Nothing has changed."

    def pending(self) -> str:
        """What is not saved yet, naming only what there is: '2 changed values in 1 row,
        1 row to delete.'"""
        parts = []
        if self.changes:
            parts.append(
                f"{_n(len(self.changes), 'changed value')} in {_n(len(self.updates), 'row')}"
            )
        if self.deletes:
            parts.append(f"{_n(len(self.deletes), 'row')} to delete")
        if self.restores:
            parts.append(f"{_n(len(self.restores), 'row')} to restore")
        return ", ".join(parts) + "." if parts else "Nothing changed."


@dataclass
class EditResult:
    updated: dict[int, int]
    deleted: list[int]
    restored: dict[int, int] = field(default_factory=dict)


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _same(a: Any, b: Any) -> bool:
    a, b = _clean(a), _clean(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _set(rec: dict, path: tuple[str, ...], value: Any) -> None:
    cur = rec
    for key in path[:-1]:
        cur = cur.setdefault(key, {})
    cur[path[-1]] = value


def plan_edits(
    schema: str | SchemaSpec,
    original: pd.DataFrame,
    edited: pd.DataFrame,
    delete_ids: list[int] | None = None,
    restore_ids: list[int] | None = None,
) -> EditPlan:
    """Compare ``edited`` with ``original`` (same rows, matched by ``id``) and plan the save;
    ``restore_ids`` are deleted annotations to bring back as new versions."""
    spec = schema_spec(schema) if isinstance(schema, str) else schema
    if "id" not in original.columns or "id" not in edited.columns:
        raise InvalidArgument("Both tables of rows need their 'id' column to plan an edit.")
    before = original.set_index("id")
    after = edited.set_index("id")
    unknown = sorted(set(after.index) - set(before.index))
    if unknown:
        raise InvalidArgument(
            f"Rows with id {', '.join(map(str, unknown[:10]))} were not in the table view; "
            "add new annotations with an upload instead."
        )
    deletes = sorted({int(i) for i in (delete_ids or [])})
    restores = sorted({int(i) for i in (restore_ids or [])})
    _refuse_restores(before, restores)
    plan = EditPlan(deletes=deletes, restores=restores)
    for aid in after.index:
        if int(aid) in deletes or int(aid) in restores:
            continue
        old, new = before.loc[aid], after.loc[aid]
        rec: dict[str, Any] = {}
        for f in spec.user_fields:
            if f.kind == "point":
                cols = [f"{f.column}_{a}" for a in AXES]
                if not all(c in after.columns for c in cols):
                    continue
                if all(_same(old[c], new[c]) for c in cols):
                    continue
                olds = [_clean(old[c]) for c in cols]
                news = [_clean(new[c]) for c in cols]
                value = None if all(v is None for v in news) else news
                _set(rec, f.path[:-1], {"position": value} if value is not None else None)
                plan.changes.append({"id": int(aid), "field": f.column, "old": olds, "new": value})
            elif f.column in after.columns and not _same(old[f.column], new[f.column]):
                value = _clean(new[f.column])
                _set(rec, f.path, value)
                plan.changes.append(
                    {"id": int(aid), "field": f.column, "old": _clean(old[f.column]), "new": value}
                )
        if rec:
            plan.updates.append({"id": int(aid), **rec})
    _refuse_old_versions(before, [u["id"] for u in plan.updates] + deletes)
    return plan


def _refuse_restores(before: pd.DataFrame, ids: list[int]) -> None:
    """Only deleted annotations can be restored: say which of the ticked rows are not."""
    problems = []
    for aid in ids:
        if aid not in before.index:
            continue
        state = state_of(before.loc[aid])
        if state.kind == REPLACED:
            problems.append(
                f"Annotation {aid} was replaced by annotation {state.replaced_by}, not deleted; "
                "only deleted annotations can be restored."
            )
        elif state.live:
            problems.append(f"Annotation {aid} is live; only deleted annotations can be restored.")
    if problems:
        more = f" ({len(problems) - 3} more like these.)" if len(problems) > 3 else ""
        raise InvalidArgument(" ".join(problems[:3]) + more)


def _refuse_old_versions(before: pd.DataFrame, ids: list[int]) -> None:
    """Only live rows can change: say which rows of the view are old versions or deleted."""
    problems = []
    for aid in ids:
        if aid not in before.index:  # a delete of a row outside the view: the engine checks
            continue
        state = state_of(before.loc[aid])
        if state.kind == REPLACED:
            problems.append(
                f"Annotation {aid} was replaced by annotation {state.replaced_by}; "
                f"only the newest version can change, so change {state.replaced_by} "
                "instead."
            )
        elif not state.live:
            problems.append(f"Annotation {aid} is deleted; a deleted annotation cannot change.")
    if problems:
        more = f" ({len(problems) - 3} more like these.)" if len(problems) > 3 else ""
        raise InvalidArgument(" ".join(problems[:3]) + more)


def apply_edits(
    client: Any, table_name: str, plan: EditPlan, aligned_volume_name: str | None = None
) -> EditResult:
    """Send the plan: updates first (one transaction, all or nothing), then deletes."""
    updated: dict[int, int] = {}
    if plan.updates:
        updated = {
            int(k): int(v)
            for k, v in client.update_annotation(
                table_name, plan.updates, aligned_volume_name=aligned_volume_name
            ).items()
        }
    deleted: list[int] = []
    if plan.deletes:
        deleted = client.delete_annotation(
            table_name, plan.deletes, aligned_volume_name=aligned_volume_name
        )
    restored: dict[int, int] = {}
    if plan.restores:
        restored = client.restore_annotation(
            table_name, plan.restores, aligned_volume_name=aligned_volume_name
        )
    return EditResult(updated=updated, deleted=deleted, restored=restored)


def version_changes(schema: str | SchemaSpec, versions: list[dict]) -> list[dict]:
    """For each version (oldest first): who made it, its values, and the fields that differ
    from the version before."""
    spec = schema_spec(schema) if isinstance(schema, str) else schema
    out = []
    prev: dict | None = None
    for v in versions:
        diff = []
        for f in spec.data_fields:
            if prev is None or not _same_value(prev.get(f.column), v.get(f.column)):
                if prev is not None:
                    diff.append(
                        {"field": f.column, "old": prev.get(f.column), "new": v.get(f.column)}
                    )
        out.append(
            {
                "id": v["id"],
                "created": v["created"],
                "created_by": v.get("created_by"),
                "created_by_name": v.get("created_by_name"),
                "deleted": v["deleted"],
                "deleted_by": v.get("deleted_by"),
                "deleted_by_name": v.get("deleted_by_name"),
                "superceded_id": v["superceded_id"],
                "valid": v["valid"],
                "made": why_made(v, prev),
                "gone": why_gone(v),
                "changes": diff,
                "values": {f.column: v.get(f.column) for f in spec.data_fields},
            }
        )
        prev = v
    return out


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return _same(a, b)
