"""AnnotationClient: the seed API (caveclient's ``client.annotation``) over a Backend.

Method names, parameters and defaults are those of the seed; the extras that serve the
dashboard are mixed in from client_extras.py. The client resolves the aligned volume and the
shapes callers pass (one record or many, one id or many) and leaves the rest to the backend,
which it reaches only through the `Backend` contract (anno_core/backend.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import requests
from packaging.version import Version

from anno_core.backend import Backend
from anno_core.client_curation import ClientCuration
from anno_core.client_data import ClientDataOut
from anno_core.client_extras import ClientExtras
from anno_core.client_neuroglancer import ClientNeuroglancer
from anno_core.common import Progress
from anno_core.errors import InvalidArgument
from anno_core.ids import row_id
from anno_core.names import check_volume_name
from anno_core.schemas import schema_spec
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
        return [row_id(int(ids))]
    if isinstance(ids, Mapping):
        ids = [ids]
    if isinstance(ids, Iterable) and not isinstance(ids, str | bytes):
        out = []
        for v in ids:
            if isinstance(v, Mapping):
                v = v.get("id")
            if isinstance(v, bool) or not isinstance(v, int | np.integer | float | np.floating):
                raise InvalidArgument(f"Annotation ids must be whole numbers, not {v!r}.")
            if isinstance(v, float | np.floating) and not float(v).is_integer():
                raise InvalidArgument(f"Annotation ids must be whole numbers, not {v!r}.")
            out.append(row_id(int(v)))
        return out
    raise InvalidArgument(f"Annotation ids must be a whole number or a list of them, not {ids!r}.")


class AnnotationClient(ClientExtras, ClientDataOut, ClientCuration, ClientNeuroglancer):
    """Client for the annotation engine: tables, metadata and annotations."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        if not isinstance(backend, Backend):
            raise TypeError(
                f"AnnotationClient needs a Backend (anno_core/backend.py), not "
                f"{type(backend).__name__}."
            )
        self.backend = backend
        self.settings = settings
        self._volume = check_volume_name(settings.aligned_volume)

    def _vol(self, aligned_volume_name: str | None) -> str:
        return check_volume_name(aligned_volume_name or self._volume)

    # -- the seed API ------------------------------------------------------------------
    @property
    def aligned_volume_name(self) -> str:
        """The volume calls use when they name none (a datastack's own, on a server)."""
        return self.backend.default_volume()

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
        from anno_core.ingest.staged_upload import stage

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
        from anno_core.ingest.staged_upload import upload

        return upload(self, staged_annos, self._vol(aligned_volume_name))


ProgressCallback = Progress  # the one progress type, kept under its old name
