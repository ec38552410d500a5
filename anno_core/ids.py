"""The range of annotation ids: what users may give, what names a stored row, what is assigned.

Ids are 64-bit signed integers, as in CAVE. A user may give a new row its own id from 1 to
`MAX_GIVEN_ID` (2**62): the half of the range above it is left to id assignment, so that
assigning ``max(id) + 1`` onwards can never run past 64 bits, whatever was given. An id that
*names* a stored row (to read, update, delete or follow its history) may be anything from 1
to `INT64_MAX`, since assigned ids live above `MAX_GIVEN_ID`. Anything outside is refused
with a sentence before it reaches SQL (a driver would fail on it with an overflow).
"""

from __future__ import annotations

from anno_core.errors import InvalidArgument

INT64_MAX = 2**63 - 1
MAX_GIVEN_ID = 2**62
"""The largest id a user may give a new annotation (4,611,686,018,427,387,904)."""

GIVEN_RANGE = f"from 1 to {MAX_GIVEN_ID:,} (2**62)"
ROW_RANGE = f"from 1 to {INT64_MAX:,} (2**63 - 1)"


def row_id(value: int, what: str = "Annotation id") -> int:
    """``value`` if it can name a stored row (1 to 2**63 - 1), else a refusal naming ``what``."""
    if not 1 <= value <= INT64_MAX:
        shown = value if value.bit_length() <= 256 else "(a number far beyond 64 bits)"
        raise InvalidArgument(
            f"{what} {shown} is not an annotation id; ids are whole numbers {ROW_RANGE}."
        )
    return value
