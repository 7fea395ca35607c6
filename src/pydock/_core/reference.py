"""Image references: ``[domain/]path[:tag][@digest]``, and the docker CLI's defaults.

Pure: no I/O. The behaviour follows ``github.com/distribution/reference``, the
library the docker CLI and engine use, and is checked against vectors produced
by running that code:

* :meth:`ImageReference.parse` (``normalize=True``) is ``ParseNormalizedNamed``:
  ``ubuntu`` becomes ``docker.io/library/ubuntu``.
* ``ImageReference.parse(text, normalize=False)`` is ``Parse``: the strict grammar,
  with no default domain and no ``library/`` prefix.
* :meth:`ImageReference.parse_name` is ``WithName``: a bare repository name.
* :meth:`ImageReference.parse_any` is ``ParseAnyReference``: it also takes an image
  ID (64 hex digits, or ``sha256:<hex>``) and gives a digest-only reference.

The grammar (ASCII only)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path
    domain     := host [ ":" port ]
    host       := label ( "." label )*  |  "[" [0-9A-Fa-f:]+ "]"
    label      := [A-Za-z0-9] | [A-Za-z0-9] [A-Za-z0-9-]* [A-Za-z0-9]
    port       := [0-9]+                                      (1 to 65535)
    path       := component ( "/" component )*             (at most 255 characters)
    component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest     := "sha256:" 64 lower-case hex digits | "sha512:" 128 lower-case hex digits

IPv6 hosts are accepted only in brackets and without a zone ID. Where ``name`` has
a ``/``, its first component is the domain when it matches ``domain`` (the strict
split); normalization decides differently (see :meth:`ImageReference.parse`).

Where this module departs from the Go code, on purpose:

* ``sha512`` digests are accepted (the Go test binary does not link sha512, so
  the upstream test expects them to fail); any algorithm other than ``sha256``
  and ``sha512`` is rejected as unknown.
* In normalized mode, a first component that Docker's rule takes for a domain
  (it has ``.`` or ``:``, is ``localhost`` or has upper case) but that is not a
  valid host, such as ``a_b.c/x``, is rejected. Go accepts that input with an
  empty domain, which no registry can serve. So a normalized reference
  always has a domain.
* A port must be 1 to 65535 (``localhost:99999/x`` is rejected): Go's grammar
  takes any digits, and the pull or push then fails when it dials. No
  conformance vector covers such a port.
"""

from __future__ import annotations

import functools
import re

import attrs

from pydock.errors import InvalidReference

__all__ = ["ImageReference"]

DEFAULT_DOMAIN = "docker.io"
"""The domain normalization gives to names without one."""
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
"""An old spelling of :data:`DEFAULT_DOMAIN`; normalization rewrites it."""
DOCKER_HUB_API_HOST = "registry-1.docker.io"
"""The host that serves the registry API for :data:`DEFAULT_DOMAIN`."""
OFFICIAL_REPO_PREFIX = "library/"
"""Prefix of Docker Hub's official images (``ubuntu`` is ``library/ubuntu``)."""
DEFAULT_TAG = "latest"
"""The tag Docker uses when a reference has neither tag nor digest."""
MAX_PATH_LENGTH = 255
"""The longest allowed path (the name without its domain)."""

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_COMPONENT_RE = re.compile(_COMPONENT)
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
_ALGORITHM_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
_IMAGE_ID_RE = re.compile(r"[0-9a-f]{64}")
_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}
_PORT_RE = re.compile(r":([0-9]+)\Z")


def _quote(text: str, limit: int = 80) -> str:
    """Quote ``text`` for an error message, shortening it past ``limit`` characters."""
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} characters)"
    return repr(text)


def _invalid(text: str, reason: str) -> InvalidReference:
    """Build the error for input ``text`` rejected because of ``reason``."""
    return InvalidReference(f"invalid reference {_quote(text)}: {reason}")


def _tag_problem(tag: str) -> str | None:
    """Say what is wrong with ``tag``, or return None when it is valid."""
    if _TAG_RE.fullmatch(tag):
        return None
    if not tag:
        return "tag is empty"
    if len(tag) > 128:
        return f"tag {_quote(tag)} is longer than 128 characters"
    return (
        f"tag {_quote(tag)} is invalid: use letters, digits, '_', '.' and '-',"
        " not starting with '.' or '-'"
    )


