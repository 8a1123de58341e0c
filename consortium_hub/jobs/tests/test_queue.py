"""The job queue on a real storage: the embedded SQLite queue, and Redis when REDIS_URL is set."""

import datetime as dt
import os

import pytest
from django.db import transaction
from huey import RedisHuey, SqliteHuey

from consortium_hub.jobs import queue
from consortium_hub.jobs.models import JobRun, OnceMarker
from consortium_hub.jobs.tests import sample_jobs

pytestmark = pytest.mark.django_db(transaction=True)


# The embedded queue always; Redis too where REDIS_URL is set (CI's PostgreSQL run sets it).
STORAGES = ["sqlite"] + (["redis"] if os.environ.get("REDIS_URL") else [])


@pytest.fixture(params=STORAGES)
def real_queue(request, tmp_path, monkeypatch):
    """Point the project's queue at a real storage: tasks are enqueued, not run inline."""
    if request.param == "sqlite":
        instance = SqliteHuey(name="test", filename=str(tmp_path / "jobs.sqlite3"))
    else:
        instance = RedisHuey(name=f"test-{os.getpid()}", url=os.environ["REDIS_URL"])
    instance.flush()
    # Leave immediate mode first: huey swaps its storage when that flag changes.
    monkeypatch.setattr(queue.huey, "immediate", False)
    monkeypatch.setattr(queue.huey, "storage", instance.storage)
    yield queue.huey
    instance.flush()


def _drain(huey, limit=20):
    """Run what is queued, like a consumer would; scheduled retries run at once (their delay skipped)."""
    ran = 0
    far_future = dt.datetime(2100, 1, 1)
    while ran < limit:
        task = huey.dequeue() or next(iter(huey.read_schedule(far_future)), None)
        if task is None:
            return ran
        task.eta = None  # huey would put a task that is not yet due back on the schedule
        huey.execute(task)
        ran += 1
    return ran


def test_job_enqueued_in_a_rolled_back_transaction_never_runs(real_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue(sample_jobs.record_marker, "rolled-back")
        raise RuntimeError("roll back")
    assert real_queue.pending_count() == 0
    _drain(real_queue)
    assert not OnceMarker.objects.filter(key="rolled-back").exists()


def test_job_enqueued_in_a_committed_transaction_runs_once(real_queue):
    with transaction.atomic():
        queue.enqueue(sample_jobs.record_marker, "committed")
    assert real_queue.pending_count() == 1
    _drain(real_queue)
    assert OnceMarker.objects.filter(key="committed").count() == 1
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.SUCCEEDED and run.duration_ms is not None


def test_failing_job_is_retried_with_backoff_and_recorded(real_queue):
    queue.enqueue(sample_jobs.fail_then_succeed, "flaky", 2)
    _drain(real_queue)
    runs = list(JobRun.objects.order_by("pk").values_list("status", "attempt"))
    assert runs == [("retrying", 1), ("retrying", 2), ("succeeded", 3)]
    assert "flaky failure" in JobRun.objects.order_by("pk").first().error


def test_failing_job_that_never_recovers_ends_failed(real_queue):
    queue.enqueue(sample_jobs.always_fail)
    _drain(real_queue)
    statuses = list(JobRun.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["retrying", "failed"]


def test_retry_delay_grows_after_each_failure(real_queue):
    queue.enqueue(sample_jobs.always_fail_slowly)
    real_queue.execute(real_queue.dequeue())
    retry = real_queue.scheduled()[0]
    assert retry.retry_delay == 10 * queue.RETRY_BACKOFF


def test_once_holds_under_repetition():
    assert queue.once("reminder:1:60d") is True
    assert queue.once("reminder:1:60d") is False
    assert OnceMarker.objects.filter(key="reminder:1:60d").count() == 1


def test_daily_schedule_catches_up_missed_days_and_never_repeats_one():
    today = dt.date(2026, 11, 25)
    assert list(queue.days_to_catch_up("test", today, first_day=dt.date(2026, 11, 22))) == [
        dt.date(2026, 11, 22), dt.date(2026, 11, 23), dt.date(2026, 11, 24), today]
    assert list(queue.days_to_catch_up("test", today)) == []  # the scheduler ran twice
    later = dt.date(2026, 11, 28)  # the worker was down for two days
    assert list(queue.days_to_catch_up("test", later)) == [dt.date(2026, 11, 26), dt.date(2026, 11, 27), later]
