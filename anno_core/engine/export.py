"""The embedded engine's export: a table (or a view of it) at a moment, streamed in chunks,
and the signed, expiring links a browser downloads it with.

Rows are read in chunks of `CHUNK_ROWS`, keyset by id (``id > last ORDER BY id LIMIT n``),
each chunk straight from the driver's cursor into Arrow (`export.layout`) and on to the
writer (`export.writers`): memory stays that of one chunk whatever the table's size. All the
chunks are read in one transaction, so a long export sees one state of the table even while
others write.

A download link carries its options, the user it acts for, an expiry and a nonce, signed
with HMAC-SHA256 under a random key kept in the database (``server_secrets``): never the
caller's token. Any process on the same database (the server, the dashboard) can issue and
check them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.common import Progress
from anno_core.engine import counts, db
from anno_core.engine.reads import before_created, columns_at
from anno_core.errors import NotAuthenticated, UserNotFound
from anno_core.export.layout import ExportLayout
from anno_core.export.options import ExportOptions
from anno_core.export.progress import DOWNLOADS
from anno_core.export.writers import open_writer
from anno_core.identity import User
from anno_core.moments import Moment, wire
from anno_core.version import __version__
from anno_core.wire import endpoints as ep

CHUNK_ROWS = 100_000
LINK_SECONDS = 30 * 60
SIGNED = ("user", "expires", "nonce")
"""Query parameters of a link besides its options; ``sig`` signs them all."""


class LocalExport:
    """Export and download links of the embedded engine (mixed into LocalBackend)."""

    # Provided by the backend this is mixed into.
    engine: Any
    users: Any
    user: Any
    meta: Any
    require: Any
    table_of: Any
    _where: Any
    resolve_moment: Any
    check_moment: Any
    write_conn: Any
    as_user: Any

    def export_table(
        self,
        volume: str,
        table: str,
        sink: BinaryIO,
        options: ExportOptions,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Write the rows ``options`` ask for into ``sink``; a summary (rows, moment, notice)."""
        return self.prepare_export(volume, table, options).write(sink, progress)

    def prepare_export(self, volume: str, table: str, options: ExportOptions) -> PreparedExport:
        """Everything an export checks and counts before its first byte (a server sends
        refusals as a status and the summary as a header, then streams `write`)."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        moment: Moment = self.resolve_moment(volume, options.timestamp, options.version)
        exported = db.now()
        # "Now" is the moment the export starts: every chunk then reads the same state, on
        # SQLite and PostgreSQL alike, however long the export takes and whoever writes.
        at = moment.timestamp or exported
        t, spec = self.table_of(meta)
        notice = before_created(meta, table, at)
        layout = ExportLayout(
            spec,
            options,
            (meta["voxel_resolution_x"], meta["voxel_resolution_y"], meta["voxel_resolution_z"]),
            _metadata(meta, spec.name, options, moment, at, notice, exported, self.user.name),
        )
        with self.engine.connect() as conn:
            total = self._count_view(conn, t, table, options, at, meta["id"])
        summary = {
            "table": table,
            "rows": total,
            "format": options.format,
            "filename": options.filename(table),
            "moment": moment.label(),
            "timestamp": wire(at),
            "version": moment.version,
            "notice": notice,
        }
        return PreparedExport(self, t, table, layout, at, summary)

    def _count_view(
        self,
        conn: Connection,
        t: sa.Table,
        table: str,
        options: ExportOptions,
        at: Any,
        meta_id: int,
    ) -> int:
        if not options.filters and not options.ids:  # the whole table: its count log
            return counts.count_at(conn, meta_id, at, options.include_history)
        q = sa.select(sa.func.count()).select_from(t)
        q = self._where(q, t, table, options.include_history, options.filters, options.ids, at)
        return int(conn.execute(q).scalar())

    def _chunks(
        self, conn: Connection, t: sa.Table, table: str, layout: ExportLayout, at: Any
    ) -> Iterator[dict[str, tuple]]:
        """The rows in chunks of CHUNK_ROWS, as columns of the driver's own values."""
        wanted = set(layout.sql_columns)
        cols = [c for c in columns_at(t, at) if c.name in wanted]
        q = sa.select(*sorted(cols, key=lambda c: layout.sql_columns.index(c.name)))
        opts = layout.options
        q = self._where(q, t, table, opts.include_history, opts.filters, opts.ids, at)
        q = q.where(t.c.id > sa.bindparam("after_id")).order_by(t.c.id).limit(CHUNK_ROWS)
        names = layout.sql_columns
        after = -(2**63)
        while True:
            # The driver's rows as they are (SQLAlchemy binds the parameters): no row objects
            # for millions of rows; the layout turns each column into Arrow at once.
            rows = conn.execute(q, {"after_id": after}).cursor.fetchall()
            if not rows:
                return
            columns = dict(zip(names, zip(*rows, strict=True), strict=True))
            yield columns
            if len(rows) < CHUNK_ROWS:
                return
            after = int(columns["id"][-1])

    # -- signed download links -------------------------------------------------------------
    def export_link(self, volume: str, table: str, options: ExportOptions) -> dict[str, Any]:
        """A signed link (path and query, no host) downloading this export as the acting
        user, valid for LINK_SECONDS; its ``link_id`` asks for its progress."""
        return self.signed_link(volume, table, options, LINK_SECONDS)

    def signed_link(
        self, volume: str, table: str, options: ExportOptions, seconds: int
    ) -> dict[str, Any]:
        """`export_link` valid for ``seconds`` (tests make expired ones)."""
        meta = self.meta(volume, table)
        self.require("read", meta)  # refuse now rather than in the browser
        if options.version is not None:
            self.resolve_moment(volume, None, options.version)  # an unknown version: now
        params = options.to_query()
        nonce = secrets.token_urlsafe(16)
        expires = int(time.time()) + int(seconds)
        params.update(user=str(self.user.id), expires=str(expires), nonce=nonce)
        params["sig"] = self._sign(volume, table, params)
        path = ep.url("", ep.EXPORT, aligned_volume=volume, table_name=table)
        return {
            "url": f"{path}?{urllib.parse.urlencode(params)}",
            "link_id": nonce,
            "expires": wire(db.from_unix(expires)),
            "filename": options.filename(table),
        }

    def open_link(
        self, volume: str, table: str, params: dict[str, str]
    ) -> tuple[Any, ExportOptions, str]:
        """(this backend acting as the link's user, its options, its link id) for a signed
        link's query parameters; NotAuthenticated if it is forged, altered or expired."""
        given = params.get("sig", "")
        rest = {k: v for k, v in params.items() if k != "sig"}
        if not all(k in rest for k in SIGNED) or not hmac.compare_digest(
            given, self._sign(volume, table, rest)
        ):
            raise NotAuthenticated(
                "This download link is not valid (altered or not issued here); ask the "
                "dashboard for a new one."
            )
        if int(rest["expires"]) < time.time():
            raise NotAuthenticated(
                "This download link has expired; ask the dashboard for a new one."
            )
        try:
            user: User = self.users.get(int(rest["user"]))
        except UserNotFound as exc:
            raise NotAuthenticated(
                "The user this download link was issued to no longer exists."
            ) from exc
        options = ExportOptions.from_query({k: v for k, v in rest.items() if k not in SIGNED})
        return self.as_user(user), options, rest["nonce"]

    def export_progress(self, volume: str, link_id: str) -> dict[str, Any] | None:
        """How far the download of a link this user issued has got (None: not started)."""
        return DOWNLOADS.get(link_id, self.user.id)

    def _sign(self, volume: str, table: str, params: dict[str, str]) -> str:
        message = "\n".join([volume, table, urllib.parse.urlencode(sorted(params.items()))]).encode(
            "utf-8"
        )
        return hmac.new(self._link_key(), message, hashlib.sha256).hexdigest()

    def _link_key(self) -> bytes:
        """The HMAC key of download links (made once, kept in the database)."""
        key = getattr(self, "_link_key_cache", None)
        if key is None:
            key = bytes.fromhex(db.server_secret(self.engine, "download_links"))
            self._link_key_cache = key
        return key


