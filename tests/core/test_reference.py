"""Image references: Go conformance vectors, properties, and the brief's examples."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from pydock._core.reference import ImageReference
from pydock.errors import InvalidReference

VECTORS_FILE = Path(__file__).resolve().parent.parent / "vectors" / "reference_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))

SHA256 = "sha256:" + "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
SHA512 = "sha512:" + "f" * 128

Parts: TypeAlias = "tuple[str, str, str | None, str | None]"
"""(domain, path, tag, digest)."""


def _strict(text: str) -> ImageReference:
    return ImageReference.parse(text, normalize=False)


PARSERS: dict[str, Callable[[str], ImageReference]] = {
    "normalized": ImageReference.parse,
    "strict": _strict,
    "name": ImageReference.parse_name,
    "any": ImageReference.parse_any,
}


# --------------------------------------------------------------------------------------
# 1. Every conformance vector
# --------------------------------------------------------------------------------------


def test_vector_file_is_the_expected_one() -> None:
    assert len(VECTORS) == 288
    go_specific = sorted(v["id"] for v in VECTORS if v.get("go_specific"))
    assert go_specific == ["TestMatchError/1", "TestReferenceParse/14"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    parse = PARSERS[vector["mode"]]
    text: str = vector["input"]

    if vector["id"] == "TestReferenceParse/14":
        # go_specific: Go's test binary does not link sha512, so Go rejects this.
        # pydock supports sha512 digests (128 hex digits) and accepts it.
        ref = parse(text)
        assert (ref.domain, ref.path, ref.tag) == ("", "validname", None)
        assert ref.digest == text.partition("@")[2]
        assert str(ref) == text
        return

    if not vector["valid"]:
        with pytest.raises(InvalidReference):
            parse(text)
        return

    ref = parse(text)
    if "domain" in vector:
        assert ref.domain == vector["domain"]
        assert ref.path == vector["path"]
        assert ref.name == vector["name"]
        assert ref.repository == vector["name"]
    else:
        # A digest-only reference (parse_any of an image ID): no domain, no path.
        assert (ref.domain, ref.path, ref.name) == ("", "", "")
    assert ref.tag == vector["tag"]
    assert ref.digest == vector["digest"]
    assert str(ref) == vector["canonical"]
    if "familiar" in vector:
        assert ref.familiar == vector["familiar"]
    if "docker_ref" in vector:
        assert str(ref.docker_ref) == vector["docker_ref"]
    if "input_is_canonical" in vector:
        # Go's ParseNamed accepts exactly the inputs that are already canonical.
        assert (str(ref) == text) is vector["input_is_canonical"]
    if "familiar_match" in vector:
        match = vector["familiar_match"]
        if match.get("error"):
            # go_specific (TestMatchError): '[-x]' is malformed for Go's path.Match;
            # pydock uses the same pattern rules and raises ValueError.
            with pytest.raises(ValueError, match="bad pattern"):
                ref.familiar_match(match["pattern"])
        else:
            assert ref.familiar_match(match["pattern"]) is match["matched"]


# --------------------------------------------------------------------------------------
# 2. Properties
# --------------------------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")

alnums = st.text(ALNUM, min_size=1, max_size=6)
separators = st.sampled_from([".", "_", "__", "-", "---"])
components = st.builds(
    lambda first, rest: first + "".join(sep + run for sep, run in rest),
    alnums,
    st.lists(st.tuples(separators, alnums), max_size=3),
)
paths = st.lists(components, min_size=1, max_size=4).map("/".join)
labels = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True)
hostnames = st.lists(labels, min_size=1, max_size=3).map(".".join)
ipv6_hosts = st.ip_addresses(v=6).map(str).filter(lambda a: "." not in a).map(lambda a: f"[{a}]")
domains = st.builds(
    lambda host, port: host if port is None else f"{host}:{port}",
    st.one_of(hostnames, ipv6_hosts, st.just("localhost")),
    st.none() | st.integers(1, 65535).map(str),
)
tags = st.from_regex(TAG_RE, fullmatch=True)
digests = st.one_of(
    st.text(HEX, min_size=64, max_size=64).map(lambda h: "sha256:" + h),
    st.text(HEX, min_size=128, max_size=128).map(lambda h: "sha512:" + h),
)


@st.composite
def reference_parts(
    draw: st.DrawFn,
) -> tuple[str | None, str, str | None, str | None]:
    """(domain or None, path, tag or None, digest or None), all valid."""
    return (
        draw(st.none() | domains),
        draw(paths),
        draw(st.none() | tags),
        draw(st.none() | digests),
    )


def _join(domain: str | None, path: str, tag: str | None, digest: str | None) -> str:
    text = path if domain is None else f"{domain}/{path}"
    if tag is not None:
        text += ":" + tag
    if digest is not None:
        text += "@" + digest
    return text


def _is_documented_rejection(text: str) -> bool:
    """Normalization takes ``a_b.c`` in ``a_b.c/x`` for a domain and pydock rejects it."""
    first, slash, _ = text.partition("/")
    return bool(slash) and "." in first and "_" in first


@given(parts=reference_parts())
def test_strict_parse_keeps_the_input(
    parts: tuple[str | None, str, str | None, str | None],
) -> None:
    domain, path, tag, digest = parts
    text = _join(domain, path, tag, digest)
    ref = _strict(text)
    assert str(ref) == text
    assert (ref.tag, ref.digest) == (tag, digest)
    if domain is not None:
        assert (ref.domain, ref.path) == (domain, path)
    else:
        assert ref.name == path  # the first component may be split off as a domain
    assert _strict(str(ref)) == ref


@given(parts=reference_parts())
def test_normalized_round_trip(parts: tuple[str | None, str, str | None, str | None]) -> None:
    text = _join(*parts)
    try:
        ref = ImageReference.parse(text)
    except InvalidReference:
        assert _is_documented_rejection(text)
        return
    assert ref.domain
    assert ImageReference.parse(str(ref)) == ref
    # The canonical string is fully qualified, so strict parsing agrees.
    assert _strict(str(ref)) == ref
    assert (ref.tag, ref.digest) == parts[2:]


@given(parts=reference_parts())
def test_familiar_round_trip(parts: tuple[str | None, str, str | None, str | None]) -> None:
    domain, path, tag, digest = parts
    # Go's familiar form of docker.io/a.b/c is a.b/c, which reads back with domain a.b;
    # keep the first path component free of what normalization takes for a domain.
    assume("." not in path.split("/")[0] and path.split("/")[0] != "localhost")
    ref = ImageReference.parse(_join(domain, path, tag, digest))
    assert ImageReference.parse(ref.familiar) == ref
    assert ImageReference.parse(ref.familiar_name) == attrs.evolve(ref, tag=None, digest=None)


@given(parts=reference_parts(), tag=tags)
def test_with_tag(parts: tuple[str | None, str, str | None, str | None], tag: str) -> None:
    ref = _strict(_join(*parts))
    tagged = ref.with_tag(tag)
    assert (tagged.domain, tagged.path, tagged.tag, tagged.digest) == (
        ref.domain,
        ref.path,
        tag,
        ref.digest,
    )
    assert _strict(str(tagged)) == tagged
    assert tagged.with_default_tag() == tagged


@given(parts=reference_parts(), digest=digests)
def test_with_digest(parts: tuple[str | None, str, str | None, str | None], digest: str) -> None:
    ref = _strict(_join(*parts))
    pinned = ref.with_digest(digest)
    assert (pinned.domain, pinned.path, pinned.tag, pinned.digest) == (
        ref.domain,
        ref.path,
        ref.tag,
        digest,
    )
    assert _strict(str(pinned)) == pinned
    assert pinned.docker_ref == attrs.evolve(pinned, tag=None)


@given(tag=st.text(max_size=140).filter(lambda t: not TAG_RE.fullmatch(t)))
@example(tag="")
@example(tag=".x")
@example(tag="-x")
@example(tag="a" * 129)
@example(tag="caf\u00e9")
def test_invalid_tags_are_rejected(tag: str) -> None:
    ref = ImageReference.parse("ubuntu")
    with pytest.raises(InvalidReference, match="tag"):
        ref.with_tag(tag)
    # With '/' or '@' the text would be read differently ('ubuntu:1/x' is a port).
    assume("/" not in tag and "@" not in tag)
    with pytest.raises(ValueError):
        ImageReference.parse(f"ubuntu:{tag}")


@given(digest=st.text(max_size=140).filter(lambda d: not DIGEST_RE.fullmatch(d)))
@example(digest="sha256:" + "F" * 64)
@example(digest="sha256:" + "f" * 63)
@example(digest="sha384:" + "f" * 96)
@example(digest="md5:" + "f" * 32)
@example(digest="sha256")
def test_invalid_digests_are_rejected(digest: str) -> None:
    ref = ImageReference.parse("ubuntu")
    with pytest.raises(InvalidReference, match="digest"):
        ref.with_digest(digest)
    assume("@" not in digest)
    with pytest.raises(ValueError):
        ImageReference.parse(f"ubuntu@{digest}")


# A transliteration of the Go grammar (nested regexes, leftmost-first), used as an
# oracle for the hand-written splitter in pydock._core.reference.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_REMOTE = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_GO_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
GO_REFERENCE = re.compile(
    rf"((?:{_DOMAIN}/)?{_REMOTE})(?::([\w][\w.-]{{0,127}}))?(?:@({_GO_DIGEST}))?\Z", re.ASCII
)
GO_NAME = re.compile(rf"(?:({_DOMAIN})/)?({_REMOTE})\Z", re.ASCII)


def _oracle_strict(text: str) -> Parts | None:
    match = GO_REFERENCE.match(text)
    if match is None:
        return None
    name = GO_NAME.match(match[1])
    assert name is not None
    domain, path = name[1] or "", name[2]
    if len(path) > 255 or (match[3] is not None and not DIGEST_RE.fullmatch(match[3])):
        return None
    # pydock's one departure from the grammar: a port must be 1-65535.
    port = re.search(r":([0-9]+)\Z", domain)
    if port is not None and not 0 < int(port[1]) < 65536:
        return None
    return domain, path, match[2], match[3]


def _oracle_normalized(text: str) -> Parts | None:
    if re.fullmatch(r"[a-f0-9]{64}", text):
        return None
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", text
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        return None
    return _oracle_strict(f"{domain}/{remainder}")


NOISE = [*":/@.-_[]%Aa0", "sha256:", "sha512:", "//", "localhost", "__", "--"]


@st.composite
def mangled_texts(draw: st.DrawFn) -> str:
    """Valid references with a few characters inserted, replaced or removed."""
    text = _join(*draw(reference_parts()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "replace", "delete"]))
        piece = draw(st.sampled_from(NOISE))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "replace":
            text = text[:at] + piece + text[at + 1 :]
        else:
            text = text[:at] + text[at + 1 :]
    return text


def _parts(parse: Callable[[str], ImageReference], text: str) -> Parts | None:
    try:
        ref = parse(text)
    except InvalidReference:
        return None
    return (ref.domain, ref.path, ref.tag, ref.digest)


@given(text=mangled_texts() | st.text(alphabet="ab0.-_:/@[]%A", max_size=24))
@example(text="a_b.c/x")
@example(text="[::1]/x")
@example(text="A/b")
def test_agrees_with_the_go_grammar(text: str) -> None:
    assert _parts(_strict, text) == _oracle_strict(text)
    expected = _oracle_normalized(text)
    if expected is not None and expected[0] == "":
        # Go accepts e.g. 'a_b.c/x' with an empty domain; pydock rejects it (documented).
        expected = None
    assert _parts(ImageReference.parse, text) == expected


# --------------------------------------------------------------------------------------
# 3. The brief's examples and the rest of the API
# --------------------------------------------------------------------------------------


def test_docker_hub_names() -> None:
    ref = ImageReference.parse("docker/whalesay")
    assert ref == ImageReference.parse("docker.io/docker/whalesay")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (
        "docker.io",
        "docker/whalesay",
        None,
        None,
    )
    assert str(ref) == "docker.io/docker/whalesay"
    assert ref.familiar == "docker/whalesay"
    assert ImageReference.parse("index.docker.io/library/ubuntu") == ImageReference.parse("ubuntu")
    assert ImageReference.parse("ubuntu").path == "library/ubuntu"
    assert ImageReference.parse("ubuntu").name == "docker.io/library/ubuntu"


def test_local_registry_with_port_and_tag() -> None:
    ref = ImageReference.parse("localhost:5000/a/b:1")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "a/b", "1", None)
    assert ref.familiar == "localhost:5000/a/b:1"
    assert ref.api_host == "localhost:5000"


def test_ipv6_domain_with_digest() -> None:
    ref = ImageReference.parse(f"[::1]:5000/x@{SHA256}")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("[::1]:5000", "x", None, SHA256)
    assert str(ref) == f"[::1]:5000/x@{SHA256}"
    assert ImageReference.parse("[::1]/x").domain == "[::1]"
    with pytest.raises(InvalidReference, match="zone"):
        ImageReference.parse("[fe80::1%eth0]:5000/x")


def test_strict_mode_has_no_defaults() -> None:
    ref = ImageReference.parse("Test:5000/x", normalize=False)
    assert (ref.domain, ref.path) == ("Test:5000", "x")
    assert ImageReference.parse("ubuntu", normalize=False) == ImageReference("", "ubuntu")
    assert ImageReference.parse("library/ubuntu", normalize=False).domain == "library"


@pytest.mark.parametrize(
    ("text", "normalize", "fragments"),
    [
        ("Foo:bar", True, ["'Foo:bar'", "repository name must be lowercase"]),
        ("Foo:bar", False, ["'Foo:bar'", "repository name must be lowercase"]),
        ("ubuntu:x~", True, ["tag 'x~'"]),
        ("ubuntu:.x", True, ["tag '.x'"]),
        ("ubuntu@sha256:abc", True, ["digest 'sha256:abc'", "wrong length for sha256"]),
        (f"ubuntu@{SHA256.upper()}", True, ["unknown algorithm 'SHA256'"]),
        ("ubuntu@md5:" + "0" * 32, True, ["unknown algorithm 'md5'"]),
        ("ubuntu@sha256:" + "A" * 64, True, ["lower-case hex"]),
        ("ubuntu@nope", True, ["digest 'nope' is malformed"]),
        ("x/" + "a" * 300, True, ["repository name longer than 255 characters"]),
        ("bad_host:80/app", True, ["domain 'bad_host:80'"]),
        ("docker///docker", True, ["empty path component"]),
        ("-docker/x", True, ["path component '-docker'"]),
        ("a" * 64, True, ["hexadecimal"]),
        ("", True, ["empty"]),
        ("", False, ["empty"]),
        (":tag", False, ["repository name is empty"]),
        ("[::1]:5000", True, ["domain '[::1]' must be followed by '/'"]),
        ("a_b.c/x", True, ["domain 'a_b.c'"]),
    ],
)
def test_messages_name_the_offending_part(text: str, normalize: bool, fragments: list[str]) -> None:
    with pytest.raises(InvalidReference) as caught:
        ImageReference.parse(text, normalize=normalize)
    assert isinstance(caught.value, ValueError)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_parse_name_takes_names_only() -> None:
    ref = ImageReference.parse_name("localhost:5000/team/app")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "team/app", None, None)
    with pytest.raises(InvalidReference, match="tag or digest"):
        ImageReference.parse_name("example.com/repo:tag")
    with pytest.raises(InvalidReference, match="tag or digest"):
        ImageReference.parse_name(f"repo@{SHA256}")


def test_digest_algorithms() -> None:
    assert ImageReference.parse(f"busybox@{SHA512}").digest == SHA512
    with pytest.raises(InvalidReference, match="unknown algorithm 'sha384'"):
        ImageReference.parse("busybox@sha384:" + "f" * 96)
    with pytest.raises(InvalidReference, match="wrong length for sha512"):
        ImageReference.parse(f"busybox@{SHA512[:-1]}")


def test_parse_any_gives_digest_only_references() -> None:
    image_id = SHA256.partition(":")[2]
    ref = ImageReference.parse_any(image_id)
    assert ref == ImageReference.parse_any(SHA256) == ImageReference("", "", digest=SHA256)
    assert (ref.domain, ref.path, ref.name, ref.tag, ref.digest) == ("", "", "", None, SHA256)
    assert str(ref) == ref.familiar == SHA256
    assert ref.docker_ref is ref
    assert ref.with_default_tag() is ref
    assert ref.with_digest(SHA512).digest == SHA512
    assert ImageReference.parse_any(SHA512).digest == SHA512
    with pytest.raises(InvalidReference, match="digest-only"):
        ref.with_tag("latest")
    with pytest.raises(InvalidReference, match="no domain"):
        _ = ref.api_host
    assert not ref.familiar_match("x")
    assert ref.familiar_match("sha256:*")
    # Not a valid digest string: parsed as a name (Go does the same).
    assert str(ImageReference.parse_any("sha256:abc")) == "docker.io/library/sha256:abc"
    assert ImageReference.parse_any("redis") == ImageReference.parse("redis")


def test_tags_and_docker_ref() -> None:
    ref = ImageReference.parse("busybox")
    assert str(ref.with_default_tag()) == "docker.io/library/busybox:latest"
    assert str(ref.docker_ref) == "docker.io/library/busybox:latest"
    assert ref.with_tag("1.36").with_default_tag().tag == "1.36"
    both = ImageReference.parse(f"busybox:1.36@{SHA256}")
    assert both.with_default_tag() is both
    assert both.docker_ref == ImageReference("docker.io", "library/busybox", digest=SHA256)
    assert both.with_tag("2").digest == SHA256
    assert both.with_digest(SHA512).tag == "1.36"
    tagged = ImageReference.parse("busybox:1.36")
    assert tagged.docker_ref is tagged


def test_familiar_forms() -> None:
    assert ImageReference.parse("docker.io/library/foo/bar").familiar == "library/foo/bar"
    assert ImageReference.parse("library/foo:1").familiar == "foo:1"
    assert ImageReference.parse("library/foo:1").familiar_name == "foo"
    assert ImageReference.parse("gcr.io/library/foo").familiar_name == "gcr.io/library/foo"
    assert ImageReference.parse("foo", normalize=False).familiar == "foo"


def test_api_host() -> None:
    assert ImageReference.parse("ubuntu").api_host == "registry-1.docker.io"
    assert ImageReference.parse("ghcr.io/a/b").api_host == "ghcr.io"
    with pytest.raises(InvalidReference, match="no domain"):
        _ = ImageReference.parse("ubuntu", normalize=False).api_host


@pytest.mark.parametrize(
    ("pattern", "text", "matched"),
    [
        ("foo", "foo:1", True),  # the familiar name matches when the full string does not
        ("foo:?", "foo:1", True),
        ("*", "a/b", False),  # '*' never crosses '/'
        ("*/*", "a/b", True),
        ("a/?", "a/b", True),
        ("a/[a-c]", "a/b", True),
        ("a/[^a-c]", "a/b", False),
        ("a/[^x]", "a/b", True),
        ("a/[\\b]", "a/b", True),
        ("a/[c-a]", "a/b", False),  # an empty range matches nothing
        ("a/[^c-a]", "a/b", True),
        ("\\a/b", "a/b", True),
        ("a.b/c", "a.b/c", True),
        ("a?b/c", "a.b/c", True),
    ],
)
def test_familiar_match(pattern: str, text: str, matched: bool) -> None:
    assert ImageReference.parse(text).familiar_match(pattern) is matched


@pytest.mark.parametrize("pattern", ["[", "[]", "[-x]", "[a-]", "[a", "a\\", "[x]]*[", "x[^"])
def test_familiar_match_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match="bad pattern"):
        ImageReference.parse("x").familiar_match(pattern)


def test_direct_construction_is_checked() -> None:
    ref = ImageReference("docker.io", "library/ubuntu", "22.04")
    assert ref == ImageReference.parse("ubuntu:22.04")
    assert hash(ref) == hash(ImageReference.parse("ubuntu:22.04"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("domain", "path", "tag", "digest"),
    [
        ("docker.io", "Ubuntu", None, None),
        ("bad_host", "x", None, None),
        ("docker.io", "x", "~", None),
        ("docker.io", "x", None, "sha256:1"),
        ("docker.io", "", None, None),
        ("", "", "tag", SHA256),
        ("", "", None, None),
    ],
)
def test_direct_construction_rejects_bad_fields(
    domain: str, path: str, tag: str | None, digest: str | None
) -> None:
    with pytest.raises(InvalidReference):
        ImageReference(domain, path, tag, digest)


def test_whole_input_must_match() -> None:
    for text in ["ubuntu\n", " ubuntu", "ubuntu ", "ub\u0131ntu", "ubuntu:l\u00e4test"]:
        with pytest.raises(InvalidReference):
            ImageReference.parse(text)
        with pytest.raises(InvalidReference):
            ImageReference.parse(text, normalize=False)
