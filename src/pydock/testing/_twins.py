"""The async twins of ``pydock.testing``'s functions, under their public names.

``pydock._async._testing`` defines ``run_container``, ``wait_for``... with the
same names as the generated sync module; ``pydock.testing`` exports the async
ones with an ``async_`` prefix, and this module gives them that name, so that
every public name is imported as itself (``X as X``, which type checkers read
as a re-export).
"""

from __future__ import annotations

from pydock._async._testing import remove_session as async_remove_session
from pydock._async._testing import remove_stale as async_remove_stale
from pydock._async._testing import run_container as async_run_container
from pydock._async._testing import wait_for as async_wait_for

__all__ = ["async_remove_session", "async_remove_stale", "async_run_container", "async_wait_for"]
