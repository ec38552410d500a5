"""Getting data out: a table (or a filtered view) at a moment, as Parquet, Feather or CSV.

`options.ExportOptions` is what a caller asks for (checked once, sent over the wire as is),
`layout.ExportLayout` the columns and metadata of the file, `writers` the pyarrow writers
that stream record batches into a binary sink, and `progress` what a server remembers of
the downloads it streams (for the dashboard's progress bar). The engine reads the rows in
chunks (keyset by id) and hands them here; nothing here knows a backend.
"""
