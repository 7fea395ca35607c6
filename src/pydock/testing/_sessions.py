"""Sessions and their labels: one per process, and whose a labelled leftover is.

Every container, network and volume the toolkit makes carries its session's
labels (the session id and the owning process's identity); from those labels
:func:`classify_owner` decides whether the run that made it is still going.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from typing import Literal

import attrs

from pydock.testing._identity import ProcessIdentity, process_alive

__all__ = [
    "BOOT_LABEL",
    "HOST_LABEL",
    "LABEL_PREFIX",
    "PIDNS_LABEL",
    "PID_LABEL",
    "SESSION_LABEL",
    "STARTED_LABEL",
    "WORKER_LABEL",
    "Owner",
    "Session",
    "classify_owner",
    "current_session",
    "needs_sweep",
    "next_name",
]

LABEL_PREFIX = "pydock.testing"
SESSION_LABEL = f"{LABEL_PREFIX}.session"
HOST_LABEL = f"{LABEL_PREFIX}.host"
BOOT_LABEL = f"{LABEL_PREFIX}.boot"
PIDNS_LABEL = f"{LABEL_PREFIX}.pidns"
PID_LABEL = f"{LABEL_PREFIX}.pid"
STARTED_LABEL = f"{LABEL_PREFIX}.started"
WORKER_LABEL = f"{LABEL_PREFIX}.worker"


@attrs.frozen
class Session:
    """One run of the toolkit (a process; each pytest-xdist worker is its own).

    Attributes:
        id: A random id shared by every resource the run creates.
        owner: The process that owns the resources.
        worker: The pytest-xdist worker name (``gw0``...), or ``""``.
    """

    id: str
    owner: ProcessIdentity
    worker: str = ""

    @classmethod
    def new(cls) -> Session:
        """A session for this process."""
        return cls(
            id=uuid.uuid4().hex[:16],
            owner=ProcessIdentity.current(),
            worker=os.environ.get("PYTEST_XDIST_WORKER", ""),
        )

    def labels(self) -> dict[str, str]:
        """The labels put on every container, network and volume of the session."""
        out = {
            SESSION_LABEL: self.id,
            HOST_LABEL: self.owner.host,
            BOOT_LABEL: self.owner.boot,
            PIDNS_LABEL: self.owner.pidns,
            PID_LABEL: str(self.owner.pid),
            STARTED_LABEL: self.owner.started,
        }
        if self.worker:
            out[WORKER_LABEL] = self.worker
        return out

    def resource_name(self, kind: str, counter: int) -> str:
        """A unique name for a resource (``pydock-<session>-c3``)."""
        return f"pydock-{self.id}-{kind}{counter}"


_SESSIONS: dict[int, Session] = {}


def current_session() -> Session:
    """The session of this process (a forked child gets its own)."""
    pid = os.getpid()
    session = _SESSIONS.get(pid)
    if session is None:
        session = _SESSIONS[pid] = Session.new()
    return session


Owner = Literal["own", "live", "stale", "foreign"]


def classify_owner(
    labels: Mapping[str, str],
    here: Session,
    alive: Callable[[int, str], bool] = process_alive,
) -> Owner:
    """Whose a labelled resource is.

    Returns:
        ``"own"`` (this session), ``"live"`` (another session whose process
        runs), ``"stale"`` (its process is gone: safe to remove), or
        ``"foreign"`` (made on another host or pid namespace: cannot be
        checked, left alone).
    """
    if labels.get(SESSION_LABEL) == here.id:
        return "own"
    me = here.owner
    if labels.get(HOST_LABEL) != me.host:
        return "foreign"
    boot = labels.get(BOOT_LABEL, "")
    if boot and me.boot and boot != me.boot:
        return "stale"  # the machine rebooted since: the process cannot still run
    if labels.get(PIDNS_LABEL, "") != me.pidns:
        return "foreign"
    try:
        pid = int(labels.get(PID_LABEL, ""))
    except ValueError:
        return "foreign"
    return "live" if alive(pid, labels.get(STARTED_LABEL, "")) else "stale"


_COUNTERS: dict[int, int] = {}


def next_name(kind: str) -> str:
    """A fresh resource name for this process's session (``pydock-<id>-c1``, ``-n1``...)."""
    pid = os.getpid()
    _COUNTERS[pid] = _COUNTERS.get(pid, 0) + 1
    return current_session().resource_name(kind, _COUNTERS[pid])


_SWEPT: set[tuple[int, str]] = set()


def needs_sweep(base_url: str) -> bool:
    """True the first time this process asks for an engine (then False)."""
    key = (os.getpid(), base_url)
    if key in _SWEPT:
        return False
    _SWEPT.add(key)
    return True
