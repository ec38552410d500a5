"""The sample key: the 3D views' points are the live rows with the smallest keys, the same
every time, spread over the table, found through the index; and a database made before
the key (and the counts) gets them when it is opened."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from anno_core.engine import db, indexes, migrations
from anno_core.engine.sampling import sample_key, sample_level


def _fill(client, n: int) -> list[int]:
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    frame = pd.DataFrame(
        {
            "pt_position_x": np.arange(n),
            "pt_position_y": np.arange(n) % 97,
            "pt_position_z": np.zeros(n),
            "tag": np.where(np.arange(n) % 10 == 0, "bc", "pyc"),
        }
    )
    return client.backend.insert_frame(client.aligned_volume_name, "tags", frame)


def test_the_key_is_a_fixed_uniform_hash_of_the_id():
    ids = np.arange(1, 200_001)
    keys = sample_key(ids)
    assert (keys == sample_key(ids)).all() and keys.min() >= 0
    assert len(np.unique(keys)) == len(ids)
    deciles = np.histogram(keys, bins=10, range=(0, 2**63))[0]
    assert deciles.min() > 19_000 and deciles.max() < 21_000  # uniform
    levels = sample_level(ids)
    order = np.argsort(keys)
    assert (np.diff(levels[order].astype(int)) <= 0).all()  # a higher level: a smaller key
    octave = [4 * (63 - int(k).bit_length()) for k in keys[:1000]]
    assert (levels[:1000] // 4 * 4 == octave).all()
    assert abs((levels < 4).mean() - 0.5) < 0.01 and abs((levels >= 12).mean() - 0.125) < 0.01
    assert abs((levels == 12).mean() - 1 / 64) < 0.002  # a quarter of its octave (1/16)


def test_the_sample_is_the_smallest_keys_of_live_rows_the_same_every_time(client):
    ids = np.asarray(_fill(client, 6_000))
    client.delete_annotation("tags", ids[::7].tolist())
    live = np.setdiff1d(ids, ids[::7])
    points, spec, meta = client.get_point_frame("tags", limit=500)
    assert meta["table_name"] == "tags" and list(points.columns) == [
        "id",
        "pt_position_x",
        "pt_position_y",
        "pt_position_z",
    ]
    expected = live[np.argsort(sample_key(live))[:500]]
    assert points["id"].tolist() == expected.tolist()  # in key order
    again, _, _ = client.get_point_frame("tags", limit=500)
    assert again.equals(points)
    assert (points["pt_position_x"] == points["id"] - ids[0]).all()  # each row's own values
    # spread over the whole table: every tenth of the ids holds its share of the sample
    share = np.histogram(points["id"], bins=10, range=(ids[0], ids[-1] + 1))[0]
    assert share.min() >= 25 and share.max() <= 75
    bigger, _, _ = client.get_point_frame("tags", limit=2_000)
    assert bigger["id"].tolist()[:500] == points["id"].tolist()  # a larger sample contains it
    everything, _, _ = client.get_point_frame("tags")  # fewer live rows than the default
    assert sorted(everything["id"]) == live.tolist()
    # deleting sampled rows: the next keys take their places
    client.delete_annotation("tags", points["id"][:50].tolist())
    after, _, _ = client.get_point_frame("tags", limit=500)
    assert after["id"].tolist()[:450] == points["id"].tolist()[50:]
    tagged, _, _ = client.get_point_frame("tags", limit=10, columns=["tag"])
    assert tagged["tag"].tolist() == [
        "bc" if (i - ids[0]) % 10 == 0 else "pyc" for i in tagged["id"]
    ]


def test_the_database_finds_the_sample_in_its_index(client, db_kind):
    _fill(client, 3_000)
    b = client.backend
    t, _ = b.table_of(b.meta(client.aligned_volume_name, "tags"))
    from anno_core.engine.points import cut_level, sample_queries

    with b.engine.connect() as conn:
        cut = cut_level(conn, t, True, 100)
        (q,) = sample_queries(conn, t, [t.c.id], 100, [(True, 3_000)], 3_000)
        rows = conn.execute(q).scalars().all()
        if db_kind == "sqlite":
            plan = " ".join(
                str(r[3])
                for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN "
                    + str(q.compile(conn, compile_kwargs={"literal_binds": True}))
                )
            )
            assert f"INDEX ix_{t.name}_sample (valid=? AND sample_level>?)" in plan
    assert cut >= 16  # 3,000 rows, 100 wanted: only the highest levels are read
    assert 100 <= len(rows) <= 150  # at most about 4N/3 rows read, not the table


def test_an_old_database_gets_keys_counts_and_indexes_when_opened(make_client, client, db_kind):
    ids = _fill(client, 1_500)
    client.delete_annotation("tags", ids[:10])
    client.update_annotation("tags", {"id": ids[20], "tag": "x"})
    url = client.backend.url
    t, spec = client.backend.table_of(client.backend.meta(client.aligned_volume_name, "tags"))
    with client.backend.engine.begin() as conn:  # imitate the layout before this change
        for index in indexes.view_indexes(t, spec):
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
        conn.exec_driver_sql(f"ALTER TABLE {t.name} DROP COLUMN sample_level")
        for col in ("live_count", "total_count", "last_data_change"):
            conn.exec_driver_sql(f"ALTER TABLE annotation_table_metadata DROP COLUMN {col}")
        conn.execute(migrations.migrations.delete())
    db.dispose(url)
    again = make_client()
    with again.backend.engine.connect() as conn:
        names = migrations.index_names(conn, t.name)
        stored = dict(conn.execute(sa.select(t.c.id, t.c.sample_level)).all())
    assert {f"ix_{t.name}_sample", f"ix_{t.name}_tag"} <= names
    assert list(stored.values()) == sample_level(list(stored)).tolist()
    detail = again.get_table_details()[0]
    assert (detail["live_count"], detail["total_count"]) == (1_490, 1_501)
    assert detail["last_data_change"] is not None
    points, _, _ = again.get_point_frame("tags", limit=100)
    assert len(points) == 100


def test_a_large_tables_summary_counts_its_sample_and_says_so(client, monkeypatch):
    from anno_core.engine import summaries

    _fill(client, 20_000)  # tag 'bc' one row in ten
    exact = client.summarize_table("tags")
    assert exact["sampled"] is None and exact["rows"] == 20_000
    assert exact["text"]["tag"]["values"] == [["pyc", 18_000], ["bc", 2_000]]
    monkeypatch.setattr(summaries, "EXACT_ROWS", 5_000)
    monkeypatch.setattr(summaries, "SAMPLE_ROWS", 1_000)
    got = client.summarize_table("tags")
    assert got["rows"] == 20_000
    # whole sample levels: at least the 1,000 rows the 3D view draws, at most about 4/3
    assert 1_000 <= got["sampled"] <= 1_400
    assert client.summarize_table("tags") == got  # the same rows every time
    (pyc, n_pyc), (bc, n_bc) = got["text"]["tag"]["values"]
    assert (pyc, bc) == ("pyc", "bc") and n_pyc + n_bc == got["sampled"]
    assert abs(n_bc / got["sampled"] - 0.1) < 0.03  # the sample is uniform
