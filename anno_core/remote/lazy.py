"""A value worked out once, on first need, by one thread while the others wait."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value worked out on first need by one thread while the others wait; a failure is
    not remembered (the next call tries again)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None

    def get(self) -> T:
        if not self._done:
            with self._lock:
                if not self._done:
                    self._value = self._make()
                    self._done = True
        return self._value  # type: ignore[return-value]
