"""Holds a container, a network and a volume, then hangs until the driver kills the run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pydock import Client
from pydock.testing import SESSION_LABEL, Sandbox

IMAGE = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")


def test_hold_resources_until_killed(pydock_container: Sandbox, pydock_client: Client) -> None:
    network = pydock_container.network()
    volume = pydock_container.volume()
    container = pydock_container(
        IMAGE, command=["sleep", "300"], network_mode=network.name, volumes=[f"{volume.name}:/d"]
    )
    marker = Path(os.environ["PYDOCK_SAMPLE_MARKER"])
    facts = {
        "container": container.id,
        "network": network.id,
        "volume": volume.name,
        "session": container.labels[SESSION_LABEL],
        "pid": os.getpid(),
    }
    marker.with_suffix(".tmp").write_text(json.dumps(facts))
    marker.with_suffix(".tmp").rename(marker)
    time.sleep(300)
