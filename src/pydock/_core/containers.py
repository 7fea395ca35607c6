"""Containers without I/O: create bodies, option parsing and the models read from answers.

Everything here is pure: ``run()``/``create()`` arguments become a Docker
create body (both engines accept it: Podman through its Docker-compatible
endpoint), and inspect/list/exec/stats answers become typed snapshots.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypedDict

import attrs

from pydock._core.dialect import quote_path
from pydock._core.models import parse_time
from pydock._core.reference import ImageReference
from pydock._core.shapes import (
    at,
    get_bool,
    get_int,
    get_list,
    get_object,
    get_str,
    get_str_list,
    get_str_map,
    index,
    list_,
    object_,
    str_list,
)
from pydock._core.streams import STDERR, STDOUT, Frame
from pydock.errors import InvalidConfiguration, InvalidReference, ProtocolError

__all__ = [
    "DEFAULT_MAX_LINE",
    "ChangeKind",
    "ContainerChange",
    "ContainerEvent",
    "ContainerState",
    "ContainerStats",
    "ContainerSettings",
    "CreateOptions",
    "ExecResult",
    "Healthcheck",
    "LogAssembler",
    "LogLine",
    "PortBinding",
    "PortsArg",
    "PruneReport",
    "RestartPolicy",
    "RunResult",
    "TopResult",
    "build_create_body",
    "changes_from_api",
    "container_fields_from_inspect",
    "container_fields_from_list",
    "container_list_entries",
    "container_path",
    "created_id",
    "encode_filters",
    "exec_state",
    "normalize_port",
    "parse_memory",
    "parse_ports",
    "parse_volume_spec",
    "wait_status",
]

RestartName = Literal["no", "on-failure", "always", "unless-stopped"]
_RESTART_NAMES: tuple[RestartName, ...] = ("no", "on-failure", "always", "unless-stopped")


# --------------------------------------------------------------------------- restart policy


@attrs.frozen
class RestartPolicy:
    """What the engine does when a container stops.

    Build one with :meth:`no`, :meth:`on_failure`, :meth:`always`,
    :meth:`unless_stopped`, or :meth:`parse` a CLI string (``"on-failure:3"``).

    Attributes:
        name: ``"no"``, ``"on-failure"``, ``"always"`` or ``"unless-stopped"``.
        max_retries: For ``on-failure``: how many restarts at most (0: no limit).
    """

    name: RestartName = "no"
    max_retries: int = 0

    def __attrs_post_init__(self) -> None:
        if self.name not in _RESTART_NAMES:
            raise ValueError(f"unknown restart policy {self.name!r}")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if self.max_retries and self.name != "on-failure":
            raise ValueError(f"max_retries only applies to on-failure, not {self.name!r}")

    @classmethod
    def no(cls) -> RestartPolicy:
        """Never restart."""
        return cls("no")

    @classmethod
    def on_failure(cls, max_retries: int = 0) -> RestartPolicy:
        """Restart after a non-zero exit, at most ``max_retries`` times (0: no limit)."""
        return cls("on-failure", max_retries)

    @classmethod
    def always(cls) -> RestartPolicy:
        """Always restart, also when the engine starts again."""
        return cls("always")

    @classmethod
    def unless_stopped(cls) -> RestartPolicy:
        """Restart unless the container was stopped by hand."""
        return cls("unless-stopped")

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        """Parse the docker CLI's ``--restart`` value: ``no``, ``on-failure[:N]``, ``always``...

        Raises:
            ValueError: Not a restart policy.
        """
        name, sep, count = text.strip().partition(":")
        if name == "":
            name = "no"
        if name not in _RESTART_NAMES:
            raise ValueError(f"unknown restart policy {text!r}")
        if sep:
            if name != "on-failure":
                raise ValueError(f"only on-failure takes a retry count: {text!r}")
            try:
                retries = int(count)
            except ValueError:
                raise ValueError(f"invalid retry count in restart policy {text!r}") from None
            return cls("on-failure", retries)
        return cls(name)

    @classmethod
    def coerce(cls, value: RestartPolicy | str | Mapping[str, Any]) -> RestartPolicy:
        """Accept a policy, a CLI string, or Docker's ``{"Name", "MaximumRetryCount"}``.

        Raises:
            ValueError: Not a restart policy.
        """
        if isinstance(value, RestartPolicy):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls.from_api(value)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> RestartPolicy:
        """Read Docker's ``HostConfig.RestartPolicy``."""
        if not payload:
            return cls("no")
        name = str(payload.get("Name") or "no")
        retries = int(payload.get("MaximumRetryCount") or 0)
        if name not in _RESTART_NAMES:
            return cls("no")
        return cls(name, retries if name == "on-failure" else 0)

    def to_api(self) -> dict[str, Any]:
        """Docker's ``HostConfig.RestartPolicy``."""
        return {"Name": self.name, "MaximumRetryCount": self.max_retries}

    def __str__(self) -> str:
        if self.name == "on-failure" and self.max_retries:
            return f"on-failure:{self.max_retries}"
        return self.name


