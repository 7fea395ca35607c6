"""Tests for the Dockerfile model: builder, renderer and parser."""

from __future__ import annotations

import datetime
import json
import pickle
import re

import attrs
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from pydock._core.dockerfile import (
    Add,
    Arg,
    Cmd,
    Comment,
    Copy,
    Dockerfile,
    DockerfileParseError,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Instruction,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    parse_for_build,
)

# --------------------------------------------------------------------------- builder


API_EXAMPLE = """\
FROM busybox:local
MAINTAINER me
RUN adduser -D app
WORKDIR /home/app
USER app
ENV FOO=bar
EXPOSE 80
VOLUME /data
COPY --chown=app:app app.sh /app.sh
ENTRYPOINT ["/bin/sh"]
CMD ["/app.sh"]
"""


def _api_example() -> Dockerfile:
    return (
        Dockerfile()
        .from_("busybox:local")
        .maintainer("me")
        .run("adduser -D app")
        .workdir("/home/app")
        .user("app")
        .env(FOO="bar")
        .expose(80)
        .volume("/data")
        .copy("app.sh", "/app.sh", chown="app:app")
        .entrypoint(["/bin/sh"])
        .cmd(["/app.sh"])
    )


def test_api_example_renders_exactly() -> None:
    assert str(_api_example()) == API_EXAMPLE


def test_api_example_round_trips() -> None:
    df = _api_example()
    assert Dockerfile.parse(str(df)) == df
    assert Dockerfile.parse(API_EXAMPLE) == df


def test_api_example_instructions() -> None:
    assert _api_example().instructions == (
        From("busybox:local"),
        Maintainer("me"),
        Run("adduser -D app"),
        Workdir("/home/app"),
        User("app"),
        Env({"FOO": "bar"}),
        Expose(["80"]),
        Volume(["/data"]),
        Copy("app.sh", "/app.sh", chown="app:app"),
        Entrypoint(["/bin/sh"]),
        Cmd(["/app.sh"]),
    )


def test_builder_is_immutable() -> None:
    base = Dockerfile().from_("alpine")
    longer = base.run("true")
    assert len(base) == 1
    assert len(longer) == 2
    assert base.instructions == (From("alpine"),)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        base.escape = "`"  # type: ignore[misc]


def test_container_protocol() -> None:
    df = Dockerfile().from_("alpine").run("true").cmd("sh")
    assert len(df) == 3
    assert list(df) == [From("alpine"), Run("true"), Cmd("sh")]
    assert df[0] == From("alpine")
    assert df[-1] == Cmd("sh")
    assert df[1:] == (Run("true"), Cmd("sh"))
    assert Dockerfile(df.instructions) == df
    assert df.append(Run("a"), Run("b"))[3:] == (Run("a"), Run("b"))


def test_empty_dockerfile() -> None:
    assert str(Dockerfile()) == ""
    assert Dockerfile.parse("") == Dockerfile()
    assert Dockerfile.parse("\n\n  \n") == Dockerfile()
    assert len(Dockerfile()) == 0


def test_output_ends_with_newline() -> None:
    assert str(Dockerfile().from_("x")).endswith("x\n")


def test_every_builder_method() -> None:
    inner = Run("make")
    df = (
        Dockerfile(syntax="docker/dockerfile:1", check="skip=all")
        .comment("build stage")
        .arg("VERSION", "1.0")
        .arg("TARGETARCH")
        .from_("golang:1.22", alias="build", platform="$BUILDPLATFORM")
        .run(
            "go build ./...",
            mounts=["type=cache,target=/root/.cache"],
            network="none",
            security="sandbox",
            flags=["--device=x"],
        )
        .run(["go", "vet"])
        .add("https://example.com/a.tgz", "/a/", checksum="sha256:abc", chmod="644", link=True)
        .copy(["a", "b"], "/dst/", from_=0, chmod="755", link=True, flags=["--parents"])
        .label({"org.opencontainers.image.title": "demo"}, version="1.0")
        .env([("A", "1")], B="two words")
        .expose(80, "53/udp")
        .volume("/a", "/b")
        .shell(["/bin/bash", "-c"])
        .healthcheck(["curl", "-f", "http://localhost/"], interval="30s", retries=3)
        .healthcheck(None)
        .stopsignal("SIGQUIT")
        .stopsignal(9)
        .onbuild(inner)
        .user("1000:1000")
        .workdir("/srv")
        .entrypoint("exec app")
        .cmd("--help")
    )
    assert str(df) == (
        "# syntax=docker/dockerfile:1\n"
        "# check=skip=all\n"
        "# build stage\n"
        "ARG VERSION=1.0\n"
        "ARG TARGETARCH\n"
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none --security=sandbox"
        " --device=x go build ./...\n"
        'RUN ["go", "vet"]\n'
        "ADD --chmod=644 --checksum=sha256:abc --link https://example.com/a.tgz /a/\n"
        "COPY --from=0 --chmod=755 --link --parents a b /dst/\n"
        "LABEL org.opencontainers.image.title=demo version=1.0\n"
        'ENV A=1 B="two words"\n'
        "EXPOSE 80 53/udp\n"
        "VOLUME /a /b\n"
        'SHELL ["/bin/bash", "-c"]\n'
        'HEALTHCHECK --interval=30s --retries=3 CMD ["curl", "-f", "http://localhost/"]\n'
        "HEALTHCHECK NONE\n"
        "STOPSIGNAL SIGQUIT\n"
        "STOPSIGNAL 9\n"
        "ONBUILD RUN make\n"
        "USER 1000:1000\n"
        "WORKDIR /srv\n"
        "ENTRYPOINT exec app\n"
        "CMD -- --help\n"
    )
    assert Dockerfile.parse(str(df)) == df


