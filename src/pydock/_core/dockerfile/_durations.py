"""Go duration strings (``"30s"``, ``"1m30s"``, ``"1.5h"``): check, format, parse."""

from __future__ import annotations

import datetime
import re

#: A Go duration as Docker accepts it (no sign: Docker refuses negative ones).
DURATION_RE = re.compile(
    r"0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+"
)
_PART_RE = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_duration_ns(text: str) -> int:
    """Read a Go duration string as nanoseconds, as Go's ``time.ParseDuration`` does.

    Each part's whole number counts exactly; its fraction is scaled in floating
    point and cut to whole nanoseconds, as in Go.

    Args:
        text: A duration such as ``"30s"``, ``"1m30s"``, ``"1.5h"`` or ``"0"``.

    Returns:
        The duration in nanoseconds.

    Raises:
        ValueError: ``text`` is not a duration.
    """
    if not DURATION_RE.fullmatch(text):
        raise ValueError(f"not a duration (like '30s' or '1m30s'): {text!r}")
    total = 0
    for number, unit_name in _PART_RE.findall(text):
        unit = _UNIT_NS[unit_name]
        whole, _, fraction = number.partition(".")
        total += int(whole or "0") * unit
        if fraction and int(fraction):
            total += int(float(int(fraction)) * (unit / 10 ** len(fraction)))
    return total


def format_duration(delta: datetime.timedelta) -> str:
    """Write a :class:`datetime.timedelta` as a Go duration string.

    Raises:
        ValueError: The duration is negative.
    """
    micros = delta // datetime.timedelta(microseconds=1)
    if micros < 0:
        raise ValueError(f"a duration cannot be negative: {delta!r}")
    if micros == 0:
        return "0s"
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds, micros = divmod(micros, 1_000_000)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if seconds or micros:
        out += f"{seconds}.{micros:06d}".rstrip("0").rstrip(".") + "s"
    return out


def to_duration(value: str | datetime.timedelta | None) -> str | None:
    """The converter of HEALTHCHECK's durations: a checked string, or None.

    Raises:
        ValueError: ``value`` is a string that is not a duration, or a negative
            :class:`datetime.timedelta`.
    """
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return format_duration(value)
    if not isinstance(value, str) or not DURATION_RE.fullmatch(value):
        raise ValueError(f"not a duration (like '30s' or '1m30s'): {value!r}")
    return value
