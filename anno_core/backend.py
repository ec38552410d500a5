"""The Backend contract both backends implement, and the argument checks they share."""

from __future__ import annotations

import math
from typing import Any

from anno_core.errors import InvalidArgument


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
