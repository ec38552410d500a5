"""The strict name rules. Names never reach SQL text: tables are stored under numeric ids."""

from __future__ import annotations

import re

from anno_core.errors import InvalidName

TABLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
VOLUME_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
USER_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]*$")
MAX_NAME = 100


def table_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid table name, or None when it is."""
    if not isinstance(name, str) or not name:
        return "A table name is required."
    if len(name) > MAX_NAME:
        return f"The table name is {len(name)} characters long; use at most {MAX_NAME}."
    if not TABLE_NAME_RE.match(name):
        return (
            f"The table name {name!r} is not allowed: use lower-case letters, digits and "
            "underscores, starting with a letter or underscore (for example 'my_synapses')."
        )
    return None


def check_table_name(name: object) -> str:
    """Return ``name`` if it is a valid table name, else raise InvalidName."""
    problem = table_name_problem(name)
    if problem:
        raise InvalidName(problem)
    return name  # type: ignore[return-value]


def check_volume_name(name: object) -> str:
    """Return ``name`` if it is a valid aligned volume name, else raise InvalidName."""
    if not isinstance(name, str) or not VOLUME_NAME_RE.match(name) or len(name) > MAX_NAME:
        raise InvalidName(
            f"The aligned volume name {name!r} is not allowed: use letters, digits, '_', "
            f"'.' and '-', at most {MAX_NAME} characters."
        )
    return name


VERSION_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_version_name(name: object) -> str:
    """Return ``name`` if it is a valid version name, else raise InvalidName."""
    if (
        not isinstance(name, str)
        or not VERSION_NAME_RE.match(name)
        or len(name) > MAX_NAME
        or name.isdigit()
    ):
        raise InvalidName(
            f"The version name {name!r} is not allowed: use letters, digits, '_', '.' and "
            f"'-' (at most {MAX_NAME} characters), with at least one character that is not a "
            "digit (numbers name versions by their number), like 'v1' or '2024-paper'."
        )
    return name


def check_user_name(name: object) -> str:
    """Return ``name`` if it is a valid user name, else raise InvalidName."""
    if (
        not isinstance(name, str)
        or not USER_NAME_RE.match(name)
        or len(name) > MAX_NAME
        or name.isdigit()
    ):
        raise InvalidName(
            f"The user name {name!r} is not allowed: use letters, digits, '_', '.', '@' "
            "and '-', with at least one character that is not a digit (all-digit names "
            "would be read as user ids)."
        )
    return name
