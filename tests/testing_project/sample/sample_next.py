"""The next run after a killed one: using the engine is enough to sweep the leftovers."""

from __future__ import annotations

from pydock import Client


def test_engine_answers(pydock_client: Client) -> None:
    assert pydock_client.ping()
