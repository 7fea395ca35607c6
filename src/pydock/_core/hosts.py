"""Which hosts are on this machine: the one loopback rule for engines' pulls and ``Registry``.

A registry on loopback may be spoken to over plain HTTP by default: the
registry client falls back to ``http://`` for it, and an engine pull or push
is sent with ``tlsVerify=false`` (Podman) or expected to be insecure (Docker,
whose default ``insecure-registries`` is 127.0.0.0/8).
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether a host, with an optional port, is on the loopback interface.

    ``localhost`` and any ``*.localhost`` name (RFC 6761), 127.0.0.0/8 and
    ``::1`` (bracketed with a port, ``[::1]:5000``, or bare) are; no name is
    resolved. Case and surrounding blanks are ignored.

    Args:
        host: ``name``, ``name:port``, an IP address, or ``[v6]:port``.
    """
    name = host.strip().lower()
    if name.startswith("["):
        end = name.find("]")
        name = name[1:end] if end != -1 else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
