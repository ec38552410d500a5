"""What `AnnotationClient` offers beyond caveclient's seed API, for the dashboard and
power users: reads for table views (pages of rows, counts, history, points), schema
helpers, CSV ingest (`anno_core.ingest`) and fixing mistakes from a table view.

A mixin: `AnnotationClient` (client.py) gives it ``backend``, ``_vol`` and the seed methods
it builds on. Capabilities a backend lacks raise `NotSupported` from the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from anno_core.arguments import annotation_id as annotation_id_of
from anno_core.arguments import check_page, query_filters
from anno_core.backend import Backend
from anno_core.common import MAX_SAMPLE, ViewCount
from anno_core.names import table_name_problem
from anno_core.schemas import schema_names, schema_spec


class ClientExtras:
    """The methods of AnnotationClient beyond the seed (mixed into it)."""

    # Provided by AnnotationClient; declared for readers and type checkers.
    backend: Backend
    aligned_volume_name: str
    _vol: Callable[[str | None], str]
    get_table_metadata: Callable[..., dict]
    moment: Callable[..., Any]
    _said: Callable[[pd.DataFrame], pd.DataFrame]

    # -- what the dashboard and power users need ----------------------------------------
    def get_history(
        self, table_name: str, annotation_id: int, aligned_volume_name: str | None = None
    ) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        return self.backend.history(
            self._vol(aligned_volume_name), table_name, annotation_id_of(annotation_id)
        )

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
        timestamp: Any = None,
        version: Any = None,
        after_id: int | None = None,
    ) -> pd.DataFrame:
        """One page of a table's rows as a flat frame (points as _x/_y/_z columns), in id
        order. ``after_id`` starts after that id (a keyset page: give the last id of the
        page before, and any page of any table comes as fast as the first); ``offset``
        then skips rows (slow deep into a big table). With ``timestamp`` or ``version``,
        the rows as they were at that moment."""
        limit, offset = check_page(limit, offset)
        return self._said(
            self.backend.query(
                self._vol(aligned_volume_name),
                table_name,
                limit=limit,
                offset=offset,
                include_invalid=include_invalid,
                filters=query_filters(filters),
                ids=ids,
                timestamp=self.moment(timestamp, version, aligned_volume_name),
                after_id=after_id,
            )
        )

    def get_point_frame(
        self,
        table_name: str,
        aligned_volume_name: str | None = None,
        *,
        limit: int = MAX_SAMPLE,
        columns: list[str] | None = None,
    ):
        """(points frame, schema spec, metadata) of at most ``limit`` live rows, for a 3D
        view: a fixed uniform sample chosen by the database (the rows with the smallest
        sample keys, in key order; the same rows every time): the id, the point columns and
        ``columns`` (e.g. one to colour by)."""
        return self.backend.point_frame(
            self._vol(aligned_volume_name), table_name, limit=limit, columns=columns
        )

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
        """Whether the schema annotates rows of another table (target_id)."""
        return schema_spec(schema_name).is_reference

    def list_users(self) -> list[dict]:
        """Every user (id, name, groups, is_admin); NotSupported where a server won't say."""
        return self.backend.list_users()

    def people(self) -> Any:
        """Users, groups and sign-in e-mails (`anno_core.people.People`), as the acting
        user may manage them; NotSupported over HTTP."""
        return self.backend.people()

    def get_activity(
        self, aligned_volume_name: str | None = None, **filters: Any
    ) -> dict[str, Any]:
        """One page of the audit log, newest first, of tables the user may read: filters
        table, user, kind, since, until, limit, before (`Backend.activity`)."""
        return self.backend.activity(self._vol(aligned_volume_name), **filters)

    # -- CSV ingest (anno_core.ingest) ------------------------------------------------
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

    # -- fixing mistakes from a table view (anno_core.ingest.edits) ---------------------
    def count_annotations(
        self,
        table_name: str,
        *,
        include_invalid: bool = False,
        filters: dict | None = None,
        ids: list[int] | None = None,
        aligned_volume_name: str | None = None,
        timestamp: Any = None,
        version: Any = None,
    ) -> int:
        """How many rows ``query_annotations`` pages through with the same arguments."""
        return self.backend.count_rows(
            self._vol(aligned_volume_name),
            table_name,
            include_invalid=include_invalid,
            filters=query_filters(filters),
            ids=ids,
            timestamp=self.moment(timestamp, version, aligned_volume_name),
        )

    def estimate_annotation_count(
        self,
        table_name: str,
        *,
        include_invalid: bool = False,
        filters: dict | None = None,
        ids: list[int] | None = None,
        aligned_volume_name: str | None = None,
    ) -> ViewCount:
        """The count ``count_annotations`` gives, exact when cheap (at most 100,000 rows
        read), else estimated from the table's sample and marked ``exact=False``."""
        got = self.backend.estimate_rows(
            self._vol(aligned_volume_name),
            table_name,
            include_invalid=include_invalid,
            filters=query_filters(filters),
            ids=ids,
        )
        return ViewCount(
            count=int(got["count"]),
            exact=bool(got["exact"]),
            sampled=got.get("sampled"),
            matched=got.get("matched"),
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
        restore_ids: list[int] | None = None,
    ) -> Any:
        """The EditPlan (updates, deletes, restores, readable changes) of edits to a page of
        rows."""
        from anno_core.ingest.edits import plan_edits

        return plan_edits(schema_name, original, edited, delete_ids, restore_ids)

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

    # -- dashboard templates ------------------------------------------------------------
    @staticmethod
    def csv_template(schema_name: str) -> str:
        """The header row of a CSV upload for ``schema_name`` (positions as _x/_y/_z)."""
        from anno_core.ingest.templates import csv_template

        return csv_template(schema_name)
