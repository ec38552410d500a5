"""The one HTTP transport of the remote backend: session, token, timeouts, the retry policy.

Every request the remote backend sends goes through `Transport.call`, the only place a
request is retried. A try whose answer did not arrive (connection error, timeout, an answer
broken off) or came from a gateway (502/503/504) is `Lost`: the request may or may not have
taken effect. A 4xx, or any other refusal, is never retried; it becomes the matching
`AnnoError` (`refusals.error_from_response`).

After a lost answer an idempotent request (a read, a delete of rows, a write carrying our
server's idempotency key) is simply sent again. A request that is not idempotent (create a
table, a batch to a real CAVE) passes ``after_lost``: a check the loop runs, instead of the
re-send, after each lost answer, which says what happened (`Answered`), that the request
must go again (`Resend`), or refuses to guess by raising an `AnnoError`. A check whose own
answer is lost counts as one more try of the same loop, so tries never nest.

One `Transport` is shared by every thread of a process (the dashboard caches one backend
for all browser sessions and upload threads): each thread gets its own `requests.Session`,
and all of them share one connection pool (urllib3's pools are thread-safe).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import requests.adapters
import requests.auth

from anno_core.errors import NotAuthenticated, RemoteError
from anno_core.remote.refusals import error_from_response

SECRETS_DIR = Path("~/.cloudvolume/secrets")
"""Where caveclient keeps its tokens (``cave-secret.json``, ``{host}-cave-secret.json``)."""


class Lost(Exception):
    """One try whose answer did not arrive (or came from a gateway): it may have taken effect."""


@dataclass(frozen=True)
class Answered:
    """After a lost answer, the check found the request took effect; ``value`` is its result."""

    value: Any


@dataclass(frozen=True)
class Resend:
    """After a lost answer, the check found the request did not take effect: send it again,
    with ``changes`` to its arguments (say a smaller body)."""

    changes: dict[str, Any] = field(default_factory=dict)


AfterLost = Callable[[], Answered | Resend]


@dataclass
class RetryPolicy:
    """Which answers are retried, how often, and how long to wait between tries."""

    retries: int = 5
    backoff: float = 0.5
    cap: float = 8.0
    statuses: tuple[int, ...] = (502, 503, 504)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after try ``attempt`` (0-based): exponential, capped."""
        return min(self.cap, self.backoff * (2**attempt))


def token_from_files(server_address: str, secrets_dir: Path = SECRETS_DIR) -> str | None:
    """caveclient's token for this server: ``{host}-cave-secret.json``, else the default file."""
    host = urllib.parse.urlparse(server_address).netloc
    folder = secrets_dir.expanduser()
    for name in (f"{host}-cave-secret.json", "cave-secret.json"):
        path = folder / name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        token = data.get("token") if isinstance(data, dict) else None
        if isinstance(token, str) and token.strip():
            return token.strip()
    return None


class _Bearer(requests.auth.AuthBase):
    """The API token as ``Authorization: Bearer`` (set as the session's auth, requests then
    skips its per-request ~/.netrc look-up)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def json_of(r: requests.Response) -> Any:
    """The JSON body of an answer; RemoteError when it is not JSON."""
    try:
        return r.json()
    except ValueError as exc:
        raise RemoteError(
            f"The annotation server sent something that is not JSON "
            f"(HTTP {r.status_code}): {r.text[:200]!r}."
        ) from exc


def _header_too_long(exc: BaseException) -> bool:
    """Whether http.client refused the answer's headers as too long (wrapped by urllib3 and
    requests in exceptions whose arguments hold the cause)."""
    seen: list[BaseException] = [exc]
    while seen:
        e = seen.pop()
        if isinstance(e, http.client.LineTooLong | http.client.HTTPException) and (
            "header" in str(e)
        ):
            return True
        seen.extend(a for a in e.args if isinstance(a, BaseException))
        if isinstance(e.__cause__, BaseException):
            seen.append(e.__cause__)
    return False


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Transport:
    """HTTP to one deployment (see the module docstring); safe to share between threads."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        policy: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 600.0),
    ) -> None:
        self.server = server
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._token = token
        self._token_lock = threading.Lock()
        # One pool for all threads' sessions: keep-alive connections outlive a thread.
        self._adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self._local = threading.local()

    def token(self) -> str:
        """The API token: as given, else caveclient's token files (read once)."""
        with self._token_lock:
            if not self._token:
                self._token = token_from_files(self.server)
            if not self._token:
                raise NotAuthenticated(
                    f"No API token for {self.server}: set ANNO_TOKEN (or token=...), or save "
                    "it in ~/.cloudvolume/secrets/cave-secret.json as caveclient does."
                )
            return self._token

    def session(self) -> requests.Session:
        """This thread's session (requests.Session is not safe to share between threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("http://", self._adapter)
            session.mount("https://", self._adapter)
            session.auth = _Bearer(self.token())
            self._local.session = session
        return session

    def once(
        self,
        method: str,
        url: str,
        *,
        row_of_line: Callable[[], dict] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One try: the answer, an AnnoError for a refusal, or `Lost`. Never retries."""
        where = _origin(url)
        try:
            r = self.session().request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if _header_too_long(exc):  # it answered, unreadably: sending again cannot help
                raise RemoteError(
                    f"The annotation server at {where} answered with a header line longer "
                    "than HTTP clients read (64 KB; a very long table notice does that); ask "
                    "its admins to shorten the notice."
                ) from exc
            raise Lost(f"no answer from {where} ({type(exc).__name__})") from exc
        except requests.exceptions.ChunkedEncodingError as exc:  # cut off mid-answer
            raise Lost(f"an answer from {where} broke off ({type(exc).__name__})") from exc
        if r.status_code in self.policy.statuses:
            raise Lost(f"HTTP {r.status_code} from {where}")
        if r.status_code >= 300:
            raise error_from_response(r, where, row_of_line() if row_of_line else None)
        return r

    def call(
        self,
        method: str,
        url: str,
        *,
        after_lost: AfterLost | None = None,
        finish: Callable[[requests.Response], Any] = json_of,
        if_no_answer: str = "check that it is running and try again.",
        gave_up: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send until answered; the answer's JSON (or what ``finish`` makes of the answer).

        The one retry loop. Without ``after_lost`` the request must be safe to repeat;
        with it, every lost answer is followed by that check instead of a blind re-send.
        ``if_no_answer`` ends the message when every try was lost, ``gave_up`` are that
        error's details."""
        attempt = 0
        check = False
        while True:
            try:
                if check:
                    assert after_lost is not None
                    outcome = after_lost()
                    if isinstance(outcome, Answered):
                        return outcome.value
                    kwargs.update(outcome.changes)
                    check = False
                return finish(self.once(method, url, **kwargs))
            except Lost as exc:
                if attempt >= self.policy.retries:
                    raise RemoteError(
                        f"The annotation server at {_origin(url)} did not answer after "
                        f"{attempt + 1} tries ({exc}); {if_no_answer}",
                        **(gave_up or {}),
                    ) from exc
                time.sleep(self.policy.delay(attempt))
                attempt += 1
                check = after_lost is not None

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET, retried as needed; the JSON answer."""
        return self.call("GET", url, **kwargs)

    def call_once(self, method: str, url: str, **kwargs: Any) -> Any:
        """One try, its JSON answer (for a check inside `call`'s loop, which counts tries)."""
        return json_of(self.once(method, url, **kwargs))

    def get_once(self, url: str, **kwargs: Any) -> Any:
        """GET in one try (see `call_once`)."""
        return self.call_once("GET", url, **kwargs)
