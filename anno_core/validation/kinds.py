"""Every kind of problem a report can hold, with the words a person reads for it.

`ValidationReport.add` refuses a kind that is not here, so a new check cannot reach a page
without its label: add the kind to `PROBLEM_KINDS` in the same change. A report rebuilt from
another server's answer keeps kinds we know and files the others under ``problem``.
"""

from __future__ import annotations

from types import MappingProxyType

PROBLEM_KINDS = MappingProxyType(
    {
        # the mapping of file columns to schema fields
        "missing_column": "a required field has no column",
        "unknown_column": "mapped to a column the file does not have",
        "column_used_twice": "one column mapped to two fields",
        "duplicate_header": "two columns with the same name",
        "ignored_column": "column not used",
        # cells
        "missing_value": "empty required cell",
        "bad_position": "position is not 3 numbers",
        "not_a_number": "not a number",
        "decimal_comma": "decimal comma (1,5 for 1.5)",
        "thousands_separator": "thousands separator (12,345)",
        "unit_suffix": "number with a unit (120 nm)",
        "not_finite": "NaN or infinity",
        "not_an_integer": "not a whole number",
        "integer_too_large": "whole number too large",
        "number_out_of_range": "number too close to 0 to store",
        "not_a_boolean": "not true or false",
        "not_text": "not text",
        "unstorable_character": "a character that cannot be stored",
        "text_too_long": "text longer than a cell may hold",
        "not_allowed": "value not allowed",
        "unknown_cell_type": "cell type outside the vocabulary",
        "formula_text": "looks like a spreadsheet formula",
        # ids and the rows they name
        "bad_id": "id is not a positive whole number",
        "duplicate_id": "id appears twice",
        "id_exists": "id already in the table",
        "unknown_id": "no annotation with this id",
        "not_live": "annotation deleted or replaced",
        "unknown_target": "target id not in the reference table",
        # reading the file
        "blank_line": "blank line skipped",
        "empty_row": "row of only delimiters skipped",
        "trailing_delimiter": "extra delimiters at the end of a line",
        "encoding": "not UTF-8",
        "unnamed_column": "column without a name",
        "empty_file": "the file is empty",
        "no_rows": "no rows of data",
        "no_file": "no such file",
        "bad_source": "not a file",
        "binary_file": "not a CSV text file",
        "bad_encoding": "cannot be read in that encoding",
        "unknown_encoding": "encoding not recognised",
        "bad_quotes": "a quote is never closed",
        "bad_delimiter": "delimiter is not one character",
        "bad_header": "header cannot be read",
        "ragged_row": "wrong number of cells",
        # reading a Neuroglancer state
        "skipped_annotation": "annotation that cannot become a row",
        # a report from elsewhere (a server) with a kind this version does not know
        "problem": "problem",
    }
)
FOREIGN = "problem"


def check_kind(kind: str) -> str:
    """``kind`` if it is registered; ValueError (a programming mistake) if it is not."""
    if kind not in PROBLEM_KINDS:
        raise ValueError(
            f"{kind!r} is not a registered report problem kind; add it with its label to "
            "anno_core.validation.kinds.PROBLEM_KINDS."
        )
    return kind


def known_kind(kind: object) -> str:
    """A kind from outside (a server's report): itself if registered, else ``problem``."""
    return kind if isinstance(kind, str) and kind in PROBLEM_KINDS else FOREIGN


def problem_label(kind: str) -> str:
    """The words for ``kind`` shown to a person (ValueError for an unregistered kind)."""
    return PROBLEM_KINDS[check_kind(kind)]
