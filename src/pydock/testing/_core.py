"""The testing toolkit without I/O, under its former single-module name.

The decisions now live in modules of one job each, and this module only
re-exports them so that ``pydock.testing._core.X`` keeps working:

- ``_waits``: the wait strategies (``for_log``... ``all_of``, ``any_of``);
- ``_plan``: the wait plan (what is pending, satisfied or timed out);
- ``_report``: what a failed wait says (container state, last log lines);
- ``_hosts``: where published ports are reached from here;
- ``_identity``: a process's identity from ``/proc``;
- ``_sessions``: sessions, their labels, and whose a leftover is;
- ``_resources``: ``RunOptions``, ``Network``, ``Volume``.

The I/O that probes a container lives in ``pydock._async._testing`` (and its
generated sync twin). Import from ``pydock.testing`` (public) or from the
modules above, not from here.
"""

from __future__ import annotations

from pydock.errors import ContainerExited as ContainerExited
from pydock.errors import ContainerUnhealthy as ContainerUnhealthy
from pydock.errors import PortNotPublished as PortNotPublished
from pydock.errors import WaitError as WaitError
from pydock.errors import WaitTimeout as WaitTimeout
from pydock.testing._hosts import *  # noqa: F403
from pydock.testing._identity import *  # noqa: F403
from pydock.testing._plan import *  # noqa: F403
from pydock.testing._report import *  # noqa: F403
from pydock.testing._resources import *  # noqa: F403
from pydock.testing._sessions import *  # noqa: F403
from pydock.testing._waits import *  # noqa: F403
