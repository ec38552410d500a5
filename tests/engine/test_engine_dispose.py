"""`db.dispose` frees a database's pooled connections without breaking a backend still in use.

The process-wide write lock of a database lives as long as the process: a backend built
before a dispose keeps writing under it, and a backend built after shares the same one, so
writers of one process still take turns.
"""

from __future__ import annotations

from anno_core.engine import db
from tests.conftest import synapse


def test_dispose_leaves_a_live_backend_writing_under_the_shared_lock(
    client, make_client, synapse_table
):
    url = client.backend.url
    lock = db.WRITE_LOCKS[url]
    db.dispose(url)
    assert client.post_annotation(synapse_table, [synapse(0)]) == [1]  # still writes
    later = make_client()  # a new engine for the same database
    assert later.post_annotation(synapse_table, [synapse(1)]) == [2]
    assert client.backend._write_lock is lock is later.backend._write_lock
    assert db.WRITE_LOCKS[url] is lock
    assert client.get_annotation_count(synapse_table) == 2
    assert client.delete_annotation(synapse_table, [1]) == [1]
    assert later.get_live_count(synapse_table) == 1