def test_instruction_str_and_render() -> None:
    assert str(Run("echo hi")) == "RUN echo hi"
    assert Env({"A": "x y"}).render("`") == 'ENV A="x y"'
    assert str(Comment("")) == "#"
    with pytest.raises(ValueError, match="escape character"):
        Run("x").render("!")


# --------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("bar", "A=bar"),
        ("", 'A=""'),
        ("two words", 'A="two words"'),
        ('say "hi"', 'A="say \\"hi\\""'),
        ("it's", 'A="it\'s"'),
        ("C:\\dir", 'A="C:\\\\dir"'),
        ("/opt/bin:$PATH", "A=/opt/bin:$PATH"),
        ("${X:-y}", "A=${X:-y}"),
        ("cost \\$5", 'A="cost \\$5"'),
        ("caf\u00e9", "A=caf\u00e9"),
        ("tab\there", 'A="tab\there"'),
    ],
)
def test_env_value_quoting(value: str, rendered: str) -> None:
    df = Dockerfile().env(A=value)
    assert str(df) == f"ENV {rendered}\n"
    assert Dockerfile.parse(str(df)) == df


def test_env_quoting_with_backtick_escape() -> None:
    df = Dockerfile(escape="`").env(APPDIR="C:\\Program Files\\App", Q='a"b', T="a`b")
    assert str(df) == '# escape=`\nENV APPDIR="C:\\Program Files\\App" Q="a`"b" T="a``b"\n'
    assert Dockerfile.parse(str(df)) == df


def test_env_key_quoting() -> None:
    df = Dockerfile().label({"my key": "v", "com.example": "x"})
    assert str(df) == 'LABEL "my key"=v com.example=x\n'
    assert Dockerfile.parse(str(df)) == df


def test_copy_uses_json_form_when_needed() -> None:
    assert str(Copy("my file.txt", "/dest dir/")) == 'COPY ["my file.txt", "/dest dir/"]'
    assert str(Copy("--weird", "/d")) == 'COPY ["--weird", "/d"]'
    assert str(Copy("[x]", "/d")) == 'COPY ["[x]", "/d"]'
    assert str(Copy("<<EOF", "/d")) == 'COPY ["<<EOF", "/d"]'
    assert str(Copy("a", "C:\\dir\\")) == 'COPY ["a", "C:\\\\dir\\\\"]'
    assert Copy("a", "C:\\dir\\").render("`") == "COPY a C:\\dir\\"
    assert str(Volume(["/my data"])) == 'VOLUME ["/my data"]'
    assert str(Add(["a", "b"], "/c")) == "ADD a b /c"


def test_exec_form_json_escaping() -> None:
    command = ['say "hi"', "back\\slash", "new\nline", "tab\t", "\u00e9\u65e5", "$HOME"]
    line = str(Cmd(command))
    assert line == "CMD " + json.dumps(command, ensure_ascii=False)
    assert "\n" not in line
    df = Dockerfile().cmd(command)
    assert Dockerfile.parse(str(df)) == df


def test_flag_values_are_quoted() -> None:
    df = Dockerfile().copy("a", "/b", chown="my user", chmod='x"y')
    assert str(df) == 'COPY --chown="my user" --chmod="x\\"y" a /b\n'
    assert Dockerfile.parse(str(df)) == df
    run = Dockerfile().run("ls", mounts=["type=bind,source=a b,target=/x"])
    assert str(run) == 'RUN --mount="type=bind,source=a b,target=/x" ls\n'
    assert Dockerfile.parse(str(run)) == run


def test_arguments_that_look_like_flags_get_a_separator() -> None:
    df = Dockerfile().cmd("--verbose").env({"--x": "1"}).user("--odd").workdir("--")
    assert str(df) == "CMD -- --verbose\nENV -- --x=1\nUSER -- --odd\nWORKDIR -- --\n"
    assert Dockerfile.parse(str(df)) == df


def test_shell_form_is_stripped() -> None:
    assert Run("  echo hi \t") == Run("echo hi")
    assert Workdir(" /app ") == Workdir("/app")
    assert Volume([" /data "]) == Volume(["/data"])


def test_empty_shell_form_commands() -> None:
    df = Dockerfile().cmd("").entrypoint([])
    assert str(df) == "CMD\nENTRYPOINT []\n"
    assert Dockerfile.parse(str(df)) == df
    # A RUN without a command is refused (Docker refuses it too), with or without flags.
    commands: list[str | list[str]] = ["", "  ", []]
    for command in commands:
        with pytest.raises(ValueError, match=r"^RUN needs a command$"):
            Dockerfile().run(command, mounts=["type=secret,id=x"])


def test_comments_render_and_round_trip() -> None:
    df = Dockerfile().comment("hello").comment("").comment("  indented").from_("x")
    assert str(df) == "# hello\n#\n#   indented\nFROM x\n"
    assert Dockerfile.parse(str(df)) == df


def test_leading_comment_that_looks_like_a_directive() -> None:
    df = Dockerfile().comment("escape=`").from_("x")
    assert str(df) == "\n# escape=`\nFROM x\n"
    assert Dockerfile.parse(str(df)) == df
    with_syntax = Dockerfile(syntax="a").comment("syntax=b")
    assert str(with_syntax) == "# syntax=a\n\n# syntax=b\n"
    assert Dockerfile.parse(str(with_syntax)) == with_syntax


