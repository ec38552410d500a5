"""Tables page at scale: the list shows when rows last changed and filters as you type; a
table bigger than the 3D view's sample is drawn from the sample the engine picks, and the
page says so (the legend counts the sample)."""

from __future__ import annotations

import json

from ui import table_views

from .conftest import rerun


def test_the_list_says_when_rows_changed_and_filters_as_you_type(app, client):
    client.create_table("quiet", "bound_tag", "no rows yet [pytest]", [1, 1, 1])
    client.create_table("busy", "bound_tag", "rows [pytest]", [1, 1, 1])
    client.post_annotation("busy", [{"pt": {"position": [1, 2, 3]}, "tag": "a"}])
    rerun(app)
    listing = app.dataframe[0].value
    changed = dict(zip(listing["table"], listing["last data change"], strict=True))
    assert str(changed["quiet"]) == "NaT" and str(changed["busy"]) != "NaT"
    box = app.text_input(key="tables_filter")
    assert box.proto.live_debounce_ms > 0  # a pause in typing reruns the page


def test_a_table_bigger_than_the_sample_is_drawn_from_the_engines_sample(app, client, monkeypatch):
    monkeypatch.setattr(table_views, "MAX_POINTS", 40)
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    ids = client.post_annotation(
        "tags",
        [{"pt": {"position": [i, 2, 3]}, "tag": "bc" if i % 3 else "pyc"} for i in range(100)],
    )
    rerun(app)
    app.selectbox(key="tables_color").select("tag").run()
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    drawn = [
        p for layer in deck["layers"] if layer["id"].startswith("points") for p in layer["data"]
    ]
    sample, _, _ = client.get_point_frame("tags", limit=40)
    shown = sorted(int(p["t"].split("id: ")[1].split()[0]) for p in drawn)  # "id: 12 ..."
    assert shown == sorted(sample["id"].tolist())
    assert set(sample["id"]) < set(ids)
    caption = next(c.value for c in app.caption if "points drawn" in c.value)
    assert caption.startswith("40 of 40 points drawn")
    assert "a fixed random sample of the 100 live rows, chosen by the database" in caption
    assert "the legend counts the sample" in caption
