"""``serve --workers N`` keeps Nagle's algorithm off on every connection (uvicorn's own
listening socket for workers leaves it on: ~40 ms per kept-alive request on Linux)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.reduction import ForkingPickler

from anno_core.server.workers import NoDelayConfig


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection asyncio accepts on ``listener`` (as a worker serves)."""
    got: dict[str, int] = {}

    async def main() -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            got["nodelay"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
        await reader.read()  # until the server closes it
        writer.close()
        server.close()
        await server.wait_closed()

    # Its own thread: a session's browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()
    return got["nodelay"]


def test_the_workers_socket_names_tcp_and_its_connections_have_nagle_off() -> None:
    config = NoDelayConfig(
        "anno_core.server.app:create_app", factory=True, workers=2, host="127.0.0.1", port=0
    )
    listener = config.bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    assert listener.get_inheritable()
    # What a worker process receives: the socket pickled by multiprocessing.
    inherited = ForkingPickler.loads(ForkingPickler.dumps(listener))
    listener.close()
    assert inherited.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted(inherited) == 1