def test_healthcheck_durations() -> None:
    check = Healthcheck(
        "true",
        interval=datetime.timedelta(minutes=1, seconds=30),
        timeout=datetime.timedelta(milliseconds=500),
        start_period=datetime.timedelta(hours=2),
        start_interval="1.5s",
        retries=0,
    )
    assert check.interval == "1m30s"
    assert check.timeout == "0.5s"
    assert check.start_period == "2h"
    assert str(check) == (
        "HEALTHCHECK --interval=1m30s --timeout=0.5s --start-period=2h"
        " --start-interval=1.5s --retries=0 CMD true"
    )
    assert Healthcheck("x", interval=datetime.timedelta(0)).interval == "0s"


# --------------------------------------------------------------------------- parsing


MULTI_STAGE = """\
# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22

# build stage
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \\
    go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

from gcr.io/distroless/static:nonroot as Runtime
copy --from=builder --chown=app:app /out/app /app
USER nonroot:nonroot
EXPOSE 8080/tcp
ENTRYPOINT ["/app"]
"""


def test_parse_multi_stage() -> None:
    df = Dockerfile.parse(MULTI_STAGE)
    assert df.syntax == "docker/dockerfile:1.7"
    assert df.escape == "\\"
    assert df.instructions == (
        Arg("GO_VERSION", "1.22"),
        Comment("build stage"),
        From("golang:${GO_VERSION}-alpine", "builder", platform="$BUILDPLATFORM"),
        Workdir("/src"),
        Copy(["go.mod", "go.sum"], "./"),
        Run("go mod download", flags=["--mount=type=cache,target=/go/pkg/mod"]),
        Copy(".", "."),
        Run("CGO_ENABLED=0 go build -o /out/app ./cmd/app"),
        From("gcr.io/distroless/static:nonroot", "Runtime"),
        Copy("/out/app", "/app", from_="builder", chown="app:app"),
        User("nonroot:nonroot"),
        Expose(["8080/tcp"]),
        Entrypoint(["/app"]),
    )
    assert Dockerfile.parse(str(df)) == df


def test_parse_continuations_skip_comments_and_blank_lines() -> None:
    text = (
        "FROM debian\n"
        "RUN apt-get update && \\\n"
        "    # install tools\n"
        "    apt-get install -y \\\n"
        "\n"
        "      curl \\  \n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "CMD bash\n"
    )
    df = Dockerfile.parse(text)
    assert df[1] == Run(
        "apt-get update &&     apt-get install -y       curl     && rm -rf /var/lib/apt/lists/*"
    )
    assert df[2] == Cmd("bash")


def test_parse_continuation_at_end_of_file_and_double_escape() -> None:
    assert Dockerfile.parse("RUN echo \\").instructions == (Run("echo"),)
    assert Dockerfile.parse("RUN echo \\\\\nCMD x").instructions == (Run("echo \\\\"), Cmd("x"))


def test_parse_windows_escape_directive() -> None:
    text = (
        "# escape=`\n"
        "\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "WORKDIR C:\\app\n"
        "COPY app.ps1 C:\\app\\\n"
        "RUN powershell -Command `\n"
        "    Write-Host 'hi'\n"
        'ENV APPDIR="C:\\Program Files\\App" Q="a`"b"\n'
    )
    df = Dockerfile.parse(text)
    assert df.escape == "`"
    assert df.instructions == (
        From("mcr.microsoft.com/windows/servercore:ltsc2022"),
        Workdir("C:\\app"),
        Copy("app.ps1", "C:\\app\\"),
        Run("powershell -Command     Write-Host 'hi'"),
        Env([("APPDIR", "C:\\Program Files\\App"), ("Q", 'a"b')]),
    )
    rendered = str(df)
    assert rendered.startswith("# escape=`\n")
    assert "COPY app.ps1 C:\\app\\\n" in rendered
    assert Dockerfile.parse(rendered) == df


def test_parse_directives() -> None:
    df = Dockerfile.parse(
        "\ufeff#  SYNTAX = docker/dockerfile:1  \n# check=error=true\n# escape=\\\nFROM x\n"
    )
    assert (df.syntax, df.check, df.escape) == ("docker/dockerfile:1", "error=true", "\\")
    assert str(df) == "# syntax=docker/dockerfile:1\n# check=error=true\nFROM x\n"


def test_directives_only_at_the_top() -> None:
    after_comment = Dockerfile.parse("# hello\n# escape=`\nFROM x\n")
    assert after_comment.escape == "\\"
    assert after_comment.instructions == (Comment("hello"), Comment("escape=`"), From("x"))
    after_blank = Dockerfile.parse("\n# syntax=x\nFROM x\n")
    assert after_blank.syntax is None
    after_unknown = Dockerfile.parse("# foo=bar\n# syntax=x\nFROM x\n")
    assert after_unknown.syntax is None
    assert after_unknown.instructions[:2] == (Comment("foo=bar"), Comment("syntax=x"))


