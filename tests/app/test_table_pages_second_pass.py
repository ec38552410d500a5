"""Tables, Metadata and Create table pages, second pass (issue 13 items 10, 11, 12): the last
data change shown where the backend keeps it, a summary of each table computed by the
database, a warning for GROUP when the owner is in no group, no 'Nothing changed yet' right
after a save."""

from __future__ import annotations

import pandas as pd
import pytest

from anno_core.engine.writes import LocalBackend
from tests.conftest import synapse

from .conftest import alerts, open_page, rerun


@pytest.fixture
def tags(client):
    client.create_table("tags", "bound_double_tag", "tags [pytest]", [4, 4, 40])
    client.post_annotation(
        "tags",
        [
            {"pt": {"position": [i, 2, 3]}, "tag": "pre" if i % 3 else "post", "tag2": f"n{i % 4}"}
            for i in range(24)
        ],
    )
    client.create_table("syn", "synapse", "syn [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse(i) for i in range(10)])
    return client


def test_a_summary_of_each_field_is_computed_by_the_database(app, tags):
    open_page(app, "tables")
    app.selectbox(key="tables_pick").select("tags").run()
    tops = [d.value for d in app.dataframe if list(d.value.columns) == ["value", "rows"]]
    assert [t.values.tolist() for t in tops] == [
        [["pre", 16], ["post", 8]],
        [["n0", 6], ["n1", 6], ["n2", 6], ["n3", 6]],
    ]
    assert any("Over the 24 live rows" in c.value for c in app.caption)
    app.selectbox(key="tables_pick").select("syn").run()
    (chart,) = app.get("vega_lite_chart")  # the histogram of size
    assert any("From 120 to 129 in 20 equal bins" in c.value for c in app.caption)


def test_a_large_tables_summary_says_it_counts_the_sample(app, tags, monkeypatch):
    from anno_core.engine import summaries

    monkeypatch.setattr(summaries, "EXACT_ROWS", 10)  # 24 rows: "large" here
    monkeypatch.setattr(summaries, "SAMPLE_ROWS", 5)
    open_page(app, "tables")
    app.selectbox(key="tables_pick").select("tags").run()
    (said,) = [c.value for c in app.caption if "fixed random sample" in c.value]
    sampled = tags.summarize_table("tags")["sampled"]
    assert said.startswith(f"From a fixed random sample of {sampled:,} of the 24 live rows")
    tops = [d.value for d in app.dataframe if list(d.value.columns) == ["value", "rows"]]
    assert sum(tops[0]["rows"]) == sampled  # the sample's counts, not the table's


def test_the_last_data_change_is_shown_where_the_backend_keeps_it(app, tags, monkeypatch):
    def kept() -> str:
        (d,) = [d for d in tags.get_table_details() if d["table_name"] == "tags"]
        return d["last_data_change"]

    first = kept()
    open_page(app, "tables")
    listing = app.dataframe[0].value.set_index("table")
    assert listing.loc["tags", "last data change"] == pd.Timestamp(first)
    tags.delete_annotation("tags", [1])  # the engine moves it in the delete's transaction
    assert kept() > first
    rerun(app)
    listing = app.dataframe[0].value.set_index("table")
    assert listing.loc["tags", "last data change"] == pd.Timestamp(kept())
    shown = f"annotations last changed {kept()[:16].replace('T', ' ')}."
    app.selectbox(key="tables_pick").select("tags").run()
    assert any(shown in c.value for c in app.caption)
    open_page(app, "metadata")
    app.selectbox(key="md_pick").select("tags").run()
    assert any(shown in c.value for c in app.caption)

    # A backend that does not keep it (a CAVE server): no column, no words about it.
    plain = LocalBackend.table_details

    def without(self, volume):
        return [
            {k: v for k, v in d.items() if k != "last_data_change"} for d in plain(self, volume)
        ]

    monkeypatch.setattr(LocalBackend, "table_details", without)
    open_page(app, "tables")
    assert "last data change" not in app.dataframe[0].value.columns
    assert not any("annotations last changed" in c.value for c in app.caption)


def test_group_warns_when_the_owner_is_in_no_group(app, tags):
    open_page(app, "metadata")
    app.selectbox(key="md_pick").select("tags").run()
    key = next(r.key for r in app.radio if r.key.endswith("_write"))
    assert not app.warning or all("in no group" not in w.value for w in app.warning)
    app.radio(key=key).set_value("GROUP").run()
    assert any("The owner is in no group" in w for w in alerts(app, "warning"))
    tags.backend.users.add("bob", ["lab"])
    tags.update_metadata("tags", user_id="bob")
    rerun(app)
    key = next(r.key for r in app.radio if r.key.endswith("_write"))
    app.radio(key=key).set_value("GROUP").run()
    assert not any("in no group" in w for w in alerts(app, "warning"))


def test_create_table_warns_for_group_when_you_are_in_no_group(app):
    open_page(app, "create_table")
    app.selectbox(key="ct_schema").select("bound_tag").run()
    app.radio(key="ct_read").set_value("GROUP").run()
    assert any("The owner is in no group" in w for w in alerts(app, "warning"))


def test_no_nothing_changed_right_after_a_save(app, tags):
    open_page(app, "metadata")
    key = next(t.key for t in app.text_area if t.key.endswith("_desc"))
    app.text_area(key=key).input("new words [pytest]").run()
    app.button(key="md_save").click().run()
    assert alerts(app, "success") == ["Saved: description."]
    assert "Nothing changed yet." not in [c.value for c in app.caption]
    rerun(app)
    assert "Nothing changed yet." in [c.value for c in app.caption]
