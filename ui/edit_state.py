"""State of the Edit page: the view (filters, ids, page), the grid's edits, the last save.

Everything lives in ``st.session_state`` under ``ed_*`` keys. The data editor's key is
derived from the view (table, filters, ids, page) and a generation counter bumped after a
save or a discard, so a new view or a saved one starts without edits. While the grid holds
unsaved edits the view cannot change (its widgets are disabled), so edits are never
dropped silently. The rows a grid was drawn from are kept with it: a rerun draws the same
rows even if someone else changes the table meanwhile, so an edit can never slide onto
another row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api

PAGE_SIZES = (25, 50, 100, 250)
MAX_IDS = api.CHUNK  # what one query takes at most
DELETE = "delete"
RESTORE = "restore"
WAS = "change"
SYSTEM = ("state", "created", "created by", WAS)
_FILTERS = "ed_filters"
_GEN = "ed_generation"
_FRAMES = "ed_frames"
_SAVED = "ed_saved"
_LAST_GRID = "ed_last_grid"
_CONFIRM = "ed_confirm"
_ANCHORS = "ed_anchors"
_AFTER = "ed_after_save"


@dataclass(frozen=True)
class View:
    """Which rows of which table the grid shows."""

    table: str
    filters: tuple[tuple[str, Any], ...]
    ids: tuple[int, ...]
    include_invalid: bool
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def narrowed(self) -> bool:
        return bool(self.filters or self.ids)


def id_text(ids: tuple[int, ...] | list[int]) -> str:
    """Ids as a person types them: '3, 5-9, 12'."""
    out, run = [], []
    for i in sorted(set(ids)):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [i]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(out)


def parse_ids(text: str) -> list[int]:
    """'12, 40-45 7' as ids, or AnnoError saying what is wrong."""
    ids: list[int] = []
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise api.AnnoError(
                f"'{part}' is not an annotation id: give whole numbers like 12, 40-45."
            )
        first, last = int(m[1]), int(m[2] or m[1])
        if last < first or last - first >= MAX_IDS:
            raise api.AnnoError(f"The range {part} must go up, and cover at most {MAX_IDS} ids.")
        ids.extend(range(first, last + 1))
    ids = sorted(set(ids))
    if len(ids) > MAX_IDS:
        raise api.AnnoError(f"Give at most {MAX_IDS} ids at a time; these are {len(ids)}.")
    return ids


# -- the view ------------------------------------------------------------------------------
def start(table: str) -> None:
    """Begin afresh when another table is opened (its filters do not apply here)."""
    ss = st.session_state
    ss.setdefault("ed_size", 50)
    ss.setdefault("ed_all", False)
    if ss.get("ed_table") != table:
        ss["ed_table"] = table
        ss[_FILTERS] = {}
        ss["ed_ids"] = ""
        ss["ed_page"] = 1
        ss.pop("ed_f_error", None)
        ss.pop(_CONFIRM, None)


def filters() -> dict[str, tuple[str, Any]]:
    """Active filters: column -> (what was typed, the value compared with)."""
    return st.session_state.setdefault(_FILTERS, {})


def add_filter(schema: str) -> None:
    """Callback of 'Add filter': check the typed value, then narrow the view to it."""
    ss = st.session_state
    column, text = ss.get("ed_f_col"), ss.get("ed_f_value", "")
    ok, value = api.attempt(api.client().filter_value, schema, column, text)
    if not ok:
        ss["ed_f_error"] = value
        return
    filters()[column] = (text.strip(), value)
    ss["ed_f_value"] = ""
    ss["ed_page"] = 1
    ss.pop("ed_f_error", None)


def remove_filter(column: str) -> None:
    filters().pop(column, None)
    st.session_state["ed_page"] = 1


def to_page(page: int) -> None:
    st.session_state["ed_page"] = max(1, page)


def first_page() -> None:
    st.session_state["ed_page"] = 1


def show_ids(ids: list[int]) -> None:
    """Narrow the view to ``ids`` (e.g. the new versions just saved)."""
    ss = st.session_state
    ss["ed_ids"] = ", ".join(map(str, ids))
    ss[_FILTERS] = {}
    ss["ed_all"] = False
    ss["ed_page"] = 1


def view(table: str, ids: list[int]) -> View:
    ss = st.session_state
    return View(
        table=table,
        filters=tuple(sorted((c, v) for c, (_, v) in filters().items())),
        ids=tuple(ids),
        include_invalid=bool(ss.get("ed_all", False)),
        page=int(ss.get("ed_page") or 1),
        size=int(ss.get("ed_size", 50)),
    )


# -- where a page starts: keyset anchors -----------------------------------------------------
def _anchor_key(v: View) -> tuple:
    # A save moves rows (an update's new version gets a new id), so anchors start afresh.
    return (v.table, v.filters, v.ids, v.include_invalid, v.size, st.session_state.get(_GEN, 0))


def page_start(v: View) -> tuple[int | None, int]:
    """(after_id, offset) that read page ``v.page``: from the nearest page at or before it
    whose start is known, so Next and Previous read only their own rows, at any depth (a
    jump to a page never seen skips rows from the nearest known one)."""
    anchors = st.session_state.get(_ANCHORS, {}).get(_anchor_key(v), {})
    known = max((p for p in anchors if p <= v.page), default=None)
    if known is None:
        return None, v.offset
    return anchors[known], (v.page - known) * v.size


def remember_page(v: View, frame: pd.DataFrame, has_next: bool) -> None:
    """Keep where page ``v.page`` and the next one start (ids of the page just read)."""
    if frame.empty:
        return
    key = _anchor_key(v)
    store = st.session_state.setdefault(_ANCHORS, {})
    anchors = store.get(key, {})
    store.clear()  # only the view on screen keeps its anchors
    anchors[v.page] = int(frame["id"].iloc[0]) - 1  # ids are whole: "after first - 1"
    if has_next:
        anchors[v.page + 1] = int(frame["id"].iloc[-1])
    store[key] = anchors


_ESTIMATE = "ed_estimate"
_EXACT = "ed_exact_for"
_UNSET = object()


def estimated(v: View, got: Any = _UNSET) -> Any:
    """The estimate the view's count is (a ViewCount), or None if exact; with ``got``, set."""
    if got is not _UNSET:
        st.session_state[_ESTIMATE] = (_anchor_key(v), got)
    held = st.session_state.get(_ESTIMATE)
    return held[1] if held and held[0] == _anchor_key(v) else None


