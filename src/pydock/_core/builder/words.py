"""Dockerfile word expansion: ``$name``, ``${name:-default}`` and shell quoting."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["expand_word"]


_NAME_RE = re.compile(r"[A-Za-z0-9_]+")


def expand_word(
    text: str, env: Mapping[str, str], *, escape: str = "\\", quotes: bool = True
) -> str:
    """Substitute ``$name`` / ``${name}`` / ``${name:-x}`` / ``${name:+x}`` like Docker does.

    Args:
        text: The word.
        env: The variables (unset ones expand to ``""``).
        escape: The Dockerfile's escape character.
        quotes: Also remove shell quoting (``'...'`` is literal, ``"..."``
            expands), as for paths and ``WORKDIR``. Without it (values of the
            :class:`~pydock.Dockerfile` model's ``ENV``, ``LABEL`` and ``ARG``,
            already unquoted) the escape character only protects a ``$``.

    Raises:
        ValueError: An unterminated quote or ``${``.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == escape:
            if i + 1 < n and (quotes or text[i + 1] == "$"):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(ch)
                i += 1
        elif quotes and ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unterminated single quote in {text!r}")
            out.append(text[i + 1 : end])
            i = end + 1
        elif quotes and ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"unterminated double quote in {text!r}")
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == escape and i + 1 < n and text[i + 1] in ('"', "$", escape):
                    out.append(text[i + 1])
                    i += 2
                elif c == "$":
                    value, i = _expand_dollar(text, i, env, escape)
                    out.append(value)
                else:
                    out.append(c)
                    i += 1
        elif ch == "$":
            value, i = _expand_dollar(text, i, env, escape)
            out.append(value)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _expand_dollar(text: str, i: int, env: Mapping[str, str], escape: str) -> tuple[str, int]:
    """Expand the ``$...`` at ``text[i]``; the value and the index after it."""
    if i + 1 < len(text) and text[i + 1] == "{":
        end = _closing_brace(text, i + 2)
        body = text[i + 2 : end]
        m = _NAME_RE.match(body)
        if m is None:
            raise ValueError(f"bad substitution ${{{body}}} in {text!r}")
        name, rest = m.group(), body[m.end() :]
        value = env.get(name)
        if not rest:
            return value or "", end + 1
        for op in (":-", ":+", "-", "+"):
            if rest.startswith(op):
                word = expand_word(rest[len(op) :], env, escape=escape, quotes=False)
                if op == ":-":
                    result = value if value else word
                elif op == ":+":
                    result = word if value else ""
                elif op == "-":
                    result = value if value is not None else word
                else:
                    result = word if value is not None else ""
                return result, end + 1
        raise ValueError(f"unsupported substitution ${{{body}}} in {text!r}")
    m = _NAME_RE.match(text, i + 1)
    if m is None:
        return "$", i + 1
    return env.get(m.group()) or "", m.end()


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError(f"unterminated ${{ in {text!r}")
