"""The remote backend's versions and exports: passed to the dialect (our server answers
them; a real CAVE refuses them with `NotSupported`). Mixed into `RemoteBackend`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO

from anno_core.remote.protocol import CaveProtocol
from anno_core.remote.uploads import Progress


class RemoteDataOut:
    """Versions and exports over HTTP (mixed into RemoteBackend, which gives the dialect)."""

    # Provided by RemoteBackend.
    def dialect(self) -> CaveProtocol: ...  # type: ignore[empty-body]

    def vol(self, volume: str) -> str: ...  # type: ignore[empty-body]

    def create_version(
        self, volume: str, name: str, description: str, timestamp: datetime | None = None
    ) -> dict[str, Any]:
        return self.dialect().create_version(self.vol(volume), name, description, timestamp)

    def list_versions(self, volume: str) -> list[dict[str, Any]]:
        return self.dialect().list_versions(self.vol(volume))

    def get_version(self, volume: str, version: str | int) -> dict[str, Any]:
        return self.dialect().get_version(self.vol(volume), version)

    def delete_version(self, volume: str, version: str | int) -> bool:
        return self.dialect().delete_version(self.vol(volume), version)

    def export_table(
        self,
        volume: str,
        table: str,
        sink: BinaryIO,
        options: Any,
        progress: Progress = None,
    ) -> dict[str, Any]:
        return self.dialect().export_table(self.vol(volume), table, sink, options, progress)

    def export_link(self, volume: str, table: str, options: Any) -> dict[str, Any]:
        return self.dialect().export_link(self.vol(volume), table, options)

    def export_progress(self, volume: str, link_id: str) -> dict[str, Any] | None:
        return self.dialect().export_progress(self.vol(volume), link_id)
