"""Who is acting and in which request: set by middleware (web) and by the job runner (jobs)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    request_id: str
    via: str  # "web", "api", "job:<name>", "command"


_current: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


@contextlib.contextmanager
def acting_as(user: Any = None, *, via: str, request_id: str | None = None) -> Iterator[Actor]:
    actor = Actor(
        user_id=getattr(user, "pk", None) if user is not None and getattr(user, "is_authenticated", True) else None,
        request_id=request_id or uuid.uuid4().hex,
        via=via,
    )
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
