"""Dockerfile words: Go whitespace, word splitting, quoting, flags and JSON arrays.

Everything here follows BuildKit's parser and is shared by the parser (reading
text) and the instructions (rendering it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NoReturn

#: The default escape character, and the only two Docker accepts.
DEFAULT_ESCAPE = "\\"
ESCAPES = ("\\", "`")

#: What Go's ``unicode.IsSpace`` calls whitespace (Docker trims and splits on it).
GO_SPACE = (
    "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
GO_SPACE_SET = frozenset(GO_SPACE)
#: The separators of whitespace-delimited arguments (``FROM``, ``EXPOSE``, ``COPY``...).
ARG_SPLIT_RE = re.compile(r"[\t\v\f\r ]+")
#: A shell word BuildKit reads as the start of a heredoc.
HEREDOC_RE = re.compile(r"[0-9]*<<-?[^<]+")
NEWLINES = "\n\r"


def go_strip(text: str) -> str:
    """``text`` without surrounding Go whitespace."""
    return text.strip(GO_SPACE)


def go_lstrip(text: str) -> str:
    """``text`` without leading Go whitespace."""
    return text.lstrip(GO_SPACE)


def has_space(text: str) -> bool:
    """Whether ``text`` holds any Go whitespace."""
    return any(ch in GO_SPACE_SET for ch in text)


def _reject_constant(name: str) -> NoReturn:
    # Go's JSON decoder knows no NaN or Infinity.
    raise ValueError(name)


def go_json_array(text: str) -> list[object] | None:
    """The array Docker would decode from ``text``, or None if it would not."""
    stripped = go_lstrip(text)
    if not stripped.startswith("["):
        return None
    try:
        value: object = json.loads(stripped, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def json_array(items: Iterable[str]) -> str:
    """Render strings as a JSON array, the exec form."""
    return json.dumps(list(items), ensure_ascii=False)


def trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """Strip a trailing line-continuation escape, as BuildKit does.

    Returns:
        The line without the escape (and the blanks after it), and whether the
        line continues on the next one.
    """
    trimmed = line.rstrip(" \t")
    if trimmed.endswith(escape) and (len(trimmed) == 1 or trimmed[-2] != escape):
        return trimmed[:-1], True
    return line, False


def _scan_words(text: str, escape: str, *, raw: bool) -> Iterator[tuple[int, int, str, bool]]:
    """BuildKit's word scanner: one ``(start, end, word, quoted)`` per word.

    With ``raw`` the words keep their quotes and escapes (and an escape inside
    single quotes is literal); without, both are removed, as for flags.
    ``quoted`` says whether the word held quotes (an empty quoted word counts).
    """
    word: list[str] = []
    quoted = in_word = in_quote = False
    quote = ""
    start = 0
    i, n = 0, len(text)
    while True:
        at_end = i >= n
        ch = "" if at_end else text[i]
        if not in_word and not in_quote:
            if at_end:
                return
            if ch in GO_SPACE_SET:
                i += 1
                continue
            in_word, start = True, i
        if at_end:
            yield start, i, "".join(word), quoted
            return
        if in_word:
            if ch in GO_SPACE_SET:
                yield start, i, "".join(word), quoted
                word, quoted, in_word = [], False, False
                i += 1
                continue
            if ch in "'\"":
                quote, quoted, in_word, in_quote = ch, True, False, True
                if not raw:
                    i += 1
                    continue
            escaping = True
        else:
            if ch == quote:
                in_word, in_quote = True, False
                if not raw:
                    i += 1
                    continue
            escaping = not (raw and quote == "'")
        if ch == escape and escaping:
            if i + 1 == n:
                if in_quote:
                    in_word, in_quote = True, False
                i += 1
                continue
            if raw:
                word.append(ch)
            i += 1
            ch = text[i]
        word.append(ch)
        i += 1


def parse_words(rest: str, escape: str) -> list[str]:
    """Split ``rest`` into whitespace-separated words, keeping quotes and escapes."""
    return [word for _, _, word, quoted in _scan_words(rest, escape, raw=True) if word or quoted]


def extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Split the leading ``--flag`` words off ``line``, as BuildKit does.

    Returns:
        The rest of the line and the flag words (quotes and escapes removed).
    """
    words: list[str] = []
    for start, end, word, quoted in _scan_words(line, escape, raw=False):
        if not line.startswith("--", start):
            return line[start:], words
        if word == "--":
            return line[end:], words
        if word or quoted:
            words.append(word)
    return "", words


def unquote(raw: str, escape: str) -> str:
    """Remove Docker's quoting from one word, keeping ``$`` references.

    A literal dollar sign stays written as the escape character and ``$``.

    Raises:
        ValueError: A quote is not closed.
    """
    out: list[str] = []
    literal_dollar = escape + "$"
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "'":
            end = raw.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unterminated single quote in {raw!r}")
            out.extend(literal_dollar if c == "$" else c for c in raw[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"unterminated double quote in {raw!r}")
                c = raw[i]
                if c == '"':
                    i += 1
                    break
                if c == escape and i + 1 < n:
                    nxt = raw[i + 1]
                    if nxt in ('"', escape):
                        out.append(nxt)
                        i += 2
                        continue
                    if nxt == "$":
                        out.append(literal_dollar)
                        i += 2
                        continue
                out.append(c)
                i += 1
        elif ch == escape:
            if i + 1 < n:
                nxt = raw[i + 1]
                out.append(literal_dollar if nxt == "$" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def quote(value: str, escape: str) -> str:
    """Render a value so that :func:`unquote` gives it back."""
    if value and not any(ch in GO_SPACE_SET or ch in "\"'" or ch == escape for ch in value):
        return value
    out = ['"']
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == escape:
            if i + 1 < n and value[i + 1] == "$":
                out.append(escape + "$")
                i += 2
                continue
            out.append(escape + escape)
        elif ch == '"':
            out.append(escape + '"')
        else:
            out.append(ch)
        i += 1
    out.append('"')
    return "".join(out)


def render_flag(word: str, escape: str) -> str:
    """Render one ``--name=value`` flag, quoting the value when needed."""
    name, eq, value = word.partition("=")
    if not eq:
        return word
    if any(ch in GO_SPACE_SET or ch in "\"'" or ch == escape for ch in value):
        value = '"' + value.replace(escape, escape + escape).replace('"', escape + '"') + '"'
    return f"{name}={value}"


def has_heredoc(command: str) -> bool:
    """Whether BuildKit would read a word of ``command`` as the start of a heredoc."""
    return any(HEREDOC_RE.fullmatch(word) for word in parse_words(command, DEFAULT_ESCAPE))


def list_args(tokens: Sequence[str], escape: str) -> str:
    """Render COPY/ADD/VOLUME arguments: whitespace-separated when safe, else JSON."""
    last = tokens[-1]
    if (
        any(not t or has_space(t) or HEREDOC_RE.fullmatch(t) for t in tokens)
        or tokens[0].startswith(("[", "--"))
        or trim_continuation(last, escape)[1]
    ):
        return json_array(tokens)
    return " ".join(tokens)


def command_args(command: str | tuple[str, ...]) -> str:
    """Render a shell-form command as is, an exec-form one as JSON."""
    return command if isinstance(command, str) else json_array(command)
