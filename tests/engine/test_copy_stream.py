"""The file COPY reads from (engine/dialect._Stream): every byte once, in order, whatever
the sizes the driver asks for and the sizes of the chunks behind it."""

from __future__ import annotations

import pytest

from anno_core.engine.dialect import _Stream


@pytest.mark.parametrize("size", [1, 7, 8192, 1 << 20, -1])
def test_reads_every_byte_once_in_order(size: int) -> None:
    chunks = [bytes(range(256)) * 40, b"", b"x", bytes(100_000), b"tail"]
    stream = _Stream(iter(chunks))
    got = []
    while True:
        part = stream.read(size)
        if not part:
            break
        assert isinstance(part, bytes)
        assert size < 0 or len(part) <= size
        got.append(part)
    assert b"".join(got) == b"".join(chunks)
    assert stream.read(size) == b""


def test_no_chunks_reads_empty() -> None:
    assert _Stream(iter([])).read(10) == b""
