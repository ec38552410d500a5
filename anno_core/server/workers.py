"""``serve --workers N`` (N > 1): uvicorn's supervisor over one listening socket that keeps
Nagle's algorithm off for every connection.

uvicorn (0.54) binds the socket it hands its worker processes with ``proto`` 0. Accepted
connections inherit it, and asyncio sets TCP_NODELAY only on sockets whose ``proto`` is
TCP, so on Linux every response on a kept-alive connection waited for the client's delayed
ACK: ~40 ms per request with several workers, 0.3 ms with one (uvicorn issue #3149,
found by bench/load.py). `NoDelayConfig` binds the same socket and names its protocol.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class NoDelayConfig(uvicorn.Config):
    """uvicorn's Config whose TCP listening socket says it is TCP (so asyncio sets
    TCP_NODELAY on each accepted connection)."""

    def bind_socket(self) -> socket.socket:
        """The listening socket uvicorn binds, its protocol named."""
        sock = super().bind_socket()
        tcp = sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
        if tcp and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)  # the worker processes inherit it, as uvicorn's own
        return sock


def serve_workers(app: str, workers: int, **options: object) -> None:
    """What ``uvicorn.run(app, factory=True, workers=workers, **options)`` does, with
    `NoDelayConfig`: one socket, ``workers`` processes, until interrupted."""
    config = NoDelayConfig(app, factory=True, workers=workers, **options)  # type: ignore[arg-type]
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
