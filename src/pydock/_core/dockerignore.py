""".dockerignore semantics, matching Docker's own pattern matcher.

This is a port of the behaviour of ``github.com/moby/patternmatcher`` (the
matcher behind ``docker build`` and BuildKit) and of its
``ignorefile.ReadAll`` parser. It works on POSIX paths: ``/`` separates path
elements and ``\\`` escapes the next character. Everything here is pure, except
:meth:`DockerIgnore.walk`, which lists a build-context folder.

How Docker matches a pattern, in brief:

1. The pattern is trimmed, passed through Go's ``filepath.Clean`` and, when it
   starts with ``!``, turned into an exception. Its syntax is checked with Go's
   ``filepath.Match`` rules (unclosed ``[``, ``[]a]``, ``[-]``, a lone trailing
   ``\\`` and so on are errors).
2. The pattern is then classified. A pattern with no wildcards is compared
   literally; ``prefix**`` means "starts with ``prefix``"; ``**suffix`` (with no
   other wildcard) means "ends with ``suffix``", where ``**/name`` also matches
   ``name`` itself. Everything else becomes a regular expression in which ``*``
   is ``[^/]*``, ``?`` is ``[^/]``, ``**`` is ``(.*/)?`` (or ``.*`` at the end),
   ``[...]`` is copied as a character class and ``\\x`` is passed on as the
   regular-expression escape ``\\x``.
3. That regular expression is Go (RE2) syntax. This module translates it into an
   equivalent Python expression, so Go-only quirks are kept: ``\\d`` matches an
   ASCII digit, ``[[:alpha:]]`` is a POSIX class, ``[*]`` is *not* the literal
   ``*``. Only Unicode classes (``\\pL``, ``\\p{Greek}``) are not supported; they
   raise :class:`ValueError`.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Final, TypeAlias

__all__ = ["DockerIgnore"]

# Go's unicode.IsSpace, used by strings.TrimSpace. Python's str.strip() would also
# strip U+001C..U+001F, which Go keeps.
_GO_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_BOM: Final = "\ufeff"
# Characters patternmatcher escapes before handing the pattern to the regexp package.
_REGEX_ESCAPED: Final = frozenset(".+()|{}$")
# Characters after which a pattern stops being a plain literal prefix.
_GLOB_META: Final = frozenset("*?[]\\^")
_MAX_RUNE: Final = 0x10FFFF

_Ranges: TypeAlias = list[tuple[int, int]]

_DIGIT: Final[_Ranges] = [(0x30, 0x39)]
_WORD: Final[_Ranges] = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
# Go's \s is [\t\n\f\r ]: no \v.
_PERL_SPACE: Final[_Ranges] = [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)]
_PERL_GROUPS: Final[dict[str, tuple[_Ranges, bool]]] = {
    "d": (_DIGIT, False),
    "D": (_DIGIT, True),
    "s": (_PERL_SPACE, False),
    "S": (_PERL_SPACE, True),
    "w": (_WORD, False),
    "W": (_WORD, True),
}
_POSIX_GROUPS: Final[dict[str, _Ranges]] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": _DIGIT,
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_C_ESCAPES: Final = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_OCTAL: Final = frozenset("01234567")
_HEX: Final = frozenset("0123456789abcdefABCDEF")


# --------------------------------------------------------------------------------------
# Go path helpers
# --------------------------------------------------------------------------------------


def _go_trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return text.strip(_GO_SPACE)


def _clean(path: str) -> str:
    """Go's ``path.Clean`` (``filepath.Clean`` on POSIX)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for element in path.split("/"):
        if element in ("", "."):
            continue
        if element == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(element)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def _dir(path: str) -> str:
    """Go's ``filepath.Dir`` on POSIX: everything but the last element, cleaned."""
    return _clean(path[: path.rfind("/") + 1])


def _as_posix(path: str | os.PathLike[str]) -> str:
    if isinstance(path, PurePath):
        return path.as_posix()
    return os.fspath(path)


# --------------------------------------------------------------------------------------
# Pattern syntax check (Go's filepath.Match rules)
# --------------------------------------------------------------------------------------


def _bad_pattern(pattern: str, why: str) -> ValueError:
    return ValueError(f"invalid .dockerignore pattern {pattern!r}: {why}")


