"""What became of one version of an annotation: live, deleted, or replaced by a newer one.

Nothing is erased: an update marks the old row with ``superceded_id`` (the new row's id) and
``valid`` false; a delete stamps ``deleted`` and marks ``valid`` false. `annotation_state`
reads those three values, as a row of `query_annotations`, a version of `get_history` or a
CAVE server's row carries them (a server may leave ``deleted`` out), and is the one place
that decides; the edit page, the history view, table edits and update diffs all ask it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

LIVE, DELETED, REPLACED = "live", "deleted", "replaced"


@dataclass(frozen=True)
class AnnotationState:
    """``kind`` is live, deleted or replaced; ``replaced_by`` the newer id, ``deleted_at``
    when it was deleted (None where the row does not say)."""

    kind: str
    replaced_by: int | None = None
    deleted_at: Any = None

    @property
    def live(self) -> bool:
        return self.kind == LIVE

    def __str__(self) -> str:
        """'live', 'deleted' or 'replaced by 12' (the grid's state column)."""
        return f"replaced by {self.replaced_by}" if self.kind == REPLACED else self.kind


def annotation_state(
    superceded_id: Any = None, valid: Any = True, deleted: Any = None
) -> AnnotationState:
    """The state of a version from its ``superceded_id``, ``valid`` and ``deleted`` values.

    A newer version wins (replaced), then a deletion stamp or ``valid`` false (deleted);
    anything else is live. Blanks (None, NaN, NaT, NA, '') mean 'not set'."""
    if not _blank(superceded_id):
        return AnnotationState(REPLACED, replaced_by=int(superceded_id))
    if not _blank(deleted):
        return AnnotationState(DELETED, deleted_at=deleted)
    if not _blank(valid) and not bool(valid):
        return AnnotationState(DELETED)
    return AnnotationState(LIVE)


def state_of(row: Mapping[str, Any] | pd.Series) -> AnnotationState:
    """`annotation_state` of a row or version record (missing keys count as not set)."""
    return annotation_state(row.get("superceded_id"), row.get("valid", True), row.get("deleted"))


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, str) and not v.strip()):
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    return isinstance(v, np.datetime64) and np.isnat(v)


def why_made(version: Mapping[str, Any], previous: Mapping[str, Any] | None) -> str | None:
    """Why this version was made, from its ``created_why`` (the audit entry stamped when it
    was): 'restored from 12', 'a change of 12', 'uploaded'; None when not known."""
    why = version.get("created_why") or {}
    action = why.get("action")
    before = f" {previous['id']}" if previous is not None else ""
    if action == "restore_annotation":
        return f"restored from{before or ' a deleted annotation'}"
    if action == "update_annotation":
        return f"a change of{before}" if before else "a change"
    if action == "track_target_id_updates":
        return "follows the new version of the row it annotates"
    if action == "post_annotation":
        return "uploaded"
    return None


def why_gone(version: Mapping[str, Any]) -> str | None:
    """Why this version was deleted, from its ``deleted_why``: 'deleted by undoing the upload
    of 2026-11-30 09:12 by ana', 'deleted with the filter cell_type contains bask'; None when
    not deleted or not known."""
    why = version.get("deleted_why") or {}
    detail = why.get("detail") or {}
    if why.get("action") != "delete_annotation":
        return None
    reason = detail.get("reason")
    if reason == "undo_upload":
        when = str(detail.get("upload_at") or "")[:16].replace("T", " ")
        who = detail.get("upload_by") or "someone"
        return f"deleted by undoing the upload of {when} by {who}"
    if reason == "filter":
        filters = detail.get("filters") or {}
        said = ", ".join(
            f"{k} contains '{v}'" if isinstance(v, str) else f"{k} = {v}"
            for k, v in filters.items()
        )
        return f"deleted with the filter {said}" if said else "deleted with others by id"
    return "deleted"
