"""Edit page at scale: Next/Previous go by keyset (after the last id shown), and a count
too dear to make exactly is an estimate that says so, with the exact count on request."""

from __future__ import annotations

import re

import pytest

from anno_core.engine import view_counts

from .conftest import open_page


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "Cells [pytest]", [4, 4, 40])
    client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [100 + i, 200, 30]},
                "classification_system": "aibs",
                "cell_type": "basket" if i % 4 == 1 else "pyramidal",
            }
            for i in range(130)
        ],
    )
    client.delete_annotation("cells", [3, 4, 60])  # holes: keyset and offset must agree
    return "cells"


def _ids(app) -> list[int]:
    return [int(i) for i in app.data_editor[0].value["id"]]


def _captions(app) -> list[str]:
    return [c.value for c in app.caption]


def test_next_and_previous_start_after_the_ids_shown_and_match_offset_pages(app, client, cells):
    open_page(app, "edit")
    app.selectbox(key="ed_size").select(25).run()
    live = client.query_annotations(cells, limit=1000)["id"].tolist()
    seen = [_ids(app)]
    for _ in range(4):
        app.button(key="ed_next").click().run()
        seen.append(_ids(app))
    # the same rows an offset would give, page by page
    assert seen == [live[i : i + 25] for i in range(0, 125, 25)]
    anchors = next(iter(app.session_state["ed_anchors"].values()))
    assert anchors[5] == live[99]  # page 5 starts after the last id of page 4
    assert anchors[6] == live[124]
    app.button(key="ed_prev").click().run()
    assert _ids(app) == live[75:100]
    app.number_input(key="ed_page").set_value(2).run()  # a jump lands on the same rows
    assert _ids(app) == live[25:50]
    assert "Rows 26 to 50 of 127 live rows (page 2 of 6)." in _captions(app)


def test_a_dear_count_is_an_estimate_that_says_so_and_counts_exactly_on_request(
    app, cells, monkeypatch
):
    monkeypatch.setattr(view_counts, "COUNT_BUDGET", 10)  # 127 live rows: too many to count
    open_page(app, "edit")
    app.selectbox(key="ed_f_col").select("pt_position_z")
    app.text_input(key="ed_f_value").input("30")
    app.button[0].click().run()  # the form's "Add filter"
    caption = next(c for c in _captions(app) if c.startswith("Rows 1 to 50"))
    # every row matches, so the estimate is right; the sample is the table's indexed eighth
    assert re.fullmatch(
        r"Rows 1 to 50 of about 127 live rows that match \(page 1; estimated from a "
        r"sample of \d+ rows\)\.",
        caption,
    ), caption
    app.button(key="ed_exact").click().run()
    assert "Rows 1 to 50 of 127 live rows that match (page 1 of 3)." in _captions(app)
