"""DockerIgnore: Go conformance vectors, Docker's quirks, properties, and walk()."""

from __future__ import annotations

import fnmatch
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pydock._core.dockerignore import DockerIgnore

VECTORS_FILE = Path(__file__).resolve().parent.parent / "vectors" / "dockerignore_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------
# 1. Every conformance vector
# --------------------------------------------------------------------------------------


def test_vector_file_is_the_expected_one() -> None:
    assert len(VECTORS) == 145
    assert Counter(v["kind"] for v in VECTORS) == {"match": 138, "compile": 6, "readignore": 1}
    assert sum(1 for v in VECTORS if v["kind"] == "match" and v["error"]) == 18


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    kind = vector["kind"]
    if kind == "match":
        if vector["error"]:
            # Go fails in New() or, for "[Local-Only]/", on the first match; we fail early.
            with pytest.raises(ValueError):
                DockerIgnore(vector["patterns"]).is_excluded(vector["path"])
        else:
            ignore = DockerIgnore(vector["patterns"])
            assert ignore.is_excluded(vector["path"]) is vector["excluded"]
    elif kind == "compile":
        if vector["error"]:
            with pytest.raises(ValueError):
                DockerIgnore(vector["patterns"])
        else:
            ignore = DockerIgnore(vector["patterns"])
            assert len(ignore.patterns) == vector["pattern_count"]
            assert ignore.has_exclusions is vector["exclusions"]
            assert ignore.patterns == vector["cleaned_patterns"]
    else:
        assert kind == "readignore"
        assert DockerIgnore.read_patterns(vector["content"]) == vector["expected_patterns"]
        if "!" in vector["expected_patterns"]:
            with pytest.raises(ValueError, match="illegal exclusion"):
                DockerIgnore.from_text(vector["content"])


# --------------------------------------------------------------------------------------
# 2. Docker's quirks, derived from patternmatcher's source (Go regexp semantics)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        # "**" + literal is a plain suffix test, not a path-element match.
        ("**file", "myfile", True),
        ("**/file", "myfile", False),
        ("**/file", "file", True),
        # "literal**" is a plain prefix test.
        ("a**", "abc/d", True),
        ("abc/**", "abc", False),
        # Without wildcards "^" is literal; in a regular expression it anchors the start.
        ("a^b", "a^b", True),
        ("a^b*", "a^bc", False),
        # Escapes and classes are Go regexp syntax.
        ("\\d", "5", True),
        ("\\d", "d", False),
        ("\\x41", "A", True),
        ("[[:digit:]]", "5", True),
        ("[[:digit:]]", "d]", False),
        ("[\\d]", "7", True),
        ("a\\.b", "a.b", True),
        ("a\\.b", "axb", False),
        # "*" inside brackets becomes "[^/]*", which closes the class early.
        ("[*]", "*", False),
        ("[*]", "]", True),
        # A negated class may match "/", unlike "?".
        ("a[^x]b", "a/b", True),
        ("a?b", "a/b", False),
        # Regexp special characters are literal.
        ("a+(b)|{c}$", "a+(b)|{c}$", True),
        ("a+(b)|{c}$*", "a+(b)|{c}$.txt", True),
        # Go's "." does not match a newline, but "[^/]" does.
        ("a**", "a\nb", True),
        ("a/**/b", "a/x\ny/b", False),
        ("a*b", "a\nb", True),
        # A leading byte-order mark is ignored by the regexp compiler only.
        ("\ufeff*.go", "x.go", True),
        ("\ufeffx.go", "x.go", False),
        ("\ufeffx.go", "\ufeffx.go", True),
        # Patterns are cleaned, paths too.
        ("a/./b/../c/", "a/c/d", True),
        ("a", "./a//b/", True),
    ],
)
def test_docker_quirks(pattern: str, path: str, excluded: bool) -> None:
    assert DockerIgnore([pattern]).is_excluded(path) is excluded


