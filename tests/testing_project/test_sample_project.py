"""Runs the sample project (and the docs' example) with pytest in a subprocess, as a user would.

The sample's files are named ``sample_*.py`` and it has its own ``pytest.ini``,
so this repository's suite collects only this driver. pydock's plugin is
loaded through its ``pytest11`` entry point (pydock must be installed, e.g.
``pip install -e .``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

import pydock
from pydock._core.containers import encode_filters
from pydock.testing import SESSION_LABEL, remove_stale
from tests.conftest import Engine

HERE = Path(__file__).resolve().parent / "sample"
DOCS = HERE.parents[2] / "docs" / "testing.md"
OTHER = {"docker": "podman", "podman": "docker"}
ENGINE_URLS = {
    "docker": os.environ.get("PYDOCK_DOCKER_HOST", "unix:///var/run/docker.sock"),
    "podman": os.environ.get("PYDOCK_PODMAN_HOST", "unix:///run/podman/podman.sock"),
}


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh pytest run (none of this run's pytest or xdist settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DOCKER_", "CONTAINER_HOST"))
    }
    env.update(extra)
    return env


def run_pytest(
    *args: str, cwd: Path = HERE, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        env=dict(env) if env is not None else child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def passed(result: subprocess.CompletedProcess[str], count: int) -> None:
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert re.search(rf"\b{count} passed\b", result.stdout), report


def session_resources(client: pydock.Client, session: str) -> list[str]:
    """Everything still labelled with ``session`` on the engine."""
    label = f"{SESSION_LABEL}={session}"
    filters = encode_filters({"label": [label]})
    containers = client.containers.list(all=True, filters={"label": label})
    networks = client._json("GET", "/networks", params={"filters": filters}) or []
    volumes = (client._json("GET", "/volumes", params={"filters": filters}) or {}).get("Volumes")
    return (
        [f"container {c.name}" for c in containers]
        + [f"network {n['Name']}" for n in networks]
        + [f"volume {v['Name']}" for v in volumes or []]
    )


def test_sample_project_under_xdist(
    engine: Engine, sync_client: pydock.Client, tmp_path: Path
) -> None:
    out = tmp_path / "records"
    out.mkdir()
    # Two workers; the command-line option wins over the environment.
    env = child_env(PYDOCK_SAMPLE_OUT=str(out), DOCKER_HOST=ENGINE_URLS[OTHER[engine.name]])
    result = run_pytest("sample_web.py", "-n", "2", f"--pydock-host={engine.url}", env=env)
    passed(result, 7)

    records = [json.loads(line) for f in out.iterdir() for line in f.read_text().splitlines()]
    assert {r["backend"] for r in records} == {engine.name}
    assert {r["test"] for r in records} == {
        "module",
        "module-again",
        "session",
        "function",
        "async",
    }
    sessions: dict[int, set[str]] = {}
    for r in records:
        sessions.setdefault(r["pid"], set()).add(r["session"])
    # One session per process; each process (xdist worker) its own.
    assert all(len(s) == 1 for s in sessions.values())
    assert len({next(iter(s)) for s in sessions.values()}) == len(sessions)
    assert {r["worker"] for r in records} == {"gw0", "gw1"}
    assert len(sessions) == 2
    for session in {r["session"] for r in records}:
        assert session_resources(sync_client, session) == []


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended early with code {proc.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {path.name} after {timeout} s")
        time.sleep(0.05)


def test_a_killed_run_is_cleaned_by_the_next(
    engine: Engine, sync_client: pydock.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "facts.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "sample_hang.py", f"--pydock-host={engine.url}"],
        cwd=HERE,
        env=child_env(PYDOCK_SAMPLE_MARKER=str(marker)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_file(marker, proc, 60)
        facts = json.loads(marker.read_text())
        assert facts["pid"] == proc.pid
        # While that run is alive, a sweep from another process leaves it alone.
        remove_stale(sync_client)
        assert sync_client.containers.get(facts["container"]).status == "running"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    left = session_resources(sync_client, facts["session"])
    assert len(left) == 3, left  # the container, the network and the volume

    # The next run (engine from the ini setting) removes them before its tests.
    passed(run_pytest("sample_next.py", "-o", f"pydock_host={engine.url}"), 1)
    assert session_resources(sync_client, facts["session"]) == []


def docs_examples() -> dict[str, str]:
    """The code blocks of docs/testing.md marked ``<!-- example: NAME -->``."""
    text = DOCS.read_text()
    blocks = re.findall(r"<!-- example: (\S+) -->\s*```python\n(.*?)```", text, flags=re.S)
    return dict(blocks)


def test_docs_examples_run(engine: Engine, tmp_path: Path) -> None:
    examples = docs_examples()
    assert set(examples) == {"test_web.py", "script.py"}
    for name, code in examples.items():
        (tmp_path / name).write_text(code)
    # The engine chosen by the environment, as Client.from_env() reads it.
    env = child_env(DOCKER_HOST=engine.url)
    result = run_pytest("-p", "no:cacheprovider", "test_web.py", cwd=tmp_path, env=env)
    # anyio runs the async test once per installed backend (asyncio, and trio if present).
    passed(result, 5 if importlib.util.find_spec("trio") else 4)
    script = subprocess.run(
        [sys.executable, "script.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout == "hello, world\nhello, world\n"
