"""Engine builds (``docker build``): the context streamed in, typed progress out.

The context is a folder (filtered by its ``.dockerignore``), an in-memory
:class:`~pydock.Dockerfile` with files, or a ready tar stream. It is sent as
it is read, never built whole in memory or on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from typing import IO

from pydock._async._bodies import file_chunks, open_source, progress_events, stream_chunks
from pydock._async._credentials import credentials_for
from pydock._async._images import AsyncImage, AsyncImages, parse_platform
from pydock._async._operation import AsyncOperation, Done
from pydock._async._session import AsyncEngineSession
from pydock._core.auth import RegistryAuth, encode_x_registry_config
from pydock._core.build import (
    BuildDecoder,
    BuildEvent,
    ContextFile,
    folder_context,
    gzip_chunks,
    memory_context,
)
from pydock._core.build_options import BuildOptions, build_params, check_options, check_tags
from pydock._core.dockerfile import Dockerfile, From, parse_for_build
from pydock._core.images import resolve_tls_verify
from pydock._core.reference import ImageReference
from pydock.errors import APIError, BuildError, InvalidReference

__all__ = ["BuildContext", "begin_build"]

#: What ``client.build`` takes as its context: a folder (or a tar file) path,
#: a Dockerfile model, or a tar stream (bytes or a binary file).
BuildContext = str | os.PathLike[str] | Dockerfile | bytes | IO[bytes]

#: The name an in-memory Dockerfile gets inside a folder context.
_INLINE_DOCKERFILE = ".dockerfile.pydock"


def _base_domains(dockerfile: Dockerfile | None) -> set[str]:
    """The registries that ``FROM`` lines pull from (stage names and ``$ARG`` skipped)."""
    if dockerfile is None:
        return set()
    stages: set[str] = set()
    domains: set[str] = set()
    for instruction in dockerfile.instructions:
        if not isinstance(instruction, From):
            continue
        image = instruction.image
        if image not in stages and "$" not in image and image != "scratch":
            with contextlib.suppress(InvalidReference):
                domains.add(ImageReference.parse(image).domain)
        if instruction.alias:
            stages.add(instruction.alias)
    return domains


def _read_dockerfile(path: str) -> Dockerfile | None:
    """The Dockerfile at ``path``, checked; None if it cannot be read or parsed here.

    Raises:
        DockerfileParseError: It breaks a rule Docker enforces (no FROM first, a
            bare RUN, an EXPOSE that is not a port): refused before sending.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    return parse_for_build(text)


def begin_build(
    client: AsyncEngineSession, context: BuildContext, options: BuildOptions
) -> AsyncOperation[BuildEvent, AsyncImage]:
    """Check the arguments, prepare the context stream, and return the operation.

    See :meth:`AsyncEngineSession.begin_build` for the context and :class:`BuildOptions`
    for the options.
    """
    check_options(options)
    query = options.copy()  # checked and resolved here, before anything is sent
    query["tag"] = check_tags(options.get("tag"))
    query["platform"] = parse_platform(options.get("platform"))
    dockerfile = options.get("dockerfile")
    files = options.get("files")
    parsed: Dockerfile | None = None
    dockerfile_name = "Dockerfile"
    file: IO[bytes] | None = None
    tar_path: str | None = None
    chunks: Iterator[bytes] | None = None
    if isinstance(context, Dockerfile):
        if dockerfile is not None:
            raise ValueError(
                "give the Dockerfile either as the context or as dockerfile=, not both"
            )
        context.check_buildable()
        parsed = context
        chunks = memory_context(context, files)
    elif isinstance(context, bytes):
        _no_files(files)
        dockerfile_name = _dockerfile_name(dockerfile)
        chunks = iter([context])
    elif isinstance(context, (str, os.PathLike)) and not os.path.isdir(context):
        _no_files(files)
        if not os.path.isfile(context):
            raise FileNotFoundError(f"the build context {os.fspath(context)!r} does not exist")
        dockerfile_name = _dockerfile_name(dockerfile)
        tar_path = os.fspath(context)  # a tar file, streamed as it is (opened when sent)
    elif isinstance(context, (str, os.PathLike)):
        extra = dict(files or {})
        if isinstance(dockerfile, Dockerfile):
            dockerfile.check_buildable()
            parsed = dockerfile
            dockerfile_name = _INLINE_DOCKERFILE
            extra[_INLINE_DOCKERFILE] = str(dockerfile)
        elif dockerfile is not None:
            dockerfile_name = dockerfile
        chunks = folder_context(context, dockerfile=dockerfile_name, extra=extra)
        if parsed is None:
            parsed = _read_dockerfile(os.path.join(os.fspath(context), dockerfile_name))
    else:
        _no_files(files)
        dockerfile_name = _dockerfile_name(dockerfile)
        file = context
    query["dockerfile"] = dockerfile_name
    explicit = {
        host: RegistryAuth.coerce(value) for host, value in (options.get("auth") or {}).items()
    }
    steps = _build_steps(client, chunks, file, tar_path, query, explicit, _base_domains(parsed))
    return AsyncOperation(steps, options.get("progress"))