@pytest.mark.parametrize(
    "pattern",
    [
        "\\e",  # unknown escape letter
        "\\1",  # backreference
        "\\é",  # escaped non-ASCII character
        "\\C",
        "\\x4",
        "\\x{}",
        "[[:foo:]]",  # unknown POSIX class
        "[z-a]x",  # filepath.Match accepts it, Go's regexp does not
        "a[",
        "[^]",
        "\\pL",  # Unicode classes: not supported by this port
        "!",
        "  !  ",
        "!/",  # cleaned to "!"
    ],
)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(ValueError):
        DockerIgnore([pattern])


def test_error_message_names_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"a\["):
        DockerIgnore(["ok", "a["])


# --------------------------------------------------------------------------------------
# 3. Parsing a .dockerignore file, and the constructor
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "patterns"),
    [
        ("\ufeff*.go\n", ["*.go"]),
        ("a\n\ufeffb", ["a", "\ufeffb"]),  # the BOM is only dropped from the first line
        ("# comment\n  # not a comment\n", ["# not a comment"]),
        ("a\r\n!b\r\n\r\n", ["a", "!b"]),
        ("\u3000a\xa0\n\t\n", ["a"]),  # Go's TrimSpace knows Unicode spaces
        ("\x1ca", ["\x1ca"]),  # ...but not the information separators Python strips
        ("/a/b\n/\n! /x\n!/", ["a/b", "/", "!x", "!/"]),
        ("a/../b/./c/\n../x\n//y//", ["b/c", "../x", "y"]),
        ("a\u2028b\x0bc", ["a\u2028b\x0bc"]),  # only "\n" separates lines
        ("", []),
    ],
)
def test_read_patterns(text: str, patterns: list[str]) -> None:
    assert DockerIgnore.read_patterns(text) == patterns


def test_read_patterns_accepts_bytes() -> None:
    assert DockerIgnore.read_patterns(b"\xef\xbb\xbfa\n!b\xff\n") == ["a", "!b\udcff"]


def test_from_text() -> None:
    ignore = DockerIgnore.from_text("*.key\n!keep.key\n/build\n")
    assert ignore.patterns == ["*.key", "!keep.key", "build"]
    assert ignore.has_exclusions
    assert ignore.is_excluded("a.key")
    assert not ignore.is_excluded("keep.key")
    assert ignore.is_excluded("build/out.o")


def test_from_text_rejects_a_bare_exclamation_mark() -> None:
    with pytest.raises(ValueError, match="illegal exclusion"):
        DockerIgnore.from_text("a\n!\n")


def test_constructor_keeps_a_leading_slash() -> None:
    ignore = DockerIgnore(["/a"])
    assert ignore.patterns == ["/a"]
    assert not ignore.is_excluded("a")
    assert ignore.is_excluded("/a/b")
    assert DockerIgnore.from_text("/a").is_excluded("a")


def test_constructor_rejects_a_single_string() -> None:
    with pytest.raises(TypeError):
        DockerIgnore("*.go")


def test_empty_and_blank_patterns() -> None:
    ignore = DockerIgnore(["", "  ", "\t"])
    assert ignore.patterns == []
    assert not ignore.has_exclusions
    assert not ignore.is_excluded("anything")
    assert not DockerIgnore().is_excluded("anything")


def test_root_is_never_excluded() -> None:
    ignore = DockerIgnore(["**", "*", "."])
    for path in (".", "", "./", "a/.."):
        assert not ignore.is_excluded(path)
    assert ignore.is_excluded("a")


def test_path_types() -> None:
    ignore = DockerIgnore(["a/b"])
    assert ignore.is_excluded(PurePosixPath("a/b/c"))
    assert not ignore.is_excluded(PurePosixPath("a"))


def test_repr_eq_hash() -> None:
    first = DockerIgnore(["a/", " !b "])
    second = DockerIgnore(["a", "!b"])
    assert repr(first) == "DockerIgnore(['a', '!b'])"
    assert first == second
    assert hash(first) == hash(second)
    assert first != DockerIgnore(["a"])
    assert first != ["a", "!b"]
    assert DockerIgnore(first.patterns) == first


# --------------------------------------------------------------------------------------
# 4. Properties
# --------------------------------------------------------------------------------------

