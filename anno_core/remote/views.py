"""The remote backend's views of a table's rows: pages (offset or keyset, at a moment),
counts, estimated counts and the 3D views' sample, passed to the dialect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anno_core.arguments import page_anchor, query_ids, sample_size
from anno_core.common import MAX_SAMPLE
from anno_core.remote.protocol import CaveProtocol

if TYPE_CHECKING:
    import pandas as pd

    from anno_core.schemas import SchemaSpec


class RemoteViews:
    """Mixed into `RemoteBackend`, which provides `dialect` and `vol`."""

    def dialect(self) -> CaveProtocol: ...  # provided by RemoteBackend

    def vol(self, volume: str) -> str: ...  # provided by RemoteBackend

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
        """One page of rows as a flat frame (points as _x/_y/_z columns), id order."""
        return self.dialect().query(
            self.vol(volume),
            table,
            limit,
            offset,
            include_invalid,
            filters,
            query_ids(ids),
            timestamp=timestamp,
            after_id=page_anchor(after_id),
        )

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
        """How many rows `query` pages through with the same arguments."""
        return self.dialect().count_rows(
            self.vol(volume), table, include_invalid, filters, query_ids(ids), timestamp
        )

    def estimate_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """The count, exact when cheap for the server, else its estimate from the sample."""
        return self.dialect().estimate_rows(
            self.vol(volume), table, include_invalid, filters, query_ids(ids)
        )

    def point_frame(
        self,
        volume: str,
        table: str,
        include_invalid: bool = False,
        limit: int = MAX_SAMPLE,
        columns: Sequence[str] | None = None,
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """A sample of at most ``limit`` rows' points (the server picks it: only those
        rows travel), for a 3D view."""
        n, cols = sample_size(limit), list(columns or ())
        return self.dialect().point_frame(self.vol(volume), table, include_invalid, n, cols)
