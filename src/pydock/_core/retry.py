"""Retry decisions, free of I/O: what to retry, and how long to wait.

The I/O layer runs these decisions through tenacity (sleeping with anyio on
the async side); this module only answers questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import attrs

from pydock._core.headers import parse_retry_after
from pydock.errors import InvalidConfiguration

#: Methods that may be sent again without changing the outcome.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Statuses worth another try.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def _seconds(minimum: float, *, above: bool = False) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: a finite number, at least ``minimum`` (above it with ``above``)."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            not number
            or not math.isfinite(value)
            or value < minimum
            or (above and value == minimum)
        ):
            bound = f"above {minimum}" if above else f"at least {minimum}"
            raise InvalidConfiguration(
                f"RetryPolicy {attribute.name} must be a finite number {bound}, not {value!r}"
            )

    return check


def _check_attempts(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfiguration(
            f"RetryPolicy attempts must be a whole number >= 1, not {value!r}"
        )


def _statuses(value: Iterable[int]) -> frozenset[int]:
    try:
        statuses = frozenset(value)
    except TypeError:
        raise InvalidConfiguration(
            f"RetryPolicy statuses must be HTTP statuses, not {value!r}"
        ) from None
    for status in statuses:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise InvalidConfiguration(
                f"RetryPolicy statuses must be error statuses (400-599), not {status!r}"
            )
    return statuses


@attrs.frozen
class RetryPolicy:
    """When and how pydock retries a request.

    Raises:
        InvalidConfiguration: A setting is out of range (named in the message;
            also a ``ValueError``).

    Only idempotent requests are retried (GET, HEAD, PUT, DELETE, OPTIONS, and
    requests marked idempotent by pydock itself), on connect errors and on 429,
    502, 503 and 504 answers. A request whose body may have reached the server
    is never resent unless it is idempotent. ``Retry-After`` is honoured, within
    ``max_delay``. A whole-call deadline (:class:`pydock.deadline`, or a
    client's ``deadline=``) also ends retrying: no try starts past it.

    Attributes:
        attempts: Total tries, the first included (1 disables retrying).
        max_time: Stop retrying once this many seconds have passed since the first try.
        initial_delay: The first backoff delay, in seconds.
        max_delay: The largest single delay, ``Retry-After`` included.
        multiplier: Growth of the delay from one try to the next.
        jitter: Random extra delay, as a fraction of the delay (0 to 1).
        statuses: The HTTP statuses that are retried.
    """

    attempts: int = attrs.field(default=3, validator=_check_attempts)
    max_time: float = attrs.field(default=30.0, validator=_seconds(0.0))
    initial_delay: float = attrs.field(default=0.1, validator=_seconds(0.0))
    max_delay: float = attrs.field(default=10.0, validator=_seconds(0.0))
    multiplier: float = attrs.field(default=2.0, validator=_seconds(1.0))
    jitter: float = attrs.field(default=0.2, validator=_seconds(0.0))
    statuses: frozenset[int] = attrs.field(default=RETRY_STATUSES, converter=_statuses)

    def __attrs_post_init__(self) -> None:
        if self.jitter > 1.0:
            raise InvalidConfiguration(
                f"RetryPolicy jitter must be between 0 and 1, not {self.jitter!r}"
            )

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
