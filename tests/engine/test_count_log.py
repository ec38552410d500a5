"""The count log below the API, on SQLite and PostgreSQL: a rolled-back write logs nothing,
a count at a moment reads no row of the table, and repair-counts keeps the log consistent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from anno_core.engine import counts, db
from anno_core.engine.reads import as_of
from tests.conftest import synapse


def _entries(client) -> list[tuple]:
    log = db.count_log
    q = sa.select(log.c.table_meta_id, log.c.at, log.c.live_count, log.c.total_count)
    with client.backend.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q.order_by(log.c.id))]


def _scanned(client, table: str, at, include_invalid: bool = False) -> int:
    b = client.backend
    t, _ = b.table_of(b.meta(client.aligned_volume_name, table))
    q = sa.select(sa.func.count()).select_from(t).where(*as_of(t, at, include_invalid))
    with b.engine.connect() as conn:
        return int(conn.execute(q).scalar())


def test_a_rolled_back_write_logs_nothing(client, synapse_table, monkeypatch):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(4)])
    before = _entries(client)
    assert [e[2:] for e in before] == [(4, 4)]

    def fail(*args, **kwargs):  # the last statement of the write transaction fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(client.backend), "audit", fail)
    for write in (
        lambda: client.post_annotation(synapse_table, [synapse(7)]),
        lambda: client.update_annotation(synapse_table, {"id": ids[0], "size": 2.0}),
        lambda: client.delete_annotation(synapse_table, ids[1:3]),
        lambda: client.delete_matching(synapse_table, ids=ids[:2]),
    ):
        with pytest.raises(RuntimeError):
            write()
        assert _entries(client) == before  # the entry went back with the rows
    monkeypatch.undo()
    now = db.now()
    assert (
        client.count_annotations(synapse_table, timestamp=now)
        == 4
        == _scanned(client, synapse_table, now)
    )


def test_a_count_at_a_moment_reads_the_log_and_no_row(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(i) for i in range(5)])
    at = db.now()
    client.delete_annotation(synapse_table, [1, 2])
    engine = client.backend.engine
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.count_annotations(synapse_table, timestamp=at) == 5
        assert client.count_annotations(synapse_table, timestamp=db.now()) == 3
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("count_log" in s for s in statements)
    assert not any("anno_1" in s for s in statements), statements


def test_repair_counts_appends_the_counted_totals_to_the_log(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(i) for i in range(5)])
    client.create_table("other", "bound_tag", "right already [pytest]", [1, 1, 1])
    wrong_at = db.now()
    with client.backend.engine.begin() as conn:  # counts and log changed by hand
        conn.execute(
            db.tables_meta.update()
            .where(db.tables_meta.c.table_name == synapse_table)
            .values(live_count=99, total_count=1)
        )
        counts.log_counts(conn, 1, wrong_at)
    assert client.count_annotations(synapse_table, timestamp=db.now()) == 99
    checked, fixed = counts.repair(client.backend.engine)
    assert checked == 2 and [f["after"] for f in fixed] == [(5, 5)]
    entries = _entries(client)
    assert [e[2:] for e in entries] == [(5, 5), (99, 1), (5, 5)]  # "other" has no rows
    assert entries[-1][1] > wrong_at  # stamped when repaired
    now = db.now()
    assert client.count_annotations(synapse_table, timestamp=now) == 5
    assert client.count_annotations(synapse_table, timestamp=wrong_at) == 99  # as logged then

    with client.backend.engine.begin() as conn:  # only the log is off: still appended
        counts.log_counts(conn, 1, db.now())
        conn.execute(db.count_log.update().where(db.count_log.c.id == 4).values(live_count=7))
    assert counts.repair(client.backend.engine) == (2, [])
    assert [e[2:] for e in _entries(client)][-1] == (5, 5)
    assert counts.repair(client.backend.engine) == (2, [])
    assert len(_entries(client)) == 5  # nothing was off: nothing appended
