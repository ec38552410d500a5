"""Creating and deleting a table are not idempotent: after a lost answer the backend looks
before it sends again. Our real server process sits behind a `FaultProxy` that forwards the
request, then drops the answer."""

from __future__ import annotations

import pytest

import anno_core
from anno_core.errors import TableExists
from tests.server.fakes import FaultProxy

TABLES = "/table"


@pytest.fixture
def proxy(server):
    fake = FaultProxy(server.url)
    yield fake
    fake.close()


def _through(proxy: FaultProxy, server, volume: str) -> anno_core.AnnotationClient:
    client = anno_core.connect(
        backend="server",
        server_address=proxy.url,
        token=server.tokens["admin"],
        aligned_volume=volume,
    )
    client.backend.backoff = 0.01
    return client


def _sent(proxy: FaultProxy, method: str, suffix: str) -> int:
    return sum(1 for m, p, _ in proxy.seen if m == method and p.endswith(suffix))


def test_a_lost_create_answer_is_checked_not_sent_again(server, proxy, volume):
    client = _through(proxy, server, volume)
    client.get_tables()  # the server's kind is known before the fault
    proxy.once(lambda m, p: m == "POST" and p.endswith(TABLES), "lose_answer")
    assert client.create_table("syn", "synapse", "mine", [4, 4, 40]) == "syn"
    assert _sent(proxy, "POST", TABLES) == 1
    assert _sent(proxy, "GET", f"{TABLES}/syn") == 1  # it looked, found its own table
    proxy.once(lambda m, p: m == "POST" and p.endswith(TABLES), "lose_answer")
    with pytest.raises(TableExists, match="choose another name"):
        client.create_table("syn", "synapse", "someone else's", [4, 4, 40])
    assert _sent(proxy, "POST", TABLES) == 2


def test_a_lost_delete_answer_counts_as_deleted(server, proxy, volume, make_client):
    make_client().create_table("syn", "synapse", "d", [4, 4, 40])
    client = _through(proxy, server, volume)
    client.get_tables()
    proxy.once(lambda m, p: m == "DELETE" and p.endswith(f"{TABLES}/syn"), "lose_answer")
    assert client.delete_table("syn") is True
    assert _sent(proxy, "DELETE", f"{TABLES}/syn") == 2  # the second found it gone
    assert "syn" not in make_client().get_tables()
