"""AnnotationClient: the seed API (caveclient's ``client.annotation``) over a Backend.

Method names, parameters and defaults are those of the seed; a few extras (marked
"Beyond the seed") serve the dashboard. The client resolves the aligned volume and the
shapes callers pass (one record or many, one id or many) and leaves the rest to the backend.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import requests
from packaging.version import Version

from anno_core.common import Progress
from anno_core.errors import InvalidArgument
from anno_core.names import check_volume_name, table_name_problem
from anno_core.schemas import schema_names, schema_spec
from anno_core.settings import Settings

logger = logging.getLogger(__name__)


def _as_records(data: Any) -> list[dict]:
    if isinstance(data, Mapping):
        return [dict(data)]
    if isinstance(data, pd.DataFrame):
        raise InvalidArgument("Use post_annotation_df to send a DataFrame.")
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        return list(data)
    raise InvalidArgument(f"Annotations must be a dict or a list of dicts, not {data!r}.")


def _as_ids(ids: Any) -> list[int]:
    if isinstance(ids, int | np.integer) and not isinstance(ids, bool):
        return [int(ids)]
    if isinstance(ids, Mapping):
        ids = [ids]
    if isinstance(ids, Iterable) and not isinstance(ids, str | bytes):
        out = []
        for v in ids:
            if isinstance(v, Mapping):
                v = v.get("id")
            if isinstance(v, bool) or not isinstance(v, int | np.integer | float | np.floating):
                raise InvalidArgument(f"Annotation ids must be whole numbers, not {v!r}.")
            if not float(v).is_integer():
                raise InvalidArgument(f"Annotation ids must be whole numbers, not {v!r}.")
            out.append(int(v))
        return out
    raise InvalidArgument(f"Annotation ids must be a whole number or a list of them, not {ids!r}.")


class AnnotationClient:
    """Client for the annotation engine: tables, metadata and annotations."""

    def __init__(self, backend: Any, settings: Settings) -> None:
        self.backend = backend
        self.settings = settings
        self._volume = check_volume_name(settings.aligned_volume)

    def _vol(self, aligned_volume_name: str | None) -> str:
        return check_volume_name(aligned_volume_name or self._volume)

    # -- the seed API ------------------------------------------------------------------
    @property
    def aligned_volume_name(self) -> str:
        """The volume calls use when they name none (a datastack's own, on a server)."""
        default = getattr(self.backend, "default_volume", None)
        return default() if callable(default) else self._volume

    @property
    def server_version(self) -> Version | None:
        """The version of the service running on the server (None for a real CAVE)."""
        return self.backend.server_version()

    def create_table(
        self,
        table_name,
        schema_name,
        description,
        voxel_resolution,
        reference_table=None,
        track_target_id_updates=None,
        flat_segmentation_source=None,
        user_id=None,
        aligned_volume_name=None,
        write_permission="PRIVATE",
        read_permission="PUBLIC",
        notice_text=None,
    ):
        """Creates a new data table based on an existing schema."""
        return self.backend.create_table(
            self._vol(aligned_volume_name),
            table_name=table_name,
            schema_name=schema_name,
            description=description,
            voxel_resolution=voxel_resolution,
            reference_table=reference_table,
            track_target_id_updates=track_target_id_updates,
            flat_segmentation_source=flat_segmentation_source,
            user_id=user_id,
            write_permission=write_permission,
            read_permission=read_permission,
            notice_text=notice_text,
        )

    def delete_annotation(self, table_name, annotation_ids, aligned_volume_name=None):
        """Delete annotations (marked invalid, never removed); returns the ids that existed."""
        return self.backend.delete_annotation(
            self._vol(aligned_volume_name), table_name, _as_ids(annotation_ids)
        )

    def delete_table(self, table_name, aligned_volume_name=None):
        """Marks a table deleted (admins only); its rows are kept and its name stays taken."""
        return self.backend.delete_table(self._vol(aligned_volume_name), table_name)

    def get_annotation(self, table_name, annotation_ids, aligned_volume_name=None):
        """Retrieve annotations by id, in any state (valid, deleted, superseded)."""
        return self.backend.get_annotation(
            self._vol(aligned_volume_name), table_name, _as_ids(annotation_ids)
        )

    def get_annotation_count(self, table_name, aligned_volume_name=None):
        """Number of annotations in a table (every row, as CAVE counts)."""
        return self.backend.get_annotation_count(self._vol(aligned_volume_name), table_name)

    def get_table_metadata(self, table_name, aligned_volume_name=None):
        """Metadata about a table."""
        return self.backend.get_table_metadata(self._vol(aligned_volume_name), table_name)

    def get_tables(self, aligned_volume_name=None):
        """Names of the (not deleted) tables of an aligned volume."""
        return self.backend.get_tables(self._vol(aligned_volume_name))

    def post_annotation(self, table_name, data, aligned_volume_name=None):
        """Post new annotations (all or nothing); returns their ids in input order."""
        return self.backend.post_annotation(
            self._vol(aligned_volume_name), table_name, _as_records(data)
        )

    def post_annotation_df(self, table_name, df, position_columns, aligned_volume_name=None):
        """Post new annotations from a DataFrame; returns their ids in row order."""
        from anno_core.ingest.frames import frame_for_table

        vol = self._vol(aligned_volume_name)
        spec = schema_spec(self.backend.get_table_metadata(vol, table_name)["schema_type"])
        flat = frame_for_table(spec, df, position_columns)
        # Problems name the DataFrame's own index labels, which the caller can .loc[] on.
        return self.backend.insert_frame(
            vol, table_name, flat, line_label="index", lines=df.index.to_numpy()
        )

    @staticmethod
    def process_position_columns(df, position_columns):
        """Process a dataframe into a list of dictionaries (records ready for posting)."""
        from anno_core.ingest.frames import process_position_columns

        return process_position_columns(df, position_columns)

    @staticmethod
    def raise_for_status(r, log_warning=True):
        """Raises requests.HTTPError, if one occurred."""
        if log_warning and r.headers.get("Warning"):
            logger.warning(r.headers["Warning"])
        if 400 <= r.status_code < 600:
            try:
                body = r.json()
                detail = body.get("message") if isinstance(body, dict) else body
            except ValueError:
                detail = r.text
            kind = "Client" if r.status_code < 500 else "Server"
            raise requests.HTTPError(
                f"{r.status_code} {kind} Error: {r.reason} for url: {r.url} content: {detail}",
                response=r,
            )

    def stage_annotations(
        self,
        table_name=None,
        schema_name=None,
        update=False,
        id_field=False,
        table_resolution=None,
        annotation_resolution=None,
    ):
        """A StagedAnnotations object that checks annotations as they are added."""
        from anno_core.ingest.staged import stage

        return stage(
            self,
            table_name=table_name,
            schema_name=schema_name,
            update=update,
            id_field=id_field,
            table_resolution=table_resolution,
            annotation_resolution=annotation_resolution,
        )

    def update_annotation(self, table_name, data, aligned_volume_name=None):
        """Update annotations: each gets a new id, the old row is kept as superseded.
        Returns ``{old_id: new_id}``."""
        return self.backend.update_annotation(
            self._vol(aligned_volume_name), table_name, _as_records(data)
        )

    def update_annotation_df(self, table_name, df, position_columns, aligned_volume_name=None):
        """Update annotations from a DataFrame with an ``id`` column; returns {old: new}."""
        from anno_core.ingest.frames import frame_for_table

        vol = self._vol(aligned_volume_name)
        spec = schema_spec(self.backend.get_table_metadata(vol, table_name)["schema_type"])
        flat = frame_for_table(spec, df, position_columns, keep_id=True)
        return self.backend.update_frame(vol, table_name, flat, lines=df.index.to_numpy())

    def update_metadata(
        self,
        table_name,
        description=None,
        flat_segmentation_source=None,
        read_permission=None,
        write_permission=None,
        user_id=None,
        notice_text=None,
        aligned_volume_name=None,
    ):
        """Update the metadata of a table; only what is not None changes."""
        return self.backend.update_metadata(
            self._vol(aligned_volume_name),
            table_name,
            {
                "description": description,
                "flat_segmentation_source": flat_segmentation_source,
                "read_permission": read_permission,
                "write_permission": write_permission,
                "user_id": user_id,
                "notice_text": notice_text,
            },
        )

    def upload_staged_annotations(self, staged_annos, aligned_volume_name=None):
        """Upload the staged rows not yet uploaded; ids, or {old: new} for updates."""
        from anno_core.ingest.staged import upload

        return upload(self, staged_annos, self._vol(aligned_volume_name))

    # -- Beyond the seed: what the dashboard and power users need ----------------------
    def get_history(
        self, table_name: str, annotation_id: int, aligned_volume_name: str | None = None
    ) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        return self.backend.history(self._vol(aligned_volume_name), table_name, int(annotation_id))

    def get_live_count(self, table_name: str, aligned_volume_name: str | None = None) -> int:
        """Number of live (valid) annotations in a table."""
        return self.backend.get_annotation_count(
            self._vol(aligned_volume_name), table_name, live_only=True
        )

    def get_table_details(self, aligned_volume_name: str | None = None) -> list[dict]:
        """Metadata of every table with live/total counts, owner name and the user's rights."""
        return self.backend.table_details(self._vol(aligned_volume_name))

    def get_aligned_volumes(self) -> list[str]:
        """Aligned volumes this engine knows (the current one included)."""
        names = set(self.backend.volumes())
        names.add(self.aligned_volume_name)
        return sorted(names)

    def whoami(self) -> dict:
        """The acting user: id, name, groups, is_admin."""
        return self.backend.whoami()

    @property
    def connection_label(self) -> str:
        """One line saying what this client is connected to."""
        return self.backend.label

    def table_name_problem(self, name: str, aligned_volume_name: str | None = None) -> str | None:
        """Why ``name`` cannot be used for a new table (rule or taken), or None."""
        problem = table_name_problem(name)
        if problem:
            return problem
        vol = self._vol(aligned_volume_name)
        if self.backend.table_name_taken(vol, name):
            return f"A table called {name!r} already exists in {vol!r}; choose another name."
        return None

    def query_annotations(
        self,
        table_name: str,
        *,
        limit: int = 1000,
        offset: int = 0,
        include_invalid: bool = False,
        filters: dict | None = None,
        ids: list[int] | None = None,
        aligned_volume_name: str | None = None,
    ) -> pd.DataFrame:
        """One page of a table's rows as a flat frame (points as _x/_y/_z columns)."""
        return self.backend.query(
            self._vol(aligned_volume_name),
            table_name,
            limit=limit,
            offset=offset,
            include_invalid=include_invalid,
            filters=filters,
            ids=ids,
        )

    def get_point_frame(self, table_name: str, aligned_volume_name: str | None = None):
        """(points frame, schema spec, metadata) of a table's live rows, for a 3D view."""
        return self.backend.point_frame(self._vol(aligned_volume_name), table_name)

    @staticmethod
    def schema_names() -> list[str]:
        """Every schema name."""
        return list(schema_names())

    @staticmethod
    def schema_fields(schema_name: str) -> list[dict]:
        """The fields a user supplies for a schema: name, type, required, description."""
        return [
            {
                "name": f.column,
                "type": f.type_label,
                "required": f.required,
                "description": f.description,
            }
            for f in schema_spec(schema_name).user_fields
        ]

    @staticmethod
    def is_reference_schema(schema_name: str) -> bool:
        return schema_spec(schema_name).is_reference

    def list_users(self) -> list[dict]:
        return [u.to_dict() for u in self.backend.users.list()]

    # -- Beyond the seed: CSV ingest (anno_core.ingest) --------------------------------
    @staticmethod
    def read_csv(
        source: Any,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        name: str | None = None,
    ) -> Any:
        """A CSV file (path, bytes or binary file) read as text, or a refusal sentence."""
        from anno_core.ingest.csvio import read_csv

        return read_csv(source, encoding=encoding, delimiter=delimiter, name=name)

    def propose_mapping(
        self,
        table_name: str,
        columns: Iterable[str],
        update: bool = False,
        aligned_volume_name: str | None = None,
    ) -> Any:
        """Which of ``columns`` likely holds each field of the table's schema."""
        from anno_core.ingest.mapping import propose_mapping

        meta = self.get_table_metadata(table_name, aligned_volume_name)
        return propose_mapping(list(columns), schema_spec(meta["schema_type"]), update=update)

    def open_upload(self, table_name: str, source: Any, **options: Any) -> Any:
        """An UploadPlan: the file read and mapped onto the table, to check and commit."""
        from anno_core.ingest.plan import open_upload

        return open_upload(self, table_name, source, **options)

    def validate_upload(self, table_name: str, source: Any, **options: Any) -> Any:
        """The ValidationReport of uploading a CSV file to a table, storing nothing."""
        return self.open_upload(table_name, source, **options).check().report

    def ingest_csv(
        self,
        table_name: str,
        source: Any,
        *,
        progress: Any = None,
        upload_key: str | None = None,
        **options: Any,
    ) -> Any:
        """Read, map, validate and store a CSV file in one call (all rows or none)."""
        from anno_core.ingest.plan import ingest_csv

        return ingest_csv(
            self, table_name, source, progress=progress, upload_key=upload_key, **options
        )

    # -- Beyond the seed: fixing mistakes (anno_core.edits) -----------------------------
    def count_annotations(
        self,
        table_name: str,
        *,
        include_invalid: bool = False,
        filters: dict | None = None,
        ids: list[int] | None = None,
        aligned_volume_name: str | None = None,
    ) -> int:
        """How many rows ``query_annotations`` pages through with the same arguments."""
        count = getattr(self.backend, "count_rows", None)
        if count is None:
            raise InvalidArgument(
                "This annotation server cannot count the rows that match a filter."
            )
        return count(
            self._vol(aligned_volume_name),
            table_name,
            include_invalid=include_invalid,
            filters=filters,
            ids=ids,
        )

    @staticmethod
    def edit_columns(schema_name: str) -> list[Any]:
        """The columns of a query frame a person may change (EditColumn: kind, axis...)."""
        from anno_core.ingest.edits import edit_columns

        return edit_columns(schema_name)

    @staticmethod
    def filter_value(schema_name: str, column: str, text: str) -> Any:
        """A typed filter value as what ``query_annotations(filters=...)`` compares with."""
        from anno_core.ingest.edits import filter_value

        return filter_value(schema_name, column, text)

    @staticmethod
    def plan_edits(
        schema_name: str,
        original: pd.DataFrame,
        edited: pd.DataFrame,
        delete_ids: list[int] | None = None,
    ) -> Any:
        """The EditPlan (updates, deletes, readable changes) of edits to a page of rows."""
        from anno_core.ingest.edits import plan_edits

        return plan_edits(schema_name, original, edited, delete_ids)

    def apply_edits(
        self, table_name: str, plan: Any, aligned_volume_name: str | None = None
    ) -> Any:
        """Store an EditPlan: updates (all or nothing), then deletes; an EditResult."""
        from anno_core.ingest.edits import apply_edits

        return apply_edits(self, table_name, plan, aligned_volume_name=aligned_volume_name)

    def get_history_changes(
        self, table_name: str, annotation_id: int, aligned_volume_name: str | None = None
    ) -> list[dict]:
        """Every version of one annotation, oldest first, each with what it changed."""
        from anno_core.ingest.edits import version_changes

        meta = self.get_table_metadata(table_name, aligned_volume_name)
        versions = self.get_history(table_name, annotation_id, aligned_volume_name)
        return version_changes(meta["schema_type"], versions)

    # -- Beyond the seed: dashboard templates --------------------------------------------
    @staticmethod
    def csv_template(schema_name: str) -> str:
        """The header row of a CSV upload for ``schema_name`` (positions as _x/_y/_z)."""
        from anno_core.ingest.templates import csv_template

        return csv_template(schema_name)


ProgressCallback = Progress  # the one progress type, kept under its old name
