"""A commit running in a background thread, polled by a page for progress and result."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from anno_core.errors import AnnoError
from anno_core.validation.report import ValidationReport

logger = logging.getLogger(__name__)


@dataclass
class UploadTask:
    """A commit running in a thread: ``state`` is running, done or failed."""

    total: int
    done: int = 0
    state: str = "running"
    result: Any = None
    error: str | None = None
    report: ValidationReport | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def run(self, plan: Any, upload_key: str | None) -> None:
        """Commit ``plan`` (an UploadPlan) with ``upload_key``, recording the outcome."""

        def progress(done: int, total: int) -> None:
            self.done, self.total = done, total

        try:
            self.result = plan.commit(progress=progress, upload_key=upload_key)
            self.done = self.total
            self.state = "done"
        except AnnoError as exc:  # a refusal: its sentence (and report) is the answer
            self.error = str(exc)
            self.report = getattr(exc, "report", None)
            self.state = "failed"
        except Exception:  # noqa: BLE001 - a sentence for the user, the trace for the log
            logger.exception("an upload failed")
            self.error = (
                "The upload stopped on an unexpected error. Upload the same file "
                "again: rows already stored are not stored twice. If it fails again, "
                "send the log to an admin."
            )
            self.state = "failed"

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the upload ends (True) or ``timeout`` seconds pass (False)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.state != "running"
