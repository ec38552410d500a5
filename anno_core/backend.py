"""The Backend contract both backends implement, and the argument checks they share.

`AnnotationClient`, `anno_core.ingest` and (through the client) the dashboard call a backend
only through the methods of `Backend`. The embedded engine (`anno_core.engine.writes.
LocalBackend`) and the remote backend (`anno_core.remote.backend.RemoteBackend`) both
satisfy it; ``isinstance(b, Backend)`` checks that every method is there.

A capability a backend lacks is still a method: it raises `NotSupported` with a sentence
saying what is possible instead (a real CAVE server cannot page through rows, count a
filtered view or list its users). Nobody probes a backend with ``getattr``.

Every ``volume`` argument is an aligned volume name the client has already checked; the
client also turns the shapes callers pass (one id or many, one record or many) into lists.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

import numpy as np

from anno_core.common import MAX_SAMPLE, Progress
from anno_core.errors import InvalidArgument
from anno_core.ids import INT64_MAX, row_id
from anno_core.permissions import PERMISSIONS

if TYPE_CHECKING:
    import pandas as pd
    from packaging.version import Version

    from anno_core.people import People
    from anno_core.schemas import SchemaSpec
    from anno_core.validation.report import ValidationReport

MAX_QUERY_IDS = 500
"""Most ids one page of rows (`Backend.query`, `Backend.count_rows`) may name."""


@runtime_checkable
class Backend(Protocol):
    """What the client, ingest and the dashboard call on an annotation backend."""

    label: str
    """One line saying what this backend is connected to (for the dashboard)."""

    # -- where and who ---------------------------------------------------------------
    def default_volume(self) -> str:
        """The aligned volume calls use when they name none (a datastack's own)."""
        ...

    def server_version(self) -> Version | None:
        """The version of our server; None for the embedded engine and a real CAVE."""
        ...

    def whoami(self) -> dict[str, Any]:
        """The acting user: id, name, groups, is_admin."""
        ...

    def list_users(self) -> list[dict[str, Any]]:
        """Every user (id, name, groups, is_admin); on our server a non-admin gets groups
        and is_admin as None (names only); NotSupported on a real CAVE."""
        ...

    def volumes(self) -> list[str]:
        """The aligned volumes this backend knows."""
        ...

    def people(self) -> People:
        """Users, groups and sign-in e-mails as the acting user may manage them;
        NotSupported on a remote backend (people are managed on the server's machine)."""
        ...

    def activity(
        self,
        volume: str,
        *,
        table: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 50,
        before: int | None = None,
    ) -> dict[str, Any]:
        """One page of the audit log of ``volume``, newest first, only entries about tables
        the acting user may read: ``{"entries": [...], "next": id for before= or None}``
        (entry fields in `anno_core.activity`); NotSupported on a real CAVE."""
        ...

    # -- tables ------------------------------------------------------------------------
    def get_tables(self, volume: str) -> list[str]:
        """Names of the tables of ``volume`` that are not deleted."""
        ...

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        """A table's metadata (CAVE's fields); TableNotFound if it is not there."""
        ...

    def table_name_taken(self, volume: str, table: str) -> bool:
        """Whether ``table`` names a table of ``volume``, deleted ones included."""
        ...

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        """Every table's metadata with counts, owner name and the user's rights (None
        where a backend cannot tell)."""
        ...

    def create_table(
        self,
        volume: str,
        *,
        table_name: str,
        schema_name: str,
        description: str,
        voxel_resolution: Sequence[float],
        reference_table: str | None,
        track_target_id_updates: bool | None,
        flat_segmentation_source: str | None,
        user_id: Any,
        write_permission: str,
        read_permission: str,
        notice_text: str | None,
    ) -> str:
        """Create a table of a schema; returns its name."""
        ...

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        """Change the metadata given (None values change nothing); the new metadata."""
        ...

    def delete_table(self, volume: str, table: str) -> bool:
        """Mark a table deleted (its rows are kept and its name stays taken)."""
        ...

    # -- rows --------------------------------------------------------------------------
    def get_annotation_count(self, volume: str, table: str, live_only: bool = False) -> int:
        """Rows of a table (every row, as CAVE counts; live ones only with ``live_only``)."""
        ...

    def get_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[dict]:
        """Rows by id in the order asked, in any state; AnnotationNotFound names missing ids."""
        ...

    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        """Store nested records as new rows (all or nothing); their ids in input order."""
        ...

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        """Supersede the rows the records name by new ones; ``{old id: new id}``."""
        ...

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        """Mark rows deleted (never removed); the ids that existed."""
        ...

    def insert_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        line_label: str = "line",
        allow_position_strings: bool = True,
        progress: Progress | None = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Validate a flat frame and store it as new rows; the ids in row order."""
        ...

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress | None = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update the rows the frame's ``id`` column names (absent columns inherited)."""
        ...

    def upload_result(
        self, volume: str, table: str, upload_key: str
    ) -> list[int] | dict[int, int] | None:
        """What an upload with this key stored in ``table``, or None (never stored, or the
        user may not write there); NotSupported where the backend cannot say."""
        ...

    def query(
        self,
        volume: str,
        table: str,
        *,
        limit: int = 1000,
        offset: int = 0,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
        after_id: int | None = None,
    ) -> pd.DataFrame:
        """One page of rows as a flat frame (points as _x/_y/_z columns), in id order: those
        after id ``after_id`` (keyset: as fast at any depth), then ``offset`` skipped; with
        ``timestamp``, the rows as they were then (``attrs["notice"]`` says when the table
        did not exist yet; a moment in the future is refused)."""
        ...

    def count_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
    ) -> int:
        """How many rows `query` pages through with the same arguments (exactly)."""
        ...

    def estimate_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """The same count, exact when cheap, else estimated from the table's sample:
        {"count", "exact", "sampled", "matched"} (see `anno_core.common.ViewCount`)."""
        ...

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        ...

    def point_frame(
        self,
        volume: str,
        table: str,
        include_invalid: bool = False,
        limit: int = MAX_SAMPLE,
        columns: Sequence[str] | None = None,
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """(id and point columns, and ``columns``, of at most ``limit`` rows, schema spec,
        metadata), for a 3D view: the live rows with the smallest sample keys, in key
        order, chosen by the database (the same rows every time, spread uniformly)."""
        ...

    # -- versions: named moments of an aligned volume ------------------------------------
    def create_version(
        self, volume: str, name: str, description: str, timestamp: datetime | None = None
    ) -> dict[str, Any]:
        """Name a moment (now by default) with why; the version (name, number, timestamp,
        description, created, created_by, created_by_name). NotSupported on a real CAVE."""
        ...

    def list_versions(self, volume: str) -> list[dict[str, Any]]:
        """The versions of ``volume`` that are not deleted, by number."""
        ...

    def get_version(self, volume: str, version: str | int) -> dict[str, Any]:
        """One version by name or number; VersionNotFound otherwise."""
        ...

    def delete_version(self, volume: str, version: str | int) -> bool:
        """Delete a version (admins only; stamped, never removed)."""
        ...

    # -- export ------------------------------------------------------------------------
    def export_table(
        self,
        volume: str,
        table: str,
        sink: BinaryIO,
        options: Any,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Stream the rows ``options`` (an `anno_core.export.options.ExportOptions`) ask for
        into ``sink`` as a file; a summary (rows, moment, notice). Progress is rows written
        of the total on the embedded engine, bytes received (total 0: unknown) over HTTP."""
        ...

    def export_link(self, volume: str, table: str, options: Any) -> dict[str, Any]:
        """A signed, expiring link a browser downloads this export with (``url``: absolute
        on a server, a path on the embedded engine), its ``link_id``, ``expires``, ``filename``."""
        ...

    def export_progress(self, volume: str, link_id: str) -> dict[str, Any] | None:
        """How far the download of a link this user issued has got (rows, total, state);
        None before it starts."""
        ...

    # -- curating: past uploads, repairs, summaries, extents ---------------------------
    def upload_record(
        self,
        volume: str,
        table: str,
        upload_key: str,
        *,
        rows: int | None = None,
        update: bool = False,
    ) -> dict[str, Any] | None:
        """What the upload with this key stored (``result``), when (``created``), by whom
        (``user_id``, ``user_name``) and what became of its rows (``live``, ``deleted``,
        ``replaced``, ``not_live`` as [id, newer id or None]); None if nothing was stored
        with it or the user may not write. ``rows``/``update``: how many rows it sent and
        whether it was an update (a server keys each batch by its rows)."""
        ...

    def list_uploads(self, volume: str, table: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest uploads of new rows, newest first: ``upload`` (its id), ``at``,
        ``user_id``, ``user_name``, ``rows``, ``first_id``, ``last_id``, ``live``..."""
        ...

    def undo_upload(self, volume: str, table: str, upload: int) -> int:
        """Mark deleted every row upload ``upload`` stored that is still live (one
        transaction; its history says why); how many."""
        ...

    def delete_matching(
        self,
        volume: str,
        table: str,
        *,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        expected: int | None = None,
    ) -> int:
        """Mark deleted every live row `query` would page through with these filters and
        ids, in one transaction; how many. Refused (Conflict) unless ``expected`` (when
        given) is the count that matches."""
        ...

    def restore_annotation(self, volume: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        """New versions of deleted annotations, carrying their values; ``{old: new}``."""
        ...

    def summarize(
        self, volume: str, table: str, *, top: int = 10, bins: int = 20
    ) -> dict[str, Any]:
        """Live ``rows``; ``text``: per text field its top values with counts (``values``,
        ``more``, ``empty``); ``numbers``: per number field ``min``, ``max``, ``bins`` as
        [low, high, count] and ``empty``. Computed by the database."""
        ...

    def volume_extent(self, volume: str) -> dict[str, Any]:
        """How far an aligned volume reaches, in nm: ``bounds`` an admin set and ``points``
        (a bounded sample of its tables' points), each [[x, y, z], [x, y, z]] or None."""
        ...

    def set_volume_bounds(
        self, volume: str, lower: Sequence[float] | None, upper: Sequence[float] | None
    ) -> dict[str, Any]:
        """Set (None: clear) an aligned volume's bounds in nm, admins only; its extent."""
        ...

    # -- Neuroglancer ----------------------------------------------------------------------
    def neuroglancer_source(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        ttl: int = 43200,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """A signed grant to read a table (or a filtered view), as it is or as it was at
        ``timestamp``, as Neuroglancer annotation sources, as the acting user, for ``ttl``
        seconds: ``grant``, ``expires``, ``geometries``, ``server`` (the address serving
        it; None: serve it locally), ``timestamp`` and ``version`` (the name of the version
        whose moment ``timestamp`` is, given to name the layer; checked)."""
        ...

    def neuroglancer_info(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        """The ``info`` of a table's (or view's) main annotation source, as it is or was at
        ``timestamp`` (bounds, levels, properties with their enum labels), its
        ``version``, ``extent``, and a ``notice`` when the table did not exist yet then."""
        ...

    def volume_sources(self, volume: str) -> dict[str, str | None]:
        """The image and segmentation sources drawn under a volume's tables (None: unset)."""
        ...

    def set_volume_sources(
        self, volume: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        """Set or clear a volume's image and segmentation sources (admins only)."""
        ...


# -- the argument checks both backends make ------------------------------------------------
def check_resolution(value: Any) -> tuple[float, float, float]:
    """A voxel resolution as 3 positive finite numbers (nm per unit), or a refusal."""
    try:
        if any(isinstance(v, bool | np.bool_) for v in value):
            raise TypeError("true/false is not a resolution")  # float(True) would be 1.0
        vals = [float(v) for v in value]
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgument(
            f"voxel_resolution must be 3 numbers in nm per unit, like [4, 4, 40], not {value!r}."
        ) from exc
    if len(vals) != 3 or not all(math.isfinite(v) and v > 0 for v in vals):
        raise InvalidArgument(
            f"voxel_resolution must be 3 positive numbers in nm per unit, like [4, 4, 40], "
            f"not {value!r}."
        )
    return vals[0], vals[1], vals[2]


def check_metadata_text(name: str, value: Any, limit: int) -> str | None:
    """A table's text metadata (description, notice, segmentation source): text or None,
    at most ``limit`` characters, with no character a database cannot store."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be text, not {type(value).__name__} {value!r:.80}.")
    if len(value) > limit:
        raise InvalidArgument(
            f"{name} is {len(value):,} characters long; it may hold at most {limit:,} (an "
            "admin can raise ANNO_MAX_METADATA_LENGTH)."
        )
    if re.search("[\x00\ud800-\udfff]", value):
        raise InvalidArgument(
            f"{name} holds a character that cannot be stored (a NUL byte or a broken UTF-16 "
            "surrogate); remove it and try again."
        )
    return value


def check_permission(name: str, value: Any) -> str:
    """A read or write permission as PRIVATE, GROUP or PUBLIC (any case), or a refusal."""
    if isinstance(value, str) and value.upper() in PERMISSIONS:
        return value.upper()
    raise InvalidArgument(f"{name} must be PRIVATE, GROUP or PUBLIC, not {value!r}.")


def update_ids(records: Sequence[dict]) -> list[int]:
    """The ids update records name, in order: each once, each a whole number."""
    ids = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or "id" not in rec:
            raise InvalidArgument(
                f"Update {i + 1} has no 'id'; every update must name the annotation it "
                "replaces, like {'id': 12, 'tag': 'new'}."
            )
        ids.append(annotation_id(rec["id"], f"Update {i + 1}: id"))
    dup = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dup:
        raise InvalidArgument(
            f"Id {', '.join(map(str, dup))} is updated more than once in one call; send one "
            "update per annotation."
        )
    return ids


def query_ids(ids: Sequence[Any] | None) -> list[int] | None:
    """The ids a page of rows is narrowed to (None: no narrowing), at most MAX_QUERY_IDS."""
    if not ids:
        return None
    if len(ids) > MAX_QUERY_IDS:
        raise InvalidArgument(
            f"{len(ids)} ids were given; look up at most {MAX_QUERY_IDS} at a time (or use "
            "get_annotation, which takes any number)."
        )
    return [annotation_id(v, "Annotation id") for v in ids]


def check_page(limit: Any, offset: Any) -> tuple[int, int]:
    """A page's ``limit`` and ``offset`` as whole numbers of rows (0 to 2**63 - 1)."""
    for name, value in (("limit", limit), ("offset", offset)):
        if (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, int | np.integer)
            or not 0 <= value <= INT64_MAX
        ):
            raise InvalidArgument(f"'{name}' must be a whole number of rows, not {value!r:.40}.")
    return int(limit), int(offset)


def query_filters(filters: Any) -> dict[str, Any]:
    """Filters of a page of rows: column name -> one value (text, number, true/false)."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise InvalidArgument("'filters' must map column names to values.")
    out: dict[str, Any] = {}
    for col, val in filters.items():
        if isinstance(val, Decimal):  # our server's JSON keeps the digits of big numbers
            whole = val.is_finite() and val == val.to_integral_value() and val.adjusted() < 40
            val = int(val) if whole else float(val)
        if not isinstance(col, str):
            raise InvalidArgument(f"A filter names a column by its name, not {col!r:.40}.")
        if isinstance(val, bool | np.bool_ | str | float | np.floating) or val is None:
            ok = not isinstance(val, str) or not re.search("[\x00\ud800-\udfff]", val)
        elif isinstance(val, int | np.integer):
            ok = -INT64_MAX - 1 <= val <= INT64_MAX
        else:
            ok = False
        if not ok:
            raise InvalidArgument(
                f"The filter on {col!r} must be one value (text, a number within 64 bits or "
                f"true/false), not {val!r:.60}."
            )
        out[col] = val
    return out


def annotation_id(value: Any, what: str = "Annotation id") -> int:
    """An id naming a stored row, given as an int, an integral float or text (1 to
    2**63 - 1), or a refusal naming ``what``."""
    return row_id(_whole_number(value, what), what)


def page_anchor(after_id: Any) -> int | None:
    """The id a keyset page starts after (None: from the first row), or a refusal."""
    if after_id is None:
        return None
    n = _whole_number(after_id, "after_id")
    if not 0 <= n <= INT64_MAX:
        raise InvalidArgument(f"'after_id' must be an id from 0 to 2**63 - 1, not {n}.")
    return n


def sample_size(limit: Any) -> int:
    """How many rows a sample may hold: a whole number of at least 1, or a refusal."""
    n = _whole_number(limit, "The number of points")
    if not 1 <= n <= INT64_MAX:
        raise InvalidArgument(f"Ask for at least 1 point (and fewer than 2**63), not {n}.")
    return n


def _whole_number(value: Any, what: str) -> int:
    """A whole number given as an int, an integral float or text, or a refusal naming ``what``."""
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | np.integer | float | np.floating | str
    ):
        raise InvalidArgument(f"{what} {value!r} is not a whole number.")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())  # digits stay exact beyond what a float holds
        except ValueError:
            pass
    try:
        num = float(value)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(f"{what} {value!r} is not a whole number.") from exc
    if not num.is_integer():
        raise InvalidArgument(f"{what} {value!r} is not a whole number.")
    return int(num)