def _check_glob_syntax(pattern: str) -> None:
    """Reject what Go's ``filepath.Match`` calls ``ErrBadPattern``.

    Raises:
        ValueError: The pattern is malformed.
    """
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                raise _bad_pattern(pattern, "trailing backslash")
            i += 2
        elif char == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (i < n and pattern[i] == "]" and ranges > 0):
                i = _glob_class_char(pattern, i)
                if pattern[i] == "-":
                    i = _glob_class_char(pattern, i + 1)
                ranges += 1
            i += 1
        else:
            i += 1


def _glob_class_char(pattern: str, i: int) -> int:
    """Go's ``getEsc``: one (possibly escaped) class character; the class must go on.

    Raises:
        ValueError: The character class is malformed.
    """
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise _bad_pattern(pattern, "malformed character class")
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise _bad_pattern(pattern, "malformed character class")
    i += 1
    if i >= n:
        raise _bad_pattern(pattern, "unterminated character class")
    return i


# --------------------------------------------------------------------------------------
# Go (RE2, Perl flags) regular expression -> Python regular expression
# --------------------------------------------------------------------------------------


class _RegexError(Exception):
    """The Go regexp package would refuse the expression."""


def _normalize(ranges: Iterable[tuple[int, int]]) -> _Ranges:
    merged: _Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _negate(ranges: Iterable[tuple[int, int]]) -> _Ranges:
    result: _Ranges = []
    next_lo = 0
    for lo, hi in _normalize(ranges):
        if lo > next_lo:
            result.append((next_lo, lo - 1))
        next_lo = hi + 1
    if next_lo <= _MAX_RUNE:
        result.append((next_lo, _MAX_RUNE))
    return result


