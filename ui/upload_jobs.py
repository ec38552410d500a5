"""Uploads running in the background, owned by the server process rather than a script run.

Streamlit stops the running script whenever the person clicks anything, and forgets a
session's widgets on a page switch or a reload. So an upload must not live in a script run:
`jobs()` is one registry per server process (``st.cache_resource``) holding each upload's
thread (anno_core's `UploadTask`), keyed by its upload key (file content, table, mode). A
second submit of the same key, from a double click, another tab or the same file dropped
again after a reload, gets the job already running or done, never a second thread; and
anno_core's engine remembers a committed key, so even a second process stores nothing twice.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

KEEP_FINISHED = 4  # finished uploads kept (each holds its file, for the ids download)


@dataclass
class Job:
    """One upload: what goes where, and its anno_core UploadTask (state, done/total, result)."""

    key: str
    scope: tuple
    table: str
    file_name: str
    update: bool
    rows: int  # rows sent
    plan: Any  # the whole file's plan: the ids download covers every line
    task: Any
    unchanged: int = 0
    started: float = field(default_factory=time.time)

    @property
    def state(self) -> str:
        return self.task.state

    @property
    def running(self) -> bool:
        return self.task.state == "running"

    def progress_text(self) -> str:
        """'Uploading cells.csv to table 'x': 300,000 of 1,000,000 rows stored (12 s).'"""
        verb = "Updating from" if self.update else "Uploading"
        done, total = self.task.done, self.task.total
        took = time.time() - self.started
        step = (
            f"{done:,} of {total:,} rows written"
            if done
            else f"checking {total:,} rows, then writing them"
        )
        return f"{verb} {self.file_name} to table {self.table}: {step} ({took:.0f} s)."


class Jobs:
    """The process's uploads by key; `submit` starts one unless that key is already taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def submit(
        self,
        key: str,
        scope: tuple,
        plan: Any,
        *,
        file_name: str,
        unchanged: int = 0,
        whole: Any = None,
    ) -> tuple[Job, bool]:
        """(job, started): the running or finished job of ``key``, or a new one that sends
        ``plan``; ``whole`` is the file's full plan when ``plan`` holds only some rows (an
        update's changed rows), for the ids of every line."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "failed":
                return job, False
            task = plan.start(upload_key=key)
            job = Job(
                key=key,
                scope=scope,
                table=plan.table_name,
                file_name=file_name,
                update=plan.update,
                rows=plan.data.rows,
                plan=whole or plan,
                task=task,
                unchanged=unchanged,
            )
            self._jobs[key] = job
            self._jobs.move_to_end(key)
            self._trim()
            return job, True

    def get(self, key: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(key) if key else None

    def version(self, scope: tuple) -> tuple:
        """Changes whenever an upload of ``scope`` starts or ends (what was stored moved)."""
        with self._lock:
            return tuple((k, j.state) for k, j in self._jobs.items() if j.scope == scope)

    def of_scope(self, scope: tuple) -> list[Job]:
        """Every kept job of one engine and volume, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.scope == scope]

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state != "running"]
        for k in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[k]


@st.cache_resource(show_spinner=False)
def jobs() -> Jobs:
    """The server process's one registry of uploads."""
    return Jobs()