def _digest_problem(digest: str) -> str | None:
    """Say what is wrong with ``digest``, or return None when it is valid."""
    if _DIGEST_RE.fullmatch(digest):
        return None
    algorithm, colon, encoded = digest.partition(":")
    if not colon or not _ALGORITHM_RE.fullmatch(algorithm) or not encoded:
        return f"digest {_quote(digest)} is malformed: expected '<algorithm>:<hex digits>'"
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        return (
            f"digest {_quote(digest)} uses unknown algorithm {algorithm!r}"
            " (supported: sha256, sha512)"
        )
    if not _HEX_RE.fullmatch(encoded):
        return f"digest {_quote(digest)} is not hexadecimal"
    if len(encoded) != expected:
        return (
            f"digest {_quote(digest)} has wrong length for {algorithm}"
            f" (expected {expected} hex digits, got {len(encoded)})"
        )
    return f"digest {_quote(digest)} must use lower-case hex digits"


def _path_problem(path: str) -> str | None:
    """Say what is wrong with repository path ``path``, or return None when it is valid."""
    if _PATH_RE.fullmatch(path):
        if len(path) > MAX_PATH_LENGTH:
            return (
                f"repository name longer than {MAX_PATH_LENGTH} characters ({len(path)} characters)"
            )
        return None
    if not path:
        return "repository name is empty"
    lowered = path.lower()
    if lowered != path and _PATH_RE.fullmatch(lowered):
        return "repository name must be lowercase"
    for component in path.split("/"):
        if not component:
            return "repository name has an empty path component (a leading, trailing or double '/')"
        if not _COMPONENT_RE.fullmatch(component):
            if component.lower() != component and _COMPONENT_RE.fullmatch(component.lower()):
                return "repository name must be lowercase"
            return (
                f"path component {_quote(component)} is invalid: use lower-case letters"
                " and digits, joined by '.', '_', '__' or '-'"
            )
    return f"repository name {_quote(path)} is invalid"  # pragma: no cover - defensive


def _port_problem(domain: str) -> str | None:
    """Say what is wrong with the port of a ``domain`` the grammar accepts, if anything.

    The grammar takes any digits (Go's reference package too); a registry
    cannot listen on port 0 or above 65535, so pydock refuses those at once.
    """
    match = _PORT_RE.search(domain)
    if match is None or 0 < int(match.group(1)) < 65536:
        return None
    return f"domain {_quote(domain)} is invalid: port {match.group(1)} is out of range 1-65535"


def _domain_problem(domain: str) -> str | None:
    """Say what is wrong with ``domain``, or return None when it is valid."""
    if _DOMAIN_RE.fullmatch(domain):
        return _port_problem(domain)
    if "%" in domain:
        return f"domain {_quote(domain)} is invalid: IPv6 zone IDs are not allowed"
    return f"domain {_quote(domain)} is not a valid registry host"


def _split_name(text: str, name: str) -> tuple[str, str]:
    """Split ``name`` into (domain, path) the strict way, validating both.

    The first component is the domain when a ``/`` follows it and it matches the
    domain grammar; otherwise the domain is ``""``.

    Raises:
        InvalidReference: ``name`` is not a valid repository name.
    """
    slash = name.find("/")
    if slash > 0 and _DOMAIN_RE.fullmatch(name, 0, slash):
        # When the rest is not a valid path, the whole name cannot be one either.
        path = name[slash + 1 :]
        problem = _port_problem(name[:slash]) or _path_problem(path)
        if problem is not None:
            raise _invalid(text, problem)
        return name[:slash], path
    problem = _path_problem(name)
    if problem is None:
        return "", name
    # Invalid either way: blame the domain when the first component can only be one.
    if slash > 0 and any(c in name[:slash] for c in ":[]%"):
        problem = _domain_problem(name[:slash]) or problem
    raise _invalid(text, _ipv6_problem(text) or problem)


def _ipv6_problem(text: str) -> str | None:
    """Explain a failure of ``text`` when it starts with an IPv6 domain, else return None."""
    if not text.startswith("["):
        return None
    first, slash, _ = text.partition("/")
    if slash:
        return _domain_problem(first)
    end = text.find("]")
    host = text[: end + 1] if end != -1 else text
    return f"domain {_quote(host)} must be followed by '/' and a repository path"


def _split_reference(rest: str) -> tuple[str, str | None, str | None]:
    """Cut ``rest`` into (name, tag, digest), without checking them.

    The split is forced by the grammar: ``@`` starts the digest, and a ``:`` after
    the last ``/`` starts the tag (a port's ``:`` is always followed by a ``/``).
    """
    name, at, digest = rest.partition("@")
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        return name[:colon], name[colon + 1 :], (digest if at else None)
    return name, None, (digest if at else None)


