"""The README's demo runs end to end against the real engines and registries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Engine, RegistryServer

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_walkthrough(
    docker_engine: Engine,
    podman_engine: Engine,
    registry: RegistryServer,
    auth_registry: RegistryServer,
) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for engine in ("docker", "podman"):
        assert f"backend detected: {engine}" in out
        assert f"== {engine}: commit the container to an image and run it" in out
    assert out.count("interactive sh printed 42: True; exit code 3") == 2
    assert out.count("-> 'pydock busybox httpd'") == 2
    assert out.count("round trip equal: True, mode 0o640") == 2
    assert out.count("running it prints b'committed\\n'") == 2
    assert "as pydock: tags of pydock-test/busybox ['1']" in out
    assert out.rstrip().endswith("demo finished")
