"""Live and total counts kept by the writes: exact through insert, update, delete, reference
tracking, rollback and concurrent writer processes, on SQLite and PostgreSQL; the repair
command; table details of many tables in one query."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

import anno_core
from anno_core.engine import db
from anno_core.errors import AnnoError
from tests.conftest import synapse


def _stored(client, table: str) -> tuple[int, int]:
    d = next(d for d in client.get_table_details() if d["table_name"] == table)
    return d["live_count"], d["total_count"]


def _counted(client, table: str) -> tuple[int, int]:
    b = client.backend
    t, _ = b.table_of(b.meta(client.aligned_volume_name, table))
    with b.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
        live = conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.valid)).scalar()
    return int(live), int(total)


def _exact(client, table: str) -> tuple[int, int]:
    stored = _stored(client, table)
    assert stored == _counted(client, table)
    assert client.get_annotation_count(table) == stored[1]
    assert client.get_live_count(table) == stored[0]
    return stored


def test_counts_follow_every_write_and_its_time(client, synapse_table):
    assert _exact(client, synapse_table) == (0, 0)
    assert client.get_table_metadata(synapse_table)["last_data_change"] is None
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(10)])
    assert _exact(client, synapse_table) == (10, 10)
    first = client.get_table_metadata(synapse_table)["last_data_change"]
    assert first is not None
    client.update_annotation(synapse_table, [{"id": ids[0], "size": 1.0}, {"id": ids[1]}])
    assert _exact(client, synapse_table) == (10, 12)  # two new versions, none more live
    client.delete_annotation(synapse_table, ids[2:5])
    client.delete_annotation(synapse_table, ids[2:6])  # 2..4 again: only 5 is new
    assert _exact(client, synapse_table) == (6, 12)
    client.update_annotation(synapse_table, {"id": ids[3], "size": 3.0})  # a deleted row
    assert _exact(client, synapse_table) == (7, 13)  # its new version is live
    later = client.get_table_metadata(synapse_table)["last_data_change"]
    assert later > first
    client.update_metadata(synapse_table, description="only the metadata [pytest]")
    assert client.get_table_metadata(synapse_table)["last_data_change"] == later
    detail = client.get_table_details()[0]
    assert detail["last_data_change"] == later
    assert detail["last_modified"] > later  # the metadata changed after the rows


def test_refused_and_rolled_back_writes_change_no_count(client, synapse_table, monkeypatch):
    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(4)])
    bad = synapse(9)
    bad["ctr_pt"] = {"position": [1, 2]}
    with pytest.raises(AnnoError):
        client.post_annotation(synapse_table, [synapse(5), bad])
    assert _exact(client, synapse_table) == (4, 4)

    def fail(*args, **kwargs):  # the last statement of the write transaction fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(client.backend), "audit", fail)
    for write in (
        lambda: client.post_annotation(synapse_table, [synapse(7)]),
        lambda: client.update_annotation(synapse_table, {"id": ids[0], "size": 2.0}),
        lambda: client.delete_annotation(synapse_table, ids[1:3]),
    ):
        with pytest.raises(RuntimeError):
            write()
        assert _exact(client, synapse_table) == (4, 4)  # rows and counts rolled back together
    assert client.get_table_metadata(synapse_table)["last_data_change"] is not None


def test_tables_that_track_their_targets_count_the_new_versions(client):
    client.create_table("cells", "bound_tag", "targets [pytest]", [4, 4, 40])
    client.create_table(
        "types",
        "cell_type_reference",
        "types [pytest]",
        [4, 4, 40],
        reference_table="cells",
        track_target_id_updates=True,
    )
    cells = client.post_annotation(
        "cells", [{"pt": {"position": [i, 1, 1]}, "tag": "a"} for i in range(3)]
    )
    client.post_annotation(
        "types",
        [{"target_id": i, "classification_system": "x", "cell_type": "y"} for i in cells],
    )
    client.update_annotation("cells", [{"id": cells[0], "tag": "b"}, {"id": cells[1]}])
    assert _exact(client, "cells") == (3, 5)
    assert _exact(client, "types") == (3, 5)  # two rows followed their targets


def _writer(settings: dict, k: int, out) -> None:  # type: ignore[no-untyped-def]
    c = anno_core.connect(**settings)
    done = 0
    for i in range(6):
        ids = c.post_annotation("syn", [synapse(100 * k + j) for j in range(20)])
        c.delete_annotation("syn", ids[: i % 3])
        c.update_annotation("syn", {"id": ids[-1], "size": float(k)})
        done += 1
    out.put(done)


def test_counts_stay_exact_with_writers_in_several_processes(
    make_client, synapse_table, data_dir, database_url
):
    settings = {"data_dir": str(data_dir)}
    if database_url:
        settings["database_url"] = database_url
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(settings, k, out)) for k in range(3)]
    for p in procs:
        p.start()
    assert [out.get(timeout=300) for _ in procs] == [6, 6, 6]
    for p in procs:
        p.join(60)
    # per writer: 6 x 20 rows, 6 updates, 0+1+2+0+1+2 deletes
    assert _exact(make_client(), synapse_table) == (3 * (120 - 6), 3 * 126)


def test_repair_counts_recounts_a_database_changed_by_hand(
    client, synapse_table, data_dir, database_url
):
    client.post_annotation(synapse_table, [synapse(i) for i in range(5)])
    client.create_table("other", "bound_tag", "right already [pytest]", [1, 1, 1])
    with client.backend.engine.begin() as conn:
        conn.execute(
            db.tables_meta.update()
            .where(db.tables_meta.c.table_name == synapse_table)
            .values(live_count=99, total_count=1)
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env["ANNO_DATA_DIR"] = str(data_dir)
    if database_url:
        env["ANNO_DATABASE_URL"] = database_url
    run = subprocess.run(
        [sys.executable, "-m", "anno_core", "repair-counts"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "syn (table id 1): live rows 99 -> 5, all rows 1 -> 5" in run.stdout
    assert "Checked the counts of 2 tables; 1 were wrong and are fixed." in run.stdout
    assert _exact(client, synapse_table) == (5, 5)


def test_table_details_of_many_tables_is_one_query(client, people_of_engine):
    store = client.backend.users
    store.add("gus", ["lab"])
    for i in range(40):
        perms = ("PUBLIC", "GROUP", "PRIVATE")[i % 3]
        client.create_table(
            f"t{i:02d}",
            "bound_tag",
            f"table {i} [pytest]",
            [1, 1, 1],
            user_id="olivia" if i % 2 else None,
            read_permission=perms,
        )
    client.post_annotation("t01", [{"pt": {"position": [1, 2, 3]}, "tag": "x"}])
    gus = anno_core.connect(
        data_dir=people_of_engine["data_dir"], user="gus", **people_of_engine["extra"]
    )
    gus.whoami()  # who acts is read once per client
    statements = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    sa.event.listen(gus.backend.engine, "before_cursor_execute", count)
    try:
        details = gus.get_table_details()
    finally:
        sa.event.remove(gus.backend.engine, "before_cursor_execute", count)
    assert len(details) == 40
    assert len(statements) == 1, statements
    by = {d["table_name"]: d for d in details}
    assert by["t01"]["owner_name"] == "olivia" and by["t01"]["live_count"] == 1
    assert by["t04"]["can_read"] is False and by["t04"]["live_count"] is None  # GROUP, admin's
    assert by["t07"]["can_read"] is True  # GROUP, olivia's: gus shares "lab"
    assert by["t05"]["can_read"] is False  # PRIVATE, olivia's
    assert by["t00"]["can_read"] and not by["t00"]["can_edit_metadata"]


@pytest.fixture
def people_of_engine(client, data_dir, database_url):
    client.backend.users.add("olivia", ["lab"])
    return {"data_dir": data_dir, "extra": {"database_url": database_url} if database_url else {}}
