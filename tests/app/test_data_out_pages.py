"""Tables and Edit pages: a table at a version or a date, and Download links that work."""

from __future__ import annotations

import io
import urllib.parse

import pyarrow.parquet as pq
import pytest
import requests

from tests.conftest import synapse

from .conftest import alerts, open_page, rerun


@pytest.fixture
def history(client):
    """syn at version v1 (5 rows), then changed: one row updated, two deleted, one added."""
    client.create_table("syn", "synapse", "Synapses [pytest]", [8, 8, 40])
    ids = client.post_annotation("syn", [synapse(i) for i in range(5)])
    client.create_version("v1", "before the fixes")
    client.update_annotation("syn", {"id": ids[0], "size": 1.0})
    client.delete_annotation("syn", ids[1:3])
    client.post_annotation("syn", [synapse(9)])
    return ids


def _link(at) -> str:
    # the download's link (the Neuroglancer buttons are links too)
    (button,) = [e for e in at.get("link_button") if "/export" in e.proto.url]
    return button.proto.url, button.proto.label


def _download(url: str) -> bytes:
    r = requests.get(url, timeout=60)  # as the browser does: no token, no cookie
    assert r.status_code == 200, r.text
    return r.content


def test_tables_page_shows_a_table_at_a_version_or_a_date(app, client, history):
    open_page(app, "tables")
    assert app.dataframe[1].value["id"].tolist() == [4, 5, 6, 7]
    app.radio(key="tables_moment_kind").set_value("A version").run()
    app.selectbox(key="tables_moment_version").set_value("v1").run()
    assert app.dataframe[1].value["id"].tolist() == history
    assert any("The first 5 of 5 live rows at version v1" in c for c in app.caption.values)
    app.radio(key="tables_moment_kind").set_value("A date and time (UTC)").run()
    app.date_input(key="tables_moment_day").set_value("2001-02-03").run()
    assert app.dataframe[1].value.empty
    assert any("it had no rows at that moment" in a for a in alerts(app, "info"))


def test_tables_page_download_streams_the_table_from_the_local_server(app, client, history):
    open_page(app, "tables")
    app.toggle(key="tables_dl_on").set_value(True).run()
    url, label = _link(app)
    assert label == "Download syn.parquet"
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == "127.0.0.1" and "sig=" in parts.query
    frame = pq.read_table(io.BytesIO(_download(url))).to_pandas()
    assert frame["id"].tolist() == [4, 5, 6, 7]
    # At a version, as CSV with points as lists: the link changes with the choices.
    app.radio(key="tables_moment_kind").set_value("A version").run()
    app.selectbox(key="tables_moment_version").set_value("v1").run()
    app.selectbox(key="tables_dl_format").set_value("csv").run()
    app.radio(key="tables_dl_positions").set_value("list").run()
    url, label = _link(app)
    assert label == "Download syn_v-v1.csv"
    lines = _download(url).decode().splitlines()
    assert lines[0] == '"id","ctr_pt_position","post_pt_position","pre_pt_position","size"'
    assert [int(line.split(",")[0]) for line in lines[1:]] == history
    rerun(app)  # the progress bar follows the download the link started
    bars = [p.proto for p in app.get("progress")]
    assert [(b.value, b.text) for b in bars] == [(100, "Downloaded: 5 rows.")]


def test_edit_page_downloads_every_row_of_the_filtered_view(app, client, history):
    open_page(app, "edit")
    app.text_input(key="ed_ids").input("4, 6-7").run()
    app.toggle(key="ed_dl_on").set_value(True).run()
    url, label = _link(app)
    assert label == "Download syn.parquet"
    frame = pq.read_table(io.BytesIO(_download(url))).to_pandas()
    assert frame["id"].tolist() == [4, 6, 7]
    app.toggle(key="ed_all").set_value(True).run()  # deleted and superseded rows too
    url, _ = _link(app)
    frame = pq.read_table(io.BytesIO(_download(url))).to_pandas()
    assert "valid" in frame.columns and frame["id"].tolist() == [4, 6, 7]


def test_a_version_is_made_from_the_tables_page(app, client, history):
    open_page(app, "tables")
    app.text_input(key="tables_version_name").input("june")  # in a form: sent on submit
    app.text_input(key="tables_version_why").input("after the fixes")
    app.button(key="tables_version_make").click().run()
    made = client.get_version("june")
    assert made["description"] == "after the fixes" and made["number"] == 2
    app.radio(key="tables_moment_kind").set_value("A version").run()
    assert app.selectbox(key="tables_moment_version").options[1].startswith("june \\(")
    app.text_input(key="tables_version_name").input("june")
    app.text_input(key="tables_version_why").input("again")
    app.button(key="tables_version_make").click().run()  # the same name again
    assert any("already has a version called 'june'" in a for a in alerts(app))
