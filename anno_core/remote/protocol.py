"""What every annotation server answers: CAVE's AnnotationEngine v2 routes, over one transport.

A real CAVE and our server both speak this protocol; `cave.RealCave` and `ours.OurServer`
extend it with how each does the rest (uploads, queries, who am I). Creating and deleting a
table are not idempotent, so a lost answer is followed by a look at the table before
anything is sent again (`Transport.call`'s ``after_lost``).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

import pandas as pd

from anno_core.errors import TableExists, TableNotFound
from anno_core.remote.curation import CaveCuration
from anno_core.remote.transport import Answered, Resend, Transport
from anno_core.remote.uploads import Progress
from anno_core.schemas import SchemaSpec, schema_spec
from anno_core.validation.validator import ValidationReport
from anno_core.wire import endpoints as ep


class CaveProtocol(CaveCuration, ABC):
    """One annotation server at ``base`` (the deployment's services at ``info``)."""

    batch_size: int = ep.MAX_ANNOTATIONS

    def __init__(self, transport: Transport, base: str, info: str) -> None:
        self.t = transport
        self.base = base
        self.info = info
        self._schemas: dict[tuple[str, str], str] = {}
        self._schemas_lock = threading.Lock()

    def url(self, template: str, **parts: Any) -> str:
        """An annotation-server route with its parts URL-quoted."""
        return ep.url(self.base, template, **parts)

    # -- tables --------------------------------------------------------------------------
    def get_tables(self, vol: str) -> list[str]:
        return list(self.t.get(self.url(ep.TABLES, aligned_volume=vol)))

    def get_table_metadata(self, vol: str, table: str) -> dict[str, Any]:
        meta = self.t.get(self.url(ep.TABLE, aligned_volume=vol, table_name=table))
        if isinstance(meta, dict) and isinstance(meta.get("schema_type"), str):
            with self._schemas_lock:
                self._schemas[(vol, table)] = meta["schema_type"]
        return meta

    def spec_of(self, vol: str, table: str) -> SchemaSpec:
        """The schema of a table (a table's schema never changes, so it is asked once)."""
        with self._schemas_lock:
            name = self._schemas.get((vol, table))
        if name is None:
            name = self.get_table_metadata(vol, table)["schema_type"]
        return schema_spec(name)

    def create_table(self, vol: str, body: dict[str, Any]) -> str:
        """POST a new table; after a lost answer, look whether it exists before re-sending."""
        name, meta = body["table_name"], body["metadata"]
        url = self.url(ep.TABLES, aligned_volume=vol)
        table_url = self.url(ep.TABLE, aligned_volume=vol, table_name=name)
        resent = False

        def ours_or_taken(found: dict[str, Any]) -> Answered:
            same = found.get("schema_type") == body["schema_type"] and found.get(
                "description"
            ) == meta.get("description")
            if same:
                return Answered(name)
            raise TableExists(
                f"A table called {name!r} already exists in aligned volume {vol!r}; "
                "choose another name."
            )

        def after_lost() -> Answered | Resend:
            nonlocal resent
            try:
                return ours_or_taken(self.t.get_once(table_url))
            except TableNotFound:
                resent = True
                return Resend()

        try:
            self.t.call(
                "POST",
                url,
                json=body,
                after_lost=after_lost,
                finish=lambda r: name,  # a real CAVE answers the name as text, not JSON
                if_no_answer=f"check with get_tables() whether table {name!r} exists.",
            )
        except TableExists:
            if not resent:
                raise
            # The lost request was stored after the look and before the re-send: is it ours?
            ours_or_taken(self.t.get(table_url))
        return name

    def update_metadata(self, vol: str, table: str, metadata: dict[str, Any]) -> dict:
        # Setting the same values twice changes nothing, so a lost answer is simply re-sent.
        return self.t.call(
            "PUT",
            self.url(ep.TABLES, aligned_volume=vol),
            json={"table_name": table, "metadata": metadata},
        )

    def delete_table(self, vol: str, table: str) -> bool:
        """DELETE a table; after a lost answer, a re-send that finds no table means done."""
        url = self.url(ep.TABLE, aligned_volume=vol, table_name=table)

        def after_lost() -> Answered:
            try:
                return Answered(self.t.call_once("DELETE", url))
            except TableNotFound:
                return Answered(True)

        got = self.t.call(
            "DELETE",
            url,
            after_lost=after_lost,
            if_no_answer=f"check with get_tables() whether table {table!r} is gone.",
        )
        return bool(got)

    # -- rows ----------------------------------------------------------------------------
    def get_annotation_count(self, vol: str, table: str, live_only: bool = False) -> int:
        params = {"live_only": "true"} if live_only else None
        return int(
            self.t.get(self.url(ep.COUNT, aligned_volume=vol, table_name=table), params=params)
        )

    def get_annotation(
        self, vol: str, table: str, ids: Sequence[int], *, once: bool = False
    ) -> list[dict]:
        """Rows by id; with ``once`` each request is tried once (for a check after a lost
        answer, whose tries the transport counts)."""
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)
        get = self.t.get_once if once else self.t.get
        rows: list[dict] = []
        for start in range(0, len(ids), 1000):  # keeps the URL short
            part = ids[start : start + 1000]
            rows.extend(get(url, params={"annotation_ids": ",".join(map(str, part))}))
        return rows

    def delete_annotation(self, vol: str, table: str, ids: Sequence[int]) -> list[int]:
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)
        done: list[int] = []
        for start in range(0, max(len(ids), 1), ep.MAX_ANNOTATIONS):
            part = [int(i) for i in ids[start : start + ep.MAX_ANNOTATIONS]]
            # Deleting twice changes nothing, so a lost answer is simply asked again.
            done.extend(self.t.call("DELETE", url, json={"annotation_ids": part}))
        return done

    # -- what each kind of server does its own way -----------------------------------------
    @abstractmethod
    def table_name_taken(self, vol: str, table: str) -> bool: ...

    @abstractmethod
    def volumes(self) -> list[str] | None:
        """The aligned volumes; None when the deployment does not list them."""

    @abstractmethod
    def whoami(self) -> dict[str, Any]: ...

    @abstractmethod
    def list_users(self) -> list[dict[str, Any]]:
        """id, name, groups, is_admin of every user (None where the server withholds them)."""

    @abstractmethod
    def table_details(self, vol: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def activity(self, vol: str, params: dict[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def history(self, vol: str, table: str, annotation_id: int) -> list[dict]: ...

    @abstractmethod
    def query(
        self,
        vol: str,
        table: str,
        limit: int,
        offset: int,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
        after_id: int | None = None,
    ) -> pd.DataFrame: ...

    @abstractmethod
    def count_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
    ) -> int: ...

    @abstractmethod
    def estimate_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
    ) -> dict[str, Any]: ...

    @abstractmethod
    def point_frame(
        self, vol: str, table: str, include_invalid: bool, limit: int, columns: list[str]
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]: ...

    @abstractmethod
    def insert_frame(
        self,
        vol: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None,
        line_label: str,
        allow_position_strings: bool,
        progress: Progress,
        upload_key: str | None,
        prior: ValidationReport | None,
    ) -> list[int]: ...

    @abstractmethod
    def update_frame(
        self,
        vol: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None,
        progress: Progress,
        upload_key: str | None,
    ) -> dict[int, int]: ...

    @abstractmethod
    def update_records(
        self, vol: str, table: str, records: list[dict], upload_key: str | None
    ) -> dict[int, int]: ...

    # -- versions and export (ours only; a real CAVE refuses them) -------------------------
    @abstractmethod
    def create_version(
        self, vol: str, name: str, description: str, timestamp: datetime | None
    ) -> dict[str, Any]: ...

    @abstractmethod
    def list_versions(self, vol: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def get_version(self, vol: str, version: str | int) -> dict[str, Any]: ...

    @abstractmethod
    def delete_version(self, vol: str, version: str | int) -> bool: ...

    @abstractmethod
    def export_table(
        self, vol: str, table: str, sink: BinaryIO, options: Any, progress: Progress
    ) -> dict[str, Any]: ...

    @abstractmethod
    def export_link(self, vol: str, table: str, options: Any) -> dict[str, Any]: ...

    @abstractmethod
    def export_progress(self, vol: str, link_id: str) -> dict[str, Any] | None: ...

    # -- Neuroglancer (our server only) ----------------------------------------------------
    @abstractmethod
    def neuroglancer_source(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        ttl: int,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]: ...

    @abstractmethod
    def neuroglancer_info(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]: ...

    @abstractmethod
    def volume_sources(self, vol: str) -> dict[str, str | None]: ...

    @abstractmethod
    def set_volume_sources(
        self, vol: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]: ...