def test_parse_keywords_are_case_insensitive() -> None:
    df = Dockerfile.parse('from alpine AS base\nRun echo hi\nenv A=1\nCmd ["sh"]\n')
    assert df.instructions == (From("alpine", "base"), Run("echo hi"), Env({"A": "1"}), Cmd(["sh"]))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('CMD ["echo", "hi"]', Cmd(["echo", "hi"])),
        ("CMD echo hi", Cmd("echo hi")),
        ("CMD [not json", Cmd("[not json")),
        ('CMD ["a" "b"]', Cmd('["a" "b"]')),
        ("CMD [ -f x ] && run", Cmd("[ -f x ] && run")),
        ("CMD   [ ]  ", Cmd([])),
        ('ENTRYPOINT ["/bin/sh", "-c"]', Entrypoint(["/bin/sh", "-c"])),
        ("ENTRYPOINT exec top -b", Entrypoint("exec top -b")),
        ('RUN ["apt-get", "install", "-y", "curl"]', Run(["apt-get", "install", "-y", "curl"])),
        ("RUN echo $HOME", Run("echo $HOME")),
        ('RUN --network=none ["a"]', Run(["a"], flags=["--network=none"])),
        ('SHELL ["powershell", "-command"]', Shell(["powershell", "-command"])),
        ('HEALTHCHECK CMD ["curl", "x"]', Healthcheck(["curl", "x"])),
        ("HEALTHCHECK cmd curl -f x || exit 1", Healthcheck("curl -f x || exit 1")),
        ("HEALTHCHECK none", Healthcheck(None)),
        ('CMD ["\\u00e9\\n"]', Cmd(["\u00e9\n"])),
        ("CMD [NaN]", Cmd("[NaN]")),
        ("CMD [1e5, Infinity]", Cmd("[1e5, Infinity]")),
    ],
)
def test_exec_versus_shell_form(line: str, expected: Instruction) -> None:
    df = Dockerfile.parse(line)
    assert df.instructions == (expected,)
    assert Dockerfile.parse(str(df)) == df


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ENV A 1", Env({"A": "1"})),
        ("ENV MSG hello   world", Env({"MSG": "hello   world"})),
        ('ENV MSG "quoted value"', Env({"MSG": "quoted value"})),
        ("ENV a=1 b=\"x y\" c='$lit' d=\\$e e=f\\ g", None),
        ("ENV PATH=/usr/local/bin:$PATH", Env({"PATH": "/usr/local/bin:$PATH"})),
        ('ENV A="a \\"q\\" \\\\ \\x"', Env({"A": 'a "q" \\ \\x'})),
        ("ENV A=", Env({"A": ""})),
        ('ENV A=""', Env({"A": ""})),
        ('LABEL "com.example.vendor"="ACME Inc" version=1.0', None),
        ('LABEL description="multi\\\n    line"', Label({"description": "multi    line"})),
        ("ARG A", Arg("A")),
        ("ARG A=", Arg("A", "")),
        ('ARG A="x y"', Arg("A", "x y")),
    ],
)
def test_key_value_instructions(line: str, expected: Instruction | None) -> None:
    df = Dockerfile.parse(line)
    if expected is not None:
        assert df.instructions == (expected,)
    assert Dockerfile.parse(str(df)) == df


def test_env_new_form_details() -> None:
    df = Dockerfile.parse("ENV a=1 b=\"x y\" c='$lit' d=\\$e e=f\\ g")
    assert df[0] == Env([("a", "1"), ("b", "x y"), ("c", "\\$lit"), ("d", "\\$e"), ("e", "f g")])
    assert str(df) == 'ENV a=1 b="x y" c="\\$lit" d="\\$e" e="f g"\n'


def test_label_parsing() -> None:
    df = Dockerfile.parse(
        'LABEL "com.example.vendor"="ACME Incorporated" version="1.0" '
        'description="This text illustrates \\\nthat label-values can span multiple lines."'
    )
    assert df[0] == Label(
        [
            ("com.example.vendor", "ACME Incorporated"),
            ("version", "1.0"),
            ("description", "This text illustrates that label-values can span multiple lines."),
        ]
    )


def test_arg_with_several_names() -> None:
    df = Dockerfile.parse("ARG A B=2 C")
    assert df.instructions == (Arg("A"), Arg("B", "2"), Arg("C"))
    assert str(df) == "ARG A\nARG B=2\nARG C\n"


def test_parse_flags() -> None:
    df = Dockerfile.parse(
        "COPY --link --chmod=755 --from=0 --parents --exclude=*.md a b /c/\n"
        "COPY --link=false a /b\n"
        "ADD --checksum=sha256:0123 --keep-git-dir=true https://x/y.git /src\n"
        'RUN --mount="type=cache,target=/root/.cache" --network=host pip install .\n'
        "HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=2s "
        "--retries=+3 CMD curl -f http://localhost/ || exit 1\n"
        "FROM --platform=linux/arm64 alpine\n"
    )
    assert df.instructions == (
        Copy(
            ["a", "b"],
            "/c/",
            link=True,
            chmod="755",
            from_="0",
            flags=["--parents", "--exclude=*.md"],
        ),
        Copy("a", "/b"),
        Add("https://x/y.git", "/src", checksum="sha256:0123", flags=["--keep-git-dir=true"]),
        Run("pip install .", flags=["--mount=type=cache,target=/root/.cache", "--network=host"]),
        Healthcheck(
            "curl -f http://localhost/ || exit 1",
            interval="5m",
            timeout="3s",
            start_period="1s",
            start_interval="2s",
            retries=3,
        ),
        From("alpine", platform="linux/arm64"),
    )
    assert Dockerfile.parse(str(df)) == df


def test_flag_quoting_and_escapes_are_read() -> None:
    df = Dockerfile.parse(
        'COPY --chown=a\\ b --chmod="7\\"5" --from=\'x y\' p q\n'
        "RUN --mount=type=bind,target=/x\\\\ ls\n"
    )
    assert df.instructions == (
        Copy("p", "q", chown="a b", chmod='7"5', from_="x y"),
        Run("ls", flags=["--mount=type=bind,target=/x\\"]),
    )
    assert Dockerfile.parse(str(df)) == df


def test_double_dash_ends_flags() -> None:
    assert Dockerfile.parse("RUN --network=none -- --x y")[0] == Run(
        "--x y", flags=["--network=none"]
    )
    assert Dockerfile.parse("CMD --")[0] == Cmd("")


