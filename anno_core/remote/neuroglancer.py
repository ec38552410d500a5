"""The remote backend's Neuroglancer methods (a mixin of `RemoteBackend`): grants and info
come from our server, which then serves the sources itself; a real CAVE raises
NotSupported (its dialect says why)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from anno_core.remote.protocol import CaveProtocol


class RemoteNeuroglancer:
    """Neuroglancer sources and volume layers over HTTP (mixed into RemoteBackend)."""

    # Provided by RemoteBackend.
    dialect: Callable[[], CaveProtocol]
    vol: Callable[[str], str]

    def neuroglancer_source(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        ttl: int = 43200,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """A grant from the server to read a table (at a moment) as a Neuroglancer source;
        ``server`` is the server's address."""
        return self.dialect().neuroglancer_source(
            self.vol(volume), table, filters, ttl, timestamp, version
        )

    def neuroglancer_info(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        """The info of a table's main Neuroglancer source (at a moment)."""
        return self.dialect().neuroglancer_info(self.vol(volume), table, filters, timestamp)

    def volume_sources(self, volume: str) -> dict[str, str | None]:
        """The image and segmentation sources drawn under a volume's tables."""
        return self.dialect().volume_sources(self.vol(volume))

    def set_volume_sources(
        self, volume: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        """Set a volume's image and segmentation sources (admins only)."""
        return self.dialect().set_volume_sources(
            self.vol(volume), image_source, segmentation_source
        )
