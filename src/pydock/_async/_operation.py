"""Long-running operations (pull, push, build, copy) as typed progress streams.

An operation is created without I/O by a ``begin_*`` method. It is a context
manager and an iterator over typed progress events; ``result()`` runs it to
the end (handing every event to the ``progress`` callback) and returns its
value. Errors reported inside the stream are raised as typed errors.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["AsyncOperation", "Done"]

EventT = TypeVar("EventT")
ResultT = TypeVar("ResultT")


@attrs.frozen
class Done(Generic[ResultT]):
    """The last item an operation's generator yields: its result."""

    value: ResultT


_NOTHING: Any = object()


class AsyncOperation(Generic[EventT, ResultT]):
    """A running (or not yet started) long operation.

    Iterate it for its progress events; ``result()`` finishes it. Use it as a
    context manager so that an operation left half-way is cancelled and its
    connection closed.

    Args:
        steps: An async generator yielding events, then ``Done(result)``.
        progress: Called with every event, whether iterated or drained by ``result()``.
    """

    def __init__(
        self,
        steps: AsyncGenerator[EventT | Done[ResultT], None],
        progress: Callable[[EventT], object] | None = None,
    ) -> None:
        self._steps = steps
        self._progress = progress
        self._result: ResultT = _NOTHING
        self._finished = False

    async def __aenter__(self) -> AsyncOperation[EventT, ResultT]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncOperation[EventT, ResultT]:
        return self

    async def __anext__(self) -> EventT:
        if self._finished:
            raise StopAsyncIteration
        try:
            item = await self._steps.__anext__()
        except StopAsyncIteration:
            self._finished = True
            raise RuntimeError("the operation ended without a result") from None
        except BaseException:
            self._finished = True
            await self._steps.aclose()
            raise
        if isinstance(item, Done):
            self._result = item.value
            self._finished = True
            await self._steps.aclose()
            raise StopAsyncIteration
        if self._progress is not None:
            self._progress(item)
        return item

    @property
    def done(self) -> bool:
        """Whether the operation has finished (successfully or not)."""
        return self._finished

    async def result(self) -> ResultT:
        """Run the operation to its end and return its result.

        Raises:
            PydockError: Whatever the operation raises (``PullError``, ``BuildError``...).
        """
        async for _event in self:
            pass
        if self._result is _NOTHING:
            raise RuntimeError("the operation was closed before it finished")
        return self._result

    async def aclose(self) -> None:
        """Stop the operation (if still running) and release its connection."""
        self._finished = True
        await self._steps.aclose()
