"""Parsers for the HTTP headers pydock acts on, free of I/O.

* ``WWW-Authenticate`` (RFC 7235): how a registry wants to be authenticated.
* ``Link`` (RFC 8288): the next page of a registry listing.
* ``Retry-After`` (RFC 9110): how long to wait before trying again.

Headers come from servers pydock does not control, so the parsers are lenient:
they take what they can make sense of and skip the rest, and never raise on a
malformed value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import attrs

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "Challenge",
    "parse_link_next",
    "parse_retry_after",
    "parse_www_authenticate",
    "redact_headers",
]

# RFC 9110 token characters, and the token68 of RFC 7235.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _skip_ows(value: str, pos: int) -> int:
    while pos < len(value) and value[pos] in " \t":
        pos += 1
    return pos


def _skip_list_separators(value: str, pos: int) -> int:
    while pos < len(value) and value[pos] in " \t,":
        pos += 1
    return pos


def _read_value(value: str, pos: int) -> tuple[str | None, int]:
    """Read a token or a quoted-string at ``pos``.

    Returns:
        The value (``None`` if there is none to read) and the position after it.
        An unterminated quoted-string runs to the end of ``value``.
    """
    if pos < len(value) and value[pos] == '"':
        m = _QUOTED.match(value, pos)
        if m is None:
            return _QUOTED_PAIR.sub(r"\1", value[pos + 1 :]), len(value)
        return _QUOTED_PAIR.sub(r"\1", m.group(1)), m.end()
    m = _TOKEN.match(value, pos)
    if m is None:
        return None, pos
    return m.group(), m.end()


def _skip_item(value: str, pos: int) -> int:
    """Skip to the next comma that is not inside a quoted-string."""
    while pos < len(value):
        char = value[pos]
        if char == ",":
            return pos
        if char == '"':
            m = _QUOTED.match(value, pos)
            pos = m.end() if m else len(value)
        else:
            pos += 1
    return pos


# --------------------------------------------------------------------------- WWW-Authenticate


@attrs.frozen
class Challenge:
    """One authentication challenge from a ``WWW-Authenticate`` header.

    Attributes:
        scheme: The auth scheme, lower-cased: ``"bearer"``, ``"basic"``...
        params: The auth-params, names lower-cased, values unquoted. A name
            given twice keeps its last value.
        scopes: Every scope the challenge names: the values of all its
            ``scope`` params (registries may repeat the param), each split at
            whitespace (a scope value is a space-separated list), in order,
            without duplicates. Ask the token service for each of them.
        token68: The token68 form of credentials some schemes use instead of
            params (``Negotiate abc==``), else ``None``.
    """

    scheme: str
    params: dict[str, str] = attrs.field(factory=dict)
    scopes: tuple[str, ...] = ()
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        """The ``realm`` param: for Bearer, the URL of the token service."""
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        """The ``service`` param: the name to ask the token service for."""
        return self.params.get("service")


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` (or ``Proxy-Authenticate``) header.

    A header may carry several challenges, separated by commas, as may several
    headers; join those with ``", "`` before parsing. Quoted values may contain
    commas and backslash escapes. Parts that cannot be parsed are skipped.

    Example::

        parse_www_authenticate('Bearer realm="https://auth.example/token",scope="a b"')
        # [Challenge(scheme='bearer',
        #            params={'realm': 'https://auth.example/token', 'scope': 'a b'},
        #            scopes=('a', 'b'), token68=None)]

    Args:
        value: The header's value.

    Returns:
        The challenges, in the order given.
    """
    challenges: list[Challenge] = []
    size = len(value)
    pos = _skip_list_separators(value, 0)
    while pos < size:
        m = _TOKEN.match(value, pos)
        if m is None:  # not a scheme: skip this list item
            pos = _skip_list_separators(value, _skip_item(value, pos + 1))
            continue
        scheme = m.group().lower()
        pos = _skip_ows(value, m.end())
        params: dict[str, str] = {}
        scope_values: list[str] = []
        token68: str | None = None
        t68 = _TOKEN68.match(value, pos)
        if t68 is not None and pos > m.end():
            token68 = t68.group()
            pos = t68.end()
        else:
            # auth-params until the next item that is not "name = value".
            while pos < size:
                name_m = _TOKEN.match(value, pos)
                if name_m is None:
                    pos = _skip_item(value, pos)
                else:
                    after = _skip_ows(value, name_m.end())
                    if after >= size or value[after] != "=":
                        break  # a new challenge starts here
                    param_value, end = _read_value(value, _skip_ows(value, after + 1))
                    if param_value is None:
                        end = _skip_item(value, end)
                    else:
                        name = name_m.group().lower()
                        params[name] = param_value
                        if name == "scope":
                            scope_values.append(param_value)
                    pos = _skip_ows(value, end)
                    if pos < size and value[pos] != ",":
                        pos = _skip_item(value, pos)
                pos = _skip_list_separators(value, pos)
        scopes = dict.fromkeys(s for v in scope_values for s in v.split())
        challenges.append(Challenge(scheme, params, tuple(scopes), token68))
        pos = _skip_list_separators(value, pos)
    return challenges