def _check_tag_and_digest(text: str, tag: str | None, digest: str | None) -> None:
    """Check the tag and the digest cut from input ``text``.

    Raises:
        InvalidReference: the tag or the digest is not valid.
    """
    problem = None if tag is None else _tag_problem(tag)
    if problem is None and digest is not None:
        problem = _digest_problem(digest)
    if problem is not None:
        raise _invalid(text, problem)


def _familiar_path(domain: str, path: str) -> str:
    """Return the familiar name for (domain, path): Docker Hub's domain and ``library/`` go."""
    if domain != DEFAULT_DOMAIN:
        return f"{domain}/{path}" if domain else path
    if path.startswith(OFFICIAL_REPO_PREFIX):
        remainder = path[len(OFFICIAL_REPO_PREFIX) :]
        if "/" not in remainder:
            return remainder
    return path


def _glob_char(char: str) -> str:
    """Escape one character for a regex character class."""
    return f"\\U{ord(char):08x}"


@functools.lru_cache(maxsize=256)
def _compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile a Go ``path.Match`` pattern to a regex, checking the whole pattern.

    Raises:
        ValueError: the pattern is malformed (Go's ``ErrBadPattern``).
    """
    bad = ValueError(f"bad pattern {pattern!r}")
    n = len(pattern)

    def class_char(i: int) -> tuple[str, int]:
        if i >= n or pattern[i] in "-]":
            raise bad
        if pattern[i] == "\\":
            i += 1
            if i >= n:
                raise bad
        if i + 1 >= n:  # the class is not closed
            raise bad
        return pattern[i], i + 1

    out: list[str] = []
    i = 0
    while i < n:
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\":
            if i + 1 >= n:
                raise bad
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "[":
            i += 1
            negated = i < n and pattern[i] == "^"
            if negated:
                i += 1
            ranges: list[str] = []
            count = 0
            while True:
                if i < n and pattern[i] == "]" and count:
                    i += 1
                    break
                low, i = class_char(i)
                high = low
                if pattern[i] == "-":
                    high, i = class_char(i + 1)
                count += 1
                if low <= high:  # Go accepts an empty range; it matches nothing
                    ranges.append(f"{_glob_char(low)}-{_glob_char(high)}")
            if ranges:
                out.append(("[^" if negated else "[") + "".join(ranges) + "]")
            else:
                out.append("[\\s\\S]" if negated else "(?!)")
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.DOTALL)


_setattr = object.__setattr__


@attrs.frozen
class ImageReference:
    """A parsed image reference, such as ``docker.io/library/ubuntu:22.04``.

    Build one with :meth:`parse`, :meth:`parse_name` or :meth:`parse_any`.
    Calling the class directly checks every field against the grammar.

    A digest-only reference (from :meth:`parse_any`, for an image ID) has
    ``domain == ""``, ``path == ""``, no tag, and a digest; its ``str()`` is the
    digest.

    Attributes:
        domain: The registry host, with an optional port (``docker.io``,
            ``localhost:5000``, ``[::1]:5000``); ``""`` when the reference has
            none (strict parsing only, or digest-only).
        path: The repository path within the registry (``library/ubuntu``).
        tag: The tag, or None.
        digest: The content digest (``sha256:<64 hex>`` or ``sha512:<128 hex>``),
            or None.

    Raises:
        InvalidReference: on direct construction, a field is not valid.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check the fields of a directly constructed reference.

        Raises:
            InvalidReference: a field is not valid.
        """
        problem: str | None = None
        if self.path == "":
            if self.domain or self.tag is not None or self.digest is None:
                problem = "a reference without a path must have only a digest"
        elif self.domain:
            problem = _domain_problem(self.domain)
        problem = problem or (_path_problem(self.path) if self.path else None)
        if problem is None and self.tag is not None:
            problem = _tag_problem(self.tag)
        if problem is None and self.digest is not None:
            problem = _digest_problem(self.digest)
        if problem is not None:
            raise _invalid(str(self), problem)

    @classmethod
    def _new(cls, domain: str, path: str, tag: str | None, digest: str | None) -> ImageReference:
        """Make a reference from fields already checked, skipping the checks."""
        ref = object.__new__(cls)
        _setattr(ref, "domain", domain)
        _setattr(ref, "path", path)
        _setattr(ref, "tag", tag)
        _setattr(ref, "digest", digest)
        return ref

    @classmethod
    def parse(cls, text: str, *, normalize: bool = True) -> ImageReference:
        """Parse an image reference.

        With ``normalize=True`` (the default) this is what the docker CLI does
        (Go's ``ParseNormalizedNamed``):

        * With no ``/``, the domain is ``docker.io`` and the path
          ``library/<name>``; a ``:`` is then always the tag separator
          (``localhost:5000`` is ``docker.io/library/localhost`` tag ``5000``).
        * Otherwise the first component is the domain when it is ``localhost``,
          contains ``.`` or ``:``, or has upper-case letters; if not, the domain
          is ``docker.io``.
        * ``index.docker.io`` becomes ``docker.io``, and on ``docker.io`` a path
          with one component gets the prefix ``library/``.
        * An input that is exactly 64 lower-case hex digits is rejected (it is an
          image ID; see :meth:`parse_any`).
        * No tag is added: see :meth:`with_default_tag` and :attr:`docker_ref`.

        With ``normalize=False`` this is the strict grammar (Go's ``Parse``): no
        defaults, and the first component is the domain whenever it matches the
        domain grammar and a ``/`` follows it (``library/ubuntu`` gets domain
        ``library``). ``str()`` of the result equals the input.

        Args:
            text: The reference, e.g. ``ubuntu:22.04`` or
                ``localhost:5000/team/app@sha256:...``.
            normalize: Apply the docker CLI defaults (see above).

        Returns:
            The reference.

        Raises:
            InvalidReference: ``text`` is not a valid reference; the message
                names the offending part.
        """
        if not normalize:
            name, tag, digest = _split_reference(text)
            if not name:
                raise _invalid(text, "repository name is empty" if text else "reference is empty")
            domain, path = _split_name(text, name)
            _check_tag_and_digest(text, tag, digest)
            return cls._new(domain, path, tag, digest)

        if _IMAGE_ID_RE.fullmatch(text):
            raise _invalid(
                text, "repository name cannot be a 64-character hexadecimal string (an image ID)"
            )
        slash = text.find("/")
        domain = DEFAULT_DOMAIN
        rest = text
        if slash != -1:
            first = text[:slash]
            if "." in first or ":" in first or first == "localhost" or first.lower() != first:
                domain, rest = first, text[slash + 1 :]
                problem = _domain_problem(domain)
                if problem is not None:
                    raise _invalid(text, problem)
                if domain == LEGACY_DEFAULT_DOMAIN:
                    domain = DEFAULT_DOMAIN
        path, tag, digest = _split_reference(rest)
        if not path:
            raise _invalid(text, "repository name is empty" if text else "reference is empty")
        if domain == DEFAULT_DOMAIN and "/" not in path:
            path = OFFICIAL_REPO_PREFIX + path
        problem = _path_problem(path)
        if problem is not None:
            raise _invalid(text, _ipv6_problem(text) or problem)
        _check_tag_and_digest(text, tag, digest)
        return cls._new(domain, path, tag, digest)

    @classmethod
    def parse_name(cls, text: str) -> ImageReference:
        """Parse a bare repository name, with no tag, digest or defaults (Go's ``WithName``).

        The domain/path split is the strict one of :meth:`parse` with
        ``normalize=False``.

        Args:
            text: The name, e.g. ``localhost:5000/team/app``.

        Returns:
            A reference with no tag and no digest.

        Raises:
            InvalidReference: ``text`` is not a valid repository name (a tag or
                digest is not allowed here).
        """
        if not text:
            raise _invalid(text, "repository name is empty")
        try:
            domain, path = _split_name(text, text)
        except InvalidReference:
            if "@" in text or text.rfind(":") > text.rfind("/"):
                raise _invalid(text, "a repository name cannot have a tag or digest") from None
            raise
        return cls._new(domain, path, None, None)

    @classmethod
    def parse_any(cls, text: str) -> ImageReference:
        """Parse a reference or an image ID (Go's ``ParseAnyReference``).

        Exactly 64 lower-case hex digits give the digest-only reference
        ``sha256:<hex>``; a valid digest string (``sha256:<hex>``,
        ``sha512:<hex>``) gives a digest-only reference too. A digest-only
        reference has ``domain == ""`` and ``path == ""``. Anything else is
        parsed like :meth:`parse` with ``normalize=True``.

        Args:
            text: A reference or an image ID.

        Returns:
            The reference.

        Raises:
            InvalidReference: ``text`` is neither an image ID nor a valid reference.
        """
        if _IMAGE_ID_RE.fullmatch(text):
            return cls._new("", "", None, "sha256:" + text)
        if _DIGEST_RE.fullmatch(text):
            return cls._new("", "", None, text)
        return cls.parse(text)

    @property
    def name(self) -> str:
        """The repository name: ``domain/path``, or just ``path`` when there is no domain."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def repository(self) -> str:
        """The repository name; the same as :attr:`name`."""
        return self.name

    @property
    def familiar_name(self) -> str:
        """The name as Docker shows it: ``docker.io/`` and ``library/`` dropped.

        ``library/`` is dropped only when no ``/`` remains after it
        (``docker.io/library/foo/bar`` gives ``library/foo/bar``).
        """
        return _familiar_path(self.domain, self.path)

    @property
    def familiar(self) -> str:
        """The reference as Docker shows it (Go's ``FamiliarString``): ``ubuntu:22.04``."""
        if not self.path:
            return self.digest or ""
        return self._with_suffix(_familiar_path(self.domain, self.path))

    @property
    def api_host(self) -> str:
        """The host to send registry API requests to.

        ``docker.io`` is served by ``registry-1.docker.io``; every other domain
        serves itself.

        Raises:
            InvalidReference: the reference has no domain (parse it with
                ``normalize=True`` to get ``docker.io``).
        """
        if not self.domain:
            raise InvalidReference(
                f"invalid reference {_quote(str(self))}: it has no domain;"
                " parse it with normalize=True"
            )
        if self.domain in (DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN):
            return DOCKER_HUB_API_HOST
        return self.domain

    @property
    def docker_ref(self) -> ImageReference:
        """The reference the docker engine would use (Go's ``ParseDockerRef``).

        Without tag or digest it gets the tag ``latest``; with a digest the tag
        is dropped, because the digest decides. A digest-only reference is
        returned unchanged.
        """
        if self.digest is not None:
            if self.tag is None:
                return self
            return self._new(self.domain, self.path, None, self.digest)
        if self.tag is None:
            return self._new(self.domain, self.path, DEFAULT_TAG, None)
        return self

    def with_tag(self, tag: str) -> ImageReference:
        """Return a copy with tag ``tag``; a digest, if any, is kept.

        Args:
            tag: The new tag.

        Returns:
            The new reference.

        Raises:
            InvalidReference: ``tag`` is not a valid tag, or this reference has
                no name (it is digest-only).
        """
        problem = _tag_problem(tag)
        if problem is not None:
            raise InvalidReference(problem)
        if not self.path:
            raise InvalidReference(
                f"invalid reference {_quote(str(self))}: a digest-only reference cannot have a tag"
            )
        return self._new(self.domain, self.path, tag, self.digest)

    def with_digest(self, digest: str) -> ImageReference:
        """Return a copy with digest ``digest``; a tag, if any, is kept.

        Args:
            digest: The new digest, ``sha256:<64 hex>`` or ``sha512:<128 hex>``.

        Returns:
            The new reference.

        Raises:
            InvalidReference: ``digest`` is not a valid digest.
        """
        problem = _digest_problem(digest)
        if problem is not None:
            raise InvalidReference(problem)
        return self._new(self.domain, self.path, self.tag, digest)

    def with_default_tag(self) -> ImageReference:
        """Return a copy tagged ``latest`` when there is neither tag nor digest.

        Returns:
            The new reference, or this one when it has a tag or a digest.
        """
        if self.tag is None and self.digest is None:
            return self._new(self.domain, self.path, DEFAULT_TAG, None)
        return self

    def familiar_match(self, pattern: str) -> bool:
        """Match a shell pattern against the familiar form (Go's ``FamiliarMatch``).

        The pattern uses Go's ``path.Match`` syntax: ``*`` matches any run of
        characters other than ``/``, ``?`` one such character, ``[...]`` a
        character class (``[^...]`` negated), and ``\\`` escapes. It is tried
        against :attr:`familiar` and then against :attr:`familiar_name`, so
        ``foo/*/baz`` matches ``foo/c/baz:tag``.

        Args:
            pattern: The pattern.

        Returns:
            Whether either form matches.

        Raises:
            ValueError: ``pattern`` is malformed.
        """
        regex = _compile_glob(pattern)
        if regex.fullmatch(self.familiar):
            return True
        return bool(self.path) and regex.fullmatch(self.familiar_name) is not None

    def _with_suffix(self, name: str) -> str:
        """Append ``:tag`` and ``@digest`` to ``name``."""
        if self.tag is not None:
            name = f"{name}:{self.tag}"
        if self.digest is not None:
            name = f"{name}@{self.digest}" if name else self.digest
        return name

    def __str__(self) -> str:
        """Return the canonical string (Go's ``String()``): ``name[:tag][@digest]``."""
        return self._with_suffix(self.name)
