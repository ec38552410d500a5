"""What `AnnotationClient` offers for curating a table: past uploads and undoing one,
deleting every row a filter matches, restoring deleted rows, a table's values at a glance and
an aligned volume's extent. A mixin: `AnnotationClient` gives it ``backend`` and ``_vol``.
A backend that cannot do one of these (a real CAVE) raises `NotSupported`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from anno_core.backend import Backend


class ClientCuration:
    """The curation methods of AnnotationClient (mixed into it)."""

    backend: Backend
    _vol: Callable[[str | None], str]

    def list_uploads(
        self, table_name: str, limit: int = 20, aligned_volume_name: str | None = None
    ) -> list[dict]:
        """The latest uploads of new rows into a table (newest first), with their live rows."""
        return self.backend.list_uploads(self._vol(aligned_volume_name), table_name, limit)

    def undo_upload(
        self, table_name: str, upload: int, aligned_volume_name: str | None = None
    ) -> int:
        """Delete every row an upload (``upload`` from `list_uploads`) stored that is still
        live; how many. The rows are kept, marked deleted, and their history says why."""
        return self.backend.undo_upload(self._vol(aligned_volume_name), table_name, int(upload))

    def delete_matching(
        self,
        table_name: str,
        *,
        filters: dict | None = None,
        ids: Sequence[int] | None = None,
        expected: int | None = None,
        aligned_volume_name: str | None = None,
    ) -> int:
        """Delete every live row ``query_annotations`` finds with these filters and ids (one
        transaction, done by the database); refused if ``expected`` is not the count."""
        return self.backend.delete_matching(
            self._vol(aligned_volume_name),
            table_name,
            filters=filters,
            ids=list(ids) if ids else None,
            expected=expected,
        )

    def restore_annotation(
        self, table_name: str, ids: int | Sequence[int], aligned_volume_name: str | None = None
    ) -> dict[int, int]:
        """New versions of deleted annotations carrying their values; ``{old id: new id}``."""
        wanted = [ids] if isinstance(ids, int) else list(ids)
        return self.backend.restore_annotation(self._vol(aligned_volume_name), table_name, wanted)

    def summarize_table(
        self, table_name: str, top: int = 10, bins: int = 20, aligned_volume_name: str | None = None
    ) -> dict[str, Any]:
        """Top values (with counts) of each text field, a histogram of each number field."""
        return self.backend.summarize(
            self._vol(aligned_volume_name), table_name, top=top, bins=bins
        )

    def get_volume_extent(self, aligned_volume_name: str | None = None) -> dict[str, Any]:
        """The aligned volume's bounds (set by an admin) and its points' extent, in nm."""
        return self.backend.volume_extent(self._vol(aligned_volume_name))

    def set_volume_bounds(
        self,
        lower: Sequence[float] | None,
        upper: Sequence[float] | None,
        aligned_volume_name: str | None = None,
    ) -> dict[str, Any]:
        """Set the aligned volume's bounds in nm (admins only; None and None clear them)."""
        return self.backend.set_volume_bounds(self._vol(aligned_volume_name), lower, upper)
