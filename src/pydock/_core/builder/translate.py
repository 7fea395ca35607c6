"""A :class:`~pydock.Dockerfile` without ``RUN`` translated into a base and build steps."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydock._core import dockerfile as dfm
from pydock._core.builder.context import octal_mode, owner_ids
from pydock._core.builder.image import ImageState
from pydock._core.builder.plan import ConfigStep, ContextCopyStep, Step, to_command
from pydock._core.builder.words import expand_word
from pydock.errors import UnsupportedInstruction

__all__ = ["DOCKERFILE_COMMENT", "dockerfile_plan"]

#: The history comment of steps translated from a Dockerfile.
DOCKERFILE_COMMENT = "pydock.dockerfile"


_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.IGNORECASE)


def _instruction_lines(text: str | None, instructions: Sequence[dfm.Instruction]) -> list[int]:
    """Best-effort line numbers of instructions in ``text`` (their position without it)."""
    if text is None:
        return list(range(1, len(instructions) + 1))
    lines = text.splitlines()
    out: list[int] = []
    at = 0
    for index, instruction in enumerate(instructions):
        keyword = "#" if isinstance(instruction, dfm.Comment) else instruction.keyword
        found = None
        for j in range(at, len(lines)):
            stripped = lines[j].lstrip()
            if stripped[: len(keyword)].upper() == keyword and (
                keyword == "#" or stripped[len(keyword) : len(keyword) + 1] in ("", " ", "\t")
            ):
                found = j
                break
        if found is None:
            out.append(index + 1)
        else:
            out.append(found + 1)
            at = found + 1
    return out


def _df_user(user: str, s: ImageState) -> None:
    s.set_user(s.expand(user))


def _df_workdir(path: str, s: ImageState) -> None:
    s.set_workdir(s.expand(path))


def _df_expose(ports: tuple[str, ...], s: ImageState) -> None:
    s.expose(s.expand(p) for p in ports)


def _df_volume(paths: tuple[str, ...], s: ImageState) -> None:
    s.add_volumes(s.expand(p) for p in paths)


def _df_stopsignal(signal: str, s: ImageState) -> None:
    s.set_stop_signal(s.expand(signal))


def _df_cmd(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_cmd(to_command(cmd, s.shell))


def _df_entrypoint(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_entrypoint(to_command(cmd, s.shell), reset_cmd=True)


def dockerfile_plan(
    df: dfm.Dockerfile,
    context: str | os.PathLike[str],
    *,
    text: str | None = None,
    build_args: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None, tuple[Step, ...]]:
    """Translate a Dockerfile without ``RUN`` into a base image and build steps.

    Args:
        df: The Dockerfile.
        context: The build context folder ``COPY``/``ADD`` read from.
        text: The Dockerfile's text, to name lines in errors.
        build_args: Values for ``ARG``s (``FROM`` included).

    Returns:
        The base (``None`` for ``FROM scratch``), ``FROM --platform`` (or
        ``None``), and the steps.

    Raises:
        UnsupportedInstruction: ``RUN``, a second ``FROM`` (multi-stage),
            ``COPY --from``, ``ADD`` of a URL, an unknown flag, a named
            ``--chown``; the message names the line.
        ValueError: No ``FROM``.
    """
    args = dict(build_args or {})
    context = os.fspath(context)
    escape = df.escape
    instructions = list(df.instructions)
    lines = _instruction_lines(text, instructions)
    global_args: dict[str, str] = {}
    base: str | None = None
    platform: str | None = None
    seen_from = False
    steps: list[Step] = []

    def history_step(rendered: str, action: Callable[[ImageState], None]) -> None:
        steps.append(ConfigStep(action, rendered, created_by=rendered, comment=DOCKERFILE_COMMENT))

    for instruction, line in zip(instructions, lines, strict=True):
        rendered = instruction.render(escape)
        if isinstance(instruction, dfm.Comment):
            continue
        if not seen_from and not isinstance(instruction, (dfm.Arg, dfm.From)):
            raise UnsupportedInstruction(line, rendered, "only ARG may come before FROM")
        if isinstance(instruction, dfm.Arg) and not seen_from:
            default = instruction.default
            value = args.get(instruction.name)
            if value is None and default is not None:
                value = expand_word(default, global_args, escape=escape, quotes=False)
            global_args[instruction.name] = value or ""
            continue
        if isinstance(instruction, dfm.From):
            if seen_from:
                raise UnsupportedInstruction(
                    line, rendered, "multi-stage builds need an engine: one FROM only"
                )
            seen_from = True
            image = expand_word(instruction.image, global_args, escape=escape)
            base = None if image.lower() == "scratch" else image
            if instruction.platform is not None:
                platform = expand_word(instruction.platform, global_args, escape=escape)
            continue
        if isinstance(instruction, (dfm.Run,)):
            raise UnsupportedInstruction(
                line, rendered, "RUN needs an engine to run the command: use client.build"
            )
        if isinstance(instruction, dfm.Arg):
            name, default = instruction.name, instruction.default

            def do_arg(s: ImageState, name: str = name, default: str | None = default) -> None:
                value = s.build_args.get(name)
                if value is None and name in global_args and default is None:
                    value = global_args[name]
                if value is None and default is not None:
                    value = s.expand(default, quotes=False)
                s.args[name] = value or ""

            steps.append(ConfigStep(do_arg, rendered))
            continue
        if isinstance(instruction, dfm.Env):
            pairs = instruction.pairs

            def do_env(s: ImageState, pairs: tuple[tuple[str, str], ...] = pairs) -> None:
                for key, value in pairs:
                    s.set_env([(key, s.expand(value, quotes=False))])

            history_step(rendered, do_env)
        elif isinstance(instruction, dfm.Label):
            pairs = instruction.pairs

            def do_label(s: ImageState, pairs: tuple[tuple[str, str], ...] = pairs) -> None:
                s.set_labels(
                    [(s.expand(k, quotes=False), s.expand(v, quotes=False)) for k, v in pairs]
                )

            history_step(rendered, do_label)
        elif isinstance(instruction, dfm.Maintainer):
            name = instruction.name

            def do_maintainer(s: ImageState, name: str = name) -> None:
                s.config["author"] = name

            history_step(rendered, do_maintainer)
        elif isinstance(instruction, dfm.User):
            user = instruction.user
            history_step(rendered, functools.partial(_df_user, user))
        elif isinstance(instruction, dfm.Workdir):
            path = instruction.path
            history_step(rendered, functools.partial(_df_workdir, path))
        elif isinstance(instruction, dfm.Expose):
            ports = instruction.ports
            history_step(rendered, functools.partial(_df_expose, ports))
        elif isinstance(instruction, dfm.Volume):
            vols = instruction.paths
            history_step(rendered, functools.partial(_df_volume, vols))
        elif isinstance(instruction, dfm.Stopsignal):
            sig = instruction.signal
            history_step(rendered, functools.partial(_df_stopsignal, sig))
        elif isinstance(instruction, dfm.Shell):
            shell = instruction.command

            def do_shell(s: ImageState, shell: tuple[str, ...] = shell) -> None:
                s.shell = shell
                s.run["Shell"] = list(shell)

            history_step(rendered, do_shell)
        elif isinstance(instruction, dfm.Cmd):
            cmd = instruction.command
            history_step(rendered, functools.partial(_df_cmd, cmd))
        elif isinstance(instruction, dfm.Entrypoint):
            ep = instruction.command
            history_step(rendered, functools.partial(_df_entrypoint, ep))
        elif isinstance(instruction, dfm.Onbuild):
            trigger = instruction.instruction.render(escape)

            def do_onbuild(s: ImageState, trigger: str = trigger) -> None:
                s.run["OnBuild"] = [*(s.run.get("OnBuild") or []), trigger]

            history_step(rendered, do_onbuild)
        elif isinstance(instruction, dfm.Healthcheck):
            check = _healthcheck(instruction)

            def do_health(s: ImageState, check: dict[str, Any] = check) -> None:
                s.run["Healthcheck"] = dict(check)

            history_step(rendered, do_health)
        elif isinstance(instruction, (dfm.Copy, dfm.Add)):
            steps.append(_copy_step(instruction, context, line, rendered))
        else:  # pragma: no cover - every instruction class is handled above
            raise UnsupportedInstruction(line, rendered, "not supported without an engine")
    if not seen_from:
        raise ValueError("the Dockerfile has no FROM instruction")
    return base, platform, tuple(steps)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _duration_ns(text: str) -> int:
    if text == "0":
        return 0
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += float(number) * _DURATION_UNITS[unit]
    return int(total)


def _healthcheck(instruction: dfm.Healthcheck) -> dict[str, Any]:
    if instruction.command is None:
        return {"Test": ["NONE"]}
    cmd = instruction.command
    test = ["CMD-SHELL", cmd] if isinstance(cmd, str) else ["CMD", *cmd]
    out: dict[str, Any] = {"Test": test}
    for key, value in (
        ("Interval", instruction.interval),
        ("Timeout", instruction.timeout),
        ("StartPeriod", instruction.start_period),
        ("StartInterval", instruction.start_interval),
    ):
        if value is not None:
            out[key] = _duration_ns(value)
    if instruction.retries is not None:
        out["Retries"] = instruction.retries
    return out


def _copy_step(
    instruction: dfm.Copy | dfm.Add, context: str, line: int, rendered: str
) -> ContextCopyStep:
    is_add = isinstance(instruction, dfm.Add)
    if isinstance(instruction, dfm.Copy) and instruction.from_ is not None:
        raise UnsupportedInstruction(
            line, rendered, "COPY --from needs another stage or image: use client.build"
        )
    if instruction.flags:
        raise UnsupportedInstruction(
            line, rendered, f"flags {list(instruction.flags)} are not supported without an engine"
        )
    if isinstance(instruction, dfm.Add) and instruction.checksum is not None:
        raise UnsupportedInstruction(line, rendered, "ADD --checksum is for remote sources")
    for source in instruction.sources:
        if _URL_RE.match(source):
            raise UnsupportedInstruction(
                line, rendered, "ADD of a URL or git repository is not supported without an engine"
            )
    if instruction.chown is not None and "$" not in instruction.chown:
        owner_ids(instruction.chown, line, rendered)
    if instruction.chmod is not None:
        octal_mode(instruction.chmod, line, rendered)
    return ContextCopyStep(
        sources=instruction.sources,
        dest=instruction.dest,
        context=context,
        chown=instruction.chown,
        chmod=instruction.chmod,
        add=is_add,
        created_by=rendered,
        comment=DOCKERFILE_COMMENT,
    )