# --------------------------------------------------------------------------- paths

# A container name on both engines (Docker writes it with a leading "/"), or an id or id prefix.
_CONTAINER_REF = re.compile(r"/?([a-zA-Z0-9][a-zA-Z0-9_.-]*)")


def container_path(name_or_id: str, suffix: str = "") -> str | None:
    """The request path for a container given by a user: ``/containers/{name}{suffix}``.

    Docker's canonical ``/name`` is accepted for ``name``. Anything that no
    container can be called on either engine (``x/``, ``../x``, ``x?y=1``,
    ``""``) gives None: it never reaches a request path, where Docker would
    clean it with a redirect and Podman look it up as is.

    Args:
        name_or_id: A container name, id or id prefix.
        suffix: The rest of the path (``"/json"``).
    """
    match = _CONTAINER_REF.fullmatch(name_or_id) if isinstance(name_or_id, str) else None
    if match is None:
        return None
    return f"/containers/{quote_path(match.group(1))}{suffix}"


# --------------------------------------------------------------------------- healthcheck

_NS = 1_000_000_000


def _ns(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * _NS)


@attrs.frozen
class Healthcheck:
    """A container health check (``docker run --health-cmd ...``).

    Attributes:
        test: A shell command (run with ``CMD-SHELL``), or the full form
            (``["CMD", "prog", "arg"]``, ``["CMD-SHELL", "cmd"]``, ``["NONE"]``).
        interval: Seconds between checks.
        timeout: Seconds before a check counts as failed.
        retries: Failures in a row that make the container unhealthy.
        start_period: Seconds of start-up during which failures do not count.
    """

    test: str | Sequence[str]
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None

    def to_api(self) -> dict[str, Any]:
        """Docker's ``Healthcheck`` object (durations in nanoseconds)."""
        test = ["CMD-SHELL", self.test] if isinstance(self.test, str) else list(self.test)
        body: dict[str, Any] = {"Test": test}
        for key, value in (
            ("Interval", _ns(self.interval)),
            ("Timeout", _ns(self.timeout)),
            ("StartPeriod", _ns(self.start_period)),
            ("Retries", self.retries),
        ):
            if value is not None:
                body[key] = value
        return body


# --------------------------------------------------------------------------- argument checks

_WAIT_CONDITIONS = ("not-running", "next-exit", "removed")