@dataclass
class PreparedExport:
    """An export checked and counted (``summary``), ready to `write` into a sink."""

    backend: LocalExport
    t: sa.Table
    table: str
    layout: ExportLayout
    at: Any
    summary: dict[str, Any]

    def write(self, sink: BinaryIO, progress: Progress | None = None) -> dict[str, Any]:
        """Stream the rows into ``sink`` (one transaction, chunk by chunk); the summary."""
        total, rows = int(self.summary["rows"]), 0
        if progress:
            progress(0, total)
        writer = open_writer(self.layout.options.format, sink, self.layout.schema)
        with self.backend.engine.connect() as conn, conn.begin():
            for chunk in self.backend._chunks(conn, self.t, self.table, self.layout, self.at):
                writer.write_batch(self.layout.batch(chunk))
                rows += len(chunk["id"])
                if progress:
                    progress(rows, total)
        # Closed (footer written) only when every row is in: a failed export never leaves
        # a file that reads as complete.
        writer.close()
        return dict(self.summary, rows=rows)


def _metadata(
    meta: dict[str, Any],
    schema: str,
    options: ExportOptions,
    moment: Moment,
    at: Any,
    notice: str | None,
    exported: Any,
    who: str,
) -> dict[str, Any]:
    """What a Parquet or Feather file says about itself (key ``anno_tables``)."""
    return {
        "table": meta["table_name"],
        "aligned_volume": meta["aligned_volume"],
        "schema": schema,
        "description": meta["description"],
        "notice_text": meta["notice_text"],
        "reference_table": meta["reference_table"],
        "voxel_resolution": [
            meta["voxel_resolution_x"],
            meta["voxel_resolution_y"],
            meta["voxel_resolution_z"],
        ],
        "units": options.units,
        "positions": options.positions,
        "moment": moment.label(),
        "timestamp": wire(at),
        "version": moment.version,
        "filters": options.filters,
        "ids": list(options.ids) if options.ids else None,
        "include_history": options.include_history,
        "notice": notice,
        "exported_at": wire(exported),
        "exported_by": who,
        "anno_core_version": __version__,
    }
