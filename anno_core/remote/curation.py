"""Curating a table over HTTP: past uploads and their undo, deletes by filter, restores,
summaries and a volume's extent.

`CaveCuration` is what a real CAVE answers: none of it (`NotSupported`, with what to do
instead). `OurCuration` calls our server's routes (`server.curation_routes`). Writes that
are not safe to repeat are never sent twice blindly: after a lost answer the backend looks
at the table (the count that matches, the upload's live rows, the restored rows' versions)
and takes that as the answer, or sends again only if nothing was done. `RemoteCuration` is
the part of `RemoteBackend` that passes these calls to the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from anno_core.errors import Conflict, NotSupported, RemoteError
from anno_core.remote.transport import Answered, Resend
from anno_core.remote.uploads import batch_key, spans
from anno_core.wire import endpoints as ep

_CAVE = "A CAVE annotation server cannot {}; {}"


class CaveCuration:
    """What a real CAVE cannot do of the curation calls (mixed into `CaveProtocol`)."""

    def upload_record(
        self, vol: str, table: str, key: str, rows: int | None, update: bool
    ) -> dict[str, Any] | None:
        raise NotSupported(
            _CAVE.format(
                "say what an earlier upload stored", "look the rows up by id with get_annotation"
            )
        )

    def list_uploads(self, vol: str, table: str, limit: int) -> list[dict[str, Any]]:
        raise NotSupported(_CAVE.format("list a table's uploads", "ask its admins for the log"))

    def undo_upload(self, vol: str, table: str, upload: int) -> int:
        raise NotSupported(_CAVE.format("undo an upload", "delete its ids with delete_annotation"))

    def delete_matching(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        expected: int | None,
    ) -> int:
        raise NotSupported(
            _CAVE.format("delete by filter", "delete the ids you mean with delete_annotation")
        )

    def restore_annotation(self, vol: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        raise NotSupported(
            _CAVE.format("restore deleted annotations", "post their values again as new ones")
        )

    def summarize(self, vol: str, table: str, top: int, bins: int) -> dict[str, Any]:
        raise NotSupported(
            _CAVE.format("summarise a table", "use CAVE's materialization service to query it")
        )

    def volume_extent(self, vol: str) -> dict[str, Any]:
        raise NotSupported(
            _CAVE.format("tell an aligned volume's extent", "see its info service's bounds")
        )

    def set_volume_bounds(
        self, vol: str, lower: Sequence[float] | None, upper: Sequence[float] | None
    ) -> dict[str, Any]:
        raise NotSupported(
            _CAVE.format("keep bounds of an aligned volume", "they are set in its info service")
        )


class OurCuration:
    """Our server's curation routes (mixed into `OurServer`)."""

    # Provided by OurServer.
    t: Any
    url: Any
    batch_size: int
    get_annotation: Any

    def upload_record(
        self, vol: str, table: str, key: str, rows: int | None, update: bool
    ) -> dict[str, Any] | None:
        """Our server keeps one key per batch (named by its rows): ask for all of them."""
        if rows is None:
            raise NotSupported(
                "Our annotation server needs the number of rows an upload sent to find it."
            )
        batches = [batch_key(key, a) for a, _ in spans(int(rows), self.batch_size)]
        body = {"op": "update" if update else "insert", "batches": batches}
        url = self.url(ep.UPLOAD_RECORD, aligned_volume=vol, table_name=table)
        return self.t.call("POST", url, json=body)  # a read: safe to repeat

    def list_uploads(self, vol: str, table: str, limit: int) -> list[dict[str, Any]]:
        url = self.url(ep.UPLOADS, aligned_volume=vol, table_name=table)
        return list(self.t.get(url, params={"limit": int(limit)}))

    def undo_upload(self, vol: str, table: str, upload: int) -> int:
        before = next(
            (u for u in self.list_uploads(vol, table, 200) if u["upload"] == upload), None
        )
        url = self.url(ep.UNDO_UPLOAD, aligned_volume=vol, table_name=table, upload=int(upload))

        def after_lost() -> Answered | Resend:
            now = next(
                (u for u in self.list_uploads(vol, table, 200) if u["upload"] == upload), None
            )
            if before is not None and now is not None and now["live"] == 0:
                return Answered(before["live"])
            return Resend()

        return int(
            self.t.call(
                "POST",
                url,
                json={},
                after_lost=after_lost,
                if_no_answer="look at the table's uploads before trying again.",
            )
        )

    def delete_matching(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        expected: int | None,
    ) -> int:
        view = {"filters": filters or {}, "ids": None if ids is None else [int(i) for i in ids]}
        count_url = self.url(ep.QUERY_COUNT, aligned_volume=vol, table_name=table)
        url = self.url(ep.DELETE_MATCHING, aligned_volume=vol, table_name=table)

        def after_lost() -> Answered | Resend:
            now = int(self.t.call_once("POST", count_url, json={**view, "include_invalid": False}))
            if expected is not None and now == 0 and expected > 0:
                return Answered(expected)  # it went through: nothing matches any more
            if expected is None or now == expected:
                return Resend()
            raise Conflict(
                f"The server's answer was lost and {now:,} rows match now, not {expected:,}; "
                "look at the rows again."
            )

        return int(
            self.t.call(
                "POST",
                url,
                json={**view, "expected": expected},
                after_lost=after_lost,
                if_no_answer="look at the rows before trying again.",
            )
        )

    def restore_annotation(self, vol: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        wanted = [int(i) for i in ids]
        url = self.url(ep.RESTORE, aligned_volume=vol, table_name=table)

        def after_lost() -> Answered | Resend:
            rows = self.get_annotation(vol, table, wanted)
            newer = {int(r["id"]): r.get("superceded_id") for r in rows}
            if all(v is not None for v in newer.values()):
                return Answered({str(k): int(v) for k, v in newer.items()})
            if all(v is None for v in newer.values()):
                return Resend()
            raise RemoteError(
                "The server's answer was lost after some of these annotations were restored; "
                "look at their history before trying again."
            )

        got = self.t.call("POST", url, json={"ids": wanted}, after_lost=after_lost)
        return {int(k): int(v) for k, v in got.items()}

    def summarize(self, vol: str, table: str, top: int, bins: int) -> dict[str, Any]:
        url = self.url(ep.SUMMARY, aligned_volume=vol, table_name=table)
        return dict(self.t.get(url, params={"top": int(top), "bins": int(bins)}))

    def volume_extent(self, vol: str) -> dict[str, Any]:
        return dict(self.t.get(self.url(ep.EXTENT, aligned_volume=vol)))

    def set_volume_bounds(
        self, vol: str, lower: Sequence[float] | None, upper: Sequence[float] | None
    ) -> dict[str, Any]:
        body = {
            "lower": None if lower is None else [float(v) for v in lower],
            "upper": None if upper is None else [float(v) for v in upper],
        }
        # Setting the same bounds twice changes nothing: safe to repeat.
        return dict(self.t.call("PUT", self.url(ep.BOUNDS, aligned_volume=vol), json=body))


class RemoteCuration:
    """`RemoteBackend`'s curation calls, passed to the dialect (mixed into it)."""

    dialect: Any
    vol: Any

    def upload_record(
        self,
        volume: str,
        table: str,
        upload_key: str,
        *,
        rows: int | None = None,
        update: bool = False,
    ) -> dict[str, Any] | None:
        """What the upload with this key stored and what became of it, or None."""
        return self.dialect().upload_record(self.vol(volume), table, upload_key, rows, update)

    def list_uploads(self, volume: str, table: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest uploads of a table, newest first."""
        return self.dialect().list_uploads(self.vol(volume), table, limit)

    def undo_upload(self, volume: str, table: str, upload: int) -> int:
        """Delete the still-live rows of one upload; how many."""
        return self.dialect().undo_upload(self.vol(volume), table, int(upload))

    def delete_matching(
        self,
        volume: str,
        table: str,
        *,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        expected: int | None = None,
    ) -> int:
        """Mark deleted every live row the filters and ids match; how many."""
        return self.dialect().delete_matching(self.vol(volume), table, filters, ids, expected)

    def restore_annotation(self, volume: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        """New versions of deleted annotations; ``{old id: new id}``."""
        return self.dialect().restore_annotation(self.vol(volume), table, ids)

    def summarize(
        self, volume: str, table: str, *, top: int = 10, bins: int = 20
    ) -> dict[str, Any]:
        """Top values of text fields and histograms of number fields."""
        return self.dialect().summarize(self.vol(volume), table, top, bins)

    def volume_extent(self, volume: str) -> dict[str, Any]:
        """The aligned volume's bounds and its tables' points' extent, in nm."""
        return self.dialect().volume_extent(self.vol(volume))

    def set_volume_bounds(
        self, volume: str, lower: Sequence[float] | None, upper: Sequence[float] | None
    ) -> dict[str, Any]:
        """Set (or clear) an aligned volume's bounds in nm; admins only."""
        return self.dialect().set_volume_bounds(self.vol(volume), lower, upper)