def test_parse_onbuild() -> None:
    df = Dockerfile.parse(
        "ONBUILD ADD . /app/src\n"
        "onbuild run /usr/local/bin/python-build --dir /app/src\n"
        "ONBUILD COPY --from=base a b\n"
        "ONBUILD ENV A=1\n"
    )
    assert df.instructions == (
        Onbuild(Add(".", "/app/src")),
        Onbuild(Run("/usr/local/bin/python-build --dir /app/src")),
        Onbuild(Copy("a", "b", from_="base")),
        Onbuild(Env({"A": "1"})),
    )
    assert Dockerfile.parse(str(df)) == df


def test_parse_misc_instructions() -> None:
    df = Dockerfile.parse(
        "MAINTAINER Jane Doe <jane@example.com>\n"
        "STOPSIGNAL SIGTERM\n"
        "VOLUME /var/log /var/db\n"
        'VOLUME ["/data", "/my data"]\n'
        "EXPOSE 80 443/tcp 53/udp\n"
        "USER app:app\n"
        "  # indented comment\n"
        "WORKDIR /path with spaces\n"
    )
    assert df.instructions == (
        Maintainer("Jane Doe <jane@example.com>"),
        Stopsignal("SIGTERM"),
        Volume(["/var/log", "/var/db"]),
        Volume(["/data", "/my data"]),
        Expose(["80", "443/tcp", "53/udp"]),
        User("app:app"),
        Comment("indented comment"),
        Workdir("/path with spaces"),
    )
    assert Dockerfile.parse(str(df)) == df


def test_crlf_line_endings() -> None:
    df = Dockerfile.parse("FROM x\r\nRUN a \\\r\n  b\r\n")
    assert df.instructions == (From("x"), Run("a   b"))


def test_normalized_rendering() -> None:
    text = (
        "from   alpine   as   base\n"
        "\n"
        "env LEGACY value with spaces\n"
        "run    echo hi   \n"
        "#comment\n"
        "copy --link=true a    b\n"
    )
    assert str(Dockerfile.parse(text)) == (
        "FROM alpine AS base\n"
        'ENV LEGACY="value with spaces"\n'
        "RUN echo hi\n"
        "# comment\n"
        "COPY --link a b\n"
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM x\nFOO bar\n", 2, "unknown instruction: FOO"),
        ("FROM x\nRUN a \\\n  b\nBOGUS \\\n  x\n", 4, "unknown instruction: BOGUS"),
        ("FROM a b\n", 1, "one or three arguments"),
        ("FROM\n", 1, "one or three arguments"),
        ("FROM --foo=x a\n", 1, "unknown flag for FROM: --foo"),
        ("COPY onlyone\n", 1, "at least two arguments"),
        ("ADD x\n", 1, "at least two arguments"),
        ("COPY --chown a b\n", 1, "missing a value on flag: --chown"),
        ("COPY --chown=a --chown=b a b\n", 1, "duplicate flag"),
        ("COPY --link=maybe a b\n", 1, "expecting boolean value"),
        ("COPY --link --link=true a b\n", 1, "duplicate flag"),
        ("COPY --link= a b\n", 1, "missing a value"),
        ('CMD ["a", 1]\n', 1, "strings only"),
        ("SHELL /bin/sh -c\n", 1, "JSON form"),
        ("SHELL []\n", 1, "at least one argument"),
        ("ENV\n", 1, "at least one argument"),
        ("ENV A\n", 1, "must have two arguments"),
        ("ENV A=1 B\n", 1, "can't find ="),
        ("ENV =1\n", 1, "can not be blank"),
        ('ENV A="unterminated\n', 1, "unterminated double quote"),
        ("LABEL a='x\n", 1, "unterminated single quote"),
        ("ARG =x\n", 1, "can not be blank"),
        ("ARG\n", 1, "at least one argument"),
        ("EXPOSE\n", 1, "at least one argument"),
        ("VOLUME\n", 1, "at least one argument"),
        ("USER\n", 1, "exactly one argument"),
        ("WORKDIR\n", 1, "exactly one argument"),
        ("MAINTAINER\n", 1, "exactly one argument"),
        ("STOPSIGNAL\n", 1, "exactly one argument"),
        ("USER --x=1 app\n", 1, "unknown flag for USER"),
        ("HEALTHCHECK\n", 1, "at least one argument"),
        ("HEALTHCHECK NONE x\n", 1, "takes no arguments"),
        ("HEALTHCHECK --interval=1s NONE\n", 1, "takes no options"),
        ("HEALTHCHECK CMD\n", 1, "Missing command"),
        ("HEALTHCHECK CMD []\n", 1, "Missing command"),
        ("HEALTHCHECK PING x\n", 1, "Unknown type"),
        ("HEALTHCHECK --retries=x CMD a\n", 1, "--retries must be an integer"),
        ("HEALTHCHECK --retries=-1 CMD a\n", 1, "--retries must be a non-negative"),
        ("HEALTHCHECK --interval=soon CMD a\n", 1, "not a duration"),
        ("HEALTHCHECK --bogus=1 CMD a\n", 1, "unknown flag"),
        ("ONBUILD\n", 1, "at least one argument"),
        ("ONBUILD ONBUILD RUN x\n", 1, "ONBUILD isn't allowed"),
        ("ONBUILD FROM x\n", 1, "FROM isn't allowed"),
        ("ONBUILD ARG A B\n", 1, "more than one name"),
        ("ONBUILD NOPE x\n", 1, "unknown instruction: NOPE"),
        ("RUN cat <<EOF\nhello\nEOF\n", 1, "heredocs are not supported"),
        ("COPY <<EOF /x\nhello\nEOF\n", 1, "heredocs are not supported"),
        ("RUN --=x ls\n", 1, "flag must look like"),
        ("# escape=x\nFROM a\n", 1, "invalid escape token"),
        ("# syntax=a\n# SYNTAX=b\nFROM a\n", 2, "only one syntax parser directive"),
    ],
)
def test_parse_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DockerfileParseError, match=re.escape(message)) as info:
        Dockerfile.parse(text)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}: ")
    assert isinstance(info.value, ValueError)


