"""The remote backend's methods for the dashboard's People and Activity pages."""

from __future__ import annotations

from typing import Any

from anno_core.activity import PEOPLE_ELSEWHERE, activity_params
from anno_core.errors import NotSupported
from anno_core.remote.protocol import CaveProtocol


class RemoteExtras:
    """Mixed into `RemoteBackend`, which provides `dialect` and `vol`."""

    def dialect(self) -> CaveProtocol: ...  # provided by RemoteBackend

    def vol(self, volume: str) -> str: ...  # provided by RemoteBackend

    def people(self) -> Any:
        """Not over HTTP: people are managed on the server's own machine."""
        raise NotSupported(PEOPLE_ELSEWHERE)

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
        """One page of the audit log (our server; NotSupported on a real CAVE)."""
        params = activity_params(
            table=table, user=user, kind=kind, since=since, until=until, limit=limit, before=before
        )
        return self.dialect().activity(self.vol(volume), params)
