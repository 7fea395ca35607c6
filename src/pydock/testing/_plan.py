"""The wait plan: which strategies are still pending, satisfied or timed out (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydock.testing._waits import DEFAULT_TIMEOUT, AllOf, AnyOf, WaitStrategy, as_strategy

__all__ = ["StepState", "WaitPlan", "WaitStep"]

StepState = Literal["pending", "ok", "failed"]


class WaitStep:
    """One node of a :class:`WaitPlan`: a strategy and what is known about it.

    Attributes:
        strategy: The strategy.
        state: ``"pending"``, ``"ok"`` or ``"failed"`` (timed out).
        detail: The last reason it was not ready (or why it succeeded).
        deadline: When it times out (monotonic seconds), or None.
        children: The steps of a combined strategy.
    """

    def __init__(self, strategy: WaitStrategy, start: float, default_timeout: float) -> None:
        self.strategy = strategy
        self.state: StepState = "pending"
        self.detail = "not probed yet"
        self.children: list[WaitStep] = []
        if isinstance(strategy, (AllOf, AnyOf)):
            self.children = [WaitStep(s, start, default_timeout) for s in strategy.strategies]
            limit = strategy.timeout
        else:
            limit = strategy.timeout if strategy.timeout is not None else default_timeout
        self.deadline = None if limit is None else start + limit

    @property
    def is_leaf(self) -> bool:
        """Whether this step is probed itself (not a combination)."""
        return not self.children

    def record(self, ok: bool, detail: str) -> None:
        """Store the result of one probe."""
        if self.state == "pending":
            self.detail = detail
            if ok:
                self.state = "ok"

    def update(self, now: float) -> StepState:
        """Decide this step's state at ``now`` (children first)."""
        if self.state != "pending":
            return self.state
        if self.children:
            states = [child.update(now) for child in self.children]
            if isinstance(self.strategy, AllOf):
                if "failed" in states:
                    self.state = "failed"
                elif all(s == "ok" for s in states):
                    self.state = "ok"
            elif "ok" in states:
                self.state = "ok"
            elif all(s == "failed" for s in states):
                self.state = "failed"
        if self.state == "pending" and self.deadline is not None and now >= self.deadline:
            self.state = "failed"
        return self.state

    def pending_steps(self) -> list[WaitStep]:
        """This step and every step under it still pending, in declaration order."""
        if self.state != "pending":
            return []
        return [self, *(step for child in self.children for step in child.pending_steps())]

    def leaves(self) -> list[WaitStep]:
        """The leaf steps under this one (itself if a leaf)."""
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


class WaitPlan:
    """What a wait still needs, as a small state machine (no I/O).

    The I/O side calls :meth:`pending` for the leaf steps to probe, records
    each result on its step, then calls :meth:`update`. A step that succeeded
    stays satisfied; one whose deadline passes fails, and with it every
    ``all_of`` above it (an ``any_of`` fails when all its members failed).

    Args:
        strategy: The strategy to satisfy (a list means all of them).
        start: When the wait began (monotonic seconds).
        default_timeout: The timeout of strategies that name none.
    """

    def __init__(
        self,
        strategy: WaitStrategy | Sequence[WaitStrategy],
        *,
        start: float,
        default_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        root = as_strategy(strategy)
        if root is None:
            raise ValueError("nothing to wait for")
        self.start = start
        self.root = WaitStep(root, start, default_timeout)

    def pending(self) -> list[WaitStep]:
        """The leaf steps that still need probing, in declaration order."""
        return [step for step in self.root.pending_steps() if step.is_leaf]

    def update(self, now: float) -> StepState:
        """The plan's state at ``now``: ``"ok"`` (ready), ``"pending"`` or ``"failed"``."""
        return self.root.update(now)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a pending step (to bound a sleep)."""
        deadlines = [s.deadline for s in self.root.pending_steps() if s.deadline is not None]
        return min(deadlines, default=None)

    def unsatisfied(self) -> list[str]:
        """Each leaf that is not satisfied, with the last reason (for error messages)."""
        return [
            f"{leaf.strategy.describe()}: {leaf.detail}"
            for leaf in self.root.leaves()
            if leaf.state != "ok"
        ]