def test_parse_error_pickles() -> None:
    error = DockerfileParseError(3, "nope")
    again = pickle.loads(pickle.dumps(error))
    assert (again.line, again.reason, str(again)) == (3, "nope", "line 3: nope")


def test_heredoc_lookalikes_are_fine() -> None:
    df = Dockerfile.parse('RUN echo "<<EOF" && cat<<EOF && cat <<< x\n')
    assert df[0] == Run('echo "<<EOF" && cat<<EOF && cat <<< x')
    assert Dockerfile.parse('RUN ["cat", "<<EOF"]')[0] == Run(["cat", "<<EOF"])


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: str(Run("echo \\")), "ends with the escape character"),
        (lambda: Dockerfile().workdir("C:\\app\\"), "ends with the escape character"),
        (lambda: Dockerfile(escape="`").run("a `"), "ends with the escape character"),
        (lambda: Run("a\nb"), "line break"),
        (lambda: Run('["a"]'), "would be read as a JSON array"),
        (lambda: Cmd("[1, 2]"), "would be read as a JSON array"),
        (lambda: Run("cat <<EOF"), "heredocs are not supported"),
        (lambda: Env({}), "at least one key=value"),
        (lambda: Env({"": "x"}), "must be non-empty"),
        (lambda: Env({"a=b": "x"}), "contain no '='"),
        (lambda: Label({"a": "x\ny"}), "line break"),
        (lambda: Arg("a b"), "an ARG name"),
        (lambda: Arg("a", "x\ry"), "line break"),
        (lambda: From("a b"), "without whitespace"),
        (lambda: From(""), "non-empty"),
        (lambda: From("a", "b c"), "without whitespace"),
        (lambda: Expose([]), "at least one port"),
        (lambda: Expose(["80 81"]), "without whitespace"),
        (lambda: Volume([]), "at least one path"),
        (lambda: Volume(["  "]), "cannot be empty"),
        (lambda: Copy([], "/x"), "at least one source"),
        (lambda: Copy("", "/x"), "cannot be empty"),
        (lambda: Copy("a", "/x", flags=["--chown=x"]), "own argument"),
        (lambda: Copy("a", "/x", flags=["chown"]), "must look like"),
        (lambda: Copy("a", "/x", chown="a\nb"), "line break"),
        (lambda: Add("a", "/x", flags=["--link"]), "own argument"),
        (lambda: Run("x", flags=["--mount=a\nb"]), "line break"),
        (lambda: Shell([]), "at least one argument"),
        (lambda: Healthcheck(None, retries=1), "takes no options"),
        (lambda: Healthcheck(""), "needs a command"),
        (lambda: Healthcheck("x", retries=-1), "non-negative"),
        (lambda: Healthcheck("x", interval="-1s"), "not a duration"),
        (lambda: Healthcheck("x", interval=datetime.timedelta(seconds=-1)), "negative"),
        (lambda: User(" "), "needs a user"),
        (lambda: Workdir(""), "needs a path"),
        (lambda: Maintainer(""), "needs a name"),
        (lambda: Stopsignal(""), "needs a signal"),
        (lambda: Onbuild(From("x")), "FROM isn't allowed"),
        (lambda: Onbuild(Onbuild(Run("x"))), "ONBUILD isn't allowed"),
        (lambda: Comment("a\nb"), "line break"),
        (lambda: Dockerfile(escape="!"), "escape character"),
        (lambda: Dockerfile(syntax="\n"), "cannot be empty"),
        (lambda: Dockerfile(syntax="a\nb"), "line break"),
    ],
)
def test_unwritable_instructions_are_refused(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Dockerfile([Run("x"), "RUN y"]),  # type: ignore[list-item]
        lambda: Onbuild("RUN x"),  # type: ignore[arg-type]
        lambda: Env({"a": 1}),  # type: ignore[arg-type]
        lambda: Run(["a", 1]),  # type: ignore[list-item]
        lambda: Expose([1.5]),  # type: ignore[list-item]
        lambda: Stopsignal(None),  # type: ignore[arg-type]
        lambda: Workdir(None),  # type: ignore[arg-type]
        lambda: Copy("a", None),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_are_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(TypeError):
        build()


def test_escape_dependent_rendering() -> None:
    # A trailing backslash is fine when the escape character is a backtick.
    df = Dockerfile(escape="`").workdir("C:\\app\\").run("dir C:\\")
    assert str(df) == "# escape=`\nWORKDIR C:\\app\\\nRUN dir C:\\\n"
    assert Dockerfile.parse(str(df)) == df
    # A doubled escape character at the end of a line does not continue it.
    ok = Dockerfile().run("echo \\\\")
    assert Dockerfile.parse(str(ok)) == ok
    with pytest.raises(ValueError, match="escape character"):
        attrs.evolve(df, escape="\\")


# --------------------------------------------------------------------------- properties

#: What Go's unicode.IsSpace accepts (Docker trims and splits with it).
WS = (
    "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
PIECES = [
    " ",
    "  ",
    "\t",
    '"',
    "'",
    "\\",
    "`",
    "$",
    "${X}",
    "$HOME",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "#",
    "--",
    "-",
    "<<",
    "<<EOF",
    "\u00e9",
    "\u65e5\u672c",
    "\u00a0",
    "\u0085",
    "\u2028",
    "\x0b",
    "\x0c",
    "\x00",
    "\U0001f600",
    "a",
    "b/c",
    "\\$",
    "`$",
    "\\\\",
    ":",
    "AS",
    "NONE",
    "CMD",
    '["x"]',
    "[1]",
    "\\u0041",
]
ESCAPES = ("\\", "`")

one_line_chars = st.characters(codec="utf-8", exclude_characters="\n\r")
awkward = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(one_line_chars, max_size=3)), max_size=6
).map("".join)
any_text = st.one_of(awkward, st.text(st.characters(codec="utf-8"), max_size=8))
nonempty_any = any_text.filter(bool)
token = awkward.map(lambda s: "".join(c for c in s if c not in WS)).filter(bool)
durations = st.one_of(
    st.none(),
    st.sampled_from(["30s", "1m30s", "500ms", "1h", "0", "1.5s", "2us"]),
    st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=3)),
)


