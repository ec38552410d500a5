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

    real = [name for name, _ in migrations.STEPS]  # recorded when the database was made
    monkeypatch.setattr(migrations, "STEPS", [("add_note", add_note)])
    again = _reopen(make_client, url)
    assert calls == [1]
    with again.backend.engine.connect() as conn:
        (name,) = migrations.annotation_table_names(conn)
        assert "note" in migrations.columns_of(conn, name)
        recorded = conn.execute(sa.select(migrations.migrations.c.name)).scalars().all()
    assert sorted(recorded) == sorted(["add_note", *real])
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
