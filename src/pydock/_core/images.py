"""Images on Docker and Podman, without I/O: models, request building, answer parsing.

Everything the image calls decide lives here, as pure functions and small
state machines fed with dicts and bytes:

* reading inspect, list, history, prune, remove and search answers of both
  engines into one set of models (Podman's ``localhost/`` names, IDs without
  ``sha256:``, string booleans in search results...);
* the TLS rule for registries (verify, except on loopback hosts) and how each
  engine is told about it;
* the query strings of pull, push, list, import;
* the progress streams of pull and push, decoded into typed events, with
  errors reported inside a 200 stream turned into exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from pydock._core.dialect import Backend, quote_path
from pydock._core.errmap import is_auth_failure, scrub
from pydock._core.hosts import is_loopback
from pydock._core.models import parse_time
from pydock._core.reference import ImageReference
from pydock._core.registry import Platform
from pydock._core.shapes import (
    at,
    get_int,
    get_str,
    get_str_list,
    get_str_map,
    index,
    list_,
    object_,
    str_list,
)
from pydock._core.streams import JsonLinesDecoder
from pydock.errors import (
    ImageNotFound,
    InvalidReference,
    ProtocolError,
    PullError,
    PullUnauthorized,
    PushError,
    PushUnauthorized,
    StreamError,
    UnsupportedFeature,
)

__all__ = [
    "HistoryEntry",
    "ImageBase",
    "ImageConfig",
    "ImagePruneReport",
    "ImageRemoveReport",
    "Platform",
    "ProgressDecoder",
    "PullDecoder",
    "PullProgress",
    "PushDecoder",
    "PushProgress",
    "SearchResult",
    "build_filters",
    "filter_by_reference",
    "history_from_api",
    "image_fields",
    "image_path",
    "import_id_from_docker",
    "import_params",
    "list_request",
    "load_names_from_docker",
    "normalize_id",
    "normalize_name",
    "normalize_names",
    "progress_error",
    "prune_params",
    "prune_report_from_api",
    "pull_error",
    "push_error",
    "pull_params",
    "push_request",
    "remove_report_from_api",
    "resolve_tls_verify",
    "search_domain",
    "search_results_from_api",
    "tag_params",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_NONE_TAGS = {"<none>:<none>", "<none>@<none>"}


# --------------------------------------------------------------------------- names


def normalize_id(value: object) -> str:
    """An image ID as Docker writes it: ``sha256:<64 hex>``.

    Podman's libpod answers (and some of its compat answers) leave out the
    ``sha256:`` prefix; it is added back. Anything else is returned as is.
    """
    text = str(value or "")
    if _HEX64.fullmatch(text):
        return "sha256:" + text
    return text


def normalize_name(name: str, backend: Backend) -> str | None:
    """A tag or digest reference in the familiar form Docker shows.

    ``docker.io/library/busybox:1`` becomes ``busybox:1`` (Podman writes the
    long form), and on Podman the ``localhost/`` domain it gives to images
    without a registry is dropped, so ``podman tag IMG demo/app:1`` and
    ``docker tag IMG demo/app:1`` both list as ``demo/app:1``.

    Returns:
        The familiar name, or None for Docker's ``<none>`` placeholders.
    """
    if not name or name in _NONE_TAGS or name.startswith("<none>"):
        return None
    if backend == "podman" and name.startswith("localhost/"):
        name = name[len("localhost/") :]
    try:
        return ImageReference.parse(name).familiar
    except InvalidReference:
        return name


def normalize_names(values: object, backend: Backend) -> tuple[str, ...]:
    """:func:`normalize_name` over a ``RepoTags`` or ``RepoDigests`` list (duplicates dropped)."""
    out: list[str] = []
    if isinstance(values, Sequence) and not isinstance(values, str):
        for value in values:
            name = normalize_name(str(value), backend)
            if name is not None and name not in out:
                out.append(name)
    return tuple(out)


def resolve_tls_verify(domain: str, tls_verify: bool | None, backend: Backend) -> bool:
    """Decide whether TLS is verified when talking to a registry.

    ``None`` means what Docker does: verify, except for loopback registries,
    which may be plain HTTP. Podman is told explicitly (``tlsVerify=``);
    Docker decides by its own daemon settings, so an explicit choice that
    differs from its default cannot be honoured there.

    Returns:
        The ``tlsVerify`` value to send to Podman.

    Raises:
        UnsupportedFeature: On Docker, ``tls_verify`` asks for the opposite of
            what the daemon does for that registry.
    """
    default = not is_loopback(domain)
    if tls_verify is None:
        return default
    if backend == "docker" and tls_verify != default:
        raise UnsupportedFeature(
            "docker",
            f"tls_verify={tls_verify} for registry {domain}",
            "the Docker daemon decides per registry: list it in daemon.json "
            "'insecure-registries' (or its CA in /etc/docker/certs.d) instead",
        )
    return tls_verify


# --------------------------------------------------------------------------- models


def _keys(value: object) -> tuple[str, ...]:
    if isinstance(value, Mapping):
        return tuple(sorted(str(k) for k in value))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(sorted(str(k) for k in value))
    return ()


def _labels(value: object) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return {}


@attrs.frozen
class ImageConfig:
    """How containers made from an image run by default.

    Attributes:
        env: ``KEY=value`` strings.
        cmd: The default command, or None.
        entrypoint: The entrypoint, or None.
        workdir: The working directory (``""`` when unset).
        user: The user (``""`` when unset).
        exposed_ports: Exposed ports, such as ``("80/tcp",)``.
        volumes: Declared volume paths.
        labels: The image's labels.
        stop_signal: The stop signal, or None.
    """

    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    workdir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = attrs.field(factory=dict)
    stop_signal: str | None = None

    @property
    def environment(self) -> dict[str, str]:
        """``env`` as a dict (a name without ``=`` maps to ``""``)."""
        out: dict[str, str] = {}
        for item in self.env:
            key, _, value = item.partition("=")
            out[key] = value
        return out

    @classmethod
    def from_api(cls, payload: object, field: str = "Config") -> ImageConfig:
        """Read an image's ``Config`` object (Docker and Podman share its shape).

        Raises:
            ProtocolError: It does not have the shape of an image config.
        """
        if not payload:
            return cls()
        config = object_(payload, field)
        for key in ("ExposedPorts", "Volumes"):
            if not isinstance(config.get(key), (Mapping, list, type(None))):
                object_(config.get(key), at(field, key))
        return cls(
            env=tuple(get_str_list(config, "Env", field)),
            cmd=_command(config.get("Cmd"), at(field, "Cmd")),
            entrypoint=_command(config.get("Entrypoint"), at(field, "Entrypoint")),
            workdir=get_str(config, "WorkingDir", field),
            user=get_str(config, "User", field),
            exposed_ports=_keys(config.get("ExposedPorts")),
            volumes=_keys(config.get("Volumes")),
            labels=get_str_map(config, "Labels", field),
            stop_signal=get_str(config, "StopSignal", field) or None,
        )


def _command(value: object, field: str) -> tuple[str, ...] | None:
    """A command: None, a string (older engines) or a list of strings."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str_list(value, field))


