"""Vectorised validation of flat frames (validator, on cells and positions), the row-level
report and its registry of problem kinds, the true/false vocabulary, nested records flattened."""
