"""Injected failures for the v3.0 API: "fail the next N calls with this status".

Lets a test prove a client backs off and retries: ``fail_next(5, 503, retry_after=1)``
and the next five ``/v3.0/`` calls (optionally only those with given methods)
are answered with a 503 and ``Retry-After: 1`` before the API recovers.
Status ``0`` ("drop") closes the connection without any response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

DROP = 0
FAULT_STATUSES: tuple[int, ...] = (DROP, 429, 500, 502, 503)
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class FaultPlan:
    remaining: int
    status: int = 503
    retry_after: int | None = None
    methods: tuple[str, ...] = ()  # empty: every method

    def __post_init__(self) -> None:
        if isinstance(self.remaining, bool) or not isinstance(self.remaining, int) or self.remaining < 0:
            raise ValueError("fail_next must be a non-negative integer")
        if self.status not in FAULT_STATUSES:
            choices = ", ".join(map(str, FAULT_STATUSES))
            raise ValueError(f"status must be one of {choices} (0 or 'drop' closes the connection)")
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool) or not isinstance(self.retry_after, int) or self.retry_after < 0
        ):
            raise ValueError("retry_after must be a non-negative integer")
        methods = tuple(method.upper() for method in self.methods)
        unknown = sorted(set(methods) - _HTTP_METHODS)
        if unknown:
            raise ValueError(f"unknown method(s): {', '.join(unknown)}")
        object.__setattr__(self, "methods", methods)

    @property
    def drops_connection(self) -> bool:
        return self.status == DROP

    def applies_to(self, method: str) -> bool:
        return self.remaining > 0 and (not self.methods or method.upper() in self.methods)

    def spent_one(self) -> FaultPlan:
        return replace(self, remaining=self.remaining - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fail_next": self.remaining,
            "status": "drop" if self.drops_connection else self.status,
            "retry_after": self.retry_after,
            "methods": list(self.methods),
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultPlan:
        """Parse ``{"fail_next": 5, "status": 503, "retry_after": 1, "methods": ["POST"]}``."""
        unknown = sorted(set(data) - {"fail_next", "status", "retry_after", "methods"})
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        if "fail_next" not in data:
            raise ValueError("fail_next is required")
        status = data.get("status", 503)
        if status == "drop":
            status = DROP
        methods = data.get("methods") or ()
        if isinstance(methods, str) or not all(isinstance(method, str) for method in methods):
            raise ValueError("methods must be a list of HTTP methods")
        return cls(data["fail_next"], status, data.get("retry_after"), tuple(methods))
