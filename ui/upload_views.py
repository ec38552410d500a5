"""Pieces of the upload page: the column mapping, the report, the update diff.

Each takes anno_core's objects (an UploadPlan, its ValidationReport, an UpdateDiff) as they
come from `ui.client` and draws them; nothing here checks or stores anything. Cell values and
column names come from the person's file: they are shown in dataframes, selectbox options
or escaped (`widgets.md`), never as Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import upload_state as us
from ui import widgets as w

NONE = "(no column)"
CUSTOM = "three columns: choose x, y and z"
SHOWN = 100  # problems listed on the page; the download has all of them


def plural(n: int, word: str) -> str:
    """'1 row', '240 rows', '1,000,000 annotations'."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def triple_label(trio: Sequence[str]) -> str:
    return f"{', '.join(trio)} (x, y, z columns)"


# -- mapping ---------------------------------------------------------------------------
def mapping_editor(plan: Any, ctx: str) -> dict[str, Any]:
    """A row per schema field to choose its column(s); the changes to the proposal."""
    columns = list(plan.columns)
    triples = api.column_triples(columns)
    proposal = plan.mapping
    changes: dict[str, Any] = {}
    fields = sorted(plan.spec.user_fields, key=lambda f: (not f.required, f.column))
    head = st.columns([2, 3, 2])
    head[0].caption("Field of the table")
    head[1].caption("Column of your file")
    head[2].caption("How it was matched")
    for f in fields:
        src = proposal.fields.get(f.column)
        label = f"{f.column}{' (required)' if f.required and not plan.update else ''}"
        row = st.columns([2, 3, 2], vertical_alignment="center")
        row[0].markdown(f"**{w.md(f.column)}**  \n:gray[{w.md(f.type_label)}]")
        if f.kind == "point":
            chosen = _point_choice(row[1], f.column, label, src, columns, triples, ctx)
        else:
            chosen = _column_choice(row[1], f.column, label, src, columns, ctx)
        if chosen != src:
            changes[f.column] = chosen
        row[2].caption(_how(chosen, src, proposal.how.get(f.column, ""), f.required, plan.update))
    id_help = (
        "Which annotation each row updates."
        if plan.update
        else "Optional: rows keep these ids (they must not exist yet). Leave it empty to "
        "have ids assigned."
    )
    row = st.columns([2, 3, 2], vertical_alignment="center")
    row[0].markdown(f"**id**  \n:gray[{'required for updates' if plan.update else 'optional'}]")
    chosen_id = _column_choice(
        row[1], "id", "id", proposal.id_column, columns, ctx, help_text=id_help
    )
    if chosen_id != proposal.id_column:
        changes["id"] = chosen_id
    row[2].caption(
        _how(
            chosen_id,
            proposal.id_column,
            "same name" if proposal.id_column else "",
            plan.update,
            plan.update,
        )
    )
    return changes


def _how(chosen: Any, proposed: Any, why: str, required: bool, update: bool) -> str:
    if chosen is None:
        return (
            "to do: choose a column (required)"
            if required and not update
            else "not in this file" + ("; the stored value is kept" if update else "")
        )
    if chosen != proposed:
        return "chosen by you"
    return f"proposed: {why}" if why else "proposed"


def _column_choice(
    where: Any,
    field: str,
    label: str,
    src: Any,
    columns: list[str],
    ctx: str,
    help_text: str | None = None,
) -> str | None:
    options = [NONE, *columns]
    key = f"up_map_{ctx}_{field}"
    picked = _select(where, label, options, key, src if isinstance(src, str) else NONE, help_text)
    return None if picked == NONE else picked


def _select(
    where: Any, label: str, options: list[Any], key: str, default: Any, help_text: str | None
) -> Any:
    """A selectbox of the mapping table whose choice outlives the widget."""
    us.remembered(key, default, options)
    return where.selectbox(
        label,
        options,
        key=key,
        label_visibility="collapsed",
        on_change=us.remember,
        args=(key,),
        help=help_text,
    )


