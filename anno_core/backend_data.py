"""The part of the `Backend` contract about data over time and curation: versions,
exports, past uploads, repairs, summaries, extents (see `anno_core.backend`, whose
`Backend` extends `DataBackend`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from anno_core.common import Progress


class DataBackend(Protocol):
    """Versions, exports and curation: the methods `Backend` adds to rows and tables."""

    # -- versions: named moments of an aligned volume ------------------------------------
    def create_version(
        self, volume: str, name: str, description: str, timestamp: datetime | None = None
    ) -> dict[str, Any]:
        """Name a moment (now by default) with why; the version (name, number, timestamp,
        description, created, created_by, created_by_name). NotSupported on a real CAVE."""
        ...

    def list_versions(self, volume: str) -> list[dict[str, Any]]:
        """The versions of ``volume`` that are not deleted, by number."""
        ...

    def get_version(self, volume: str, version: str | int) -> dict[str, Any]:
        """One version by name or number; VersionNotFound otherwise."""
        ...

    def delete_version(self, volume: str, version: str | int) -> bool:
        """Delete a version (admins only; stamped, never removed)."""
        ...

    # -- export ------------------------------------------------------------------------
    def export_table(
        self,
        volume: str,
        table: str,
        sink: BinaryIO,
        options: Any,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Stream the rows ``options`` (an `anno_core.export.options.ExportOptions`) ask for
        into ``sink`` as a file; a summary (rows, moment, notice). Progress is rows written
        of the total on the embedded engine, bytes received (total 0: unknown) over HTTP."""
        ...

    def export_link(self, volume: str, table: str, options: Any) -> dict[str, Any]:
        """A signed, expiring link a browser downloads this export with (``url``: absolute
        on a server, a path on the embedded engine), its ``link_id``, ``expires``, ``filename``."""
        ...

    def export_progress(self, volume: str, link_id: str) -> dict[str, Any] | None:
        """How far the download of a link this user issued has got (rows, total, state);
        None before it starts."""
        ...

    # -- curating: past uploads, repairs, summaries, extents ---------------------------
    def upload_record(
        self,
        volume: str,
        table: str,
        upload_key: str,
        *,
        rows: int | None = None,
        update: bool = False,
    ) -> dict[str, Any] | None:
        """What the upload with this key stored (``result``), when (``created``), by whom
        (``user_id``, ``user_name``) and what became of its rows (``live``, ``deleted``,
        ``replaced``, ``not_live`` as [id, newer id or None]); None if nothing was stored
        with it or the user may not write. ``rows``/``update``: how many rows it sent and
        whether it was an update (a server keys each batch by its rows)."""
        ...

    def list_uploads(self, volume: str, table: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest uploads of new rows, newest first: ``upload`` (its id), ``at``,
        ``user_id``, ``user_name``, ``rows``, ``first_id``, ``last_id``, ``live``..."""
        ...

    def undo_upload(self, volume: str, table: str, upload: int) -> int:
        """Mark deleted every row upload ``upload`` stored that is still live (one
        transaction; its history says why); how many."""
        ...

    def delete_matching(
        self,
        volume: str,
        table: str,
        *,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        expected: int | None = None,
    ) -> int:
        """Mark deleted every live row `query` would page through with these filters and
        ids, in one transaction; how many. Refused (Conflict) unless ``expected`` (when
        given) is the count that matches."""
        ...

    def restore_annotation(self, volume: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        """New versions of deleted annotations, carrying their values; ``{old: new}``."""
        ...

    def summarize(
        self, volume: str, table: str, *, top: int = 10, bins: int = 20
    ) -> dict[str, Any]:
        """Live ``rows``; ``text``: per text field its top values with counts (``values``,
        ``more``, ``empty``); ``numbers``: per number field ``min``, ``max``, ``bins`` as
        [low, high, count] and ``empty``. Computed by the database."""
        ...

    def volume_extent(self, volume: str) -> dict[str, Any]:
        """How far an aligned volume reaches, in nm: ``bounds`` an admin set and ``points``
        (a bounded sample of its tables' points), each [[x, y, z], [x, y, z]] or None."""
        ...

    def set_volume_bounds(
        self, volume: str, lower: Sequence[float] | None, upper: Sequence[float] | None
    ) -> dict[str, Any]:
        """Set (None: clear) an aligned volume's bounds in nm, admins only; its extent."""
        ...