def check_seconds(value: object, parameter: str) -> float | None:
    """``value`` as a number of seconds (None passes): finite and not negative.

    Raises:
        InvalidConfiguration: It is not a number, is negative, NaN or infinite;
            the message names ``parameter``.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidConfiguration(
            f"{parameter} must be a number of seconds or None, not {value!r}"
        )
    if not math.isfinite(value) or value < 0:
        raise InvalidConfiguration(
            f"{parameter} must be a finite number of seconds >= 0, not {value!r}"
        )
    return float(value)


_SIGNAL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[+-][0-9]+)?")


def check_signal(signal: object, parameter: str = "signal") -> str:
    """A signal for ``kill()``, checked: a name (``SIGTERM``, ``TERM``, ``SIGRTMIN+3``) or 1-64.

    Raises:
        InvalidConfiguration: It is neither; the message names ``parameter``.
    """
    if isinstance(signal, int) and not isinstance(signal, bool):
        number = signal
    elif isinstance(signal, str) and signal.isdigit():
        number = int(signal)
    elif isinstance(signal, str) and _SIGNAL_NAME.fullmatch(signal):
        return signal
    else:
        number = 0
    if not 0 < number <= 64:
        raise InvalidConfiguration(
            f"{parameter} must be a signal name such as 'SIGTERM' or a number from 1 to 64,"
            f" not {signal!r}"
        )
    return str(number)


def check_wait_condition(condition: object) -> str:
    """``condition`` of ``wait()``, checked.

    Raises:
        InvalidConfiguration: It is not one of the engines' conditions.
    """
    if condition not in _WAIT_CONDITIONS:
        raise InvalidConfiguration(
            f"condition must be one of {', '.join(map(repr, _WAIT_CONDITIONS))}, not {condition!r}"
        )
    return str(condition)


_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{1,64}")


def check_image_argument(image: object) -> str:
    """The ``image`` of ``run()``/``create()``, checked: an image ID (or prefix) or a reference.

    Raises:
        InvalidReference: It is neither (e.g. ``localhost:99999/x``: no such port).
    """
    if not isinstance(image, str) or not image:
        raise InvalidReference(f"image must be an image name or ID, not {image!r}")
    if not _IMAGE_ID.fullmatch(image):
        ImageReference.parse_any(image)
    return image


def check_host_ip(ip: object, parameter: str = "ports") -> str:
    """The host address of a published port, checked: ``""`` (every address) or an IP address.

    IPv6 addresses may be written in brackets (``[::1]``); they are sent without.

    Raises:
        InvalidConfiguration: It is not an IPv4 or IPv6 address; the message names
            ``parameter``.
    """
    if not isinstance(ip, str):
        raise InvalidConfiguration(f"{parameter}: a host IP must be a string, not {ip!r}")
    if ip == "":
        return ip
    bare = ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        raise InvalidConfiguration(
            f"{parameter}: {ip!r} is not a host IP address (use an IPv4 or IPv6 address,"
            " or '' for every address)"
        ) from None
    return bare


def _check_env_key(key: object, parameter: str) -> str:
    if not isinstance(key, str):
        raise InvalidConfiguration(f"{parameter}: a variable name must be a string, not {key!r}")
    if not key or "=" in key or "\0" in key:
        raise InvalidConfiguration(
            f"{parameter}: {key!r} is not a variable name (it must be non-empty,"
            " without '=' or NUL)"
        )
    return key


def _env_value(key: str, value: object, parameter: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidConfiguration(
            f"{parameter}: the value of {key!r} must be a string or a number, not {value!r}"
        )
    text = str(value)
    if "\0" in text:
        raise InvalidConfiguration(f"{parameter}: the value of {key!r} contains a NUL character")
    return text


# --------------------------------------------------------------------------- ports

#: One host side of a published port: a host port, ``(ip, port)``, ``(ip,)``, or None (any free).
HostPortSpec: TypeAlias = "int | str | tuple[str] | tuple[str, int | str | None] | None"
#: ``ports=`` of ``run``/``create``.
PortsArg: TypeAlias = "Mapping[int | str, HostPortSpec | Sequence[HostPortSpec]]"

_PORT_KEY = re.compile(r"^(\d{1,5})(?:/(tcp|udp|sctp))?$")


def normalize_port(key: int | str) -> str:
    """``80`` or ``"80"`` → ``"80/tcp"``; ``"53/udp"`` stays.

    Raises:
        ValueError: Not a container port.
    """
    m = _PORT_KEY.match(str(key).strip().lower())
    if not m or not 0 < int(m.group(1)) < 65536:
        raise ValueError(f"not a container port: {key!r} (use 80, '80/tcp' or '53/udp')")
    return f"{int(m.group(1))}/{m.group(2) or 'tcp'}"


@attrs.frozen
class PortBinding:
    """Where a container port is published on the host.

    Attributes:
        host_ip: The host address (``""`` or ``"0.0.0.0"``: every address).
        host_port: The host port (None: not published yet, or chosen when started).
    """

    host_ip: str
    host_port: int | None


def _host_binding(spec: Any) -> dict[str, str]:
    ip = ""
    port: Any = spec
    if isinstance(spec, tuple):
        if not 1 <= len(spec) <= 2:
            raise ValueError(f"a host binding is (ip,) or (ip, port), not {spec!r}")
        ip = check_host_ip(spec[0])
        port = spec[1] if len(spec) == 2 else None
    if port is None or port == "":
        return {"HostIp": ip, "HostPort": ""}
    if isinstance(port, bool) or not str(port).isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"not a host port: {port!r}")
    return {"HostIp": ip, "HostPort": str(int(port)) if int(port) else ""}


def port_bindings(
    ports: PortsArg,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, str]]]]:
    """``ports=`` → ``(ExposedPorts, HostConfig.PortBindings)``.

    Values: a host port, ``(ip, port)``, ``(ip,)``/``(ip, None)``, None for any
    free port, or a list of those to publish one port several times.

    Raises:
        ValueError: A key or value is not a port.
    """
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for key, value in ports.items():
        port = normalize_port(key)
        exposed[port] = {}
        specs: Sequence[Any] = value if isinstance(value, list) else [value]
        bindings[port] = [_host_binding(spec) for spec in specs]
    return exposed, bindings


def parse_ports(payload: Any, field: str = "Ports") -> dict[str, list[PortBinding]]:
    """Read published ports from ``NetworkSettings.Ports`` (inspect) or ``Ports`` (list).

    Exposed ports that are not published map to an empty list.

    Raises:
        ProtocolError: The ports are not of either shape (``field`` names where).
    """
    out: dict[str, list[PortBinding]] = {}
    if payload is None:
        return out
    if isinstance(payload, Mapping):
        for key, bindings in payload.items():
            items = out.setdefault(str(key), [])
            where = at(field, str(key))
            for i, b in enumerate(list_(bindings, where) if bindings is not None else []):
                b = object_(b, index(where, i))
                port = get_str(b, "HostPort", index(where, i))
                if port and not port.isdigit():
                    raise ProtocolError(
                        f"the engine's answer has the wrong shape: {index(where, i)}.HostPort"
                        f" is {port!r}, not a port",
                        field=f"{index(where, i)}.HostPort",
                    )
                host_ip = get_str(b, "HostIp", index(where, i))
                items.append(PortBinding(host_ip, int(port) if port else None))
        return out
    for i, entry in enumerate(list_(payload, field)):
        entry = object_(entry, index(field, i))
        if entry.get("PrivatePort") is None:
            continue
        private = get_int(entry, "PrivatePort", index(field, i))
        key = f"{private}/{get_str(entry, 'Type', index(field, i)) or 'tcp'}"
        items = out.setdefault(key, [])
        public = get_int(entry, "PublicPort", index(field, i))
        if public:
            items.append(PortBinding(get_str(entry, "IP", index(field, i)), public))
    return out


# --------------------------------------------------------------------------- volumes, memory, env

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

#: ``volumes=``: ``["src:/dst[:mode]"]``, ``{src: "/dst"}``,
#: or ``{src: {"bind": "/dst", "mode": "ro"}}``.
VolumesArg: TypeAlias = "Sequence[str] | Mapping[str, str | Mapping[str, str]]"


def parse_memory(value: int | str) -> int:
    """``"64m"``, ``"1g"``, ``"512k"``, ``1048576`` → bytes (binary units, like docker).

    Raises:
        ValueError: Not a size.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a memory size: {value!r}")
    if isinstance(value, int):
        return value
    m = _MEMORY.match(value)
    if not m:
        raise ValueError(f"not a memory size: {value!r} (use bytes or 64m, 1g...)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_volume_spec(spec: str) -> str:
    """Check one ``src:/dst[:mode]`` bind spec and return it.

    ``src`` is a host path (starting with ``/``) or a volume name.

    Raises:
        ValueError: The spec is not ``src:/dst[:mode]``.
    """
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
        raise ValueError(f"a volume is 'source:/container/path[:mode]', not {spec!r}")
    return spec


def volume_binds(volumes: VolumesArg) -> list[str]:
    """``volumes=`` → ``HostConfig.Binds``.

    Raises:
        ValueError: A spec is malformed.
    """
    if isinstance(volumes, str):
        return [parse_volume_spec(volumes)]
    if isinstance(volumes, Mapping):
        binds = []
        for source, target in volumes.items():
            if isinstance(target, str):
                binds.append(parse_volume_spec(f"{source}:{target}"))
            else:
                mode = target.get("mode")
                spec = f"{source}:{target['bind']}" + (f":{mode}" if mode else "")
                binds.append(parse_volume_spec(spec))
        return binds
    return [parse_volume_spec(v) for v in volumes]


def environment_list(
    environment: Mapping[str, Any] | Sequence[str], parameter: str = "environment"
) -> list[str]:
    """``{"A": "1"}`` or ``["A=1"]`` → ``["A=1"]``.

    Names must be non-empty strings without ``=``; values strings, numbers or
    None (empty). A list holds ``NAME=VALUE`` (or ``NAME``) strings.

    Raises:
        InvalidConfiguration: A name or value is not usable; the message names
            ``parameter`` and the variable.
    """
    if isinstance(environment, Mapping):
        return [
            f"{_check_env_key(k, parameter)}={_env_value(k, v, parameter)}"
            for k, v in environment.items()
        ]
    if isinstance(environment, (str, bytes)):
        raise InvalidConfiguration(
            f"{parameter} must be a mapping or a list of 'NAME=VALUE' strings,"
            f" not the string {environment!r}"
        )
    out = []
    for entry in environment:
        if not isinstance(entry, str):
            raise InvalidConfiguration(
                f"{parameter}: entries must be 'NAME=VALUE' strings, not {entry!r}"
            )
        key, _, value = entry.partition("=")
        _check_env_key(key, parameter)
        _env_value(key, value, parameter)
        out.append(entry)
    return out


def _command(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return list(value)


def build_create_body(
    image: str,
    command: str | Sequence[str] | None = None,
    *,
    name: str | None = None,
    auto_remove: bool = False,
    restart: RestartPolicy | str | Mapping[str, Any] | None = None,
    ports: PortsArg | None = None,
    environment: Mapping[str, Any] | Sequence[str] | None = None,
    volumes: VolumesArg | None = None,
    user: str | None = None,
    workdir: str | None = None,
    entrypoint: str | Sequence[str] | None = None,
    tty: bool = False,
    stdin_open: bool = False,
    labels: Mapping[str, str] | None = None,
    hostname: str | None = None,
    network_mode: str | None = None,
    mem_limit: int | str | None = None,
    nano_cpus: int | None = None,
    cpus: float | None = None,
    healthcheck: Healthcheck | Mapping[str, Any] | None = None,
    privileged: bool = False,
    cap_add: Sequence[str] | None = None,
    extra_hosts: Mapping[str, str] | None = None,
    attach: bool = False,
) -> dict[str, Any]:
    """The Docker ``POST /containers/create`` body for ``run()``/``create()`` arguments.

    Podman's Docker-compatible endpoint takes the same body.

    Raises:
        ValueError: An argument is malformed (a port, volume, size, policy...).
    """
    body: dict[str, Any] = {"Image": image}
    host: dict[str, Any] = {}
    cmd = _command(command)
    if cmd is not None:
        body["Cmd"] = cmd
    ep = _command(entrypoint)
    if ep is not None:
        body["Entrypoint"] = ep
    if environment is not None:
        body["Env"] = environment_list(environment)
    if user is not None:
        body["User"] = user
    if workdir is not None:
        body["WorkingDir"] = workdir
    if hostname is not None:
        body["Hostname"] = hostname
    if labels:
        body["Labels"] = {str(k): str(v) for k, v in labels.items()}
    body["Tty"] = bool(tty)
    if stdin_open:
        body["OpenStdin"] = True
        body["AttachStdin"] = True
        body["StdinOnce"] = True
    if attach:
        body["AttachStdout"] = True
        body["AttachStderr"] = True
    if ports:
        exposed, bindings = port_bindings(ports)
        body["ExposedPorts"] = exposed
        host["PortBindings"] = bindings
    if volumes:
        host["Binds"] = volume_binds(volumes)
    if restart is not None:
        policy = RestartPolicy.coerce(restart)
        if auto_remove and policy.name != "no":
            raise ValueError("a container removed on exit cannot have a restart policy")
        host["RestartPolicy"] = policy.to_api()
    if auto_remove:
        host["AutoRemove"] = True
    if network_mode is not None:
        host["NetworkMode"] = network_mode
    if mem_limit is not None:
        host["Memory"] = parse_memory(mem_limit)
    if nano_cpus is not None and cpus is not None:
        raise ValueError("give nano_cpus or cpus, not both")
    if cpus is not None:
        host["NanoCpus"] = int(cpus * 1e9)
    elif nano_cpus is not None:
        host["NanoCpus"] = int(nano_cpus)
    if privileged:
        host["Privileged"] = True
    if cap_add:
        host["CapAdd"] = list(cap_add)
    if extra_hosts:
        host["ExtraHosts"] = [f"{h}:{ip}" for h, ip in extra_hosts.items()]
    if healthcheck is not None:
        body["Healthcheck"] = (
            healthcheck.to_api() if isinstance(healthcheck, Healthcheck) else dict(healthcheck)
        )
    if host:
        body["HostConfig"] = host
    return body


def encode_filters(filters: Mapping[str, Any] | None) -> str | None:
    """``filters=`` → the JSON the engines take (``{"label": ["a=b"], ...}``).

    Values may be a string, a list of strings, a bool, or for ``label`` a
    mapping (``{"app": "web"}`` → ``["app=web"]``).
    """
    if not filters:
        return None
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            items = [f"{k}={v}" if v is not None else str(k) for k, v in value.items()]
        elif isinstance(value, bool):
            items = ["true" if value else "false"]
        elif isinstance(value, (str, int)):
            items = [str(value)]
        else:
            items = [str(v) for v in value]
        out[key] = items
    return json.dumps(out, separators=(",", ":"))


# --------------------------------------------------------------------------- models


@attrs.frozen
class ContainerState:
    """The runtime state of a container (inspect's ``State``).

    Attributes:
        status: ``created``, ``running``, ``paused``, ``restarting``, ``exited``...
        running: Whether it runs (also while paused).
        paused: Whether it is paused.
        restarting: Whether the engine is restarting it.
        oom_killed: Whether it was killed for using too much memory.
        dead: Whether it is dead.
        pid: Its main process on the host (0 when not running).
        exit_code: The exit code of the last run.
        error: The engine's error message, if any.
        started_at: When it last started.
        finished_at: When it last stopped.
        health: ``starting``, ``healthy``, ``unhealthy``, or None without a health check.
    """

    status: str
    running: bool
    paused: bool
    restarting: bool
    oom_killed: bool
    dead: bool
    pid: int
    exit_code: int
    error: str
    started_at: datetime | None
    finished_at: datetime | None
    health: str | None

    @classmethod
    def from_api(cls, payload: object, field: str = "") -> ContainerState:
        """Read inspect's ``State``.

        Raises:
            ProtocolError: It does not have the shape of a state.
        """
        state = object_(payload, field)
        health_status = get_str(get_object(state, "Health", field), "Status", at(field, "Health"))
        return cls(
            status=get_str(state, "Status", field),
            running=get_bool(state, "Running", field),
            paused=get_bool(state, "Paused", field),
            restarting=get_bool(state, "Restarting", field),
            oom_killed=get_bool(state, "OOMKilled", field),
            dead=get_bool(state, "Dead", field),
            pid=get_int(state, "Pid", field),
            exit_code=get_int(state, "ExitCode", field),
            error=get_str(state, "Error", field),
            started_at=parse_time(state.get("StartedAt")),
            finished_at=parse_time(state.get("FinishedAt")),
            health=health_status or None,
        )


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _restart_policy(host: Mapping[str, Any]) -> RestartPolicy:
    policy = get_object(host, "RestartPolicy", "HostConfig")
    get_str(policy, "Name", "HostConfig.RestartPolicy")
    get_int(policy, "MaximumRetryCount", "HostConfig.RestartPolicy")
    return RestartPolicy.from_api(policy)


#: A container, exec or image id (a commit answers ``sha256:<hex>`` on Docker).
_ENGINE_ID = re.compile(r"(?:sha256:)?[A-Za-z0-9][A-Za-z0-9_.-]*")


def _container_id(payload: Mapping[str, Any], prefix: str) -> str:
    """The ``Id`` of a container or exec: an engine id goes into later request paths as is."""
    container_id = get_str(payload, "Id", prefix)
    if not _ENGINE_ID.fullmatch(container_id):
        raise ProtocolError(
            f"the engine's answer has the wrong shape: {container_id!r} is not an id",
            field=at(prefix, "Id"),
        )
    return container_id


def container_fields_from_inspect(payload: object) -> dict[str, Any]:
    """The fields of a container snapshot, from ``GET /containers/{id}/json``.

    Raises:
        ProtocolError: The answer is not a container (``field`` names where).
    """
    payload = object_(payload)
    config = get_object(payload, "Config")
    network = get_object(payload, "NetworkSettings")
    host = get_object(payload, "HostConfig")
    state = payload.get("State")
    state_model = None if state is None else ContainerState.from_api(state, "State")
    image_id = get_str(payload, "Image")
    return {
        "id": _container_id(payload, ""),
        "name": get_str(payload, "Name").lstrip("/"),
        "image": get_str(config, "Image", "Config") or image_id,
        "image_id": image_id,
        "status": state_model.status if state_model else "",
        "ports": parse_ports(network.get("Ports"), "NetworkSettings.Ports"),
        "labels": get_str_map(config, "Labels", "Config"),
        "created": parse_time(payload.get("Created")),
        "restart_count": get_int(payload, "RestartCount"),
        "restart_policy": _restart_policy(host),
        "tty": get_bool(config, "Tty", "Config"),
        "state": state_model,
        "attrs": payload,
    }


def container_fields_from_list(payload: object, prefix: str = "") -> dict[str, Any]:
    """The fields of a container snapshot, from one ``GET /containers/json`` entry.

    A list entry lacks the restart count, the restart policy, the TTY flag and
    the detailed state: those are None (``reload()`` fills them).

    Args:
        payload: The entry.
        prefix: Where it is in the answer (``"[3]"``), for error messages.

    Raises:
        ProtocolError: The entry is not a container (``field`` names where).
    """
    payload = object_(payload, prefix)
    names = get_str_list(payload, "Names", prefix)
    return {
        "id": _container_id(payload, prefix),
        "name": names[0].lstrip("/") if names else "",
        "image": get_str(payload, "Image", prefix),
        "image_id": get_str(payload, "ImageID", prefix),
        "status": get_str(payload, "State", prefix),
        "ports": parse_ports(payload.get("Ports"), at(prefix, "Ports")),
        "labels": get_str_map(payload, "Labels", prefix),
        "created": parse_time(payload.get("Created")),
        "restart_count": None,
        "restart_policy": None,
        "tty": None,
        "state": None,
        "attrs": payload,
    }


def created_id(payload: object) -> str:
    """The new object's id from a create or commit answer (``{"Id": ..., "Warnings": [...]}``).

    Raises:
        ProtocolError: The answer has no id.
    """
    return _container_id(object_(payload), "")


def wait_status(payload: object) -> tuple[int, str | None]:
    """The exit code and error message from a ``POST /containers/{id}/wait`` answer.

    Raises:
        ProtocolError: The answer does not have the shape of a wait answer.
    """
    answer = {} if payload is None else object_(payload)
    error = get_object(answer, "Error")
    message = get_str(error, "Message", "Error") or None
    return get_int(answer, "StatusCode"), message


def exec_state(payload: object) -> tuple[bool, int | None, int]:
    """``(running, exit_code, pid)`` from an exec inspect answer (``GET /exec/{id}/json``).

    ``exit_code`` is None until the engine has recorded it.

    Raises:
        ProtocolError: The answer does not have the shape of an exec inspect.
    """
    info = object_(payload)
    exit_code = None if info.get("ExitCode") is None else get_int(info, "ExitCode")
    return get_bool(info, "Running"), exit_code, get_int(info, "Pid")


def changes_from_api(payload: object) -> list[ContainerChange]:
    """Read ``GET /containers/{id}/changes`` (``null`` when nothing changed).

    Raises:
        ProtocolError: The answer is not a list of changes.
    """
    if payload is None:
        return []
    return [ContainerChange.from_api(item, index("", i)) for i, item in enumerate(list_(payload))]


def container_list_entries(payload: object) -> list[dict[str, Any]]:
    """The snapshot fields of every entry of a ``GET /containers/json`` answer.

    Raises:
        ProtocolError: The answer is not a list of containers (``field`` is ``"[3].Id"``...).
    """
    if payload is None:
        return []
    return [container_fields_from_list(item, index("", i)) for i, item in enumerate(list_(payload))]


@attrs.frozen
class RunResult:
    """What a container that ran to the end left behind.

    Attributes:
        exit_code: Its exit code.
        stdout: Everything it wrote to standard output (with a TTY: all output).
        stderr: Everything it wrote to standard error (empty with a TTY).
    """

    exit_code: int
    stdout: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    stderr: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


@attrs.frozen
class ExecResult:
    """What a command run with ``exec`` left behind.

    Attributes:
        exit_code: Its exit code.
        stdout: Its standard output (with a TTY: all output).
        stderr: Its standard error (empty with a TTY).
    """

    exit_code: int
    stdout: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    stderr: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


@attrs.frozen
class PruneReport:
    """What a prune removed.

    Attributes:
        deleted: Ids of the removed objects.
        space_reclaimed: Bytes freed.
    """

    deleted: list[str]
    space_reclaimed: int

    @classmethod
    def from_api(cls, payload: object) -> PruneReport:
        """Read ``POST /containers/prune``'s answer.

        Raises:
            ProtocolError: The answer does not have the shape of a prune report.
        """
        report = {} if payload is None else object_(payload)
        return cls(
            deleted=get_str_list(report, "ContainersDeleted"),
            space_reclaimed=get_int(report, "SpaceReclaimed"),
        )


@attrs.frozen
class TopResult:
    """The processes of a container (``docker top``).

    Attributes:
        titles: Column titles (``UID``, ``PID``, ``CMD``...).
        processes: One row of column values per process.
    """

    titles: list[str]
    processes: list[list[str]]

    @classmethod
    def from_api(cls, payload: object) -> TopResult:
        """Read ``GET /containers/{id}/top``'s answer.

        Raises:
            ProtocolError: The answer does not have the shape of a process table.
        """
        top = {} if payload is None else object_(payload)
        titles = get_str_list(top, "Titles")
        rows = [
            str_list(row, index("Processes", i)) for i, row in enumerate(get_list(top, "Processes"))
        ]
        if len(titles) == 1 and len(titles[0].split()) > 1:
            # Podman runs the container's own ps and relays its lines unsplit.
            titles = titles[0].split()
            rows = [row[0].split(None, len(titles) - 1) if len(row) == 1 else row for row in rows]
        return cls(titles=titles, processes=rows)


ChangeKind = Literal["modified", "added", "deleted"]
_KINDS: dict[int, ChangeKind] = {0: "modified", 1: "added", 2: "deleted"}


@attrs.frozen
class ContainerChange:
    """One change to a container's filesystem (``docker diff``).

    Attributes:
        path: The changed path.
        kind: ``"modified"``, ``"added"`` or ``"deleted"``.
    """

    path: str
    kind: ChangeKind

    @classmethod
    def from_api(cls, payload: object, prefix: str = "") -> ContainerChange:
        """Read one entry of ``GET /containers/{id}/changes``.

        Raises:
            ProtocolError: The entry does not have the shape of a change.
        """
        change = object_(payload, prefix)
        return cls(
            get_str(change, "Path", prefix), _KINDS.get(get_int(change, "Kind", prefix), "modified")
        )


@attrs.frozen
class ContainerStats:
    """One resource-usage sample of a container (``docker stats``).

    Attributes:
        read: When the sample was taken.
        cpu_percent: CPU use since the previous sample, as ``docker stats``
            computes it (100 per fully used CPU).
        memory_usage: Memory used, in bytes (page cache excluded when known).
        memory_limit: The memory limit, in bytes.
        pids: Number of processes.
        attrs: The raw sample.
    """

    read: datetime | None
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    pids: int
    attrs: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_api(cls, payload: object) -> ContainerStats:
        """Read one stats sample (Docker's shape; Podman's compat endpoint matches).

        Raises:
            ProtocolError: The sample does not have the shape of one.
        """
        payload = object_(payload)
        cpu = get_object(payload, "cpu_stats")
        pre = get_object(payload, "precpu_stats")
        cpu_usage = get_object(cpu, "cpu_usage", "cpu_stats")
        usage = get_int(cpu_usage, "total_usage", "cpu_stats.cpu_usage")
        pre_usage = get_int(
            get_object(pre, "cpu_usage", "precpu_stats"), "total_usage", "precpu_stats.cpu_usage"
        )
        system = get_int(cpu, "system_cpu_usage", "cpu_stats")
        pre_system = get_int(pre, "system_cpu_usage", "precpu_stats")
        ncpu = get_int(cpu, "online_cpus", "cpu_stats") or len(
            get_list(cpu_usage, "percpu_usage", "cpu_stats.cpu_usage")
        )
        cpu_delta = usage - pre_usage
        system_delta = system - pre_system
        percent = 0.0
        if cpu_delta > 0 and system_delta > 0:
            percent = cpu_delta / system_delta * (ncpu or 1) * 100.0
        memory = get_object(payload, "memory_stats")
        mem_usage = get_int(memory, "usage", "memory_stats")
        mem_stats = get_object(memory, "stats", "memory_stats")
        key = "inactive_file" if "inactive_file" in mem_stats else "total_inactive_file"
        cache = get_int(mem_stats, key, "memory_stats.stats")
        if cache and cache < mem_usage:
            mem_usage -= cache
        return cls(
            read=parse_time(payload.get("read")),
            cpu_percent=float(percent),
            memory_usage=mem_usage,
            memory_limit=get_int(memory, "limit", "memory_stats"),
            pids=get_int(get_object(payload, "pids_stats"), "current", "pids_stats"),
            attrs=payload,
        )


@attrs.frozen
class ContainerEvent:
    """One engine event (``docker events``).

    Attributes:
        type: What the event is about: ``container``, ``image``, ``network``...
        action: What happened: ``create``, ``start``, ``die``, ``destroy``...
        id: The object's id.
        attributes: The actor's attributes (``name``, ``image``, labels, ``exitCode``...).
        time: When it happened.
        attrs: The raw event.
    """

    type: str
    action: str
    id: str
    attributes: Mapping[str, str]
    time: datetime | None
    attrs: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_api(cls, payload: object) -> ContainerEvent:
        """Read one ``GET /events`` object (Docker's shape; Podman's compat endpoint matches).

        Raises:
            ProtocolError: The event does not have the shape of one.
        """
        payload = object_(payload)
        actor = get_object(payload, "Actor")
        nanos = payload.get("timeNano")
        when = parse_time(nanos / _NS if isinstance(nanos, int) and nanos else payload.get("time"))
        action = get_str(payload, "Action") or get_str(payload, "status")
        return cls(
            type=get_str(payload, "Type"),
            action=action,
            id=get_str(actor, "ID", "Actor") or get_str(payload, "id"),
            attributes=get_str_map(actor, "Attributes", "Actor"),
            time=when,
            attrs=payload,
        )


# --------------------------------------------------------------------------- logs

StreamName = Literal["stdout", "stderr"]

#: Longest line a :class:`LogAssembler` holds before handing out a piece of it.
DEFAULT_MAX_LINE = 64 * 1024


@attrs.frozen
class LogLine:
    """One line (or piece of a very long line) of a container's output.

    Attributes:
        stream: ``"stdout"`` or ``"stderr"`` (always ``"stdout"`` with a TTY).
        data: The bytes, with their line ending.
        timestamp: When the engine received it, if asked for with ``timestamps=True``.
    """

    stream: StreamName
    data: bytes
    timestamp: datetime | None = None


_TS = re.compile(rb"^(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)) ")


class LogAssembler:
    """Turn log frames into lines, per stream, in bounded memory.

    Args:
        timestamps: Whether each line starts with the engine's RFC 3339 time
            (then parsed into :attr:`LogLine.timestamp` and cut from the data).
        max_line: The longest piece held back waiting for its ``\\n``; longer
            lines come out in pieces of this size.
    """

    def __init__(self, *, timestamps: bool = False, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._timestamps = timestamps
        self._max = max_line
        self._tails: dict[int, bytearray] = {STDOUT: bytearray(), STDERR: bytearray()}

    def feed(self, frames: Iterable[Frame]) -> list[LogLine]:
        """Add frames; return the lines they complete."""
        out: list[LogLine] = []
        for stream, data in frames:
            if stream not in self._tails:
                continue
            tail = self._tails[stream]
            tail += data
            start = 0
            while True:
                nl = tail.find(b"\n", start)
                if nl < 0:
                    break
                out.append(self._line(stream, bytes(tail[start : nl + 1])))
                start = nl + 1
            while len(tail) - start > self._max:
                out.append(self._line(stream, bytes(tail[start : start + self._max])))
                start += self._max
            del tail[:start]
        return out

    def flush(self) -> list[LogLine]:
        """End of the stream: the unterminated last lines."""
        out = []
        for stream, tail in self._tails.items():
            if tail:
                out.append(self._line(stream, bytes(tail)))
                tail.clear()
        return out

    def _line(self, stream: int, data: bytes) -> LogLine:
        name: StreamName = "stderr" if stream == STDERR else "stdout"
        if self._timestamps:
            m = _TS.match(data)
            if m:
                when = parse_time(m.group(1).decode("ascii"))
                return LogLine(name, data[m.end() :], when)
        return LogLine(name, data)


def docker_since(value: datetime | float | int | str | None) -> str | None:
    """``since``/``until`` for logs and events: a datetime or Unix time → Unix seconds text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}".rstrip("0").rstrip(".")
    if isinstance(value, (int, float)):
        return f"{float(value):.9f}".rstrip("0").rstrip(".")
    return value


class ContainerSettings(TypedDict, total=False):
    """The container settings that ``create()``, ``run()`` and ``pydock.testing`` pass on as is.

    See :func:`build_create_body` for what each becomes.
    """

    restart: RestartPolicy | str | Mapping[str, Any] | None
    volumes: VolumesArg | None
    user: str | None
    workdir: str | None
    entrypoint: str | Sequence[str] | None
    tty: bool
    stdin_open: bool
    hostname: str | None
    network_mode: str | None
    mem_limit: int | str | None
    nano_cpus: int | None
    cpus: float | None
    healthcheck: Healthcheck | Mapping[str, Any] | None
    privileged: bool
    cap_add: Sequence[str] | None
    extra_hosts: Mapping[str, str] | None


class CreateOptions(ContainerSettings, total=False):
    """The container settings ``run()`` and ``create()`` take as keyword arguments.

    See :func:`build_create_body` for what each becomes.
    """

    name: str | None
    ports: PortsArg | None
    environment: Mapping[str, Any] | Sequence[str] | None
    labels: Mapping[str, str] | None
