"""What the upload page keeps in the session: the file, choices, and results already computed.

Streamlit reruns the page on every click and drops the state of widgets that a run did not
draw (a page switch), so:
- the dropped or chosen file is held here (`hold`, `held`), not only in the uploader;
- choices (mapping, mode, resolution, colour) are remembered apart from their widgets
  (`remembered` seeds a widget from memory, `remember` is its on_change);
- reading, checking and the 3D deck of a million rows are computed once per input
  (`memo`: one slot per name, replaced when its key changes), refusals included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from ui import client as api

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
_HELD = "up_held"
_MEMO = "up_memo"
_MEMORY = "up_memory"
_UPLOADER = "up_uploader_n"
_SUBMITTED = "up_submitted"
_AGAIN = "up_again"


@dataclass(frozen=True)
class HeldFile:
    """The file the page works on: its name, bytes and content digest."""

    name: str
    raw: bytes
    digest: str
    source: str  # "dropped" or "example"
    file_id: str | None = None

    @property
    def size(self) -> str:
        n = len(self.raw)
        return (
            f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} kB" if n >= 1e3 else f"{n} bytes"
        )


def held() -> HeldFile | None:
    return st.session_state.get(_HELD)


def hold(name: str, raw: bytes, source: str, file_id: str | None = None) -> HeldFile:
    """Work on this file from now on."""
    f = HeldFile(name=name, raw=raw, digest=api.file_digest(raw), source=source, file_id=file_id)
    st.session_state[_HELD] = f
    # A file dropped (again) starts afresh: an earlier upload of it is shown as earlier.
    st.session_state.pop(_SUBMITTED, None)
    st.session_state.pop(_AGAIN, None)
    return f


def release() -> None:
    """Forget the file (and the uploader's copy, by giving the uploader a new key)."""
    st.session_state.pop(_HELD, None)
    reset_uploader()


def layout(table: str, columns: Sequence[str], update: bool) -> str:
    """What the choices of a file are remembered by: the table, the file's columns and the
    mode, not its content, so a corrected file keeps its mapping, unit and colour."""
    raw = repr((table, tuple(columns), update)).encode()
    return hashlib.sha256(raw).hexdigest()[:12]


def submitted(key: str) -> None:
    """This session sent the upload ``key`` of the file it holds (its result is news)."""
    st.session_state.setdefault(_SUBMITTED, set()).add(key)


def was_submitted(key: str) -> bool:
    return key in st.session_state.get(_SUBMITTED, set())


def upload_again(digest: str) -> None:
    """The person confirmed: store this file's rows again, as new annotations."""
    st.session_state[_AGAIN] = digest


def again(digest: str) -> bool:
    return st.session_state.get(_AGAIN) == digest


def uploader_key() -> str:
    return f"up_drop_{st.session_state.get(_UPLOADER, 0)}"


def reset_uploader() -> None:
    st.session_state[_UPLOADER] = st.session_state.get(_UPLOADER, 0) + 1


# -- computed once per input -------------------------------------------------------------
def memo(name: str, key: Any, make: Callable[[], Any]) -> Any:
    """``make()`` for ``key``, computed once while the key stays the same (refusals too)."""
    store = st.session_state.setdefault(_MEMO, {})
    hit = store.get(name)
    if hit is None or hit[0] != key:
        try:
            hit = (key, make(), None)
        except api.AnnoError as error:
            hit = (key, None, error)
        store[name] = hit
    if hit[2] is not None:
        raise hit[2]
    return hit[1]


def forget(*names: str) -> None:
    store = st.session_state.setdefault(_MEMO, {})
    for name in names:
        store.pop(name, None)


# -- choices that outlive their widgets --------------------------------------------------
def remembered(key: str, default: Any, options: Sequence[Any] | None = None) -> Any:
    """Seed widget ``key`` from memory (or ``default``) when it has no state; its value."""
    memory = st.session_state.setdefault(_MEMORY, {})
    if key not in st.session_state:
        value = memory.get(key, default)
        if options is not None and value not in options:
            value = default
        st.session_state[key] = value
    elif options is not None and st.session_state[key] not in options:
        st.session_state[key] = default
    return st.session_state[key]


def remember(key: str) -> None:
    """on_change of a remembered widget: keep its value beyond the widget's life."""
    st.session_state.setdefault(_MEMORY, {})[key] = st.session_state.get(key)


def recall(key: str, default: Any = None) -> Any:
    return st.session_state.setdefault(_MEMORY, {}).get(key, default)


def set_choice(key: str, value: Any) -> None:
    """Change a remembered choice from code (e.g. a 'use this resolution' button)."""
    st.session_state.setdefault(_MEMORY, {})[key] = value
    st.session_state[key] = value


# -- shipped examples --------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    file: str
    schema: str
    about: str


EXAMPLES = (
    Example(
        "synapses_4x4x40.csv",
        "synapse",
        "240 synapses by hand in 4 x 4 x 40 nm voxels: pre, post and centre points as "
        "x, y, z columns, and a size",
    ),
    Example(
        "cell_types_split_xyz.csv",
        "cell_type_local",
        "60 cell bodies with cell types in x, y, z columns (4 x 4 x 40 nm voxels); a few "
        "types are outside the classical vocabulary",
    ),
    Example(
        "tags_excel_semicolon.csv",
        "bound_tag",
        "Tags saved by Excel as 'CSV UTF-8' in a German locale: semicolons, a BOM, "
        "Windows line ends, accented text",
    ),
    Example(
        "synapses_broken.csv",
        "synapse",
        "A synapse export with mistakes: a missing point, text in a number, a "
        "two-number position, a decimal comma",
    ),
)


def example_bytes(example: Example) -> bytes:
    return (EXAMPLES_DIR / example.file).read_bytes()
