"""Retry decisions, free of I/O: what to retry, and how long to wait.

The I/O layer runs these decisions through tenacity (sleeping with anyio on
the async side); this module only answers questions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timezone

import attrs

from pydock._core.headers import parse_retry_after

#: Methods that may be sent again without changing the outcome.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Statuses worth another try.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """When and how pydock retries a request.

    Only idempotent requests are retried (GET, HEAD, PUT, DELETE, OPTIONS, and
    requests marked idempotent by pydock itself), on connect errors and on 429,
    502, 503 and 504 answers. A request whose body may have reached the server
    is never resent unless it is idempotent. ``Retry-After`` is honoured, within
    ``max_delay``.

    Attributes:
        attempts: Total tries, the first included (1 disables retrying).
        max_time: Stop retrying once this many seconds have passed since the first try.
        initial_delay: The first backoff delay, in seconds.
        max_delay: The largest single delay, ``Retry-After`` included.
        multiplier: Growth of the delay from one try to the next.
        jitter: Random extra delay, as a fraction of the delay (0 to 1).
        statuses: The HTTP statuses that are retried.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    max_time: float = 30.0
    initial_delay: float = 0.1
    max_delay: float = 10.0
    multiplier: float = 2.0
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    statuses: frozenset[int] = attrs.field(default=RETRY_STATUSES, converter=frozenset)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)

    def backoff(self, attempt: int, *, rand: Callable[[], float] = random.random) -> float:
        """The delay before try ``attempt + 1`` (``attempt`` counts from 1)."""
        base = self.initial_delay * (self.multiplier ** max(attempt - 1, 0))
        base = min(base, self.max_delay)
        return min(base * (1.0 + self.jitter * rand()), self.max_delay)

    def should_retry_status(self, status: int, *, idempotent: bool) -> bool:
        """Whether an answer with ``status`` may be retried."""
        return idempotent and status in self.statuses

    def should_retry_error(self, *, connect_failed: bool, idempotent: bool) -> bool:
        """Whether a transport error may be retried.

        A failed connect never sent anything, so any request may be retried;
        otherwise only idempotent ones.
        """
        return connect_failed or idempotent

    def delay(
        self,
        attempt: int,
        *,
        retry_after: str | None = None,
        now: datetime | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """The delay before the next try, honouring a ``Retry-After`` header."""
        if retry_after is not None:
            seconds = parse_retry_after(retry_after, now=now or datetime.now(timezone.utc))
            if seconds is not None:
                return min(seconds, self.max_delay)
        return self.backoff(attempt, rand=rand)

    def gives_up(self, attempt: int, elapsed: float, next_delay: float) -> bool:
        """Whether to stop after try ``attempt`` given the time spent so far."""
        return attempt >= self.attempts or elapsed + next_delay > self.max_time


def is_idempotent(method: str) -> bool:
    """Whether an HTTP method is idempotent by definition."""
    return method.upper() in IDEMPOTENT_METHODS