@attrs.frozen
class ImageBase:
    """The data of an image, as the engine described it (a snapshot).

    ``Image`` and ``AsyncImage`` add the methods that talk to the engine.

    Attributes:
        id: ``sha256:<hex>``, on both engines.
        tags: ``repo:tag`` names in Docker's familiar form (``busybox:1``,
            ``127.0.0.1:5000/demo/app:1``); Podman's ``localhost/`` prefix is dropped.
        digests: ``repo@sha256:...`` names, in the same form.
        created: When the image was created, or None.
        size: The image's size in bytes (all layers).
        labels: The image's labels.
        architecture: CPU architecture (``amd64``).
        os: Operating system (``linux``).
        config: The container defaults the image carries.
        attrs: The engine's raw inspect answer.
    """

    id: str
    tags: tuple[str, ...]
    digests: tuple[str, ...]
    created: datetime | None
    size: int
    labels: Mapping[str, str]
    architecture: str
    os: str
    config: ImageConfig
    attrs: Mapping[str, Any] = attrs.field(repr=False, eq=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the ID, with ``sha256:``: ``sha256:fcd9ae13c05e``."""
        algo, _, digest = self.id.partition(":")
        return f"{algo}:{digest[:12]}" if digest else self.id[:12]

    @property
    def engine_names(self) -> tuple[str, ...]:
        """The names the engine itself uses for this image (raw ``RepoTags``)."""
        return tuple(str(t) for t in (self.attrs.get("RepoTags") or ()) if str(t) not in _NONE_TAGS)


def image_fields(payload: object, backend: Backend) -> dict[str, Any]:
    """The fields of :class:`ImageBase` from an inspect answer (``/images/{name}/json``).

    Works on Docker's answer and on Podman's compat and libpod answers.

    Raises:
        ProtocolError: The answer is not an image (``field`` names where).
    """
    payload = object_(payload)
    config = ImageConfig.from_api(payload.get("Config"))
    labels = dict(config.labels) or get_str_map(payload, "Labels")
    image_id = get_str(payload, "Id")
    if not image_id:
        raise ProtocolError(
            "the engine's answer has the wrong shape: it has no image Id", field="Id"
        )
    return {
        "id": normalize_id(image_id),
        "tags": normalize_names(get_str_list(payload, "RepoTags"), backend),
        "digests": normalize_names(get_str_list(payload, "RepoDigests"), backend),
        "created": parse_time(payload.get("Created")),
        "size": get_int(payload, "Size"),
        "labels": labels,
        "architecture": get_str(payload, "Architecture"),
        "os": get_str(payload, "Os"),
        "config": config,
        "attrs": payload,
    }


@attrs.frozen
class HistoryEntry:
    """One layer in an image's history (``docker history``).

    Attributes:
        id: The image ID of this step, or None when the engine does not know it
            (Docker's ``<missing>``).
        created: When the step ran.
        created_by: The command of the step.
        size: Bytes this step added.
        comment: The step's comment.
        tags: Tags pointing at this step's image.
    """

    id: str | None
    created: datetime | None
    created_by: str
    size: int
    comment: str
    tags: tuple[str, ...]


def history_from_api(
    payload: object, backend: Backend, known_tags: Mapping[str, Sequence[str]] | None = None
) -> list[HistoryEntry]:
    """Read a ``/images/{name}/history`` answer (newest step first).

    Podman answers ``"Tags": null`` even for tagged steps; ``known_tags``
    (image ID → tags) fills them in.
    """
    out: list[HistoryEntry] = []
    for i, entry in enumerate(list_(payload)):
        where = index("", i)
        item = object_(entry, where)
        raw_id = get_str(item, "Id", where)
        step_id = None if raw_id in ("", "<missing>") else normalize_id(raw_id)
        tags = normalize_names(get_str_list(item, "Tags", where), backend)
        if not tags and known_tags and step_id is not None and step_id in known_tags:
            tags = tuple(known_tags[step_id])
        out.append(
            HistoryEntry(
                id=step_id,
                created=parse_time(item.get("Created")),
                created_by=get_str(item, "CreatedBy", where),
                size=get_int(item, "Size", where),
                comment=get_str(item, "Comment", where),
                tags=tags,
            )
        )
    return out


@attrs.frozen
class ImageRemoveReport:
    """What removing an image did.

    Attributes:
        untagged: Names removed from images.
        deleted: IDs of images (and layers, on Docker) deleted.
    """

    untagged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


def _untagged_and_deleted(
    items: object, backend: Backend, field: str = ""
) -> tuple[list[str], list[str]]:
    untagged: list[str] = []
    deleted: list[str] = []
    for i, entry in enumerate([] if items is None else list_(items, field)):
        item = object_(entry, index(field, i))
        name_text = get_str(item, "Untagged", index(field, i))
        if name_text:
            name = normalize_name(name_text, backend)
            if name is not None:
                untagged.append(name)
        deleted_id = get_str(item, "Deleted", index(field, i))
        if deleted_id:
            deleted.append(normalize_id(deleted_id))
    return untagged, deleted


def remove_report_from_api(payload: object, backend: Backend) -> ImageRemoveReport:
    """Read a ``DELETE /images/{name}`` answer.

    Raises:
        ProtocolError: The answer is not a list of removals.
    """
    list_(payload)
    untagged, deleted = _untagged_and_deleted(payload, backend)
    return ImageRemoveReport(untagged=tuple(untagged), deleted=tuple(deleted))


@attrs.frozen
class ImagePruneReport:
    """What ``prune`` removed.

    Attributes:
        deleted: IDs of images (and layers, on Docker) deleted.
        untagged: Names removed.
        space_reclaimed: Bytes freed, as the engine counted them.
    """

    deleted: tuple[str, ...] = ()
    untagged: tuple[str, ...] = ()
    space_reclaimed: int = 0


def prune_report_from_api(payload: object, backend: Backend) -> ImagePruneReport:
    """Read a prune answer.

    Docker (and Podman's compat endpoint) answer ``{"ImagesDeleted": [...],
    "SpaceReclaimed": n}``; libpod answers ``[{"Id", "Size", "Err"}]``, where
    an entry with ``Err`` was not removed.
    """
    if isinstance(payload, list):
        deleted: list[str] = []
        space = 0
        for i, entry in enumerate(payload):
            item = object_(entry, index("", i))
            item_id = get_str(item, "Id", index("", i))
            if item_id and not item.get("Err"):
                deleted.append(normalize_id(item_id))
                space += get_int(item, "Size", index("", i))
        return ImagePruneReport(deleted=tuple(deleted), space_reclaimed=space)
    if payload is None:
        return ImagePruneReport()
    report = object_(payload)
    untagged, deleted = _untagged_and_deleted(report.get("ImagesDeleted"), backend, "ImagesDeleted")
    return ImagePruneReport(
        deleted=tuple(deleted),
        untagged=tuple(untagged),
        space_reclaimed=get_int(report, "SpaceReclaimed"),
    )


@attrs.frozen
class SearchResult:
    """One repository found by ``search``.

    Attributes:
        name: The repository name, as the index or registry gave it.
        description: Its description (often empty).
        stars: Its star count.
        official: Whether it is an official image.
        automated: Whether it is an automated build.
    """

    name: str
    description: str = ""
    stars: int = 0
    official: bool = False
    automated: bool = False


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("[ok]", "true", "ok", "yes", "1")
    return bool(value)


def search_results_from_api(payload: object) -> list[SearchResult]:
    """Read a search answer: Docker's ``star_count``/``is_official`` shape or Podman's.

    Podman answers ``Stars`` and ``Official: "[OK]"`` (an empty string for no),
    on its compat endpoint as on libpod.
    """
    out: list[SearchResult] = []
    if not isinstance(payload, Sequence):
        return out
    for item in payload:
        if not isinstance(item, Mapping):
            continue
        if "name" in item:
            out.append(
                SearchResult(
                    name=str(item.get("name") or ""),
                    description=str(item.get("description") or ""),
                    stars=int(item.get("star_count") or 0),
                    official=_flag(item.get("is_official")),
                    automated=_flag(item.get("is_automated")),
                )
            )
        else:
            out.append(
                SearchResult(
                    name=str(item.get("Name") or ""),
                    description=str(item.get("Description") or ""),
                    stars=int(item.get("Stars") or 0),
                    official=_flag(item.get("Official")),
                    automated=_flag(item.get("Automated")),
                )
            )
    return out


def search_domain(term: str) -> str | None:
    """The registry a search term names (``127.0.0.1:5000/word`` → ``127.0.0.1:5000``)."""
    first, slash, _ = term.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def load_names_from_docker(message: str) -> list[str]:
    """Names from one ``Loaded image: a,b`` / ``Loaded image ID: sha256:...`` line."""
    out: list[str] = []
    for line in message.splitlines():
        line = line.strip()
        for prefix in ("Loaded image ID:", "Loaded image:"):
            if line.startswith(prefix):
                for part in line[len(prefix) :].split(","):
                    part = part.strip()
                    if part:
                        out.append(part)
                break
    return out


# --------------------------------------------------------------------------- requests


def _filter_values(key: str, value: object) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, Mapping):
        return [f"{k}={v}" if v is not None else str(k) for k, v in value.items()]
    if isinstance(value, (str, int)):
        return [str(value)]
    if isinstance(value, Iterable):
        out: list[str] = []
        for v in value:
            out.extend(_filter_values(key, v))
        return out
    raise TypeError(f"filter {key!r}: unsupported value {value!r}")


def build_filters(filters: Mapping[str, object] | None) -> dict[str, list[str]]:
    """Normalize user filters to the engines' map of lists.

    Values may be a string, a bool, a list of those, or (for ``label``) a
    dict ``{"key": "value"}`` (None for "has the key").
    """
    out: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        if value is None:
            continue
        values = _filter_values(key, value)
        if values:
            out.setdefault(key, []).extend(values)
    return out


def list_request(
    *, all: bool, filters: Mapping[str, object] | None, backend: Backend
) -> tuple[dict[str, Any], list[str]]:
    """Query parameters for ``GET /images/json``, and reference patterns to apply locally.

    Podman's ``reference`` filter matches differently from Docker's (it also
    matches names in other registries), so on Podman it is applied here, on
    the normalized names, with Docker's rule (``FamiliarMatch``).

    Returns:
        ``(params, reference_patterns)``; the patterns are empty on Docker.
    """
    built = build_filters(filters)
    patterns: list[str] = []
    if backend == "podman" and "reference" in built:
        patterns = built.pop("reference")
    params: dict[str, Any] = {"all": all}
    if built:
        params["filters"] = json.dumps(built, separators=(",", ":"))
    return params, patterns


def filter_by_reference(names: Iterable[str], patterns: Sequence[str]) -> bool:
    """Whether any of ``names`` (familiar tags and digests) matches any pattern, Docker's way.

    An image with no names never matches.
    """
    refs: list[ImageReference] = []
    for name in names:
        try:
            refs.append(ImageReference.parse(name))
        except InvalidReference:
            continue
    return any(ref.familiar_match(p) for p in patterns for ref in refs)


def pull_params(
    ref: ImageReference,
    *,
    backend: Backend,
    platform: Platform | None,
    tls_verify: bool,
) -> dict[str, Any]:
    """Query parameters for a pull.

    Docker (``POST /images/create``): ``fromImage`` is the repository and
    ``tag`` the tag or digest. Podman (``POST /libpod/images/pull``):
    ``reference`` is the whole fully-qualified reference, the platform is
    split in ``os``/``arch``/``variant``, and ``tlsVerify`` is explicit.
    """
    ref = ref.docker_ref
    if backend == "docker":
        params: dict[str, Any] = {"fromImage": ref.name, "tag": ref.digest or ref.tag}
        if platform is not None:
            params["platform"] = str(platform)
        return params
    params = {"reference": str(ref), "tlsVerify": tls_verify, "policy": "always"}
    if platform is not None:
        params["os"] = platform.os
        params["arch"] = platform.architecture
        if platform.variant:
            params["variant"] = platform.variant
    return params


def push_request(
    ref: ImageReference, *, backend: Backend, tls_verify: bool
) -> tuple[str, dict[str, Any]]:
    """The path (without version prefix) and query of a push.

    Both engines use ``POST /images/{name}/push?tag=``: Podman's compat
    endpoint reports the pushed digest like Docker and takes ``tlsVerify``.

    Raises:
        InvalidReference: The reference has a digest (push a tag).
    """
    if ref.digest is not None:
        raise InvalidReference(f"cannot push {ref.familiar!r}: push a tag, not a digest")
    ref = ref.with_default_tag()
    params: dict[str, Any] = {"tag": ref.tag}
    if backend == "podman":
        params["tlsVerify"] = tls_verify
    return image_path(ref.name, "/push"), params


def image_path(name_or_id: str, suffix: str = "") -> str:
    """The request path for an image: ``/images/{name}{suffix}``, the name percent-encoded.

    ``/``, ``:`` and ``@`` stay as they are (image names hold them and both
    engines route them so, as the docker CLI sends them); ``?``, ``#``, ``%``
    and dot segments are encoded, so nothing in a name (or in an id an engine
    sent) can leave the path.

    Args:
        name_or_id: A checked image name or id.
        suffix: The rest of the path (``"/json"``).
    """
    return f"/images/{quote_path(name_or_id, safe='/:@')}{suffix}"


def _local_name(text: str) -> tuple[ImageReference, str, str]:
    """Check a name for a local operation; return it parsed, its repository as typed, and its tag.

    Local names are passed as typed, so each engine names the image its own
    way (Podman puts names without a registry under ``localhost/``).

    Raises:
        InvalidReference: Not a valid reference, or it has a digest.
    """
    ref = ImageReference.parse(text)
    if ref.digest is not None:
        raise InvalidReference(f"invalid name {text!r}: a digest cannot be given here, only a tag")
    if ref.tag is None:
        return ref, text, "latest"
    return ref, text[: -(len(ref.tag) + 1)], ref.tag


def tag_params(ref: str) -> dict[str, Any]:
    """Query parameters of ``POST /images/{name}/tag`` (no tag means ``latest``).

    Raises:
        InvalidReference: ``ref`` is not a valid name, or has a digest.
    """
    _, repo, tag = _local_name(ref)
    return {"repo": repo, "tag": tag}


def prune_params(
    *, dangling: bool, filters: Mapping[str, object] | None, backend: Backend
) -> dict[str, Any]:
    """Query parameters of a prune.

    ``dangling=False`` prunes every image no container uses (``prune -a``).
    Docker takes that as the ``dangling`` filter on ``POST /images/prune``.
    Podman's compat endpoint refuses ``dangling=false`` (it adds its own
    ``dangling=true``), so Podman uses ``POST /libpod/images/prune?all=``.
    """
    built = build_filters(filters)
    if backend == "podman":
        built.pop("dangling", None)
        params: dict[str, Any] = {"all": not dangling}
    else:
        built["dangling"] = ["true" if dangling else "false"]
        params = {}
    if built:
        params["filters"] = json.dumps(built, separators=(",", ":"))
    return params


def import_params(
    ref: str | None,
    *,
    backend: Backend,
    changes: Sequence[str] | None,
    message: str | None,
    platform: Platform | None,
) -> dict[str, Any]:
    """Query parameters to import a rootfs tar.

    Docker: ``POST /images/create?fromSrc=-&repo=&tag=``; Podman:
    ``POST /libpod/images/import?reference=`` (its compat endpoint drops the
    tag). No tag means ``latest``.

    Raises:
        InvalidReference: ``ref`` is not a valid name, or has a digest.
    """
    params: dict[str, Any] = {}
    if backend == "docker":
        params["fromSrc"] = "-"
        if ref is not None:
            _, repo, tag = _local_name(ref)
            params["repo"] = repo
            params["tag"] = tag
        if platform is not None:
            params["platform"] = str(platform)
    else:
        if ref is not None:
            _, repo, tag = _local_name(ref)
            params["reference"] = f"{repo}:{tag}"
        if platform is not None:
            params["os"] = platform.os
            params["arch"] = platform.architecture
            if platform.variant:
                params["variant"] = platform.variant
    if changes:
        params["changes"] = list(changes)
    if message:
        params["message"] = message
    return params


# --------------------------------------------------------------------------- progress


@attrs.frozen
class PullProgress:
    """One progress event of a pull.

    Attributes:
        status: What is happening (``Downloading``, ``Pull complete``,
            ``Copying blob``...), as the engine says it.
        layer: The layer (or config) it is about: Docker's short layer ID, or
            Podman's ``sha256:`` digest; None for the whole image.
        current: Bytes done for that layer, when the engine reports it
            (Docker does; Podman 4 does not).
        total: The layer's size in bytes, when known.
        attrs: The raw object from the stream.
    """

    status: str
    layer: str | None = None
    current: int | None = None
    total: int | None = None
    attrs: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def fraction(self) -> float | None:
        """``current / total`` when both are known."""
        if self.current is None or not self.total:
            return None
        return min(1.0, self.current / self.total)


@attrs.frozen
class PushProgress:
    """One progress event of a push (same shape as :class:`PullProgress`).

    Attributes:
        status: ``Preparing``, ``Pushing``, ``Pushed``, ``Layer already exists``...
        layer: The short layer ID, or None for the whole image.
        current: Bytes sent for that layer, when known.
        total: The layer's size, when known.
        attrs: The raw object from the stream.
    """

    status: str
    layer: str | None = None
    current: int | None = None
    total: int | None = None
    attrs: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


_PODMAN_STEP = re.compile(r"^(Copying (?:blob|config)) (\S+)(?:\s+(\S.*))?$")
_DIGEST_STATUS = re.compile(r"(?:^|\s)digest: (sha256:[0-9a-f]{64})")
_NOT_FOUND = ("manifest unknown", "name unknown", "repository does not exist", "not found")


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _docker_event(obj: Mapping[str, Any]) -> tuple[str, str | None, int | None, int | None]:
    detail = obj.get("progressDetail") or {}
    current = total = None
    if isinstance(detail, Mapping):
        current = _int_or_none(detail.get("current"))
        total = _int_or_none(detail.get("total"))
        if total is not None and total <= 0:
            total = None
    layer = get_str(obj, "id")
    return get_str(obj, "status"), (layer or None), current, total


def _error_message(obj: Mapping[str, Any]) -> str | None:
    detail = obj.get("errorDetail")
    message: object = None
    if isinstance(detail, Mapping):
        message = detail.get("message")
    if not message:
        message = obj.get("error")
    if not message and not detail:
        return None
    return scrub(str(message or "the engine reported an error without a message"))


def progress_error(obj: Mapping[str, Any]) -> str | None:
    """The error a progress or load stream object reports (``error``/``errorDetail``), or None."""
    return _error_message(obj)


def pull_error(message: str, reference: str) -> Exception:
    """The exception for a pull that failed inside its stream.

    A registry that does not know the repository or tag (``manifest
    unknown``, ``name unknown``) gives :class:`~pydock.errors.ImageNotFound`,
    as Docker's 404 answer does; refused credentials
    :class:`~pydock.errors.PullUnauthorized` (a ``PullError`` and an
    ``Unauthorized``); anything else :class:`~pydock.errors.PullError`.
    """
    if is_auth_failure(message):
        return PullUnauthorized(message)
    lowered = message.lower()
    if any(marker in lowered for marker in _NOT_FOUND):
        return ImageNotFound(f"{reference}: {message}", status_code=404)
    return PullError(message)


def push_error(message: str) -> PushError:
    """The exception for a push that failed inside its stream.

    A registry that refused the credentials gives
    :class:`~pydock.errors.PushUnauthorized` (a ``PushError`` and an
    ``Unauthorized``); anything else :class:`~pydock.errors.PushError`.
    """
    if is_auth_failure(message):
        return PushUnauthorized(message)
    return PushError(message)


ProgressT = TypeVar("ProgressT")


class ProgressDecoder(Generic[ProgressT]):
    """JSON-lines progress (bytes in) to typed events; subclasses map one object."""

    def __init__(self) -> None:
        self._decoder = JsonLinesDecoder()

    def feed(self, data: bytes) -> list[ProgressT]:
        """Decode the next chunk.

        Raises:
            StreamError: The stream is not valid JSON, or reports an error
                (a :class:`~pydock.errors.PullError` or ``PushError``).
        """
        return self.events(self._decoder.feed(data))

    def flush(self) -> list[ProgressT]:
        """End the stream.

        Raises:
            StreamError: The stream was cut short.
        """
        return self.events(self._decoder.flush())

    def events(self, objects: Iterable[Mapping[str, Any]]) -> list[ProgressT]:
        """Turn decoded objects into events (and raise for errors)."""
        out: list[ProgressT] = []
        for obj in objects:
            event = self.event(obj)
            if event is not None:
                out.append(event)
        return out

    def event(self, obj: Mapping[str, Any]) -> ProgressT | None:
        """One object to one event (None for objects that carry none)."""
        raise NotImplementedError


class PullDecoder(ProgressDecoder[PullProgress]):
    """Decode a pull's progress stream (bytes in, :class:`PullProgress` out).

    Docker sends ``{"status", "id", "progressDetail": {"current", "total"}}``
    objects; Podman's libpod endpoint sends ``{"stream": "Copying blob ..."}``
    lines and ends with ``{"id": ..., "images": [...]}``. Both report errors
    inside the stream, which raise here.

    Attributes:
        image_id: The pulled image's ID, when the engine says it (Podman).
        digest: The manifest digest, when the engine says it (Docker).
    """

    def __init__(self, backend: Backend, reference: str) -> None:
        self.backend = backend
        self.reference = reference
        super().__init__()
        self.image_id: str | None = None
        self.digest: str | None = None

    def event(self, obj: Mapping[str, Any]) -> PullProgress | None:
        """One object to one event (None for objects that carry none).

        Raises:
            PullError: The object reports an error.
            ImageNotFound: The error says the image does not exist.
        """
        message = _error_message(obj)
        if message is not None:
            raise pull_error(message, self.reference)
        if "images" in obj or ("id" in obj and "status" not in obj and "stream" not in obj):
            images = get_str_list(obj, "images")
            first = get_str(obj, "id") or (images[0] if images else None)
            if first:
                self.image_id = normalize_id(first)
            return None
        if "stream" in obj:
            text = get_str(obj, "stream").strip()
            if not text:
                return None
            match = _PODMAN_STEP.match(text)
            if match:
                return PullProgress(status=match.group(1), layer=match.group(2), attrs=dict(obj))
            return PullProgress(status=text, attrs=dict(obj))
        status, layer, current, total = _docker_event(obj)
        if not status:
            return None
        if status.startswith("Digest: "):
            self.digest = status[len("Digest: ") :].strip()
        return PullProgress(
            status=status, layer=layer, current=current, total=total, attrs=dict(obj)
        )


class PushDecoder(ProgressDecoder[PushProgress]):
    """Decode a push's progress stream (Docker's shape, also Podman's compat endpoint).

    Attributes:
        digest: The pushed manifest's digest, once reported.
        size: The manifest's size, once reported.
    """

    def __init__(self) -> None:
        super().__init__()
        self.digest: str | None = None
        self.size: int | None = None

    def event(self, obj: Mapping[str, Any]) -> PushProgress | None:
        """One object to one event (None for objects that carry none).

        Raises:
            PushError: The object reports an error.
        """
        message = _error_message(obj)
        if message is not None:
            raise push_error(message)
        aux = obj.get("aux")
        if isinstance(aux, Mapping):
            if aux.get("Digest"):
                self.digest = str(aux["Digest"])
            if aux.get("Size") is not None:
                self.size = _int_or_none(aux.get("Size"))
            return None
        if "stream" in obj:
            text = get_str(obj, "stream").strip()
            return PushProgress(status=text, attrs=dict(obj)) if text else None
        status, layer, current, total = _docker_event(obj)
        if not status:
            return None
        match = _DIGEST_STATUS.search(status)
        if match and self.digest is None:
            self.digest = match.group(1)
        return PushProgress(
            status=status, layer=layer, current=current, total=total, attrs=dict(obj)
        )


def import_id_from_docker(objects: Iterable[Mapping[str, Any]]) -> str | None:
    """The new image's ID from Docker's import stream (``{"status": "sha256:..."}``).

    Raises:
        StreamError: The stream reports an error.
    """
    image_id: str | None = None
    for obj in objects:
        message = _error_message(obj)
        if message is not None:
            raise StreamError(message)
        status = str(obj.get("status") or "")
        if status.startswith("sha256:"):
            image_id = status
    return image_id
