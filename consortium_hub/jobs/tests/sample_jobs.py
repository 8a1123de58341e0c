"""Jobs used by the queue tests (registered like any real job)."""

from consortium_hub.jobs.models import OnceMarker
from consortium_hub.jobs.queue import job

@job(retries=3, retry_delay=1)
def record_marker(key: str) -> None:
    OnceMarker.objects.create(key=key)


@job(retries=3, retry_delay=1)
def fail_then_succeed(key: str, failures: int) -> None:
    seen = OnceMarker.objects.filter(key__startswith=f"attempt:{key}:").count()
    OnceMarker.objects.create(key=f"attempt:{key}:{seen}")
    if seen < failures:
        raise RuntimeError("flaky failure")


@job(retries=1, retry_delay=1)
def always_fail() -> None:
    raise RuntimeError("permanent failure")


@job(retries=3, retry_delay=10)
def always_fail_slowly() -> None:
    raise RuntimeError("permanent failure")