def _ends_with_lone_escape(text: str, escape: str) -> bool:
    text = text.rstrip(" \t")
    return text.endswith(escape) and (len(text) == 1 or text[-2] != escape)


def _looks_like_json(text: str) -> bool:
    if not text.lstrip(WS).startswith("["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _shell(draw: st.DrawFn, escape: str, *, run: bool = False) -> str:
    text = draw(awkward).strip(WS)
    if _looks_like_json(text) or _ends_with_lone_escape(text, escape) or (run and "<<" in text):
        text = "echo ok"
    return text


def _string(draw: st.DrawFn, escape: str) -> str:
    text = draw(awkward).strip(WS)
    if not text or _ends_with_lone_escape(text, escape):
        text = "x"
    return text


def _last_token(draw: st.DrawFn, escape: str) -> str:
    text = draw(token)
    return "x" if _ends_with_lone_escape(text, escape) else text


def _command(draw: st.DrawFn, escape: str, *, run: bool = False) -> str | list[str]:
    if draw(st.booleans()):
        return draw(st.lists(any_text, max_size=4))
    return _shell(draw, escape, run=run)


def _pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    key = awkward.filter(lambda k: bool(k) and "=" not in k)
    return draw(st.lists(st.tuples(key, awkward), min_size=1, max_size=3))


def _flag(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["mount", "network", "security", "device", "x-y_z"]))
    return f"--{name}" if draw(st.booleans()) else f"--{name}={draw(awkward)}"


def _optional(draw: st.DrawFn) -> str | None:
    return draw(st.one_of(st.none(), awkward))


KINDS = (
    "from",
    "maintainer",
    "run",
    "cmd",
    "entrypoint",
    "shell",
    "env",
    "label",
    "expose",
    "copy",
    "add",
    "user",
    "workdir",
    "volume",
    "arg",
    "healthcheck",
    "stopsignal",
    "onbuild",
    "comment",
)
TRIGGERS = tuple(k for k in KINDS if k not in ("from", "maintainer", "onbuild", "comment"))


expose_words = st.one_of(
    st.integers(1, 65535).map(str),
    st.sampled_from(["80/tcp", "53/udp", "53/UDP", "9/sctp", "8000-8010", "1-65535/tcp"]),
    st.sampled_from(["$PORT", "${PORT}/udp", "80-$HIGH"]),
)


def _step(draw: st.DrawFn, df: Dockerfile, kind: str) -> Dockerfile:
    e = df.escape
    match kind:
        case "from":
            alias = _last_token(draw, e) if draw(st.booleans()) else None
            image = _last_token(draw, e) if alias is None else draw(token)
            return df.from_(image, alias=alias, platform=_optional(draw))
        case "maintainer":
            return df.maintainer(_string(draw, e))
        case "run":
            flags = [_flag(draw) for _ in range(draw(st.integers(0, 2)))]
            mounts = draw(st.lists(awkward, max_size=2))
            return df.run(_command(draw, e, run=True) or "true", mounts=mounts, flags=flags)
        case "cmd":
            return df.cmd(_command(draw, e))
        case "entrypoint":
            return df.entrypoint(_command(draw, e))
        case "shell":
            return df.shell(draw(st.lists(any_text, min_size=1, max_size=3)))
        case "env":
            return df.env(_pairs(draw))
        case "label":
            return df.label(_pairs(draw))
        case "expose":
            ports = draw(st.lists(st.one_of(st.integers(1, 65535), expose_words), max_size=3))
            return df.expose(*ports, draw(expose_words))
        case "copy":
            return df.copy(
                draw(st.lists(nonempty_any, min_size=1, max_size=3)),
                draw(nonempty_any),
                chown=_optional(draw),
                chmod=_optional(draw),
                from_=draw(st.one_of(st.none(), awkward, st.integers(0, 3))),
                link=draw(st.booleans()),
                flags=draw(st.lists(st.sampled_from(["--parents", "--exclude=a b"]), max_size=2)),
            )
        case "add":
            return df.add(
                draw(st.lists(nonempty_any, min_size=1, max_size=3)),
                draw(nonempty_any),
                chown=_optional(draw),
                chmod=_optional(draw),
                checksum=_optional(draw),
                link=draw(st.booleans()),
                flags=draw(st.lists(st.just("--keep-git-dir=true"), max_size=1)),
            )
        case "user":
            return df.user(_string(draw, e))
        case "workdir":
            return df.workdir(_string(draw, e))
        case "volume":
            paths = draw(st.lists(nonempty_any.map(lambda p: p.strip(WS)).filter(bool), min_size=1))
            return df.volume(*paths)
        case "arg":
            name = draw(token.filter(lambda n: not any(c in "=\"'\\`" for c in n)))
            return df.arg(name, draw(st.one_of(st.none(), awkward)))
        case "healthcheck":
            if draw(st.booleans()):
                return df.healthcheck(None)
            command = _command(draw, e)
            if not command:
                command = "true"
            return df.healthcheck(
                command,
                interval=draw(durations),
                timeout=draw(durations),
                start_period=draw(durations),
                start_interval=draw(durations),
                retries=draw(st.one_of(st.none(), st.integers(0, 10))),
            )
        case "stopsignal":
            signal = draw(st.integers(1, 64)) if draw(st.booleans()) else _string(draw, e)
            return df.stopsignal(signal)
        case "onbuild":
            trigger = _step(draw, Dockerfile(escape=e), draw(st.sampled_from(TRIGGERS)))
            return df.onbuild(trigger[-1])
        case _:
            return df.comment(draw(awkward))