def _no_files(files: Mapping[str, ContextFile] | None) -> None:
    if files:
        raise ValueError("files= adds to a folder or an in-memory Dockerfile, not to a tar context")


def _dockerfile_name(dockerfile: str | Dockerfile | None) -> str:
    if isinstance(dockerfile, Dockerfile):
        raise ValueError("a tar context must hold its Dockerfile: give dockerfile= as a path in it")
    return dockerfile or "Dockerfile"


async def _build_steps(
    client: AsyncEngineSession,
    chunks: Iterator[bytes] | None,
    file: IO[bytes] | None,
    tar_path: str | None,
    options: BuildOptions,
    auths: dict[str, RegistryAuth | None],
    domains: set[str],
) -> AsyncGenerator[BuildEvent | Done[AsyncImage], None]:
    if tar_path is not None:
        file, _ = open_source(tar_path)
    try:
        await client.connect()
        backend = client.dialect.backend
        assert backend is not None
        if options.get("target"):
            client.dialect.require("build.target")
        if options.get("platform") is not None:
            client.dialect.require("build.platform")
        params = build_params(backend, options)
        tls_verify = options.get("tls_verify")
        # Docker's rule for base-image registries: verify TLS except on loopback
        # (checked per registry; Podman is told, Docker decides by itself).
        verify = {resolve_tls_verify(domain, tls_verify, backend) for domain in domains}
        if backend == "podman" and (tls_verify is not None or verify == {False}):
            params["tlsVerify"] = bool(tls_verify)
        for domain in sorted(domains - set(auths)):
            found = await credentials_for(None, domain, client.logins)
            if found is not None:
                auths[domain] = found
        headers = {"Content-Type": "application/x-tar"}
        sent = {host: value for host, value in auths.items() if value is not None}
        if sent:
            headers["X-Registry-Config"] = encode_x_registry_config(sent)
        body: AsyncIterator[bytes]
        if chunks is not None:
            body = stream_chunks(gzip_chunks(chunks) if options.get("gzip", False) else chunks)
        else:
            assert file is not None
            body = file_chunks(file)
        decoder = BuildDecoder(backend)
        try:
            async with client.stream(
                "POST", "/build", "/build", params=params, content=body, headers=headers
            ) as response:
                async for event in progress_events(response, decoder):
                    yield event
        except APIError as exc:
            # Docker answers 500 for a context it cannot use (no Dockerfile, bad tar).
            raise BuildError(
                exc.message, log=decoder.log, method=exc.method, path=exc.path
            ) from exc
        if decoder.image_id is None:
            raise BuildError("the engine did not say which image it built", log=decoder.log)
        yield Done(await AsyncImages(client).get(decoder.image_id))
    finally:
        if tar_path is not None and file is not None:
            file.close()