SEGMENTS = st.text(alphabet="abz09_-.~ +()$", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)
LITERAL_PATHS = (
    st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join).filter(lambda p: p == p.strip())
)


@given(LITERAL_PATHS, LITERAL_PATHS)
def test_literal_pattern_excludes_itself_and_its_children(path: str, child: str) -> None:
    ignore = DockerIgnore([path])
    assert ignore.is_excluded(path)
    assert ignore.is_excluded(f"{path}/{child}")
    assert not ignore.is_excluded(path + "x")
    assert not ignore.is_excluded(f"x{path}")


@given(LITERAL_PATHS, LITERAL_PATHS)
def test_exception_of_the_same_pattern_reincludes(path: str, child: str) -> None:
    ignore = DockerIgnore([path, "!" + path])
    assert ignore.has_exclusions
    assert not ignore.is_excluded(path)
    assert not ignore.is_excluded(f"{path}/{child}")


GLOB_SEGMENTS = st.text(alphabet="ab*?", min_size=1, max_size=4).filter(lambda s: "**" not in s)
GLOBS = st.lists(GLOB_SEGMENTS, min_size=1, max_size=3).map("/".join)
RULES = st.lists(st.tuples(st.booleans(), GLOBS), max_size=5)
PATHS = st.lists(st.text(alphabet="ab", min_size=1, max_size=4), min_size=1, max_size=4).map(
    "/".join
)


def _oracle(rules: Sequence[tuple[bool, str]], path: str) -> bool:
    """Last match wins; a glob matches a path or a parent, element by element."""
    elements = path.split("/")
    candidates = ["/".join(elements[: i + 1]) for i in range(len(elements))]

    def glob_matches(glob: str, candidate: str) -> bool:
        parts, names = glob.split("/"), candidate.split("/")
        return len(parts) == len(names) and all(
            fnmatch.fnmatchcase(n, p) for p, n in zip(parts, names, strict=True)
        )

    excluded = False
    for exception, glob in rules:
        if any(glob_matches(glob, c) for c in candidates):
            excluded = not exception
    return excluded


@given(RULES, PATHS)
def test_agrees_with_a_simple_model_without_double_stars(
    rules: list[tuple[bool, str]], path: str
) -> None:
    ignore = DockerIgnore([("!" if exception else "") + glob for exception, glob in rules])
    assert ignore.is_excluded(path) is _oracle(rules, path)


@given(RULES, PATHS)
def test_last_matching_pattern_wins(rules: list[tuple[bool, str]], path: str) -> None:
    patterns = [("!" if exception else "") + glob for exception, glob in rules]
    assert DockerIgnore([*patterns, path]).is_excluded(path)
    assert not DockerIgnore([*patterns, path, "!" + path]).is_excluded(path)
    assert not DockerIgnore([*patterns, "!" + path]).is_excluded(path)


# --------------------------------------------------------------------------------------
# 5. walk()
# --------------------------------------------------------------------------------------

TREE = [
    ".dockerignore",
    "Dockerfile",
    "a/b/c.txt",
    "a/b/d.log",
    "a/e.txt",
    "a-b/z",
    "ab/c.txt",
    "b/a/c.txt",
    "build/Dockerfile.dev",
    "build/out.o",
    "docs/README.md",
    "docs/x/y.md",
    "node_modules/keep.txt",
    "node_modules/x/index.js",
]


