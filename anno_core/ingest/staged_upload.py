"""Staging for a table and uploading what is staged: caveclient's stage_annotations and
upload_staged_annotations over any backend, batch by batch, each batch with an upload key
derived from the staged set and its rows, so a batch sent again after a failure that came
after the commit is answered from what was stored, never inserted twice. Nothing here
retries: the remote backend's transport is the one place that does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anno_core.common import Progress
from anno_core.errors import InvalidArgument
from anno_core.ingest.staged import IS_UPLOADED, StagedAnnotations
from anno_core.schemas import AXES, schema_spec


def stage(
    client: Any,
    table_name: str | None = None,
    schema_name: str | None = None,
    update: bool = False,
    id_field: bool = False,
    table_resolution: Sequence[float] | None = None,
    annotation_resolution: Sequence[float] | None = None,
) -> StagedAnnotations:
    """A StagedAnnotations for a table (schema and resolution read from it) or a schema."""
    if table_name is not None:
        meta = client.get_table_metadata(table_name)
        schema_name = meta["schema_type"]
        res = [meta[f"voxel_resolution_{a}"] for a in AXES]
        if table_resolution is not None and [float(v) for v in table_resolution] != [
            float(v) for v in res
        ]:
            raise InvalidArgument(
                f"Table '{table_name}' has voxel resolution {res}; table_resolution "
                f"{list(table_resolution)} contradicts it. Leave table_resolution out."
            )
        table_resolution = res
    elif schema_name is None:
        raise InvalidArgument(
            "Name a table (table_name=...) or a schema (schema_name=...) to stage annotations for."
        )
    return StagedAnnotations(
        schema_spec(schema_name),
        table_name=table_name,
        update=update,
        id_field=id_field,
        table_resolution=table_resolution,
        annotation_resolution=annotation_resolution,
    )


def upload(
    client: Any,
    staged: StagedAnnotations,
    aligned_volume_name: str,
    *,
    batch_size: int = 10_000,
    progress: Progress | None = None,
) -> list[int] | dict[int, int]:
    """Upload the staged rows not yet uploaded, batch by batch; the new ids of the rows this
    call stored (``{old: new}`` for updates), as caveclient returns them. A second call after
    a failure uploads the rest; every row's id is in ``annotation_dataframe(include_tracking=
    True)``."""
    if not isinstance(staged, StagedAnnotations):
        raise InvalidArgument(
            "upload_staged_annotations needs the object stage_annotations "
            f"returned, not {type(staged).__name__}."
        )
    if staged.table_name is None:
        raise InvalidArgument(
            "These annotations were staged for a schema, not a table; set "
            "staged.table_name = '...' before uploading."
        )
    schema = client.get_table_metadata(staged.table_name, aligned_volume_name)["schema_type"]
    if schema != staged.schema_name:
        raise InvalidArgument(
            f"Table '{staged.table_name}' uses schema '{schema}', but these "
            f"annotations were staged for '{staged.schema_name}'."
        )
    frame = staged._frame()
    todo = np.flatnonzero(~frame[IS_UPLOADED].to_numpy(dtype=bool))
    total, done = len(todo), 0
    ids: list[int] = []
    changed: dict[int, int] = {}
    for start in range(0, total, batch_size):
        for rows, part in staged._upload_parts(todo[start : start + batch_size]):
            key = f"staged-{staged.key}-{int(rows[0])}-{int(rows[-1])}-{len(rows)}"
            new_ids = _send(client.backend, staged, aligned_volume_name, part, rows + 1, key)
            staged._mark(rows, new_ids)
            if staged.is_update:
                changed.update(zip(part["id"].astype(int).tolist(), new_ids, strict=True))
            else:
                ids.extend(new_ids)
            done += len(rows)
            if progress:
                progress(done, total)
    return changed if staged.is_update else ids


def _send(
    backend: Any,
    staged: StagedAnnotations,
    volume: str,
    part: pd.DataFrame,
    lines: np.ndarray,
    key: str,
) -> list[int]:
    """One batch through the backend, once: retrying is the backend's transport's job (it
    alone knows whether a batch whose answer was lost may be sent again)."""
    if staged.is_update:
        mapping = backend.update_frame(volume, staged.table_name, part, lines=lines, upload_key=key)
        return [int(mapping[k]) for k in _old_keys(mapping, part["id"])]
    ids = backend.insert_frame(
        volume, staged.table_name, part, lines=lines, line_label="annotation", upload_key=key
    )
    return [int(i) for i in ids]


def _old_keys(mapping: dict, ids: pd.Series) -> list[Any]:
    """Keys of an update result in row order (ints from the engine, strings over JSON)."""
    return [int(i) if int(i) in mapping else str(int(i)) for i in ids]
