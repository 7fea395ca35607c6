"""Sending decisions the engine session and the registry client share.

The default timeouts, the one mapping of httpx transport errors to pydock
errors, and the tenacity hooks that ask a :class:`~pydock.RetryPolicy`
whether, when and how long to retry. The policy itself (what deserves a
retry, backoff, ``Retry-After``) is decided in :mod:`pydock._core.retry`;
this module only adapts it to tenacity and httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from pydock._async._backend import sleep
from pydock._async._transport import MalformedResponse
from pydock._core.deadline import deadline
from pydock._core.retry import RetryPolicy
from pydock.errors import ConnectError, ProtocolError, Timeout, TransportError

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

__all__ = [
    "DEFAULT_TIMEOUT",
    "RetryDecision",
    "StopDecision",
    "WaitDecision",
    "connect_failed",
    "discard_answer",
    "last_outcome",
    "retrying",
    "transport_error",
]

#: Ten seconds to connect, a minute for everything else; streams read without a limit.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def transport_error(
    exc: httpx.TransportError, *, method: str, path: str, target: str
) -> TransportError | ProtocolError:
    """The pydock error for an httpx transport error: the one place they are mapped.

    Args:
        exc: What httpx (or the transport) raised.
        method: The request's method.
        path: The request's path.
        target: What was being talked to, for the message (``"the engine at unix://..."``).
    """
    if isinstance(exc, MalformedResponse):
        return ProtocolError(
            f"{target} sent a malformed answer: {exc}", field="http", method=method, path=path
        )
    if isinstance(exc, httpx.TimeoutException):
        if deadline.passed():
            return Timeout(
                f"timed out: the call's deadline passed ({exc})", method=method, path=path
            )
        return Timeout(f"timed out: {exc}", method=method, path=path)
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"cannot reach {target}: {exc}", method=method, path=path)
    return TransportError(str(exc) or type(exc).__name__, method=method, path=path)


def connect_failed(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection was never made (so nothing was sent)."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))


class RetryDecision:
    """tenacity ``retry=``: asks the policy whether an outcome deserves another try."""

    def __init__(self, policy: RetryPolicy, idempotent: bool) -> None:
        self.policy = policy
        self.idempotent = idempotent

    def __call__(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            return self.wants(None, outcome.exception())
        return self.wants(outcome.result(), None)

    def wants(self, response: object, exc: BaseException | None) -> bool:
        """Whether this answer (or this error) deserves another try."""
        if exc is not None:
            if isinstance(exc, MalformedResponse):
                return False  # the same bytes would come again: never resent
            if connect_failed(exc):
                return self.policy.should_retry_error(
                    connect_failed=True, idempotent=self.idempotent
                )
            if isinstance(exc, httpx.TimeoutException):
                return False
            if isinstance(exc, httpx.TransportError):
                return self.policy.should_retry_error(
                    connect_failed=False, idempotent=self.idempotent
                )
            return False
        return isinstance(response, httpx.Response) and self.policy.should_retry_status(
            response.status_code, idempotent=self.idempotent
        )


class WaitDecision:
    """tenacity ``wait=``: backoff with jitter, or what ``Retry-After`` asks for."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: RetryCallState) -> float:
        retry_after = None
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            if isinstance(response, httpx.Response):
                retry_after = response.headers.get("retry-after")
        return self.policy.delay(state.attempt_number, retry_after=retry_after)


class StopDecision:
    """tenacity ``stop=``: bounded tries and bounded total time."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: RetryCallState) -> bool:
        elapsed = state.seconds_since_start or 0.0
        left = deadline.remaining()
        if left is not None and left <= state.upcoming_sleep:
            return True  # the next try would start past the deadline
        return self.policy.gives_up(state.attempt_number, elapsed, state.upcoming_sleep)


def last_outcome(state: RetryCallState) -> Any:
    """tenacity ``retry_error_callback=``: out of tries, the last answer is the answer."""
    assert state.outcome is not None
    return state.outcome.result()


async def discard_answer(state: RetryCallState) -> None:
    """tenacity ``before_sleep=``: close the answer that will be thrown away."""
    outcome = state.outcome
    if outcome is not None and not outcome.failed:
        response = outcome.result()
        if isinstance(response, httpx.Response):
            await response.aclose()


def retrying(policy: RetryPolicy, decision: RetryDecision) -> AsyncRetrying:
    """The tenacity loop for one request: ``decision`` asks, ``policy`` paces and stops."""
    # tenacity is imported only once something needs a retry (a third-party
    # module kept off the import path of ``import pydock``, not a cycle dodge).
    from tenacity import AsyncRetrying

    return AsyncRetrying(
        retry=decision,
        wait=WaitDecision(policy),
        stop=StopDecision(policy),
        sleep=sleep,
        before_sleep=discard_answer,
        retry_error_callback=last_outcome,
    )
