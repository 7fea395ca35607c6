"""Developer tasks: `nox -l` lists them.

Every session also runs in an existing environment with `nox --no-venv -s NAME`
(that is what `.ci/run` does, inside the project's `.venv`).
"""

from __future__ import annotations

import os
import shlex

import nox

nox.options.sessions = ["lint", "typecheck", "unasync", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
SRC = ["src", "tests", "scripts", "examples", "bench", "noxfile.py"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole test suite (engines must be up: `scripts/engines up`)."""
    _install(session, "-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs, env=_engine_env())


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check (with the ruff pinned in pyproject.toml)."""
    if session.venv_backend != "none":
        pin = session.run("python", "scripts/unasync.py", "--ruff-requirement", silent=True)
        _install(session, str(pin).strip())
    session.run("ruff", "check", *SRC)
    session.run("ruff", "format", "--check", *SRC)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src and tests."""
    _install(session, "-e", ".[test,dev]")
    session.run("mypy")


@nox.session
def unasync(session: nox.Session) -> None:
    """Check that the generated sync code matches the async code (`-- --write` regenerates)."""
    if session.venv_backend != "none":
        # The exact ruff pinned in pyproject.toml: the script refuses any other version.
        pin = session.run("python", "scripts/unasync.py", "--ruff-requirement", silent=True)
        _install(session, str(pin).strip())
    if "--write" in session.posargs:
        session.run("python", "scripts/unasync.py")
    else:
        session.run("python", "scripts/unasync.py", "--check")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation strictly (warnings are errors)."""
    _install(session, "-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def demo(session: nox.Session) -> None:
    """Run the walkthrough in examples/demo.py against the real engines."""
    _install(session, "-e", ".")
    session.run("python", "examples/demo.py", *session.posargs, env=_engine_env())


@nox.session
def bench(session: nox.Session) -> None:
    """Run the side-by-side benchmarks in bench/ (starts the engines, installs the peers).

    `nox -s bench -- --sections latency,concurrency --rounds 5` passes options on.
    """
    _install(session, "-e", ".", "docker", "aiodocker", "podman", "trio")
    # Idempotent: servers that already answer are left alone.
    session.run("bash", "scripts/engines", "up", external=True)
    session.run("python", "bench/run.py", *session.posargs, env=_engine_env())


def _install(session: nox.Session, *args: str) -> None:
    """Install into the session's venv; with `--no-venv` the current environment is used as is."""
    if session.venv_backend != "none":
        session.install(*args)


def _engine_env() -> dict[str, str]:
    """The variables `scripts/engines env` prints, when the engines are up."""
    import subprocess

    script = os.path.join(os.path.dirname(__file__), "scripts", "engines")
    try:
        out = subprocess.run(
            ["bash", script, "env"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    env: dict[str, str] = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            env[key.strip()] = shlex.split(value)[0] if value.strip() else ""
    return env
