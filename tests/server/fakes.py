"""Tiny HTTP servers on 127.0.0.1 for what is outside our control.

`FakeCave` answers like a real CAVE annotation engine does (errors as HTTP 500 with
``{"code", "message", "traceback"}``, no version route), and can lose an answer on purpose.
`FaultProxy` sits in front of our real server and drops or refuses chosen requests, the
way a flaky network or a gateway would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

DROP = "drop"  # read the request, answer nothing, close the connection
DROP_AFTER = "drop_after"  # store the rows, then answer nothing (a lost answer)
STORE_THEN_502 = "store_then_502"  # store the rows, then a gateway's 502 (as a proxy would)
CUT_SHORT = "cut_short"  # start an answer, then close the connection half-way (a crash)


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status: int, content: Any, headers: dict | None = None) -> None:
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        self.close_connection = True

    def cut_short(self) -> None:
        """Headers promising 100 bytes, 6 of them, then the connection closed."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b'["syn"')
        self.close_connection = True


def cave_error(message: str) -> dict:
    """The real AnnotationEngine's error body (it wraps nearly everything as a 500)."""
    return {
        "code": 500,
        "message": message,
        "traceback": 'Traceback (most recent call last):\n  File "/app/api.py", line 9',
    }


class FakeCave(_Server):
    """An annotation engine with one synapse table, ``syn``, in aligned volume ``vol``."""

    def __init__(self) -> None:
        self.rows: dict[int, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self.auth: list[str | None] = []
        # (method, path suffix) -> list of behaviours used up one per matching request:
        # DROP_AFTER, STORE_THEN_502, DROP, CUT_SHORT, (status, body), or None (normally).
        self.script: dict[tuple[str, str], list[Any]] = {}
        self.lock = threading.Lock()
        super().__init__(_CaveHandler)

    def next_step(self, method: str, path: str) -> Any:
        with self.lock:
            for (m, suffix), steps in self.script.items():
                if m == method and path.endswith(suffix) and steps:
                    return steps.pop(0)
        return None

    def store(self, records: list[dict]) -> list[int]:
        with self.lock:
            first = max(self.rows, default=0) + 1
            ids = list(range(first, first + len(records)))
            for new, rec in zip(ids, records, strict=True):
                self.rows[new] = {"id": new, "valid": True, "superceded_id": None, **rec}
            return ids

    def supersede(self, records: list[dict]) -> dict[str, int]:
        out = {}
        for rec in records:
            old = int(rec["id"])
            [new] = self.store([{k: v for k, v in rec.items() if k != "id"}])
            with self.lock:
                self.rows[old].update(valid=False, superceded_id=new)
            out[str(old)] = new
        return out


META = {
    "table_name": "syn",
    "schema_type": "synapse",
    "description": "d",
    "user_id": "1",
    "voxel_resolution_x": 4.0,
    "voxel_resolution_y": 4.0,
    "voxel_resolution_z": 40.0,
    "read_permission": "PUBLIC",
    "write_permission": "PUBLIC",
    "notice_text": None,
}


class _CaveHandler(_Handler):
    def _route(self, method: str) -> None:
        cave: FakeCave = self.server.owner  # type: ignore[attr-defined]
        url = urlparse(self.path)
        path = url.path
        raw = self.body()
        body = json.loads(raw) if raw else None
        with cave.lock:
            cave.calls.append((method, path))
            cave.bodies.append(body)
            cave.auth.append(self.headers.get("Authorization"))
        step = cave.next_step(method, path)
        if step == DROP:
            return self.drop()
        if step == CUT_SHORT:
            return self.cut_short()
        if isinstance(step, tuple):
            return self.send(*step)
        base = "/annotation/api/v2/aligned_volume/vol/table"
        if path == "/annotation/api/versions":
            return self.send(200, [2])
        if not path.startswith(base):
            return self.send(404, b"<!doctype html><title>404 Not Found</title>")
        rest = path[len(base) :]
        if rest == "" and method == "POST":
            name = body["table_name"]
            if name == "syn":
                return self.send(500, cave_error(f"400 Bad Request: Table {name} already exists"))
            return self.send(200, name.encode())
        if rest == "" and method == "GET":
            return self.send(200, ["syn"])
        if rest == "/syn" and method == "GET":
            return self.send(200, META)
        if rest.startswith("/syn/count"):
            return self.send(200, len(cave.rows))
        if rest == "/syn/annotations":
            if method == "GET":
                ids = [int(i) for i in parse_qs(url.query)["annotation_ids"][0].split(",")]
                missing = [i for i in ids if i not in cave.rows]
                if missing:
                    return self.send(
                        500, cave_error(f"404 Not Found: annotations {missing} not found")
                    )
                return self.send(200, [cave.rows[i] for i in ids])
            if method == "POST":
                return self._answer(step, cave.store(body["annotations"]))
            if method == "PUT":
                return self._answer(step, cave.supersede(body["annotations"]))
        if rest.startswith("/") and method == "GET":
            return self.send(500, cave_error(f"404 Not Found: table {rest[1:]} not found"))
        return self.send(500, cave_error("something broke inside the engine"))

    def _answer(self, step: Any, stored: Any) -> None:
        """The answer to a write that was stored, unless the script loses it."""
        if step == DROP_AFTER:
            return self.drop()
        if step == STORE_THEN_502:
            return self.send(502, b"<html><h1>502 Bad Gateway</h1></html>")
        return self.send(200, stored)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")


class FaultProxy(_Server):
    """Forwards to ``upstream``; a request matching a rule gets that rule's fault once."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[tuple[Callable[[str, str], bool], str]] = []
        self.seen: list[tuple[str, str, int | str]] = []
        self.lock = threading.Lock()
        super().__init__(_ProxyHandler)

    def once(self, match: Callable[[str, str], bool], fault: str) -> None:
        """``fault``: "lose_answer" (forward, then drop), "drop" or "503" (not forwarded)."""
        with self.lock:
            self.rules.append((match, fault))

    def fault_for(self, method: str, path: str) -> str | None:
        with self.lock:
            for i, (match, fault) in enumerate(self.rules):
                if match(method, path):
                    del self.rules[i]
                    return fault
        return None


class _ProxyHandler(_Handler):
    def _forward(self, method: str) -> None:
        proxy: FaultProxy = self.server.owner  # type: ignore[attr-defined]
        raw = self.body()
        fault = proxy.fault_for(method, self.path)
        with proxy.lock:
            proxy.seen.append((method, self.path, fault or "ok"))
        if fault == "drop":
            return self.drop()
        if fault == "503":
            return self.send(503, {"message": "upstream busy"})
        keep = ("Authorization", "Content-Type", "Idempotency-Key", "Cookie")
        headers = {k: self.headers[k] for k in keep if self.headers.get(k)}
        r = requests.request(
            method,
            proxy.upstream + self.path,
            data=raw,
            headers=headers,
            timeout=120,
            allow_redirects=False,
        )
        if fault == "lose_answer":
            return self.drop()
        self.send(r.status_code, r.content)

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")

    def do_PUT(self) -> None:
        self._forward("PUT")

    def do_DELETE(self) -> None:
        self._forward("DELETE")