def _py_char(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _py_class(ranges: Iterable[tuple[int, int]]) -> str:
    merged = _normalize(ranges)
    if not merged:
        return "(?!)"
    body = "".join(
        _py_char(lo) if lo == hi else f"{_py_char(lo)}-{_py_char(hi)}" for lo, hi in merged
    )
    return f"[{body}]"


def _perl_group(name: str) -> _Ranges:
    ranges, negated = _PERL_GROUPS[name]
    return _negate(ranges) if negated else list(ranges)


def _parse_escape(src: str, i: int) -> tuple[int, int]:
    """Go's ``parseEscape``: the code point of the escape at ``src[i]`` and the next index.

    Raises:
        _RegexError: Go rejects the escape.
    """
    n = len(src)
    t = i + 1
    if t >= n:
        raise _RegexError("trailing backslash at end of expression")
    char = src[t]
    t += 1
    if char < "\x80" and not char.isalnum():
        return ord(char), t
    if char in _OCTAL and (char == "0" or (t < n and src[t] in _OCTAL)):
        # \0 and \1..\7 followed by an octal digit: up to three octal digits.
        # A lone \1..\7 would be a backreference, which Go does not support.
        value = int(char)
        for _ in range(2):
            if t < n and src[t] in _OCTAL:
                value = value * 8 + int(src[t])
                t += 1
            else:
                break
        return value, t
    if char == "x" and t < n:
        if src[t] == "{":
            t += 1
            end = src.find("}", t)
            digits = src[t:end] if end >= 0 else ""
            if digits and all(d in _HEX for d in digits) and int(digits, 16) <= _MAX_RUNE:
                return int(digits, 16), end + 1
        elif t + 1 < n and src[t] in _HEX and src[t + 1] in _HEX:
            return int(src[t : t + 2], 16), t + 2
    elif char in _C_ESCAPES:
        return _C_ESCAPES[char], t
    raise _RegexError(f"invalid escape sequence: {src[i:t]!r}")


def _parse_class(src: str, i: int) -> tuple[str, int]:
    """Go's ``parseClass`` for the class opening at ``src[i]``, as a Python class.

    Raises:
        _RegexError: Go rejects the class.
        ValueError: The class uses a Unicode group, which this port does not support.
    """
    n = len(src)
    t = i + 1
    negated = t < n and src[t] == "^"
    if negated:
        t += 1
    ranges: _Ranges = []
    first = True
    while t >= n or src[t] != "]" or first:
        first = False
        if n - t > 2 and src.startswith("[:", t):
            end = src.find(":]", t + 2)
            if end >= 0:
                name = src[t + 2 : end]
                group = _POSIX_GROUPS.get(name.removeprefix("^"))
                if group is None:
                    raise _RegexError(f"invalid character class range: {src[t : end + 2]!r}")
                ranges.extend(_negate(group) if name.startswith("^") else group)
                t = end + 2
                continue
        if n - t >= 2 and src[t] == "\\":
            if src[t + 1] in "pP":
                raise ValueError("Unicode classes (\\p, \\P) are not supported")
            if src[t + 1] in _PERL_GROUPS:
                ranges.extend(_perl_group(src[t + 1]))
                t += 2
                continue
        lo, t = _parse_class_char(src, t)
        hi = lo
        if n - t >= 2 and src[t] == "-" and src[t + 1] != "]":
            hi, t = _parse_class_char(src, t + 1)
            if hi < lo:
                raise _RegexError("invalid character class range")
        ranges.append((lo, hi))
    if negated:
        ranges = _negate(ranges)
    return _py_class(ranges), t + 1


def _parse_class_char(src: str, t: int) -> tuple[int, int]:
    """Go's ``parseClassChar``.

    Raises:
        _RegexError: The class is unterminated or holds a bad escape.
    """
    if t >= len(src):
        raise _RegexError("missing closing ]")
    if src[t] == "\\":
        return _parse_escape(src, t)
    return ord(src[t]), t + 1


def _translate_go_regex(src: str) -> str:
    """Translate a Go regular expression (as patternmatcher builds it) to Python.

    Covers the syntax a cleaned pattern can produce (and a little more); with Go's
    default flags ``^``/``$`` anchor the whole text, ``.`` skips newlines, and
    negated classes match newlines, just like Python without flags.

    Raises:
        _RegexError: Go's regexp package rejects the expression.
        ValueError: The expression uses syntax this port does not support.
    """
    out: list[str] = []
    depth = 0
    can_repeat = False  # Is there something a repetition operator could apply to?
    i, n = 0, len(src)
    last_was_repeat = False
    while i < n:
        char = src[i]
        is_repeat = False
        if char in "*+?":
            if last_was_repeat:
                raise _RegexError("invalid nested repetition operator")
            if not can_repeat:
                raise _RegexError("missing argument to repetition operator")
            out.append(char)
            i += 1
            if i < n and src[i] == "?":  # non-greedy; irrelevant to whether it matches
                out.append("?")
                i += 1
            is_repeat = True
        elif char == "{" or src.startswith("(?", i):
            raise ValueError(f"unsupported regular expression syntax at {src[i:]!r}")
        elif char == "(":
            out.append("(?:")
            depth += 1
            can_repeat = False
            i += 1
        elif char == ")":
            if depth == 0:
                raise _RegexError("unexpected )")
            out.append(")")
            depth -= 1
            can_repeat = True
            i += 1
        elif char == "|":
            out.append("|")
            can_repeat = False
            i += 1
        elif char == "[":
            text, i = _parse_class(src, i)
            out.append(text)
            can_repeat = True
        elif char == "\\":
            i = _translate_escape(src, i, out)
            can_repeat = True
        else:
            out.append({"^": r"(?:\A)", "$": r"(?:\Z)", ".": "."}.get(char, re.escape(char)))
            can_repeat = True
            i += 1
        last_was_repeat = is_repeat
    if depth:
        raise _RegexError("missing closing )")
    return "".join(out)


def _translate_escape(src: str, i: int, out: list[str]) -> int:
    """Translate the escape at ``src[i]`` (outside a class) onto ``out``.

    Returns:
        The index after the escape.

    Raises:
        _RegexError: Go rejects the escape.
        ValueError: The escape is a Unicode class, which this port does not support.
    """
    kind = src[i + 1] if i + 1 < len(src) else ""
    assertions = {"A": r"(?:\A)", "z": r"(?:\Z)", "b": r"(?:\b)", "B": r"(?:\B)"}
    if kind in assertions:
        out.append(assertions[kind])
        return i + 2
    if kind == "C":
        raise _RegexError("invalid escape sequence: '\\C'")
    if kind == "Q":
        end = src.find("\\E", i + 2)
        literal = src[i + 2 :] if end < 0 else src[i + 2 : end]
        out.extend(re.escape(char) for char in literal)
        return len(src) if end < 0 else end + 2
    if kind in ("p", "P"):
        raise ValueError("Unicode classes (\\p, \\P) are not supported")
    if kind in _PERL_GROUPS:
        out.append(_py_class(_perl_group(kind)))
        return i + 2
    code, i = _parse_escape(src, i)
    out.append(re.escape(chr(code)))
    return i


# --------------------------------------------------------------------------------------
# Compiled patterns
# --------------------------------------------------------------------------------------


class _Kind(enum.Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEXP = "regexp"


def _go_regex_for(pattern: str) -> tuple[_Kind, str]:
    """patternmatcher's ``compile``: the match kind and the Go regexp text."""
    # Go's text/scanner skips a byte-order mark at the very start.
    chars = pattern.removeprefix(_BOM)
    kind = _Kind.EXACT
    regex = ["^"]
    i, n = 0, len(chars)
    step = 0
    while i < n:
        char = chars[i]
        i += 1
        if char == "*":
            if i < n and chars[i] == "*":
                i += 1
                if i < n and chars[i] == "/":  # "**/" is treated as "**"
                    i += 1
                if i >= n:
                    if kind is _Kind.EXACT:
                        kind = _Kind.PREFIX
                    else:
                        regex.append(".*")
                        kind = _Kind.REGEXP
                else:
                    regex.append("(.*/)?")
                    kind = _Kind.REGEXP
                if step == 0:
                    kind = _Kind.SUFFIX
            else:
                regex.append("[^/]*")
                kind = _Kind.REGEXP
        elif char == "?":
            regex.append("[^/]")
            kind = _Kind.REGEXP
        elif char in _REGEX_ESCAPED:
            regex.append("\\" + char)
        elif char == "\\":
            if i < n:
                regex.append("\\" + chars[i])
                i += 1
                kind = _Kind.REGEXP
            else:
                regex.append("\\")
        elif char in "[]":
            regex.append(char)
            kind = _Kind.REGEXP
        else:
            regex.append(char)
        step += 1
    regex.append("$")
    return kind, "".join(regex)


def _segment_regex(segment: str) -> re.Pattern[str]:
    parts = ["[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment]
    return re.compile("".join(parts))


class _Pattern:
    """One cleaned pattern, compiled once."""

    __slots__ = ("_literal", "_regex", "_suffix_bytes", "exclusion", "kind", "text")

    def __init__(self, text: str, *, exclusion: bool) -> None:
        """Classify and compile a cleaned, syntax-checked pattern (``!`` removed).

        Raises:
            ValueError: Go's regexp package would reject the pattern's expression,
                or the expression uses a Unicode class.
        """
        self.text = text
        self.exclusion = exclusion
        self.kind, go_regex = _go_regex_for(text)
        self._regex: re.Pattern[str] | None = None
        self._suffix_bytes: bytes | None = None
        if self.kind is _Kind.EXACT:
            self._literal = text
        elif self.kind is _Kind.PREFIX:
            self._literal = text[:-2]
        elif self.kind is _Kind.SUFFIX:
            self._literal = text[2:]
            if text.startswith(_BOM):
                # Go slices two *bytes* off; the BOM is three bytes long.
                self._suffix_bytes = text.encode("utf-8", "surrogateescape")[2:]
        else:
            self._literal = ""
            try:
                self._regex = re.compile(_translate_go_regex(go_regex), re.ASCII)
            except (_RegexError, re.error, ValueError) as exc:
                raise _bad_pattern(text, str(exc)) from None

    def matches(self, path: str) -> bool:
        """Whether this pattern matches ``path`` itself (parents not considered)."""
        if self._regex is not None:
            return self._regex.search(path) is not None
        if self.kind is _Kind.EXACT:
            return path == self._literal
        if self.kind is _Kind.PREFIX:
            return path.startswith(self._literal)
        if self._suffix_bytes is not None:
            return path.encode("utf-8", "surrogateescape").endswith(self._suffix_bytes)
        suffix = self._literal
        return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])

    def may_match_below(self, directory: str) -> bool:
        """Whether this pattern might match some path strictly inside ``directory``.

        ``False`` is a proof that it cannot; ``True`` may be a false alarm.
        """
        below = directory + "/"
        if self.kind is _Kind.EXACT:
            return self._literal.startswith(below)
        if self.kind is _Kind.PREFIX:
            return self._literal.startswith(below) or below.startswith(self._literal)
        if self.kind is _Kind.SUFFIX:
            return True  # any directory has descendants ending in any suffix
        chars = self.text.removeprefix(_BOM)
        literal = chars
        for index, char in enumerate(chars):
            if char in _GLOB_META:
                literal = chars[:index]
                break
        if not (literal.startswith(below) or below.startswith(literal)):
            return False
        if any(char in "[]\\^" for char in chars):
            return True
        # Only literals, "*" and "?": these never cross a "/", so compare element-wise.
        pattern_parts = chars.split("/")
        dir_parts = directory.split("/")
        for index, part in enumerate(dir_parts):
            if index >= len(pattern_parts):
                return False
            if "**" in pattern_parts[index]:
                return True
            if _segment_regex(pattern_parts[index]).fullmatch(part) is None:
                return False
        return len(pattern_parts) > len(dir_parts)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


class DockerIgnore:
    """A parsed ``.dockerignore``: which paths of a build context Docker leaves out.

    The semantics are those of Docker's pattern matcher
    (``moby/patternmatcher``), on POSIX paths relative to the context root:

    * Patterns apply in order and the **last matching pattern wins**. A pattern
      starting with ``!`` is an exception: it re-includes what it matches.
    * A path is matched by a pattern when the path itself **or one of its parent
      directories** matches, so ``docs`` excludes ``docs/a/b.md`` too.
    * ``*`` matches any run of characters other than ``/``, ``?`` one such
      character, ``[a-z]``/``[^a-z]`` a character class and ``\\`` escapes the
      next character. ``**`` matches any number of directories, none included:
      ``**/*.log``, ``logs/**``, ``a/**/b``.
    * Patterns are cleaned like Go's ``filepath.Clean`` (``a/./b/`` is ``a/b``).
      The context root ``.`` is never excluded.
    * Docker's quirks are kept, because they decide what Docker really sends: a
      ``**name`` pattern matches any path ending in ``name`` (``**file`` matches
      ``myfile``), and classes, ``\\`` escapes and ``^`` follow Go's regular
      expression syntax (``\\d`` is a digit, ``[[:alpha:]]`` a letter).

    :meth:`from_text` parses a ``.dockerignore`` file the way the Docker CLI
    does, which also drops one leading ``/`` from each pattern. The constructor
    takes a list of patterns as given, like Go's ``patternmatcher.New``: blank
    patterns are dropped and the rest trimmed and cleaned, but a leading ``/``
    is kept (and then only matches absolute paths).

    Every pattern is checked and compiled once, when the object is made; an
    invalid pattern raises :class:`ValueError` there. (Go accepts a few invalid
    patterns such as ``[Local-Only]`` at first and fails on the first match;
    this port rejects them straight away.)

    Example:
        >>> ignore = DockerIgnore.from_text("*.key\\n!keep.key\\nnode_modules\\n")
        >>> ignore.is_excluded("secret.key"), ignore.is_excluded("keep.key")
        (True, False)
        >>> ignore.is_excluded("node_modules/x/index.js")
        True
    """

    __slots__ = ("_has_exclusions", "_patterns")

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        """Compile a list of patterns (Go's ``patternmatcher.New``).

        Args:
            patterns: The patterns, in order. Leading ``!`` marks an exception.

        Raises:
            ValueError: A pattern is invalid: a lone ``!``, a malformed character
                class, a trailing ``\\``, or an expression Go's regexp rejects.
            TypeError: ``patterns`` is a single string rather than a list of them.
        """
        if isinstance(patterns, (str, bytes)):
            raise TypeError("patterns must be an iterable of strings, not a single string")
        compiled: list[_Pattern] = []
        for raw in patterns:
            pattern = _go_trim_space(raw)
            if not pattern:
                continue
            pattern = _clean(pattern)
            exclusion = pattern.startswith("!")
            if exclusion:
                if len(pattern) == 1:
                    raise ValueError('illegal exclusion pattern: "!"')
                pattern = pattern[1:]
            _check_glob_syntax(pattern)
            compiled.append(_Pattern(pattern, exclusion=exclusion))
        self._patterns: tuple[_Pattern, ...] = tuple(compiled)
        self._has_exclusions = any(p.exclusion for p in compiled)

    @staticmethod
    def read_patterns(text: str | bytes) -> list[str]:
        """Split the text of a ``.dockerignore`` file into patterns (Go's ``ReadAll``).

        A UTF-8 byte-order mark is dropped; lines whose first character is ``#``
        are comments (so ``  # x`` is a pattern); lines are trimmed and blank ones
        skipped; a leading ``!`` is kept apart while the rest is trimmed again,
        cleaned and stripped of one leading ``/``. The result is not validated: a
        bare ``!`` line comes back as ``"!"``, which the constructor rejects.

        Args:
            text: The file's content; bytes are decoded as UTF-8 (undecodable bytes
                are kept as surrogate escapes, like :func:`os.fsdecode`).

        Returns:
            The patterns, in file order.
        """
        if isinstance(text, bytes):
            text = text.decode("utf-8", "surrogateescape")
        patterns: list[str] = []
        for number, line in enumerate(text.split("\n")):
            if number == 0:
                line = line.removeprefix(_BOM)
            if line.startswith("#"):
                continue
            pattern = _go_trim_space(line)
            if not pattern:
                continue
            invert = pattern.startswith("!")
            if invert:
                pattern = _go_trim_space(pattern[1:])
            if pattern:
                pattern = _clean(pattern)
                if len(pattern) > 1 and pattern.startswith("/"):
                    pattern = pattern[1:]
            patterns.append("!" + pattern if invert else pattern)
        return patterns

    @classmethod
    def from_text(cls, text: str | bytes) -> DockerIgnore:
        """Parse and compile the content of a ``.dockerignore`` file.

        Args:
            text: The file's content (see :meth:`read_patterns`).

        Returns:
            The compiled patterns.

        Raises:
            ValueError: A pattern is invalid (a bare ``!`` line included).
        """
        return cls(cls.read_patterns(text))

    @property
    def patterns(self) -> list[str]:
        """The cleaned patterns, exceptions prefixed with ``!``; blank ones dropped."""
        return [("!" if p.exclusion else "") + p.text for p in self._patterns]

    @property
    def has_exclusions(self) -> bool:
        """Whether any pattern is an exception (starts with ``!``)."""
        return self._has_exclusions

    def is_excluded(self, path: str | os.PathLike[str]) -> bool:
        """Whether Docker leaves ``path`` out of the build context.

        This is Go's ``MatchesOrParentMatches``: the last pattern matching the
        path or one of its parent directories decides.

        Args:
            path: A ``/``-separated path relative to the context root; it is
                cleaned first, so ``./a//b/`` is ``a/b``. ``.`` is never excluded.

        Returns:
            ``True`` when the path is excluded.
        """
        cleaned = _clean(_as_posix(path))
        if cleaned == ".":
            return False
        parent = _dir(cleaned)
        parents: list[str] = []
        if parent != ".":
            elements = parent.split("/")
            parents = ["/".join(elements[: i + 1]) for i in range(len(elements))]
        excluded = False
        for pattern in self._patterns:
            if pattern.exclusion != excluded:
                continue  # cannot change the outcome
            if pattern.matches(cleaned) or any(pattern.matches(p) for p in parents):
                excluded = not pattern.exclusion
        return excluded

    def walk(
        self,
        root: str | os.PathLike[str],
        *,
        always_include: Iterable[str] = ("Dockerfile", ".dockerignore"),
    ) -> Iterator[str]:
        """List what Docker would send from the build context ``root``.

        The walk is depth first; the entries of each directory come in byte-wise
        order of their names, the order of Go's ``filepath.WalkDir``. Symbolic
        links are listed, never followed. An excluded directory is not listed;
        it is not even read unless an exception (``!`` pattern) or an
        ``always_include`` path could match something inside it, and then only
        the kept entries inside it are listed. This gives exactly the paths for
        which :meth:`is_excluded` is false.

        Args:
            root: The context directory.
            always_include: Paths relative to ``root`` that are kept whatever the
                patterns say. The Docker CLI always sends the Dockerfile and the
                ``.dockerignore`` file; pass the real Dockerfile path if it is not
                ``Dockerfile``.

        Yields:
            Kept paths, relative to ``root``, ``/``-separated.

        Raises:
            OSError: A directory cannot be read (``root`` included).
        """
        keep = frozenset(_clean(_as_posix(p)) for p in always_include)
        yield from self._walk_dir(os.fspath(root), "", keep)

    def _walk_dir(self, directory: str, prefix: str, keep: frozenset[str]) -> Iterator[str]:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: os.fsencode(e.name))
        for entry in entries:
            relative = prefix + entry.name
            kept = relative in keep or not self.is_excluded(relative)
            if kept:
                yield relative
            if entry.is_dir(follow_symlinks=False) and (
                kept or self._may_keep_below(relative, keep)
            ):
                yield from self._walk_dir(entry.path, relative + "/", keep)

    def _may_keep_below(self, directory: str, keep: frozenset[str]) -> bool:
        """Whether an excluded directory may still hold a kept path.

        Inside an excluded directory only an exception can turn the outcome, and
        only by matching something below it (matching the directory itself would
        have applied to the directory too).
        """
        below = directory + "/"
        if any(path.startswith(below) for path in keep):
            return True
        return any(p.exclusion and p.may_match_below(directory) for p in self._patterns)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.patterns!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DockerIgnore):
            return NotImplemented
        return self.patterns == other.patterns

    def __hash__(self) -> int:
        return hash(tuple(self.patterns))
