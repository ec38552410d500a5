"""Vectorised validation of flat frames, the row-level report, nested records flattened."""
