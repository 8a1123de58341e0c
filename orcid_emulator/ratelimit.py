"""Token-bucket rate limiting, the way ORCID's nginx front end throttles API clients.

One bucket per member client (keyed by the bearer token's client) and one per
remote address for anonymous callers.  A bucket holds ``burst`` tokens, refills
at ``rate`` per second and starts full; a request takes one token or is refused
with the seconds until the next one as ``Retry-After``.  Time comes from the
state's injectable clock, so tests advance it instead of sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

LIMIT_STATUSES = (429, 503)


@dataclass(frozen=True)
class RateLimitConfig:
    member_rate: float = 24.0
    member_burst: int = 40
    anonymous_rate: float = 12.0
    anonymous_burst: int = 40
    # ORCID's nginx answers 503 when a client exceeds its burst; 429 is the polite alternative.
    status: int = 503

    def __post_init__(self) -> None:
        for name in ("member_rate", "anonymous_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number")
        for name in ("member_burst", "anonymous_burst"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        if self.status not in LIMIT_STATUSES:
            raise ValueError(f"status must be one of {LIMIT_STATUSES}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: RateLimitConfig | None = None) -> RateLimitConfig:
        """``base`` with the given fields replaced; unknown fields are an error."""
        allowed = set(asdict(cls()))
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown rate limit field(s): {', '.join(unknown)}")
        return cls(**{**asdict(base or cls()), **data})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_RATE_LIMIT = RateLimitConfig()


@dataclass
class TokenBucket:
    rate: float
    capacity: int
    tokens: float
    updated: float

    def take(self, now: float) -> float | None:
        """Spend a token: ``None`` when allowed, else seconds until one is available."""
        # A clock moved backwards (a test resetting its fake clock) must not drain the bucket.
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.capacity), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` is whole seconds and never 0, which clients read as "retry at once"."""
    return max(1, math.ceil(wait))


class RateLimiter:
    """Buckets by key.  Not locked itself: :class:`~orcid_emulator.state.EmulatorState` calls it under its lock."""

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def admit(self, client_id: str | None, remote_addr: str, now: float) -> int | None:
        """``None`` when the request may proceed, else the ``Retry-After`` seconds."""
        if client_id is not None:
            key, rate, burst = ("client", client_id), self.config.member_rate, self.config.member_burst
        else:
            key, rate, burst = ("anonymous", remote_addr), self.config.anonymous_rate, self.config.anonymous_burst
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst, float(burst), now)
        wait = bucket.take(now)
        return None if wait is None else retry_after_seconds(wait)
