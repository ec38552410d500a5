"""What `AnnotationClient` offers to get data out: versions (named moments), time travel
and exports (Parquet, Feather, CSV), over any Backend.

A mixin: `AnnotationClient` (client.py) gives it ``backend`` and ``_vol``. A moment is a
``timestamp`` (a datetime, naive ones taken as UTC, or ISO text) or a ``version`` (its name
or number), never both; neither means now.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from anno_core.backend import Backend
from anno_core.common import Progress
from anno_core.errors import AnnoWarning, InvalidArgument
from anno_core.export.options import ExportOptions
from anno_core.moments import Moment, parse_moment


class ClientDataOut:
    """The methods of AnnotationClient that get data out (mixed into it)."""

    # Provided by AnnotationClient; declared for readers and type checkers.
    backend: Backend
    _vol: Callable[[str | None], str]

    def moment(
        self, timestamp: Any = None, version: Any = None, aligned_volume_name: str | None = None
    ) -> datetime | None:
        """The UTC moment a ``timestamp`` or a ``version`` names (None: now)."""
        return self.moment_of(timestamp, version, aligned_volume_name).timestamp

    def moment_of(
        self, timestamp: Any = None, version: Any = None, aligned_volume_name: str | None = None
    ) -> Moment:
        """The moment a ``timestamp`` or a ``version`` names, with the version's name (for
        what shows it); ``Moment()`` is now."""
        if version is not None and timestamp is not None:
            raise InvalidArgument("Give a timestamp or a version, not both.")
        if version is not None:
            found = self.backend.get_version(self._vol(aligned_volume_name), version)
            return Moment(parse_moment(found["timestamp"]), str(found["name"]))
        return Moment(parse_moment(timestamp))

    @staticmethod
    def _said(frame: Any) -> Any:
        """A frame whose read said something beside it (``attrs["notice"]``), warned about."""
        notice = frame.attrs.get("notice")
        if notice:
            warnings.warn(AnnoWarning(notice), stacklevel=3)
        return frame

    # -- versions ----------------------------------------------------------------------
    def create_version(
        self,
        name: str,
        description: str,
        timestamp: Any = None,
        aligned_volume_name: str | None = None,
    ) -> dict:
        """Name a moment of the aligned volume (now by default) and say why; the version.
        Versions never expire; only an admin may delete one."""
        return self.backend.create_version(
            self._vol(aligned_volume_name), name, description, parse_moment(timestamp)
        )

    def list_versions(self, aligned_volume_name: str | None = None) -> list[dict]:
        """Every version of the aligned volume (name, number, timestamp, who made it, why)."""
        return self.backend.list_versions(self._vol(aligned_volume_name))

    def get_version(self, name: str | int, aligned_volume_name: str | None = None) -> dict:
        """One version, by name or number."""
        return self.backend.get_version(self._vol(aligned_volume_name), name)

    def delete_version(self, name: str | int, aligned_volume_name: str | None = None) -> bool:
        """Delete a version (admins only; it keeps its name and number)."""
        return self.backend.delete_version(self._vol(aligned_volume_name), name)

    # -- export ------------------------------------------------------------------------
    def export_table(
        self,
        table_name: str,
        path_or_buffer: Any,
        format: str = "parquet",
        filters: dict | None = None,
        timestamp: Any = None,
        version: Any = None,
        positions: str = "split",
        units: str = "voxels",
        include_history: bool = False,
        *,
        ids: list[int] | None = None,
        progress: Progress | None = None,
        aligned_volume_name: str | None = None,
    ) -> dict:
        """Write a table (its live rows, or as they were at ``timestamp``/``version``) to a
        file or a binary buffer, streamed in chunks; a summary (rows, moment, notice).

        ``filters`` and ``ids`` narrow the rows as in `query_annotations`; ``include_history``
        adds deleted and superseded rows with their state columns. Points are x, y, z
        columns (``positions="split"``) or one ``[x, y, z]`` column (``"list"``), in voxels
        as stored or in nm. A path is written whole or not at all."""
        options = ExportOptions.make(
            format=format,
            positions=positions,
            units=units,
            filters=filters,
            ids=ids,
            include_history=include_history,
            timestamp=timestamp,
            version=version,
        )
        vol = self._vol(aligned_volume_name)
        if isinstance(path_or_buffer, str | os.PathLike):
            path = Path(path_or_buffer)
            part = path.with_name(path.name + ".part")
            try:
                with open(part, "wb") as sink:
                    summary = self.backend.export_table(vol, table_name, sink, options, progress)
                os.replace(part, path)
            finally:
                part.unlink(missing_ok=True)
        elif hasattr(path_or_buffer, "write"):
            summary = self.backend.export_table(vol, table_name, path_or_buffer, options, progress)
        else:
            raise InvalidArgument(
                f"Export to a file path or a binary buffer (open(..., 'wb'), io.BytesIO()), "
                f"not {type(path_or_buffer).__name__}."
            )
        if summary.get("notice"):
            warnings.warn(AnnoWarning(summary["notice"]), stacklevel=2)
        return summary

    def export_link(
        self,
        table_name: str,
        format: str = "parquet",
        filters: dict | None = None,
        timestamp: Any = None,
        version: Any = None,
        positions: str = "split",
        units: str = "voxels",
        include_history: bool = False,
        *,
        ids: list[int] | None = None,
        aligned_volume_name: str | None = None,
    ) -> dict:
        """A signed link (valid 30 minutes) a browser downloads this export with, without a
        token: ``url``, ``link_id`` (for `export_progress`), ``expires``, ``filename``."""
        options = ExportOptions.make(
            format=format,
            positions=positions,
            units=units,
            filters=filters,
            ids=ids,
            include_history=include_history,
            timestamp=timestamp,
            version=version,
        )
        return self.backend.export_link(self._vol(aligned_volume_name), table_name, options)

    def export_progress(self, link_id: str, aligned_volume_name: str | None = None) -> dict | None:
        """How far a link's download has got: rows, total, state (running, done, failed);
        None until it starts."""
        return self.backend.export_progress(self._vol(aligned_volume_name), link_id)
