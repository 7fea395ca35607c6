"""Registry credentials as the docker CLI keeps them (config.json, credsStore, credHelpers).

What to look up and how to store it is decided in :mod:`pydock._core.credentials`;
this module runs the ``docker-credential-*`` helpers and reads and writes the file.
Shared by the engine client (pulls, pushes, builds, ``login``) and the registry client.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from pydock import errors
from pydock._async._backend import run_process
from pydock._core import credentials as creds
from pydock._core.auth import RegistryAuth
from pydock._core.config import load_docker_config

__all__ = ["credentials_for", "load_credentials", "save_credentials"]


async def load_credentials(
    host: str, *, env: Mapping[str, str] | None = None
) -> RegistryAuth | None:
    """The credentials ``docker`` would use for ``host``: config.json, credsStore, credHelpers.

    Args:
        host: The registry host (``127.0.0.1:5000``, ``docker.io``).
        env: The environment (``DOCKER_CONFIG``); ``os.environ`` when ``None``.

    Raises:
        InvalidConfiguration: ``config.json`` is broken, or a helper cannot run.
        PydockError: A credential helper failed.
    """
    found = creds.lookup_credentials(load_docker_config(env), host)
    if not isinstance(found, creds.HelperRef):
        return found
    try:
        code, out, err = await run_process(
            [found.program, "get"], creds.helper_get_input(found.server)
        )
    except OSError as exc:
        raise errors.InvalidConfiguration(
            f"credential helper {found.program} cannot run: {exc.strerror or exc}"
        ) from exc
    return creds.parse_helper_get(found, code, out, err)


async def save_credentials(
    host: str, auth: RegistryAuth | None, *, env: Mapping[str, str] | None = None
) -> Path:
    """Store (or with ``auth=None`` remove) ``host``'s credentials like ``docker login``/``logout``.

    In the configured helper when there is one (``auths`` then gets an empty
    entry), otherwise in ``config.json``, written with 0600 permissions.

    Returns:
        The ``config.json`` written.

    Raises:
        InvalidConfiguration: The file cannot be written or the helper cannot run.
        PydockError: The helper failed.
    """
    config = load_docker_config(env)
    helper = creds.storage_helper(config, host)
    if helper is not None:
        action = "store" if auth is not None else "erase"
        stdin = (
            creds.helper_store_input(helper.server, auth)
            if auth is not None
            else creds.helper_erase_input(helper.server)
        )
        try:
            code, out, err = await run_process([helper.program, action], stdin)
        except OSError as exc:
            raise errors.InvalidConfiguration(
                f"credential helper {helper.program} cannot run: {exc.strerror or exc}"
            ) from exc
        creds.check_helper_result(helper, action, code, out, err)
    updated = creds.store_credentials(config, host, auth, in_helper=helper is not None)
    return creds.save_docker_config(updated, env)


async def credentials_for(
    auth: RegistryAuth | None, domain: str, logins: Mapping[str, RegistryAuth] | None = None
) -> RegistryAuth | None:
    """Explicit credentials, else those given to ``client.login``, else what ``docker`` would use.

    That is ``config.json`` (inline ``auth``, ``identitytoken``), ``credsStore``
    and ``credHelpers`` (the ``docker-credential-*`` helpers are run), shared
    with :class:`~pydock.Registry`.

    Raises:
        InvalidConfiguration: ``config.json`` is broken or a helper cannot run.
        PydockError: A credential helper failed.
    """
    found = auth
    if found is None and logins:
        found = logins.get(domain)
    if found is None:
        found = await load_credentials(domain)
    if found is not None and not found.serveraddress:
        found = attrs.evolve(found, serveraddress=domain)
    return found
