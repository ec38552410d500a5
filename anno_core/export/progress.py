"""What a server remembers of the downloads it streams, for the dashboard's progress bar.

A download is known by the nonce of its signed link. The server notes its total when it
starts, the rows written as chunks go out, and how it ended; the caller that issued the link
asks for it by nonce (answered only to that user). Kept in memory, the newest few hundred.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

KEEP = 256


@dataclass
class Download:
    """One download's progress: rows written of ``total``, ``state`` running/done/failed."""

    link_id: str
    user_id: int
    table: str
    total: int
    rows: int = 0
    state: str = "running"
    message: str | None = None
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)


class Downloads:
    """The downloads of this process, newest last (thread-safe, bounded)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._items: OrderedDict[str, Download] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def start(self, link_id: str, user_id: int, table: str, total: int) -> None:
        """Note that the download of ``link_id`` started (again, if it is a repeat)."""
        with self._lock:
            self._items.pop(link_id, None)
            self._items[link_id] = Download(link_id, int(user_id), table, int(total))
            while len(self._items) > self._keep:
                self._items.popitem(last=False)

    def advance(self, link_id: str, rows: int) -> None:
        """``rows`` rows of that download are written."""
        with self._lock:
            item = self._items.get(link_id)
            if item is not None:
                item.rows, item.updated = int(rows), time.time()

    def finish(self, link_id: str, rows: int, error: str | None = None) -> None:
        """The download ended: every row written, or ``error`` said why not."""
        with self._lock:
            item = self._items.get(link_id)
            if item is not None:
                item.rows, item.updated = int(rows), time.time()
                item.state, item.message = ("failed", error) if error else ("done", None)

    def get(self, link_id: str, user_id: int) -> dict[str, Any] | None:
        """The progress of ``link_id`` if ``user_id`` issued it, else None."""
        with self._lock:
            item = self._items.get(link_id)
            if item is None or item.user_id != int(user_id):
                return None
            return asdict(item)


DOWNLOADS = Downloads()
"""This process's downloads (a server streams them; the embedded dashboard's local server
runs in the same process, so its engine reads them here too)."""
