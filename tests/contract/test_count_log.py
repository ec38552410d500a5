"""Counts of a whole table at a moment come from the count log: at every moment around
every kind of write they equal counting the rows that existed then (``reads.as_of``), for
`count_annotations`, the export's summary and the materialize count of a version."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from anno_core.engine.frozen import FrozenPart
from anno_core.engine.reads import as_of
from anno_core.errors import AnnotationNotFound
from anno_core.moments import parse_moment
from tests.conftest import synapse

TICK = timedelta(microseconds=1)


def _scanned(storage, volume: str, table: str, at, include_invalid: bool = False) -> int:
    """The rows of ``table`` that existed at ``at`` (live ones unless include_invalid),
    counted in SQL from the rows themselves."""
    t, _ = storage.table_of(storage.meta(volume, table))
    q = sa.select(sa.func.count()).select_from(t).where(*as_of(t, at, include_invalid))
    with storage.engine.connect() as conn:
        return int(conn.execute(q).scalar())


def _moments(storage, volume: str) -> list:
    """Every write's stamp, and the instants just before and after it."""
    stamps = sorted({parse_moment(e["at"]) for e in storage.audit_entries(volume)})
    return sorted({m for s in stamps for m in (s - TICK, s, s + TICK)})


def _tables_written_every_way(client) -> tuple[str, str]:
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    client.create_table(
        "types",
        "cell_type_reference",
        "types of syn rows [pytest]",
        [4, 4, 40],
        reference_table="syn",
        track_target_id_updates=True,
    )
    first = client.post_annotation("syn", [synapse(i) for i in range(8)])  # insert
    client.post_annotation(
        "types",
        [{"target_id": i, "cell_type": "basket", "classification_system": "x"} for i in first[:3]],
    )
    client.update_annotation("syn", {"id": first[0], "size": 1.0})  # types follow it
    client.delete_annotation("syn", [first[1], first[5]])
    client.update_annotation("syn", {"id": first[5], "size": 5.0})  # a deleted row
    client.restore_annotation("syn", [first[1]])
    with pytest.raises(AnnotationNotFound):  # refused: nothing written, nothing logged
        client.update_annotation("syn", {"id": 10_000, "size": 1.0})
    upload = client.post_annotation("syn", [synapse(20 + i) for i in range(4)])
    client.delete_annotation("syn", [upload[0]])
    latest = client.list_uploads("syn")[0]
    assert latest["first_id"] == upload[0]
    assert client.undo_upload("syn", latest["upload"]) == 3
    assert client.delete_matching("syn", filters={"size": 123.0}) == 1  # synapse(3)
    client.delete_annotation("types", [2])
    return "syn", "types"


def test_counts_at_every_moment_around_every_write_equal_the_rows_then(client, storage):
    vol = client.aligned_volume_name
    tables = _tables_written_every_way(client)
    moments = _moments(storage, vol)
    assert len(moments) >= 3 * 10
    seen = set()
    for table in tables:
        for m in moments:
            for include_invalid in (False, True):
                expected = _scanned(storage, vol, table, m, include_invalid)
                got = client.count_annotations(table, timestamp=m, include_invalid=include_invalid)
                assert got == expected, (table, m, include_invalid)
                seen.add((table, include_invalid, expected))
    assert len(seen) >= 12  # the counts moved: this compared more than a few constants
    before = moments[0] - timedelta(seconds=1)
    assert client.count_annotations("syn", timestamp=before) == 0  # before the first write
    # A count at a moment with a filter still counts the rows (the log knows no values).
    m = moments[len(moments) // 2]
    t, _ = storage.table_of(storage.meta(vol, "syn"))
    with storage.engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(t).where(*as_of(t, m), t.c.size == 120.0)
        expected = int(conn.execute(q).scalar())
    assert client.count_annotations("syn", timestamp=m, filters={"size": 120.0}) == expected


def test_exports_and_version_counts_at_a_moment_equal_the_rows_then(client, storage):
    vol = client.aligned_volume_name
    _tables_written_every_way(client)
    stamps = sorted({parse_moment(e["at"]) for e in storage.audit_entries(vol, "syn")})
    for m in stamps:
        for history in (False, True):
            summary = client.export_table(
                "syn", io.BytesIO(), format="csv", timestamp=m, include_history=history
            )
            assert summary["rows"] == _scanned(storage, vol, "syn", m, history), (m, history)
        frozen = storage.frozen_query(vol, m, "a moment", [FrozenPart("syn")], count=True)
        assert frozen.column("count")[0].as_py() == _scanned(storage, vol, "syn", m)
    middle = stamps[len(stamps) // 2]
    client.create_version("middle", "halfway through [pytest]", timestamp=middle)
    expected = _scanned(storage, vol, "syn", middle)
    assert client.count_annotations("syn", version="middle") == expected
    assert client.export_table("syn", io.BytesIO(), format="csv", version="middle")["rows"] == (
        expected
    )