# --------------------------------------------------------------------------- Link


def parse_link_next(value: str | None) -> str | None:
    """The target of the ``rel="next"`` link in a ``Link`` header.

    Registries paginate listings with e.g.
    ``</v2/_catalog?last=x&n=100>; rel="next"``. The header may hold several
    comma-separated links, ``rel`` may be quoted or not and may list several
    relation types (``rel="next last"``); relation types are compared
    case-insensitively.

    Args:
        value: The header's value, or ``None`` when there is none.

    Returns:
        The target of the first ``next`` link, as given (often a path relative
        to the request URL: resolve it against that), or ``None``.
    """
    if not value:
        return None
    size = len(value)
    pos = 0
    while pos < size:
        pos = _skip_list_separators(value, pos)
        if pos >= size:
            break
        if value[pos] != "<":
            pos = _skip_item(value, pos)
            continue
        close = value.find(">", pos + 1)
        if close < 0:
            return None
        target = value[pos + 1 : close].strip()
        pos = _skip_ows(value, close + 1)
        is_next = False
        while pos < size and value[pos] == ";":
            pos = _skip_ows(value, pos + 1)
            name_m = _TOKEN.match(value, pos)
            if name_m is None:
                break
            pos = _skip_ows(value, name_m.end())
            param_value: str | None = None
            if pos < size and value[pos] == "=":
                param_value, pos = _read_value(value, _skip_ows(value, pos + 1))
                pos = _skip_ows(value, pos)
            if name_m.group().lower() == "rel" and param_value is not None:
                rels = param_value.lower().split()
                is_next = is_next or "next" in rels
        if is_next:
            return target
        pos = _skip_item(value, pos)
    return None


# --------------------------------------------------------------------------- Retry-After


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
_MONTH = r"(?P<month>[A-Za-z]{3})"
# Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE = re.compile(
    rf"[A-Za-z]{{3}}, (?P<day>\d\d) {_MONTH} (?P<year>\d{{4}}) {_TIME} GMT", re.ASCII
)
# Sunday, 06-Nov-94 08:49:37 GMT
_RFC850 = re.compile(rf"[A-Za-z]+, (?P<day>\d\d)-{_MONTH}-(?P<year>\d\d) {_TIME} GMT", re.ASCII)
# Sun Nov  6 08:49:37 1994
_ASCTIME = re.compile(
    rf"[A-Za-z]{{3}} {_MONTH} (?P<day>[ \d]\d) {_TIME} (?P<year>\d{{4}})", re.ASCII
)
_SECONDS = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)


def _parse_http_date(value: str, now: datetime) -> datetime | None:
    """Parse an HTTP-date in any of its three formats (RFC 9110, section 5.6.7)."""
    for pattern in (_IMF_FIXDATE, _RFC850, _ASCTIME):
        m = pattern.fullmatch(value)
        if m is not None:
            break
    else:
        return None
    month = _MONTHS.get(m["month"].lower())
    if month is None:
        return None
    year = int(m["year"])
    if pattern is _RFC850:
        # A two-digit year more than 50 years in the future is in the past.
        year += now.year - now.year % 100
        if year > now.year + 50:
            year -= 100
    try:
        return datetime(
            year,
            month,
            int(m["day"]),
            int(m["hour"]),
            int(m["minute"]),
            int(m["second"]),
            tzinfo=timezone.utc,
        )
    except ValueError:  # 31 Feb, 25:00...
        return None


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """How many seconds a ``Retry-After`` header says to wait.

    The header gives either a number of seconds (a decimal fraction is
    accepted too) or an HTTP-date (IMF-fixdate, RFC 850 or asctime format),
    which is taken relative to ``now``.

    Args:
        value: The header's value, or ``None`` when there is none.
        now: The current time; a naive datetime is taken as UTC.

    Returns:
        The delay in seconds, ``0.0`` for a date in the past or a negative
        number, or ``None`` when the value is missing or not understood.
    """
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return max(float(value), 0.0)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    when = _parse_http_date(value, now.astimezone(timezone.utc))
    if when is None:
        return None
    return max((when - now) / timedelta(seconds=1), 0.0)


# --------------------------------------------------------------------------- redaction


#: Headers whose values carry credentials (lower-case names).
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-registry-auth", "x-registry-config"}
)
#: What a sensitive header's value is replaced with.
REDACTED = "[redacted]"


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Hide the values of headers that carry credentials, for logs and errors.

    ``Authorization``, ``Proxy-Authorization``, ``X-Registry-Auth`` and
    ``X-Registry-Config`` (in any case) get the value ``"[redacted]"``; other
    headers are kept as they are, in order.

    Args:
        headers: ``(name, value)`` pairs.

    Returns:
        The redacted pairs.
    """
    return [
        (name, REDACTED if name.lower() in SENSITIVE_HEADERS else value) for name, value in headers
    ]
