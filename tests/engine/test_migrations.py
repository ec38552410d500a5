"""Migrations: a database made by an earlier layout gets each new step once, on open."""

from __future__ import annotations

import sqlalchemy as sa

from anno_core.engine import db, migrations
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


def test_the_time_travel_index_is_added_to_tables_made_before_it(
    make_client, client, synapse_table
):
    client.post_annotation(synapse_table, [synapse(0)])
    url = client.backend.url
    with client.backend.engine.begin() as conn:
        (name,) = migrations.annotation_table_names(conn)
        index = migrations.AS_OF_INDEX.format(table=name)
        conn.exec_driver_sql(f"DROP INDEX {index}")  # the layout before time travel
        conn.execute(
            migrations.migrations.delete().where(migrations.migrations.c.name == "as_of_indexes")
        )
    again = _reopen(make_client, url)
    with again.backend.engine.connect() as conn:
        found = {i["name"] for i in sa.inspect(conn).get_indexes(name)}
    assert index in found
    with again.backend.engine.begin() as conn:
        migrations.as_of_indexes(conn)  # idempotent: finds it there and does nothing
    assert again.get_annotation_count(synapse_table) == 1


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
