"""Abandoned execs leave no process behind, on the real engines (issue 13, defect 9).

An exec session or ``exec()`` call that is cancelled (async: its cancel scope;
sync: an interrupt raised by a signal handler, like Ctrl-C) or closed while
its command still runs must end that command and what it started.
"""

from __future__ import annotations

import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from types import FrameType, TracebackType
from typing import Any

import anyio
import pytest

import pydock
from pydock._async._containers import AsyncContainer
from pydock.errors import ContainerNotFound
from tests.conftest import Engine


class Interrupt(BaseException):
    """What the sync tests raise from a signal handler: a stand-in for KeyboardInterrupt."""


class Stopper:
    """Stops the block it guards ``arm(seconds)`` later, wherever it is.

    Async: the block's cancel scope gets a deadline (a real cancellation under
    asyncio and trio). Sync: a SIGALRM handler raises :class:`Interrupt`.
    ``stopped`` tells whether the block was stopped (and the stop swallowed).
    """

    def __init__(self) -> None:
        self.scope: Any = None
        self.scope = anyio.CancelScope()  # unasync: remove
        self.stopped = False
        self.previous: Any = None

    def __enter__(self) -> Stopper:
        if self.scope is not None:
            self.scope.__enter__()
        else:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
        return self

    @staticmethod
    def _fire(signum: int, frame: FrameType | None) -> None:
        raise Interrupt

    def arm(self, seconds: float) -> None:
        if self.scope is not None:
            self.scope.deadline = anyio.current_time() + seconds
        else:
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self.scope is not None:
            swallowed = bool(self.scope.__exit__(exc_type, exc, tb))
            self.stopped = bool(self.scope.cancelled_caught)
            return swallowed
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        self.stopped = exc_type is Interrupt
        return self.stopped


@pytest.fixture
async def container(
    async_client: pydock.AsyncClient, engine: Engine
) -> AsyncIterator[AsyncContainer]:
    made = await async_client.containers.run(
        engine.test_image,
        ["sleep", "600"],
        detach=True,
        name=f"pydock-test-{uuid.uuid4().hex[:10]}",
    )
    assert isinstance(made, AsyncContainer)
    try:
        yield made
    finally:
        with contextlib.suppress(ContainerNotFound):
            await made.remove(force=True)


async def processes(container: AsyncContainer) -> list[str]:
    """The command lines alive in the container, but for the ``ps`` that lists them.

    Zombies are dead: the container's ``sleep`` (its pid 1) never reaps the
    orphans it inherits, so a killed pipeline stays listed in state ``Z``.
    """
    listing = await container.exec(["ps", "-o", "stat,args"])
    assert listing.exit_code == 0, listing.stderr
    rows = [line.split(None, 1) for line in listing.stdout.decode().splitlines()[1:]]
    return [
        row[1]
        for row in rows
        if len(row) == 2 and not row[0].startswith("Z") and row[1] != "ps -o stat,args"
    ]


@pytest.mark.anyio
async def test_cancelled_exec_sessions_leave_no_process(container: AsyncContainer) -> None:
    for number in range(10):
        with Stopper() as stop:
            async with container.exec_session("sh", tty=number % 2 == 0) as sh:
                await sh.send(b"echo $((40 + 2))-ready; cat\n")
                await sh.read_until(b"42-ready", timeout=30)
                stop.arm(0.3)
                while await sh.recv(timeout=120):  # cat says nothing: stopped in here
                    pass
        assert stop.stopped
    assert await processes(container) == ["sleep 600"]


@pytest.mark.anyio
async def test_closed_exec_session_ends_its_command(container: AsyncContainer) -> None:
    async with container.exec_session(["sh", "-c", "sleep 900 & cat"]) as session:
        await session.send(b"x\n")
        assert b"x" in await session.read_until(b"x", timeout=30)
    assert session.exit_code is not None
    assert await processes(container) == ["sleep 600"]
    # A command that ended by itself keeps its own exit code.
    async with container.exec_session(["sh", "-c", "exit 5"], tty=False) as done:
        assert await done.wait(timeout=30) == 5
    assert done.exit_code == 5


@pytest.mark.anyio
async def test_cancelled_exec_leaves_no_process(container: AsyncContainer) -> None:
    for _ in range(3):
        with Stopper() as stop:
            stop.arm(1.5)
            await container.exec(["sh", "-c", "sleep 1000 | cat"])
        assert stop.stopped
    assert await processes(container) == ["sleep 600"]
