"""Getting rows in: CSV reading, column mapping, frames, upload plans, update diffs,
extents, staging and table edits."""