def ask_exact_count(v: View) -> None:
    """Callback of 'Count exactly': count this view exactly (however long it takes)."""
    st.session_state[_EXACT] = _anchor_key(v)


def count_view(v: View) -> int:
    """Rows in a narrowed view: exact when cheap or asked for, else an estimate (which
    `estimated` then returns). Refusals are raised (AnnoError, NotSupported)."""
    view = {
        "include_invalid": v.include_invalid,
        "filters": dict(v.filters) or None,
        "ids": list(v.ids) or None,
    }
    if st.session_state.get(_EXACT) == _anchor_key(v):
        return api.client().count_annotations(v.table, **view)
    got = api.client().estimate_annotation_count(v.table, **view)
    estimated(v, None if got.exact else got)
    return got.count


# -- the grid and its edits ----------------------------------------------------------------
def grid_key(v: View) -> str:
    """The data editor's key: one per view and generation."""
    gen = st.session_state.get(_GEN, 0)
    digest = hashlib.sha1(repr((v, gen)).encode()).hexdigest()[:12]
    return f"ed_grid_{digest}"


def pending(key: str) -> bool:
    """Whether the grid ``key`` holds edits not saved yet."""
    state = st.session_state.get(key)
    return bool(state and state.get("edited_rows"))


def check_left_behind(key: str) -> None:
    """Say so when a grid with edits was left without saving (table, user or volume changed)."""
    ss = st.session_state
    last = ss.get(_LAST_GRID)
    if last and last != key and pending(last):
        st.warning(
            "Your unsaved changes to the rows you were editing were discarded when "
            "the view changed.",
            icon=":material/undo:",
        )
    if last and last != key:
        ss.pop(last, None)
    ss[_LAST_GRID] = key


def rows(key: str, fresh: Any) -> pd.DataFrame:
    """The rows the grid ``key`` shows: read again unless it holds edits."""
    frames = st.session_state.setdefault(_FRAMES, {})
    if not pending(key) or key not in frames:
        frames.clear()  # only the grid on screen is kept
        frames[key] = fresh()
    return frames[key]


def discard() -> None:
    """Drop the grid's edits on purpose (saved or discarded): a new generation of the grid."""
    ss = st.session_state
    ss[_GEN] = ss.get(_GEN, 0) + 1
    ss.pop(_CONFIRM, None)
    last = ss.pop(_LAST_GRID, None)  # so nothing warns that these edits were lost
    if last:
        ss.pop(last, None)


def ask_to_confirm(key: str) -> None:
    st.session_state[_CONFIRM] = key


def confirming(key: str) -> bool:
    return st.session_state.get(_CONFIRM) == key


def cancel_confirm() -> None:
    st.session_state.pop(_CONFIRM, None)


def saved(table: str, result: Any, shown: list[int] | None = None, v: View | None = None) -> None:
    """Remember what a save did (shown above the grid) and start a fresh grid; the rows
    that were on screen (``shown``, in the view ``v``) stay there, changed ones as their new
    versions."""
    restored = dict(getattr(result, "restored", {}) or {})
    st.session_state[_SAVED] = {
        "table": table,
        "updated": dict(result.updated),
        "deleted": list(result.deleted),
        "restored": restored,
    }
    new = list(result.updated.values()) or list(restored.values())
    if new:
        st.session_state["ed_hist_next"] = new[0]
    if shown is not None and v is not None and (result.updated or restored):
        swap = {**dict(result.updated), **restored}
        st.session_state[_AFTER] = {
            "view": v,
            "ids": [swap.get(i, i) for i in shown if i not in set(result.deleted)],
            "was": {new_id: old for old, new_id in swap.items()},
        }
    discard()


def after_save(v: View) -> dict | None:
    """The rows just saved, kept on screen while the view stays the same (else forgotten)."""
    got = st.session_state.get(_AFTER)
    if got is None:
        return None
    if got["view"] != v:
        st.session_state.pop(_AFTER, None)
        return None
    return got


def saved_rows(after: dict) -> pd.DataFrame:
    """The rows just saved, read by id, in the order they were on screen."""
    ids = after["ids"]
    frame = api.client().query_annotations(
        after["view"].table, ids=ids, include_invalid=True, limit=max(len(ids), 1)
    )
    order = {i: n for n, i in enumerate(ids)}
    frame = frame.iloc[
        sorted(range(len(frame)), key=lambda r: order.get(int(frame["id"].iloc[r]), 0))
    ]
    return frame.reset_index(drop=True)


def leave_saved_rows() -> None:
    st.session_state.pop(_AFTER, None)


def last_save(table: str) -> dict | None:
    got = st.session_state.get(_SAVED)
    return got if got and got["table"] == table else None


def forget_save() -> None:
    st.session_state.pop(_SAVED, None)
