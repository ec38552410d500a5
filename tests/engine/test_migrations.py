"""Migrations: a database made by an earlier layout gets each new step once, on open."""

from __future__ import annotations

import sqlalchemy as sa

from anno_core.engine import count_log, db, migrations
from tests.conftest import synapse


def _reopen(make_client, url):
    db.dispose(url)
    return make_client()


def test_a_step_runs_once_on_an_old_database_and_is_recorded(
    make_client, client, synapse_table, monkeypatch
):
    client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    url = client.backend.url
    calls = []

    def add_note(conn):
        calls.append(1)
        for name in migrations.annotation_table_names(conn):
            migrations.add_column(conn, name, sa.Column("note", sa.Text))

    real = [name for name, _ in migrations.STEPS]  # run when the database was made
    monkeypatch.setattr(migrations, "STEPS", [("add_note", add_note)])
    again = _reopen(make_client, url)
    assert calls == [1]
    with again.backend.engine.connect() as conn:
        (name,) = migrations.annotation_table_names(conn)
        assert "note" in migrations.columns_of(conn, name)
        recorded = conn.execute(sa.select(migrations.migrations.c.name)).scalars().all()
    assert sorted(recorded) == sorted([*real, "add_note"])
    assert again.get_annotation_count(synapse_table) == 2  # rows untouched

    _reopen(make_client, url)
    assert calls == [1]  # never again


def test_add_column_is_idempotent_and_only_touches_what_is_missing(client, synapse_table):
    with client.backend.engine.begin() as conn:
        (name,) = migrations.annotation_table_names(conn)
        assert migrations.add_column(conn, name, sa.Column("extra", sa.Float)) is True
        assert migrations.add_column(conn, name, sa.Column("extra", sa.Float)) is False
        assert migrations.add_column(conn, name, sa.Column("created", sa.DateTime)) is False
        assert "extra" in migrations.columns_of(conn, name)


def test_annotation_tables_are_found_by_their_numeric_names_only(client):
    for i in range(3):
        client.create_table(f"t{i}", "bound_tag", "tags [pytest]", [1, 1, 1])
    with client.backend.engine.connect() as conn:
        names = migrations.annotation_table_names(conn)
    assert names == ["anno_1", "anno_2", "anno_3"]


def _log(conn) -> list[tuple]:
    log = db.count_log
    q = sa.select(log.c.table_meta_id, log.c.at, log.c.live_count, log.c.total_count)
    return [tuple(r) for r in conn.execute(q.order_by(log.c.table_meta_id, log.c.at, log.c.id))]


def test_an_old_database_gets_its_count_log_from_its_rows_and_loses_the_time_travel_index(
    make_client, client, monkeypatch
):
    """A database made with the (created, deleted) index and no count log: opening it builds
    each table's log from its rows (the same entries the writes would have logged) and drops
    the index; the step then finds nothing to do, and the old index step makes nothing."""
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    client.create_table(
        "types", "cell_type_reference", "types [pytest]", [4, 4, 40],
        reference_table="syn", track_target_id_updates=True,
    )  # fmt: skip
    ids = client.post_annotation("syn", [synapse(i) for i in range(6)])
    client.post_annotation(
        "types", [{"target_id": i, "cell_type": "a", "classification_system": "x"} for i in ids]
    )
    client.update_annotation("syn", {"id": ids[0], "size": 1.0})  # types follow it
    client.delete_annotation("syn", ids[1:4])
    client.update_annotation("syn", {"id": ids[2], "size": 2.0})  # a deleted row
    client.restore_annotation("syn", [ids[3]])
    client.create_table("empty", "synapse", "no rows [pytest]", [4, 4, 40])
    url = client.backend.url
    with client.backend.engine.begin() as conn:
        logged = _log(conn)
        names = migrations.annotation_table_names(conn)
        conn.execute(db.count_log.delete())  # back to the layout before the count log
        for name in names:
            t = sa.Table(name, sa.MetaData(), autoload_with=conn)
            sa.Index(migrations.AS_OF_INDEX.format(table=name), t.c.created, t.c.deleted).create(
                conn
            )
        conn.execute(
            migrations.migrations.delete().where(migrations.migrations.c.name == "count_logs")
        )
    assert len(names) == 3 and len(logged) == 9  # 5 writes of syn; 4 of types (3 followed)
    # Entries inserted a few at a time while the stamps are still being read (streamed).
    monkeypatch.setattr(count_log, "BATCH", 2)
    again = _reopen(make_client, url)
    with again.backend.engine.connect() as conn:
        assert _log(conn) == logged
        for name in names:
            assert migrations.AS_OF_INDEX.format(table=name) not in migrations.index_names(
                conn, name
            )
    with again.backend.engine.begin() as conn:
        migrations.count_logs(conn)  # idempotent: every table has its log, no index is left
        migrations.as_of_indexes(conn)  # a no-op now
        assert _log(conn) == logged
        for name in names:
            assert migrations.AS_OF_INDEX.format(table=name) not in migrations.index_names(
                conn, name
            )
    tables = {1: "syn", 2: "types"}
    for meta_id, at, live, total in logged:  # the counts at each write, from the new log
        assert again.count_annotations(tables[meta_id], timestamp=at) == live
        assert again.count_annotations(tables[meta_id], timestamp=at, include_invalid=True) == total
    assert [e[2:] for e in logged if e[0] == 1] == [(6, 6), (6, 7), (3, 7), (4, 8), (5, 9)]


def test_the_curation_steps_bring_an_older_database_up_to_date(make_client, client):
    """A database made before upload keys kept their user, volumes their bounds and the
    audit log its index: opening it adds them, and the engine then uses them."""
    client.create_table("t", "synapse", "t [pytest]", [4, 4, 40])
    url = client.backend.url
    names = ["upload_keys.user_id", "aligned_volumes.bounds", "audit_log.ix_table_at"]
    with client.backend.engine.begin() as conn:  # back to the older layout
        conn.exec_driver_sql("DROP INDEX ix_audit_log_table_at")
        conn.exec_driver_sql("ALTER TABLE upload_keys DROP COLUMN user_id")
        for end in ("min", "max"):
            for axis in "xyz":
                conn.exec_driver_sql(f"ALTER TABLE aligned_volumes DROP COLUMN bounds_{end}_{axis}")
        conn.execute(migrations.migrations.delete().where(migrations.migrations.c.name.in_(names)))
        assert "user_id" not in migrations.columns_of(conn, "upload_keys")
    again = _reopen(make_client, url)
    with again.backend.engine.connect() as conn:
        assert "user_id" in migrations.columns_of(conn, "upload_keys")
        assert "bounds_max_z" in migrations.columns_of(conn, "aligned_volumes")
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("audit_log")}
        assert "ix_audit_log_table_at" in indexes
    assert again.set_volume_bounds([0, 0, 0], [1, 2, 3])["bounds"] == [[0, 0, 0], [1, 2, 3]]
