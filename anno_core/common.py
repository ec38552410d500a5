"""What every layer shares, defined once: the id chunk size and the progress callback type."""

from __future__ import annotations

from collections.abc import Callable

CHUNK = 500
"""Ids per read or per ``IN (...)`` list: well under every database's parameter limit, and
the most ids one `query_annotations` call takes (a page asks for ids in chunks of this)."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while rows are stored (uploads, inserts, updates)."""
