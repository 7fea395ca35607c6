"""The options of an engine build, named once, and the request query they become.

:class:`BuildOptions` is the one definition of what ``client.build()`` and
``client.begin_build()`` take besides the context: the public signatures
unpack it (``**options: Unpack[BuildOptions]``), the I/O layer hands it on
whole, and :func:`build_params` turns it into the query of ``POST /build``
(Docker) or ``POST /libpod/build`` (Podman), which spell a few options
differently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from pydock._core.auth import RegistryAuth
from pydock._core.build import BuildEvent, ContextFile
from pydock._core.dialect import Backend
from pydock._core.dockerfile import Dockerfile
from pydock._core.reference import ImageReference
from pydock._core.registry import Platform
from pydock.errors import InvalidReference

__all__ = ["BuildOptions", "build_params", "check_options", "check_tags"]


class BuildOptions(TypedDict, total=False):
    """The options of ``client.build()`` and ``client.begin_build()``, all keyword-only.

    They mean what the docker CLI's flags of the same names mean; every one
    may be left out, which gives the default named here.

    Attributes:
        tag: The name(s) to give the image.
        dockerfile: The Dockerfile's path inside the context (default
            ``Dockerfile``), or for a folder context a
            :class:`~pydock.Dockerfile` to use instead of the folder's.
        files: Extra context files, for a folder or a
            :class:`~pydock.Dockerfile` context: path in the context to bytes
            or text (stored with mode 0644), or a local file or folder (stored
            with its modes).
        buildargs: ``ARG`` values.
        target: The stage to stop at in a multi-stage build.
        labels: Labels to add to the image.
        platform: ``os/arch[/variant]`` to build for.
        nocache: Do not use the build cache (default False).
        pull: Always try to pull newer base images (default False).
        network_mode: The network ``RUN`` steps use (``bridge``, ``host``, ``none``).
        extra_hosts: ``/etc/hosts`` entries for ``RUN`` steps (host to address).
        cache_from: Images to consider as cache sources.
        rm: Remove intermediate containers after a successful build (default True).
        forcerm: Remove intermediate containers even when the build fails
            (default True, so that a failed build leaves nothing behind; the
            docker CLI defaults to false).
        squash: Squash the new layers into one (default False; Docker:
            experimental daemons only).
        shm_size: Size of ``/dev/shm`` for ``RUN`` steps, in bytes.
        memory: Memory limit for ``RUN`` steps, in bytes.
        image_format: On Podman, the image format to write: ``"docker"`` (the
            default, as Docker always does: it keeps ``HEALTHCHECK``,
            ``SHELL``, ``STOPSIGNAL`` and ``ONBUILD``) or ``"oci"``.
        gzip: Compress the context on the fly, for remote engines (default False).
        auth: Credentials for base-image registries, by host (a
            :class:`~pydock.RegistryAuth`, a docker-py style dict or a
            ``(user, password)`` pair). By default, those that
            ``client.login()`` was given or that the docker CLI's config holds
            for the registries named in ``FROM`` lines.
        tls_verify: For pulling base images: None (the default) verifies TLS
            except for loopback registries, on both engines (Docker's rule).
        progress: Called with every :class:`~pydock.BuildEvent`.
    """

    tag: str | Sequence[str] | None
    dockerfile: str | Dockerfile | None
    files: Mapping[str, ContextFile] | None
    buildargs: Mapping[str, str] | None
    target: str | None
    labels: Mapping[str, str] | None
    platform: str | Platform | None
    nocache: bool
    pull: bool
    network_mode: str | None
    extra_hosts: Mapping[str, str] | None
    cache_from: Sequence[str] | None
    rm: bool
    forcerm: bool
    squash: bool
    shm_size: int | None
    memory: int | None
    image_format: Literal["docker", "oci"]
    gzip: bool
    auth: Mapping[str, RegistryAuth | Mapping[str, Any] | tuple[str, str] | None] | None
    tls_verify: bool | None
    progress: Callable[[BuildEvent], object] | None


def check_options(options: Mapping[str, object]) -> None:
    """Refuse a name that is not one of :class:`BuildOptions`, as a signature would.

    Raises:
        TypeError: An option is unknown (its name is given).
    """
    for name in options:
        if name not in BuildOptions.__optional_keys__:
            raise TypeError(f"unexpected keyword argument {name!r}: not a build option")


def check_tags(tags: str | Sequence[str] | None) -> list[str]:
    """The build's tags as a list, each checked.

    Raises:
        InvalidReference: A tag is not a valid image reference, or names a digest.
    """
    if tags is None:
        return []
    listed = [tags] if isinstance(tags, str) else list(tags)
    for tag in listed:
        if ImageReference.parse(tag).digest is not None:
            raise InvalidReference(f"cannot tag a build with a digest: {tag!r}")
    return listed


def build_params(backend: Backend, options: BuildOptions) -> dict[str, Any]:
    """The build request's query, for ``backend``.

    Only the options that go into the query are read (``files``, ``gzip``,
    ``auth``, ``tls_verify`` and ``progress`` shape the request elsewhere).
    ``dockerfile`` must by now be the Dockerfile's name in the context.

    Tags are checked (``InvalidReference`` names the bad one). Both engines
    take JSON objects for build args and labels; Podman takes extra hosts as a
    JSON list where Docker repeats the parameter. Podman is asked for Docker's
    image format unless ``image_format="oci"``: the OCI format has no place for
    ``HEALTHCHECK``, ``SHELL``, ``STOPSIGNAL`` or ``ONBUILD``, which buildah
    then drops; Docker always writes its own format.

    Raises:
        InvalidReference: A tag is not a valid image reference, or has a digest.
        ValueError: ``platform`` is malformed.
        TypeError: ``dockerfile`` is a Dockerfile model, not a name.
    """
    dockerfile = options.get("dockerfile") or "Dockerfile"
    if not isinstance(dockerfile, str):
        raise TypeError("build_params takes the Dockerfile's name in the context, not a model")
    tags = check_tags(options.get("tag"))
    params: dict[str, Any] = {
        "dockerfile": dockerfile,
        "rm": options.get("rm", True),
        "forcerm": options.get("forcerm", True),
    }
    if tags:
        params["t"] = tags
    buildargs = options.get("buildargs")
    if buildargs:
        params["buildargs"] = json.dumps({str(k): str(v) for k, v in buildargs.items()})
    labels = options.get("labels")
    if labels:
        params["labels"] = json.dumps({str(k): str(v) for k, v in labels.items()})
    target = options.get("target")
    if target:
        params["target"] = target
    platform = options.get("platform")
    if isinstance(platform, str):
        platform = Platform.parse(platform)
    if platform is not None:
        params["platform"] = str(platform)
    if options.get("nocache", False):
        params["nocache"] = True
    if options.get("pull", False):
        params["pull"] = True
    network_mode = options.get("network_mode")
    if network_mode:
        params["networkmode"] = network_mode
    extra_hosts = options.get("extra_hosts")
    if extra_hosts:
        hosts = [f"{host}:{address}" for host, address in extra_hosts.items()]
        params["extrahosts"] = json.dumps(hosts) if backend == "podman" else hosts
    cache_from = options.get("cache_from")
    if cache_from:
        params["cachefrom"] = json.dumps(list(cache_from))
    if options.get("squash", False):
        params["squash"] = True
    shm_size = options.get("shm_size")
    if shm_size is not None:
        params["shmsize"] = int(shm_size)
    memory = options.get("memory")
    if memory is not None:
        params["memory"] = int(memory)
    if backend == "podman":
        params["outputformat"] = _PODMAN_FORMATS[options.get("image_format", "docker")]
    return params


_PODMAN_FORMATS = {
    "docker": "application/vnd.docker.distribution.manifest.v2+json",
    "oci": "application/vnd.oci.image.manifest.v1+json",
}
