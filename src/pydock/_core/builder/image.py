"""The image config as build steps change it (:class:`ImageState`)."""

from __future__ import annotations

import datetime
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydock._core.builder.words import expand_word
from pydock._core.registry import Platform

__all__ = ["DEFAULT_SHELL", "ImageState", "port_key"]

#: The shell Docker wraps shell-form CMD and ENTRYPOINT in.
DEFAULT_SHELL = ("/bin/sh", "-c")


def _timestamp_text(seconds: int) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def port_key(port: str | int) -> str:
    """An exposed port as the config spells it (``80`` -> ``80/tcp``).

    Raises:
        ValueError: An empty or malformed port, or an unknown protocol.
    """
    text = str(port).strip()
    if not text:
        raise ValueError("an exposed port cannot be empty")
    number, _, proto = text.partition("/")
    if not number.isdigit() and not re.fullmatch(r"[0-9]+-[0-9]+", number):
        raise ValueError(f"invalid port {text!r}: expected a number with an optional /protocol")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid protocol in port {text!r}: tcp, udp or sctp")
    return f"{number}/{proto}"


def _set_env(env_list: list[str], key: str, value: str) -> list[str]:
    out = list(env_list)
    for i, item in enumerate(out):
        if item.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


class ImageState:
    """The image config as steps change it, plus what is needed to expand variables.

    Args:
        base_config: The base image's config JSON (``None`` for scratch).
        platform: The platform of a scratch image (ignored with a base).
        timestamp: The ``created`` time of the image and of its history
            entries, Unix seconds.
        build_args: Values for ``ARG`` declarations (Dockerfile plans).
    """

    def __init__(
        self,
        base_config: Mapping[str, Any] | None,
        *,
        platform: Platform,
        timestamp: int = 0,
        build_args: Mapping[str, str] | None = None,
    ) -> None:
        if base_config is None:
            config: dict[str, Any] = {
                "architecture": platform.architecture,
                "os": platform.os,
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [],
            }
            if platform.variant:
                config["variant"] = platform.variant
        else:
            config = json.loads(json.dumps(base_config))
        config["created"] = _timestamp_text(timestamp)
        self.config = config
        self.scratch = base_config is None
        self.timestamp = timestamp
        self.build_args = dict(build_args or {})
        #: ARG values in scope (Dockerfile plans).
        self.args: dict[str, str] = {}
        self.shell: tuple[str, ...] = DEFAULT_SHELL
        #: Whether a CMD was set by these steps (ENTRYPOINT then keeps it).
        self.cmd_set = False
        self.escape = "\\"
        run = config.get("config")
        self.run: dict[str, Any] = run if isinstance(run, dict) else {}
        config["config"] = self.run
        rootfs = config.get("rootfs")
        if not isinstance(rootfs, dict):
            rootfs = config["rootfs"] = {"type": "layers", "diff_ids": []}
        rootfs.setdefault("type", "layers")
        if not isinstance(rootfs.get("diff_ids"), list):
            rootfs["diff_ids"] = []
        if not isinstance(config.get("history"), list):
            config["history"] = []

    # -- reading ---------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The config's ``Env`` as a dict."""
        out: dict[str, str] = {}
        for item in self.run.get("Env") or []:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out

    @property
    def workdir(self) -> str:
        """The working directory (``/`` when unset)."""
        return str(self.run.get("WorkingDir") or "/")

    def variables(self) -> dict[str, str]:
        """What ``$name`` expands to: ARGs in scope, overridden by ENV."""
        return {**self.args, **self.env}

    def expand(self, word: str, *, quotes: bool = True) -> str:
        """Expand variables in ``word`` (see :func:`expand_word`)."""
        return expand_word(word, self.variables(), escape=self.escape, quotes=quotes)

    def resolve(self, path: str) -> str:
        """An image path made absolute against the working directory; a trailing ``/`` is kept."""
        absolute = path if path.startswith("/") else posixpath.join(self.workdir, path)
        cleaned = posixpath.normpath(absolute)
        if cleaned.startswith("//"):
            cleaned = "/" + cleaned.lstrip("/")
        if path.endswith("/") and cleaned != "/":
            cleaned += "/"
        return cleaned

    # -- changes ---------------------------------------------------------

    def add_history(
        self, created_by: str | None, comment: str | None = None, *, empty_layer: bool
    ) -> None:
        """Append a history entry."""
        entry: dict[str, Any] = {"created": _timestamp_text(self.timestamp)}
        if created_by:
            entry["created_by"] = created_by
        if comment:
            entry["comment"] = comment
        if empty_layer:
            entry["empty_layer"] = True
        self.config["history"].append(entry)

    def add_layer(self, diff_id: str, created_by: str | None, comment: str | None = None) -> None:
        """Record a new layer: its diff ID and a history entry."""
        self.config["rootfs"]["diff_ids"].append(diff_id)
        self.add_history(created_by, comment, empty_layer=False)

    def set_env(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set variables (one existing entry per name is replaced in place)."""
        env = list(self.run.get("Env") or [])
        for key, value in pairs:
            if not key or "=" in key:
                raise ValueError(
                    f"an environment variable name must be non-empty without '=': {key!r}"
                )
            env = _set_env(env, key, value)
        self.run["Env"] = env

    def set_cmd(self, command: Sequence[str] | None) -> None:
        """Set the default command (``None`` clears it)."""
        self.run["Cmd"] = list(command) if command is not None else None
        self.cmd_set = True

    def set_entrypoint(self, command: Sequence[str] | None, *, reset_cmd: bool = False) -> None:
        """Set the entrypoint; with ``reset_cmd``, Docker's rule: an inherited CMD is dropped."""
        self.run["Entrypoint"] = list(command) if command is not None else None
        if reset_cmd and not self.cmd_set:
            self.run["Cmd"] = None

    def set_workdir(self, path: str) -> None:
        """Set the working directory (a relative path is joined to the current one)."""
        if not path:
            raise ValueError("a working directory cannot be empty")
        self.run["WorkingDir"] = self.resolve(path).rstrip("/") or "/"

    def set_user(self, user: str) -> None:
        """Set the user (``name``, ``uid``, ``user:group``...)."""
        if not user.strip():
            raise ValueError("a user cannot be empty")
        self.run["User"] = user.strip()

    def expose(self, ports: Iterable[str | int]) -> None:
        """Add exposed ports (``80``, ``"53/udp"``)."""
        exposed = dict(self.run.get("ExposedPorts") or {})
        for port in ports:
            exposed[port_key(port)] = {}
        self.run["ExposedPorts"] = exposed

    def set_labels(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set labels."""
        labels = dict(self.run.get("Labels") or {})
        for key, value in pairs:
            if not key:
                raise ValueError("a label key cannot be empty")
            labels[key] = value
        self.run["Labels"] = labels

    def add_volumes(self, paths: Iterable[str]) -> None:
        """Declare volumes."""
        volumes = dict(self.run.get("Volumes") or {})
        for path in paths:
            if not path:
                raise ValueError("a volume path cannot be empty")
            volumes[self.resolve(path).rstrip("/") or "/"] = {}
        self.run["Volumes"] = volumes

    def set_stop_signal(self, signal: str) -> None:
        """Set the stop signal."""
        if not signal:
            raise ValueError("a stop signal cannot be empty")
        self.run["StopSignal"] = signal

    def finish(self) -> bytes:
        """The config's bytes: compact JSON, key order as built (deterministic)."""
        return json.dumps(self.config, separators=(",", ":"), ensure_ascii=False).encode()
