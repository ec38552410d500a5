"""The audit log as the Activity page reads it (`Backend.activity`), on every backend:
newest first, sentences, filters, keyset pages, and only tables the reader may read."""

from __future__ import annotations

import datetime as dt

import pytest

from anno_core.activity import sentence
from anno_core.errors import InvalidArgument, NotSupported
from tests.conftest import synapse


@pytest.fixture
def story(make_client, people):
    """olivia (group lab) makes a PRIVATE, a GROUP and a PUBLIC table and changes rows."""
    olivia = make_client(user=people["owner"])
    for name, read in (("secret", "PRIVATE"), ("shared", "GROUP"), ("open", "PUBLIC")):
        olivia.create_table(name, "synapse", f"{name} [pytest]", [4, 4, 40], read_permission=read)
        olivia.post_annotation(name, [synapse(i) for i in range(3)])
    ids = olivia.post_annotation("open", [synapse(10), synapse(11)])
    olivia.update_annotation("open", [{"id": ids[0], "size": 5.0}])
    olivia.delete_annotation("open", [ids[1]])
    olivia.update_metadata("open", read_permission="PUBLIC", description="now described")
    return olivia


def _all(client, **filters) -> list[dict]:
    return client.get_activity(limit=500, **filters)["entries"]


def test_entries_are_newest_first_and_read_as_sentences(story, people):
    entries = _all(story)
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    said = [sentence(e) for e in entries]
    owner = people["owner"]
    assert said[0] == f"{owner} changed the description, who can read of open"
    assert said[1] == f"{owner} deleted 1 row of open"
    assert said[2] == f"{owner} changed 1 row of open"
    assert said[3] == f"{owner} added 2 rows to open"
    assert said[-1] == f"{owner} created table secret (schema synapse)"
    added = entries[3]
    assert added["count"] == 2 and len(added["ids"]) == 2 and added["user"] == owner
    assert {e["table"] for e in entries} == {"secret", "shared", "open"}


def test_a_reader_sees_only_entries_of_tables_they_may_read(story, make_client, people):
    stranger = _all(make_client(user=people["stranger"]))
    assert {e["table"] for e in stranger} == {"open"}
    assert _all(make_client(user=people["stranger"]), table="secret") == []
    member = _all(make_client(user=people["member"]))
    assert {e["table"] for e in member} == {"open", "shared"}
    assert {e["table"] for e in _all(make_client(user=people["admin"]))} == {
        "secret",
        "shared",
        "open",
    }


def test_keyset_pages_cover_the_log_once_at_any_size(story):
    whole = [e["id"] for e in _all(story)]
    for size in (1, 2, 5):
        seen, before = [], None
        while True:
            page = story.get_activity(limit=size, before=before)
            assert len(page["entries"]) <= size
            seen += [e["id"] for e in page["entries"]]
            before = page["next"]
            if before is None:
                break
        assert seen == whole


def test_filters_by_table_person_kind_and_date(story, make_client, people):
    assert {e["action"] for e in _all(story, table="open")} == {
        "create_table",
        "post_annotation",
        "update_annotation",
        "delete_annotation",
        "update_metadata",
    }
    assert [e["table"] for e in _all(story, kind="post_annotation")].count("open") == 2
    assert len(_all(story, user=people["owner"])) == len(_all(story))
    assert _all(story, user=people["member"]) == []
    assert _all(story, user="nobody_at_all") == []
    today = dt.datetime.now(dt.UTC).date()
    assert len(_all(story, since=today, until=today)) == len(_all(story))
    assert _all(story, since=today + dt.timedelta(days=1)) == []
    assert _all(story, until=(today - dt.timedelta(days=1)).isoformat()) == []


def test_bad_filters_are_refused_with_a_sentence(story):
    with pytest.raises(InvalidArgument, match="no kind of activity"):
        story.get_activity(kind="sneeze")
    with pytest.raises(InvalidArgument, match="1 to 500"):
        story.get_activity(limit=0)
    with pytest.raises(InvalidArgument, match="date like"):
        story.get_activity(since="last tuesday")


def test_people_are_managed_on_the_engine_not_over_http(backend_kind, client):
    if backend_kind == "remote":
        with pytest.raises(NotSupported, match="server's own machine"):
            client.people()
    else:
        assert [r["name"] for r in client.people().records()] == ["admin"]
