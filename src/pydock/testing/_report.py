"""What a failed wait reports: the container's state and its last output."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydock._core.containers import ContainerState

__all__ = ["EXITED_STATUSES", "describe_state", "format_logs", "has_exited", "last_lines"]


def last_lines(output: bytes, count: int = 30) -> str:
    """The last ``count`` lines of container output, as text."""
    text = output.decode("utf-8", "replace").rstrip("\n")
    if not text:
        return ""
    return "\n".join(text.splitlines()[-count:])


def describe_state(state: ContainerState | None, status: str) -> str:
    """``running``, ``exited (code 3)``, ``running, health unhealthy``..."""
    if state is None:
        return status or "unknown"
    text = state.status or status
    if state.status in ("exited", "dead", "stopped"):
        text += f" (code {state.exit_code})"
    if state.oom_killed:
        text += ", killed for lack of memory"
    if state.error:
        text += f", engine error: {state.error}"
    if state.health:
        text += f", health {state.health}"
    return text


def format_logs(logs: str) -> str:
    """The log block appended to wait error messages."""
    if not logs:
        return "\n(the container wrote no output)"
    indented = "\n".join("    " + line for line in logs.splitlines())
    return "\nlast log lines:\n" + indented


EXITED_STATUSES = frozenset({"exited", "dead", "removing", "stopped"})


def has_exited(state: ContainerState | None, status: str) -> bool:
    """Whether a started container is no longer going to become ready."""
    return (state.status if state is not None else status) in EXITED_STATUSES
