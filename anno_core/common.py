"""What every layer shares, defined once: the id chunk size, the progress callback type,
the size of a 3D view's sample and what a count of a view says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CHUNK = 500
"""Ids per read or per ``IN (...)`` list: well under every database's parameter limit, and
the most ids one `query_annotations` call takes (a page asks for ids in chunks of this)."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while rows are stored (uploads, inserts, updates)."""

MAX_SAMPLE = 100_000
"""Rows a 3D view of a table gets (`get_point_frame`) unless it asks for more: the rows
with the smallest sample keys, a fixed uniform sample the database finds by itself."""


@dataclass(frozen=True)
class ViewCount:
    """How many rows a view of a table holds: ``count``, exact or an estimate.

    An estimate (``exact`` false) is the share of matching rows among ``sampled`` rows of
    the table's fixed uniform sample (``matched`` of them matched), times the rows in view;
    `count_annotations` counts exactly on request."""

    count: int
    exact: bool
    sampled: int | None = None
    matched: int | None = None