def _point_choice(
    where: Any,
    field: str,
    label: str,
    src: Any,
    columns: list[str],
    triples: list[tuple[str, str, str]],
    ctx: str,
) -> Any:
    labels = {triple_label(t): t for t in triples}
    if isinstance(src, tuple) and src not in triples:
        labels[triple_label(src)] = src
    options = [NONE, *labels, *columns, CUSTOM]
    default = triple_label(src) if isinstance(src, tuple) else src if src else NONE
    key = f"up_map_{ctx}_{field}"
    picked = _select(
        where, label, options, key, default, "One column holding [x, y, z], or three columns."
    )
    if picked == NONE:
        return None
    if picked in labels:
        return labels[picked]
    if picked != CUSTOM:
        return picked
    trio = []
    for axis, col in zip("xyz", where.columns(3), strict=True):
        k = f"{key}_{axis}"
        us.remembered(k, columns[0], columns)
        trio.append(
            col.selectbox(f"{field} {axis}", columns, key=k, on_change=us.remember, args=(k,))
        )
    return tuple(trio)


# -- the report ------------------------------------------------------------------------
def report_view(report: Any, stem: str, key: str) -> None:
    """Counts by problem, the first problems with their lines, all of them as CSV."""
    frame = report.frame
    if frame.empty:
        return
    counts = report.by_kind()[["problem", "severity", "rows", "first"]]  # labels: anno_core's
    counts = counts.assign(first=_lines(counts["first"]).to_numpy())
    st.dataframe(
        counts,
        hide_index=True,
        key=f"{key}_counts",
        column_config={
            "rows": st.column_config.NumberColumn("how many", format="localized"),
            "first": st.column_config.TextColumn("first line"),
        },
    )
    errors, warnings = report.errors, report.warnings
    if len(errors):
        st.markdown(f"**First {min(SHOWN, len(errors)):,} of {plural(len(errors), 'problem')}**")
        _problems(errors.head(SHOWN), f"{key}_errors")
    if len(warnings):
        with st.expander(
            f"{plural(len(warnings), 'warning')} (they do not stop the upload)",
            expanded=not len(errors),
        ):
            _problems(warnings.head(SHOWN), f"{key}_warnings")
    st.download_button(
        f"Download the whole report ({plural(len(frame), 'row')}, CSV)",
        data=report.to_csv,
        file_name=f"{stem}_problems.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}_download",
        on_click="ignore",
    )


def _lines(values: pd.Series) -> pd.Series:
    """Line numbers as text: a problem of the whole file or a column has none (not "None")."""
    nums = pd.array(values, dtype="Int64")
    return pd.Series(["" if pd.isna(v) else f"{int(v):,}" for v in nums], dtype=object)


def _problems(frame: pd.DataFrame, key: str) -> None:
    shown = frame[["line", "column", "value", "message"]].copy()
    shown["line"] = _lines(shown["line"]).to_numpy()
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "line": st.column_config.TextColumn("line"),
            "message": st.column_config.TextColumn(width="large"),
        },
    )


# -- updates ---------------------------------------------------------------------------
def diff_view(diff: Any, stem: str) -> None:
    """Which rows an update changes and how (old -> new), and which ids cannot be updated."""
    if not diff.ok:
        st.error(w.md(diff.summary()), icon=":material/block:")
        report_view(diff.report, f"{stem}_update", "up_diff_report")
        return
    if diff.n_changed == 0:
        st.info(diff.summary(), icon=":material/check:")
        return
    st.info(w.md(diff.summary()), icon=":material/difference:")
    changes = diff.changes
    st.dataframe(
        changes.head(SHOWN * 5),
        hide_index=True,
        width="stretch",
        key="up_diff_changes",
        column_config={
            "line": st.column_config.NumberColumn(format="%d"),
            "id": st.column_config.NumberColumn(format="%d"),
        },
    )
    if len(changes) > SHOWN * 5:
        st.caption(f"The first {SHOWN * 5:,} of {len(changes):,} changed cells.")
    st.download_button(
        f"Download all {plural(len(changes), 'change')} (CSV)",
        data=lambda: changes.to_csv(index=False),
        file_name=f"{stem}_changes.csv",
        mime="text/csv",
        icon=":material/download:",
        key="up_diff_download",
        on_click="ignore",
    )
