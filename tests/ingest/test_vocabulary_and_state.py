"""One true/false vocabulary (a filter and an upload accept the same words) and one
`annotation_state` (what the grid, the history, edits and update diffs call a version)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from anno_core.errors import InvalidArgument, ValidationFailed
from anno_core.ingest.edits import filter_value, plan_edits
from anno_core.ingest.versions import annotation_state, state_of
from anno_core.validation.booleans import FALSE_WORDS, TRUE_WORDS, parse_bool
from anno_core.validation.validator import validate_frame

WORDS = [(w, True) for w in TRUE_WORDS] + [(w, False) for w in FALSE_WORDS]
# what people type: any case, spaces around
TYPED = [(v, want) for w, want in WORDS for v in (w, w.upper(), f" {w.title()} ")]
NOT_WORDS = ["maybe", "ja", "2", "-1", "truth", "o", "yes please"]


def test_the_vocabulary_has_on_and_off_and_no_word_twice():
    assert {"on", "yes", "1", "t"} <= set(TRUE_WORDS) and {"off", "no", "0", "f"} <= set(
        FALSE_WORDS
    )
    assert not set(TRUE_WORDS) & set(FALSE_WORDS)


@pytest.mark.parametrize("text, want", TYPED)
def test_a_filter_and_an_upload_read_each_word_alike(text, want):
    assert parse_bool(text) is want
    assert filter_value("bound_tag_bool", "tag", text) is want
    from anno_core.schemas import schema_spec

    frame = pd.DataFrame({"pt_position": [[1, 2, 3]], "tag": [text]})
    checked = validate_frame(schema_spec("bound_tag_bool"), frame)
    assert checked.report.ok and bool(checked.columns["tag"][0]) is want


@pytest.mark.parametrize("text", NOT_WORDS)
def test_a_filter_and_an_upload_refuse_the_same_words(text):
    assert parse_bool(text) is None
    with pytest.raises(InvalidArgument, match="is true or false"):
        filter_value("bound_tag_bool", "tag", text)
    from anno_core.schemas import schema_spec

    frame = pd.DataFrame({"pt_position": [[1, 2, 3]], "tag": [text]})
    report = validate_frame(schema_spec("bound_tag_bool"), frame).report
    assert report.frame["kind"].tolist() == ["not_a_boolean"]


def test_every_word_goes_through_a_real_upload_and_back_through_a_filter(client):
    client.create_table("tags", "bound_tag_bool", "tags [pytest]", [4, 4, 40])
    body = "pt_position_x,pt_position_y,pt_position_z,tag\n" + "".join(
        f"{i},{i},{i},{text}\n" for i, (text, _) in enumerate(TYPED)
    )
    ids = client.ingest_csv("tags", body.encode(), name="tags.csv")
    stored = client.query_annotations("tags", ids=ids, limit=len(ids)).set_index("id")
    assert [bool(stored.loc[i, "tag"]) for i in ids] == [want for _, want in TYPED]
    for text in ("On", "off"):
        value = client.filter_value("bound_tag_bool", "tag", text)
        rows = client.query_annotations("tags", filters={"tag": value}, limit=1000)
        assert len(rows) == sum(want is value for _, want in TYPED)
    with pytest.raises(ValidationFailed, match="true or false"):
        client.ingest_csv("tags", b"pt_position,tag\n[1 2 3],maybe\n", name="bad.csv")


# -- annotation_state ------------------------------------------------------------------
NOW = dt.datetime(2026, 1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "superceded_id, valid, deleted, kind, text",
    [
        (None, True, None, "live", "live"),
        (np.nan, np.True_, pd.NaT, "live", "live"),
        (pd.NA, 1, "", "live", "live"),
        (12, False, None, "replaced", "replaced by 12"),
        (12.0, False, NOW, "replaced", "replaced by 12"),  # a newer version wins
        (np.int64(7), True, None, "replaced", "replaced by 7"),
        (None, False, NOW, "deleted", "deleted"),
        (None, True, NOW, "deleted", "deleted"),  # a deletion stamp is a deletion
        (None, False, None, "deleted", "deleted"),  # e.g. a server that keeps no stamp
        (None, np.False_, pd.NaT, "deleted", "deleted"),
    ],
)
def test_annotation_state(superceded_id, valid, deleted, kind, text):
    state = annotation_state(superceded_id, valid, deleted)
    assert (state.kind, str(state), state.live) == (kind, text, kind == "live")
    row = {"superceded_id": superceded_id, "valid": valid, "deleted": deleted}
    assert state_of(row) == state == state_of(pd.Series(row, dtype=object))
    if kind == "deleted":
        assert state.deleted_at == (NOW if deleted is NOW else None)


def test_missing_keys_mean_live():
    assert state_of({}).live and state_of(pd.Series({"id": 1})).live


def test_stored_rows_and_history_have_the_states_the_edits_and_diffs_use(client, synapse_table):
    from tests.conftest import synapse

    ids = client.post_annotation(synapse_table, [synapse(i) for i in range(3)])
    new = client.update_annotation(synapse_table, {"id": ids[0], "size": 1.0})[ids[0]]
    client.delete_annotation(synapse_table, [ids[1]])
    rows = client.query_annotations(synapse_table, include_invalid=True).set_index("id")
    states = {i: str(state_of(rows.loc[i])) for i in rows.index}
    assert states == {
        ids[0]: f"replaced by {new}",
        ids[1]: "deleted",
        ids[2]: "live",
        new: "live",
    }
    history = client.get_history_changes(synapse_table, ids[0])
    assert [str(state_of(v)) for v in history] == [f"replaced by {new}", "live"]
    deleted = client.get_history_changes(synapse_table, ids[1])[-1]
    assert state_of(deleted).deleted_at == deleted["deleted"] and deleted["deleted"] is not None
    view = rows.reset_index()
    with pytest.raises(InvalidArgument, match=f"replaced by annotation {new}"):
        plan_edits("synapse", view, view, delete_ids=[ids[0]])
    body = f"id,size\n{ids[0]},5\n{ids[1]},5\n{ids[2]},5\n".encode()
    diff = client.open_upload(synapse_table, body, update=True).diff_update()
    assert diff.report.frame["message"].tolist() == [
        f"annotation {ids[0]} was replaced by a newer version, id {new}: update that one instead",
        f"annotation {ids[1]} was deleted; deleted annotations cannot be updated",
    ]
    assert diff.changed.tolist() == [False, False, True]
