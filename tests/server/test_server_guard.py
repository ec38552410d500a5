"""The catch-all: an unexpected failure is a 500 with one sentence; the trace is only logged."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

from starlette.requests import Request

from anno_core.errors import TableNotFound
from anno_core.server.http import guarded


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on a loop of its own thread: a session fixture (Playwright) may keep
    an event loop running in the main thread, where asyncio.run() refuses to start."""
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", asyncio.run(coro)))
    worker.start()
    worker.join(timeout=60)
    return box["r"]


def _request() -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}
    )


def test_an_unexpected_failure_is_a_500_sentence_and_a_logged_trace(caplog):
    async def broken(api, request):
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="anno_core.server"):
        response = run(guarded(None, broken)(_request()))  # type: ignore[arg-type]
    body = json.loads(response.body)
    assert response.status_code == 500 and body["error"] == "internal_error"
    assert body["message"].endswith(".") and "secret" not in response.body.decode()
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


def test_a_refusal_keeps_its_status_and_sentence():
    async def refuses(api, request):
        raise TableNotFound("There is no table 'x' in aligned volume 'v'.")

    response = run(guarded(None, refuses)(_request()))  # type: ignore[arg-type]
    assert response.status_code == 404
    assert json.loads(response.body) == {
        "error": "table_not_found",
        "message": "There is no table 'x' in aligned volume 'v'.",
    }
