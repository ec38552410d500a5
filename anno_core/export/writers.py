"""The pyarrow writers: record batches streamed into a binary sink, one chunk at a time.

Parquet (a row group per chunk), Feather (Arrow IPC file, LZ4) and CSV (header once, then
rows); none of them seeks, so the sink may be a socket-like stream. Memory stays that of one
chunk whatever the table's size.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol

import pyarrow as pa


class BatchWriter(Protocol):
    def write_batch(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> None: ...


def open_writer(fmt: str, sink: BinaryIO, schema: pa.Schema) -> BatchWriter:
    """A writer of ``fmt`` (parquet, feather, csv) for batches of ``schema`` into ``sink``."""
    out = pa.PythonFile(sink, mode="w")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return _Closing(pq.ParquetWriter(out, schema), out, parquet=True)
    if fmt == "feather":
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        return _Closing(pa.ipc.new_file(out, schema, options=options), out)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        return _Closing(pacsv.CSVWriter(out, schema), out)
    raise ValueError(f"unknown format {fmt!r}")  # ExportOptions refused it before


class _Closing:
    """A pyarrow writer that also flushes (never closes) the caller's sink."""

    def __init__(self, writer: Any, out: pa.PythonFile, parquet: bool = False) -> None:
        self._writer = writer
        self._out = out
        self._parquet = parquet

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self._parquet:  # one row group per chunk: memory stays that of one chunk
            self._writer.write_batch(batch, row_group_size=max(1, batch.num_rows))
        else:
            self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()
        self._out.flush()
