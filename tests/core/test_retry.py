"""Retry decisions: what is retried, backoff with jitter, Retry-After, bounds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.retry import RetryPolicy, is_idempotent
from pydock.errors import InvalidConfiguration


def test_only_idempotent_requests_are_retried_on_status() -> None:
    policy = RetryPolicy()
    for status in (429, 502, 503, 504):
        assert policy.should_retry_status(status, idempotent=True)
        assert not policy.should_retry_status(status, idempotent=False)
    for status in (200, 400, 404, 409, 500):
        assert not policy.should_retry_status(status, idempotent=True)


def test_connect_errors_are_retried_even_for_post() -> None:
    policy = RetryPolicy()
    assert policy.should_retry_error(connect_failed=True, idempotent=False)
    assert not policy.should_retry_error(connect_failed=False, idempotent=False)
    assert policy.should_retry_error(connect_failed=False, idempotent=True)


def test_methods() -> None:
    assert is_idempotent("get")
    assert is_idempotent("DELETE")
    assert not is_idempotent("POST")
    assert not is_idempotent("PATCH")


def test_retry_after_seconds_and_dates() -> None:
    policy = RetryPolicy(max_delay=30)
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
    assert policy.delay(1, retry_after="3", now=now) == 3
    assert policy.delay(1, retry_after="Sat, 28 Nov 2026 12:00:07 GMT", now=now) == 7
    assert policy.delay(1, retry_after="999", now=now) == 30  # capped
    # garbage falls back to backoff
    assert policy.delay(1, retry_after="soon", now=now, rand=lambda: 0.0) == policy.initial_delay


@given(attempt=st.integers(min_value=1, max_value=50), r=st.floats(min_value=0, max_value=1))
def test_backoff_is_bounded_and_grows(attempt: int, r: float) -> None:
    policy = RetryPolicy(initial_delay=0.1, max_delay=5.0, jitter=0.5)
    delay = policy.backoff(attempt, rand=lambda: r)
    assert 0.0 < delay <= 5.0
    assert delay >= min(0.1 * 2 ** (attempt - 1), 5.0)


def test_bounds() -> None:
    policy = RetryPolicy(attempts=3, max_time=1.0)
    assert not policy.gives_up(1, 0.0, 0.1)
    assert policy.gives_up(3, 0.0, 0.1)
    assert policy.gives_up(1, 0.95, 0.1)
    assert RetryPolicy.none().gives_up(1, 0.0, 0.0)
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": 2.5}, "attempts"),
        ({"max_time": -1}, "max_time"),
        ({"max_time": float("nan")}, "max_time"),
        ({"initial_delay": -0.1}, "initial_delay"),
        ({"max_delay": -1}, "max_delay"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"multiplier": "2"}, "multiplier"),
        ({"jitter": 1.5}, "jitter"),
        ({"statuses": [200]}, "statuses"),
    ],
)
def test_bad_retry_settings_are_refused_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidConfiguration, match=name) as caught:
        RetryPolicy(**kwargs)
    assert isinstance(caught.value, ValueError)


def test_a_delay_is_never_negative() -> None:
    policy = RetryPolicy(initial_delay=0, max_delay=0, jitter=0)
    assert policy.delay(1, retry_after="-5") == 0
    assert policy.backoff(3) == 0
