"""Getting rows in: CSV reading (csvio, csv_encoding, csv_rows), column mapping, frames,
upload plans (plan, outcome, results, upload_task), update diffs, extents, staging, table
edits, and the state of an annotation's versions."""
