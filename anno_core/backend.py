"""The Backend contract both backends implement (the argument checks they share are in
`anno_core.arguments`; versions, exports and curation in `anno_core.backend_data`).

`AnnotationClient`, `anno_core.ingest` and (through the client) the dashboard call a backend
only through the methods of `Backend`. The embedded engine (`anno_core.engine.writes.
LocalBackend`) and the remote backend (`anno_core.remote.backend.RemoteBackend`) both
satisfy it; ``isinstance(b, Backend)`` checks that every method is there.

A capability a backend lacks is still a method: it raises `NotSupported` with a sentence
saying what is possible instead (a real CAVE server cannot page through rows, count a
filtered view or list its users). Nobody probes a backend with ``getattr``.

Every ``volume`` argument is an aligned volume name the client has already checked; the
client also turns the shapes callers pass (one id or many, one record or many) into lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from anno_core.backend_data import DataBackend
from anno_core.common import MAX_SAMPLE, Progress

if TYPE_CHECKING:
    import pandas as pd
    from packaging.version import Version

    from anno_core.people import People
    from anno_core.schemas import SchemaSpec
    from anno_core.validation.report import ValidationReport


@runtime_checkable
class Backend(DataBackend, Protocol):
    """What the client, ingest and the dashboard call on an annotation backend."""

    label: str
    """One line saying what this backend is connected to (for the dashboard)."""

    # -- where and who ---------------------------------------------------------------
    def default_volume(self) -> str:
        """The aligned volume calls use when they name none (a datastack's own)."""
        ...

    def server_version(self) -> Version | None:
        """The version of our server; None for the embedded engine and a real CAVE."""
        ...

    def whoami(self) -> dict[str, Any]:
        """The acting user: id, name, groups, is_admin."""
        ...

    def list_users(self) -> list[dict[str, Any]]:
        """Every user (id, name, groups, is_admin); on our server a non-admin gets groups
        and is_admin as None (names only); NotSupported on a real CAVE."""
        ...

    def volumes(self) -> list[str]:
        """The aligned volumes this backend knows."""
        ...

    def people(self) -> People:
        """Users, groups and sign-in e-mails as the acting user may manage them;
        NotSupported on a remote backend (people are managed on the server's machine)."""
        ...

    def activity(
        self,
        volume: str,
        *,
        table: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 50,
        before: int | None = None,
    ) -> dict[str, Any]:
        """One page of the audit log of ``volume``, newest first, only entries about tables
        the acting user may read: ``{"entries": [...], "next": id for before= or None}``
        (entry fields in `anno_core.activity`); NotSupported on a real CAVE."""
        ...

    # -- tables ------------------------------------------------------------------------
    def get_tables(self, volume: str) -> list[str]:
        """Names of the tables of ``volume`` that are not deleted."""
        ...

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        """A table's metadata (CAVE's fields); TableNotFound if it is not there."""
        ...

    def table_name_taken(self, volume: str, table: str) -> bool:
        """Whether ``table`` names a table of ``volume``, deleted ones included."""
        ...

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        """Every table's metadata with counts, owner name and the user's rights (None
        where a backend cannot tell)."""
        ...

    def create_table(
        self,
        volume: str,
        *,
        table_name: str,
        schema_name: str,
        description: str,
        voxel_resolution: Sequence[float],
        reference_table: str | None,
        track_target_id_updates: bool | None,
        flat_segmentation_source: str | None,
        user_id: Any,
        write_permission: str,
        read_permission: str,
        notice_text: str | None,
    ) -> str:
        """Create a table of a schema; returns its name."""
        ...

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        """Change the metadata given (None values change nothing); the new metadata."""
        ...

    def delete_table(self, volume: str, table: str) -> bool:
        """Mark a table deleted (its rows are kept and its name stays taken)."""
        ...

    # -- rows --------------------------------------------------------------------------
    def get_annotation_count(self, volume: str, table: str, live_only: bool = False) -> int:
        """Rows of a table (every row, as CAVE counts; live ones only with ``live_only``)."""
        ...

    def get_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[dict]:
        """Rows by id in the order asked, in any state; AnnotationNotFound names missing ids."""
        ...

    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        """Store nested records as new rows (all or nothing); their ids in input order."""
        ...

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        """Supersede the rows the records name by new ones; ``{old id: new id}``."""
        ...

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        """Mark rows deleted (never removed); the ids that existed."""
        ...

    def insert_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        line_label: str = "line",
        allow_position_strings: bool = True,
        progress: Progress | None = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Validate a flat frame and store it as new rows; the ids in row order."""
        ...

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress | None = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update the rows the frame's ``id`` column names (absent columns inherited)."""
        ...

    def upload_result(
        self, volume: str, table: str, upload_key: str
    ) -> list[int] | dict[int, int] | None:
        """What an upload with this key stored in ``table``, or None (never stored, or the
        user may not write there); NotSupported where the backend cannot say."""
        ...

    def query(
        self,
        volume: str,
        table: str,
        *,
        limit: int = 1000,
        offset: int = 0,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
        after_id: int | None = None,
    ) -> pd.DataFrame:
        """One page of rows as a flat frame (points as _x/_y/_z columns), in id order: those
        after id ``after_id`` (keyset: as fast at any depth), then ``offset`` skipped; with
        ``timestamp``, the rows as they were then (``attrs["notice"]`` says when the table
        did not exist yet; a moment in the future is refused)."""
        ...

    def count_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
    ) -> int:
        """How many rows `query` pages through with the same arguments (exactly)."""
        ...

    def estimate_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """The same count, exact when cheap, else estimated from the table's sample:
        {"count", "exact", "sampled", "matched"} (see `anno_core.common.ViewCount`)."""
        ...

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        ...

    def point_frame(
        self,
        volume: str,
        table: str,
        include_invalid: bool = False,
        limit: int = MAX_SAMPLE,
        columns: Sequence[str] | None = None,
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """(id and point columns, and ``columns``, of at most ``limit`` rows, schema spec,
        metadata), for a 3D view: the live rows with the smallest sample keys, in key
        order, chosen by the database (the same rows every time, spread uniformly)."""
        ...

    # -- Neuroglancer ----------------------------------------------------------------------
    def neuroglancer_source(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        ttl: int = 43200,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """A signed grant to read a table (or a filtered view), as it is or as it was at
        ``timestamp``, as Neuroglancer annotation sources, as the acting user, for ``ttl``
        seconds: ``grant``, ``expires``, ``geometries``, ``server`` (the address serving
        it; None: serve it locally), ``timestamp`` and ``version`` (the name of the version
        whose moment ``timestamp`` is, given to name the layer; checked)."""
        ...

    def neuroglancer_info(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        """The ``info`` of a table's (or view's) main annotation source, as it is or was at
        ``timestamp`` (bounds, levels, properties with their enum labels), its
        ``version``, ``extent``, and a ``notice`` when the table did not exist yet then."""
        ...

    def volume_sources(self, volume: str) -> dict[str, str | None]:
        """The image and segmentation sources drawn under a volume's tables (None: unset)."""
        ...

    def set_volume_sources(
        self, volume: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        """Set or clear a volume's image and segmentation sources (admins only)."""
        ...
