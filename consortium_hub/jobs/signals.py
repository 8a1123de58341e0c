"""Records each job execution as a JobRun, from Huey's own lifecycle signals."""

from __future__ import annotations

import time
import traceback
from typing import Any

from django.db import close_old_connections
from django.utils import timezone
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXECUTING

from consortium_hub.jobs.queue import huey

_started: dict[str, tuple[float, int]] = {}


@huey.signal(SIGNAL_EXECUTING)
def job_started(signal: str, task: Any, *args: Any) -> None:
    from consortium_hub.jobs.models import JobRun

    _close_stale_connections()
    run = JobRun.objects.create(
        task_id=task.id, name=task.name, status=JobRun.Status.RUNNING,
        attempt=_attempt(task), started_at=timezone.now(),
    )
    _started[task.id] = (time.monotonic(), run.pk)


@huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
def job_finished(signal: str, task: Any, exc: BaseException | None = None, *args: Any) -> None:
    from consortium_hub.jobs.models import JobRun

    started = _started.pop(task.id, None)
    if started is None:
        return
    t0, run_pk = started
    if signal == SIGNAL_COMPLETE:
        status = JobRun.Status.SUCCEEDED
    else:
        # Huey signals ERROR for every failed attempt; whether another follows is in task.retries.
        status = JobRun.Status.RETRYING if task.retries else JobRun.Status.FAILED
    error = ""
    if exc is not None:
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
    JobRun.objects.filter(pk=run_pk).update(
        status=status, finished_at=timezone.now(), duration_ms=int((time.monotonic() - t0) * 1000), error=error,
    )
    _close_stale_connections()


def _close_stale_connections() -> None:
    # A worker thread must not reuse a connection the database dropped; a task run inline
    # (immediate mode) shares the caller's connection and transaction, which must stay open.
    if not huey.immediate:
        close_old_connections()


def _attempt(task: Any) -> int:
    configured = getattr(task, "default_retries", None)
    if configured is None:
        return 1
    return configured - task.retries + 1
