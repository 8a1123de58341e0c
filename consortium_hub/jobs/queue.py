"""The one job queue: how work is enqueued, retried, and made to happen once.

Tasks are thin: they load ids and call a service. They are enqueued on commit, so a job never
runs for data that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from typing import Any

from django.db import IntegrityError, transaction
from huey.contrib.djhuey import HUEY, db_task

from consortium_hub.audit.context import acting_as

huey = HUEY
DEFAULT_RETRIES = 5
RETRY_DELAY_SECONDS = 10
RETRY_BACKOFF = 2  # 10 s, 20 s, 40 s, 80 s, 160 s


def job(retries: int = DEFAULT_RETRIES, retry_delay: int = RETRY_DELAY_SECONDS, **task_options: Any) -> Callable:
    """Declare a background job: retried with exponential backoff, its changes audited as the job."""

    def decorate(fn: Callable) -> Any:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with acting_as(None, via=f"job:{fn.__name__}"):
                return fn(*args, **kwargs)

        return db_task(retries=retries, retry_delay=retry_delay, retry_backoff=RETRY_BACKOFF,
                       name=f"{fn.__module__}.{fn.__name__}", **task_options)(run)

    return decorate


def enqueue(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue `task` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: task(*args, **kwargs))


def once(key: str) -> bool:
    """Claim `key`; True the first time it is claimed, False ever after (and for a racing twin)."""
    from consortium_hub.jobs.models import OnceMarker

    try:
        with transaction.atomic():
            OnceMarker.objects.create(key=key[:255])
    except IntegrityError:
        return False
    return True


def days_to_catch_up(schedule: str, today: dt.date, *, first_day: dt.date | None = None,
                     max_days: int = 366) -> Iterator[dt.date]:
    """The days a daily schedule has not yet covered, oldest first, each yielded once ever.

    A daily job calls this and does each day's work: if the worker was down for a week, the
    week is worked through; if two workers run at once, each day still goes to one of them.
    """
    from consortium_hub.jobs.models import OnceMarker

    prefix = f"schedule:{schedule}:"
    last = (
        OnceMarker.objects.filter(key__startswith=prefix).order_by("-key").values_list("key", flat=True).first()
    )
    if last:
        start = dt.date.fromisoformat(last[len(prefix):]) + dt.timedelta(days=1)
    else:
        start = first_day or today
    start = max(start, today - dt.timedelta(days=max_days))
    day = start
    while day <= today:
        if once(f"{prefix}{day.isoformat()}"):
            yield day
        day += dt.timedelta(days=1)
