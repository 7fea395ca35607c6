"""Whole-call deadlines, free of I/O: a context variable holding an absolute monotonic time.

A timeout bounds each socket operation; a deadline bounds the whole call,
retries and all. The transport clamps every connect, write and read to the
time left, and the retry layer starts no new try past it. Being a context
variable, it works the same in sync code, under asyncio and under trio, and
follows each task.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar, Token
from types import TracebackType

from pydock.errors import InvalidConfiguration

__all__ = ["check_seconds", "deadline"]

_DEADLINE: ContextVar[float | None] = ContextVar("pydock_deadline", default=None)


def check_seconds(name: str, value: object, *, allow_none: bool = True) -> float | None:
    """``value`` as a positive, finite number of seconds.

    Raises:
        InvalidConfiguration: ``value`` is not a number, not finite, or not above zero.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidConfiguration(f"{name} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidConfiguration(
            f"{name} must be a finite number of seconds above 0, not {value!r}"
        )
    return float(value)


class deadline:
    """A whole-call deadline for every pydock call made inside the block.

    ``with pydock.deadline(5):`` (in sync or async code) bounds everything the
    block asks of an engine or registry, retries and backoff included: each
    socket operation waits at most for the time left, no retry starts past
    it, and a call still running when it passes raises
    :class:`~pydock.errors.Timeout` saying so. Nested deadlines take the
    earlier one; a client's ``deadline=`` applies to each of its calls the
    same way. Streams opened inside the block (logs, exports) obey it while
    they are read inside it.

    Args:
        seconds: The time the block may take, from entering it; None for no deadline.

    Raises:
        InvalidConfiguration: ``seconds`` is not a finite number above 0.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = check_seconds("deadline", seconds)
        self._tokens: list[Token[float | None]] = []

    def __enter__(self) -> deadline:
        when = _DEADLINE.get()
        if self.seconds is not None:
            mine = time.monotonic() + self.seconds
            when = mine if when is None else min(when, mine)
        self._tokens.append(_DEADLINE.set(when))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _DEADLINE.reset(self._tokens.pop())

    @staticmethod
    def remaining() -> float | None:
        """Seconds left before the current deadline (negative once passed); None without one."""
        when = _DEADLINE.get()
        return None if when is None else when - time.monotonic()

    @staticmethod
    def passed() -> bool:
        """Whether a deadline is set and has passed."""
        when = _DEADLINE.get()
        return when is not None and time.monotonic() >= when

    @staticmethod
    def clamp(timeout: float | None) -> float | None:
        """``timeout`` shortened to the time left before the deadline (0 once it has passed)."""
        when = _DEADLINE.get()
        if when is None:
            return timeout
        left = max(when - time.monotonic(), 0.0)
        return left if timeout is None or timeout > left else timeout
