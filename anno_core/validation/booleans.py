"""The one vocabulary of true and false: what an upload's cells and a typed filter accept."""

from __future__ import annotations

from typing import Any

import numpy as np

TRUE_WORDS = ("t", "true", "on", "y", "yes", "1")
FALSE_WORDS = ("f", "false", "off", "n", "no", "0")


def bool_word(value: Any) -> str:
    """A cell as the word compared with the vocabulary (any case, spaces ignored)."""
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return "1" if value == 1 else "0"
    return "\x00"  # in neither list: refused


def parse_bool(value: Any) -> bool | None:
    """True or False for a word of the vocabulary (or a bool, 0 or 1); None for anything else."""
    word = bool_word(value)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None
