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
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from anno_core.common import Progress
from anno_core.errors import InvalidArgument
from anno_core.permissions import PERMISSIONS

if TYPE_CHECKING:
    import pandas as pd
    from packaging.version import Version

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
        """Every user (id, name, groups, is_admin); NotSupported on a real CAVE."""
        ...

    def volumes(self) -> list[str]:
        """The aligned volumes this backend knows."""
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
    ) -> pd.DataFrame:
        """One page of rows as a flat frame (points as _x/_y/_z columns), in id order."""
        ...

    def count_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> int:
        """How many rows `query` pages through with the same arguments."""
        ...

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        ...

    def point_frame(
        self, volume: str, table: str, include_invalid: bool = False
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """(id and point columns of the rows, schema spec, metadata), for a 3D view."""
        ...

    # -- Neuroglancer ----------------------------------------------------------------------
    def neuroglancer_source(
        self, volume: str, table: str, filters: dict[str, Any] | None = None, ttl: int = 43200
    ) -> dict[str, Any]:
        """A signed grant to read a table (or a filtered view) as Neuroglancer annotation
        sources, as the acting user, for ``ttl`` seconds: ``grant``, ``expires``,
        ``geometries`` and ``server`` (the address serving it; None: serve it locally)."""
        ...

    def neuroglancer_info(
        self, volume: str, table: str, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ``info`` of a table's (or view's) main annotation source (bounds, levels,
        properties with their enum labels) and its ``version``."""
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
        vals = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"voxel_resolution must be 3 numbers in nm per unit, like [4, 4, 40], not {value!r}."
        ) from exc
    if len(vals) != 3 or not all(math.isfinite(v) and v > 0 for v in vals):
        raise InvalidArgument(
            f"voxel_resolution must be 3 positive numbers in nm per unit, like [4, 4, 40], "
            f"not {value!r}."
        )
    return vals[0], vals[1], vals[2]


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
        ids.append(_whole(rec["id"], f"Update {i + 1}: id"))
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
    return [_whole(v, "Annotation id") for v in ids]


def _whole(value: Any, what: str) -> int:
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
    except ValueError as exc:
        raise InvalidArgument(f"{what} {value!r} is not a whole number.") from exc
    if not num.is_integer():
        raise InvalidArgument(f"{what} {value!r} is not a whole number.")
    return int(num)