def _make_tree(root: Path) -> Path:
    for relative in TREE:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(relative, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_tree(tmp_path_factory.mktemp("context"))


def _all_paths(root: Path, prefix: str = "") -> Iterator[str]:
    """Every path under root, depth first, names in byte order."""
    for name in sorted(os.listdir(root), key=os.fsencode):
        yield prefix + name
        if (root / name).is_dir() and not (root / name).is_symlink():
            yield from _all_paths(root / name, f"{prefix}{name}/")


def test_walk_without_patterns_lists_everything(context: Path) -> None:
    listed = list(DockerIgnore().walk(context))
    assert listed == list(_all_paths(context))
    # Per-directory byte order: "a" and everything in it come before "a-b".
    assert listed.index("a/e.txt") < listed.index("a-b")


def test_walk_excludes_and_reincludes(context: Path) -> None:
    ignore = DockerIgnore.from_text("node_modules\n*.log\n**/*.log\ndocs\n!docs/README.md\nbuild\n")
    assert list(ignore.walk(context)) == [
        ".dockerignore",
        "Dockerfile",
        "a",
        "a/b",
        "a/b/c.txt",
        "a/e.txt",
        "a-b",
        "a-b/z",
        "ab",
        "ab/c.txt",
        "b",
        "b/a",
        "b/a/c.txt",
        "docs/README.md",  # re-included; the excluded "docs" itself is not listed
    ]


def test_walk_reincludes_through_wildcards(context: Path) -> None:
    ignore = DockerIgnore(["a", "!a/*/c.txt", "*/*/*"])
    assert [p for p in ignore.walk(context) if p.startswith("a/")] == []
    ignore = DockerIgnore(["a", "!a/*/c.txt"])
    assert [p for p in ignore.walk(context) if p.startswith("a/")] == ["a/b/c.txt"]


def test_walk_always_includes_dockerfile_and_dockerignore(context: Path) -> None:
    ignore = DockerIgnore.from_text("*\n")
    assert list(ignore.walk(context)) == [".dockerignore", "Dockerfile"]
    ignore = DockerIgnore.from_text("Dockerfile\n.dockerignore\nbuild\n")
    listed = list(ignore.walk(context, always_include=["./build/Dockerfile.dev", ".dockerignore"]))
    assert ".dockerignore" in listed
    assert "build/Dockerfile.dev" in listed
    assert "Dockerfile" not in listed
    assert "build" not in listed
    assert "build/out.o" not in listed
    assert list(DockerIgnore(["*"]).walk(context, always_include=())) == []


def test_walk_skips_excluded_directories(context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir
    read: list[str] = []

    def recording_scandir(path: str) -> Any:
        read.append(Path(path).relative_to(context).as_posix())
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)

    list(DockerIgnore(["node_modules", "docs", "!docs/README.md", "!a/b"]).walk(context))
    assert "node_modules" not in read
    assert "node_modules/x" not in read
    assert "docs" in read  # an exception may match inside
    assert "docs/x" not in read

    read.clear()
    list(DockerIgnore(["node_modules", "!node_modules/keep.txt"]).walk(context))
    assert "node_modules" in read
    assert "node_modules/x" not in read

    read.clear()
    list(DockerIgnore(["node_modules", "!**/index.js"]).walk(context))
    assert "node_modules/x" in read


def test_walk_lists_symlinks_without_following_them(tmp_path: Path) -> None:
    _make_tree(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path / "a", target_is_directory=True)
    listed = list(DockerIgnore(["a"]).walk(tmp_path))
    assert "link" in listed
    assert "a" not in listed
    assert not [p for p in listed if p.startswith(("link/", "a/"))]


def test_walk_errors_on_a_missing_root(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        list(DockerIgnore().walk(tmp_path / "missing"))


WALK_SEGMENTS = st.sampled_from(
    ["a", "b", "ab", "c.txt", "*", "?", "**", "*.txt", "node_modules", "docs", "x", "a*", "*b"]
)
WALK_RULES = st.lists(
    st.tuples(st.booleans(), st.lists(WALK_SEGMENTS, min_size=1, max_size=3).map("/".join)),
    max_size=5,
)


@given(WALK_RULES, st.booleans())
def test_walk_lists_exactly_the_kept_paths(
    context: Path, rules: list[tuple[bool, str]], keep_build_files: bool
) -> None:
    patterns = [("!" if exception else "") + glob for exception, glob in rules]
    assume(patterns != ["!"])
    ignore = DockerIgnore(patterns)
    always = ("Dockerfile", ".dockerignore") if keep_build_files else ()
    expected = [p for p in _all_paths(context) if p in always or not ignore.is_excluded(p)]
    assert list(ignore.walk(context, always_include=always)) == expected
