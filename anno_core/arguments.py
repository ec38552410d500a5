"""The argument checks both backends make (the client, the engine and our server's routes
call them), each refusal one sentence naming the argument."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from anno_core.errors import InvalidArgument
from anno_core.ids import INT64_MAX, row_id
from anno_core.permissions import PERMISSIONS

MAX_QUERY_IDS = 500
"""Most ids one page of rows (`Backend.query`, `Backend.count_rows`) may name."""


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
