"""Process identity from ``/proc``: who owns a resource, and whether that process still runs."""

from __future__ import annotations

import os
import socket

import attrs

__all__ = ["ProcessIdentity", "process_alive", "process_start"]


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def process_start(pid: int, proc: str = "/proc") -> str | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``).

    Returns ``""`` where ``/proc`` does not exist, None when the process does not.
    """
    if not os.path.isdir(proc):
        return ""
    stat = _read(f"{proc}/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace(proc: str = "/proc") -> str:
    try:
        return os.readlink(f"{proc}/self/ns/pid")
    except OSError:
        return ""


@attrs.frozen
class ProcessIdentity:
    """Who owns a resource: enough to tell later whether that process still runs.

    Attributes:
        host: The host name.
        boot: The kernel's boot id (changes at every boot; empty off Linux).
        pidns: The pid namespace (processes in other namespaces cannot be checked).
        pid: The process id.
        started: The process start time in clock ticks since boot (empty off Linux).
    """

    host: str
    boot: str
    pidns: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process."""
        pid = os.getpid()
        return cls(
            host=socket.gethostname(),
            boot=_read("/proc/sys/kernel/random/boot_id"),
            pidns=_pid_namespace(),
            pid=pid,
            started=process_start(pid) or "",
        )


def process_alive(pid: int, started: str) -> bool:
    """Whether process ``pid`` runs and is the one that started at ``started``.

    The start time guards against a recycled pid. Without ``/proc`` only the
    pid's existence is checked.
    """
    if pid <= 0:
        return False
    now = process_start(pid)
    if now is None:
        return False
    if now == "":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return not started or now == started
