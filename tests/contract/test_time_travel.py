"""Time travel: a table as it was at any moment, proven against a replay of the audit log."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from anno_core.errors import AnnoWarning, InvalidArgument
from anno_core.moments import parse_moment
from tests.conftest import synapse

TICK = timedelta(microseconds=1)


def _replay(entries: list[dict], table: str, moment: datetime) -> set[int]:
    """The live ids of ``table`` at ``moment``, from the audit log alone."""
    live: set[int] = set()
    for e in entries:
        if e["table_name"] != table or parse_moment(e["at"]) > moment:
            continue
        gone = {i for a, b in (e["detail"] or {}).get("replaced") or [] for i in range(a, b + 1)}
        if e["action"] in ("post_annotation", "update_annotation", "track_target_id_updates"):
            live -= gone
            live |= set(e["ids"])
        elif e["action"] == "delete_annotation":
            live -= set(e["ids"])
    return live


def _moments(entries: list[dict]) -> list[datetime]:
    """Every write's own stamp, and the instant before it."""
    stamps = sorted({parse_moment(e["at"]) for e in entries if e["ids"]})
    return sorted({m for s in stamps for m in (s - TICK, s)})


def test_every_moment_matches_a_replay_of_the_audit_log(client, storage):
    vol = client.aligned_volume_name
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    client.create_table(
        "types",
        "cell_type_reference",
        "types of syn rows [pytest]",
        [4, 4, 40],
        reference_table="syn",
        track_target_id_updates=True,
    )
    first = client.post_annotation("syn", [synapse(i) for i in range(6)])
    client.post_annotation(
        "types",
        [{"target_id": i, "cell_type": "basket", "classification_system": "x"} for i in first[:3]],
    )
    client.update_annotation("syn", [{"id": first[0], "size": 1.0}, {"id": first[4], "size": 2.0}])
    client.delete_annotation("syn", [first[1], first[5]])
    client.post_annotation("syn", [synapse(10)])
    client.update_annotation("syn", {"id": first[2], "size": 3.0})  # types follow it
    client.delete_annotation("types", [4])

    entries = storage.audit_entries(vol)
    moments = _moments(entries)
    assert len(moments) >= 10  # five writes of syn, their instants before, and the tracker's
    for table in ("syn", "types"):
        for m in moments:
            frame = client.query_annotations(table, timestamp=m, limit=100)
            expected = _replay(entries, table, m)
            assert set(frame["id"]) == expected, (table, m)
            assert client.count_annotations(table, timestamp=m) == len(expected)
            # Each row reads as it was then: live, not superseded, not deleted.
            assert frame["valid"].all() and frame["superceded_id"].isna().all()
            assert frame["deleted"].isna().all()
    # Now, and a moment after the last write, are the live rows.
    now = client.query_annotations("syn", limit=100)
    later = client.query_annotations("syn", timestamp=datetime.now(UTC), limit=100)
    pd.testing.assert_frame_equal(now, later)


def test_an_update_is_one_instant_never_both_versions_or_neither(client, synapse_table, storage):
    [old] = client.post_annotation(synapse_table, [synapse(0)])
    new = client.update_annotation(synapse_table, {"id": old, "size": 7.0})[old]
    rows = {r["id"]: r for r in client.get_annotation(synapse_table, [old, new])}
    assert rows[old]["deleted"] == rows[new]["created"]
    stamp = parse_moment(rows[new]["created"])
    at = client.query_annotations(synapse_table, timestamp=stamp)
    before = client.query_annotations(synapse_table, timestamp=stamp - TICK)
    assert list(at["id"]) == [new] and list(before["id"]) == [old]
    assert before.loc[0, "size"] == 120.0 and at.loc[0, "size"] == 7.0


def test_history_at_a_moment_shows_the_state_then(client, synapse_table):
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    client.delete_annotation(synapse_table, [ids[0]])
    gone = parse_moment(client.get_annotation(synapse_table, [ids[0]])[0]["deleted"])
    client.delete_annotation(synapse_table, [ids[1]])
    frame = client.query_annotations(synapse_table, timestamp=gone, include_invalid=True)
    state = frame.set_index("id")
    assert not state.loc[ids[0], "valid"] and state.loc[ids[0], "deleted"] == pd.Timestamp(gone)
    assert state.loc[ids[1], "valid"] and pd.isna(state.loc[ids[1], "deleted"])


def test_a_moment_in_the_future_is_refused(client, synapse_table):
    soon = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(InvalidArgument, match="is in the future"):
        client.query_annotations(synapse_table, timestamp=soon)
    with pytest.raises(InvalidArgument, match="is in the future"):
        client.count_annotations(synapse_table, timestamp=soon)


def test_a_moment_before_the_table_existed_is_empty_and_says_so(client, synapse_table):
    client.post_annotation(synapse_table, [synapse(0)])
    with pytest.warns(AnnoWarning, match="was created at .* it had no rows at that moment"):
        frame = client.query_annotations(synapse_table, timestamp="2001-01-01T00:00:00")
    assert frame.empty and "size" in frame.columns
    assert client.count_annotations(synapse_table, timestamp="2001-01-01") == 0


def test_bad_moments_and_filters_are_refused_in_one_sentence(client, synapse_table):
    with pytest.raises(InvalidArgument, match="is not a moment"):
        client.query_annotations(synapse_table, timestamp="last tuesday")
    with pytest.raises(InvalidArgument, match="not both"):
        client.query_annotations(synapse_table, timestamp="2020-01-01", version="v1")
    with pytest.raises(InvalidArgument, match="has no column 'colour'"):
        client.query_annotations(
            synapse_table, timestamp=datetime.now(UTC), filters={"colour": "red"}
        )


def test_aware_and_naive_moments_are_the_same_utc_instant(client, synapse_table):
    [i] = client.post_annotation(synapse_table, [synapse(0)])
    stamp = parse_moment(client.get_annotation(synapse_table, [i])[0]["created"])
    plus_two = stamp.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "before the table existed" here
        assert list(client.query_annotations(synapse_table, timestamp=plus_two)["id"]) == [i]
        assert list(client.query_annotations(synapse_table, timestamp=stamp)["id"]) == [i]
        iso = stamp.isoformat() + "Z"
        assert list(client.query_annotations(synapse_table, timestamp=iso)["id"]) == [i]