@st.composite
def dockerfiles(draw: st.DrawFn) -> Dockerfile:
    df = Dockerfile(
        escape=draw(st.sampled_from(ESCAPES)),
        syntax=draw(st.one_of(st.none(), st.just("docker/dockerfile:1"))),
        check=draw(st.one_of(st.none(), st.just("skip=all"))),
    )
    # Only ARG and comments may come before the first FROM.
    for kind in draw(st.lists(st.sampled_from(["arg", "comment"]), max_size=2)):
        df = _step(draw, df, kind)
    df = _step(draw, df, "from")
    for kind in draw(st.lists(st.sampled_from(KINDS), max_size=8)):
        df = _step(draw, df, kind)
    return df


@settings(max_examples=400, deadline=None)
@given(dockerfiles())
def test_builder_output_round_trips(df: Dockerfile) -> None:
    text = str(df)
    note(text)
    parsed = Dockerfile.parse(text)
    assert parsed == df
    assert str(parsed) == text


KEYWORDS = [
    "FROM",
    "RUN",
    "CMD",
    "ENV",
    "LABEL",
    "COPY",
    "ADD",
    "ARG",
    "EXPOSE",
    "VOLUME",
    "USER",
    "WORKDIR",
    "SHELL",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "ONBUILD",
    "MAINTAINER",
    "ENTRYPOINT",
    "# escape=`",
    "#",
    "--chown=a",
    "--link",
    "--from=x",
    "--",
    "CMD",
    "NONE",
    "AS",
]
dockerfile_like = st.lists(
    st.lists(
        st.one_of(st.sampled_from(KEYWORDS), awkward, st.sampled_from(["\\", "`", "\n"])),
        max_size=5,
    ).map(" ".join),
    max_size=6,
).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(dockerfile_like)
@example("ENV a=\\\\$x")
@example("CMD [1e400]")
def test_parsing_anything_is_stable(text: str) -> None:
    try:
        df = Dockerfile.parse(text)
    except DockerfileParseError:
        return
    rendered = str(df)
    note(rendered)
    assert Dockerfile.parse(rendered) == df


# --------------------------------------------------------------------------- rules Docker enforces


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("FROM a\nRUN\n", 2, "RUN needs a command"),
        ("FROM a\n\nRUN   \\\n  \n", 3, "RUN needs a command"),
        ("FROM a\nRUN []\n", 2, "RUN needs a command"),
        ("FROM a\nEXPOSE abc\n", 2, "EXPOSE: 'abc' is not a port"),
        ("FROM a\nEXPOSE 80 70000/tcp\n", 2, "EXPOSE: '70000/tcp' is not a port"),
        ("FROM a\nEXPOSE 90-80\n", 2, "EXPOSE: '90-80' is not a port"),
        ("FROM a\nEXPOSE 80/icmp\n", 2, "EXPOSE: '80/icmp' is not a port"),
        ("FROM a\nONBUILD RUN\n", 2, "RUN needs a command"),
    ],
)
def test_what_docker_refuses_is_a_parse_error_naming_the_line(
    text: str, line: int, reason: str
) -> None:
    for parse in (Dockerfile.parse, parse_for_build):
        with pytest.raises(DockerfileParseError) as info:
            parse(text)
        assert (info.value.line, info.value.reason.startswith(reason)) == (line, True)


def test_expose_takes_ports_ranges_protocols_and_variables() -> None:
    df = Dockerfile.parse("FROM a\nEXPOSE 80 53/udp 9/SCTP 8000-8010/tcp $PORT ${P}/udp\n")
    assert df[1] == Expose(["80", "53/udp", "9/SCTP", "8000-8010/tcp", "$PORT", "${P}/udp"])
    with pytest.raises(ValueError, match=r"^EXPOSE: 'abc' is not a port"):
        Dockerfile().from_("a").expose("abc")
    with pytest.raises(ValueError, match=r"^EXPOSE: '0' is not a port"):
        Expose([0])


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("RUN echo\n", 1, "RUN comes before FROM"),
        ("# note\nARG V=1\n\nENV A=b\nFROM a\n", 4, "ENV comes before FROM"),
        ("ARG V=1\n", 1, "the Dockerfile has no FROM instruction"),
        ("# syntax=docker/dockerfile:1\n# only a comment\n", 2, "the Dockerfile has no FROM"),
        ("", 1, "the Dockerfile has no FROM instruction"),
    ],
)
def test_a_build_needs_from_first(text: str, line: int, reason: str) -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse_for_build(text)
    assert (info.value.line, info.value.reason.startswith(reason)) == (line, True)
    # A fragment still parses (to be added to), and the model says the same when asked.
    fragment = Dockerfile.parse(text)
    with pytest.raises(DockerfileParseError, match=reason):
        fragment.check_buildable()


def test_a_dockerfile_this_module_cannot_parse_is_left_to_the_engine() -> None:
    assert parse_for_build("FROM a\nRUN <<EOF\necho hi\nEOF\n") is None
    built = parse_for_build("ARG V=1\nFROM a:$V\nRUN echo\n")
    assert built is not None
    built.check_buildable()
