"""The testing toolkit's decisions without an engine: strategies, the wait plan, owners, hosts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest

from pydock._core.containers import ContainerState, PortBinding
from pydock.testing import (
    AllOf,
    AnyOf,
    LogWait,
    PortNotPublished,
    all_of,
    any_of,
    for_exec,
    for_healthy,
    for_http,
    for_log,
    for_port,
    host_address,
    host_port,
    http_url,
)
from pydock.testing._hosts import default_ports, engine_host, only_tcp_port
from pydock.testing._identity import ProcessIdentity, process_alive, process_start
from pydock.testing._plan import WaitPlan
from pydock.testing._report import describe_state, last_lines
from pydock.testing._sessions import SESSION_LABEL, Session, classify_owner, current_session
from pydock.testing._waits import as_strategy

# --------------------------------------------------------------------------- strategies


def test_strategies_validate_their_arguments() -> None:
    with pytest.raises(ValueError, match="empty"):
        for_log("")
    with pytest.raises(ValueError, match="stream"):
        for_log("x", stream="both-ways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        for_log("x", times=0)
    with pytest.raises(ValueError, match="only TCP"):
        for_port("53/udp")
    with pytest.raises(ValueError, match="not a container port"):
        for_port("eighty")
    with pytest.raises(ValueError, match="must start with '/'"):
        for_http("health")
    with pytest.raises(ValueError, match="positive"):
        for_exec("true", timeout=0)
    with pytest.raises(ValueError, match="empty"):
        for_exec([])
    with pytest.raises(ValueError, match="at least one"):
        all_of()
    with pytest.raises(TypeError, match="not a wait strategy"):
        any_of("ready")  # type: ignore[arg-type]


def test_wait_argument_forms() -> None:
    log = for_log("ready")
    assert as_strategy(None) is None
    assert as_strategy([]) is None
    assert as_strategy(log) is log
    assert as_strategy([log]) is log
    combined = as_strategy([log, for_port(80)])
    assert isinstance(combined, AllOf)
    assert [s.describe() for s in combined.strategies] == ["log text 'ready'", "port 80/tcp"]
    with pytest.raises(TypeError, match="wait= takes"):
        as_strategy("ready")  # type: ignore[arg-type]


def test_log_matching_counts_text_and_regex() -> None:
    text = "booting\nready on 5432\nrestarting\nready on 5432\n"
    assert for_log("ready").count(text) == 2
    assert for_log(re.compile(r"on (\d+)$", re.MULTILINE)).count(text) == 2
    assert for_log("missing").count(text) == 0
    assert for_log("ready", stream="stderr", times=2).describe() == (
        "log text 'ready' on stderr 2 times"
    )


def test_http_acceptance() -> None:
    assert for_http().accepts(200, b"")[0]
    assert not for_http().accepts(503, b"")[0]
    assert for_http(status={200, 204}).accepts(204, b"")[0]
    assert for_http(status=lambda code: code < 500).accepts(404, b"")[0]
    assert for_http(body="ok").accepts(200, b"all ok")[0]
    assert for_http(body=b"\x00ok").accepts(200, b"\x00ok")[0]
    assert for_http(body=re.compile(r"v\d+")).accepts(200, b"version v12")[0]
    assert for_http(body=lambda raw: raw.startswith(b"{")).accepts(200, b"{}")[0]
    ok, why = for_http(body="ready").accepts(200, b"starting up")
    assert not ok
    assert "body did not match" in why
    assert "starting up" in why
    assert for_http("/x", port=8080, method="post").describe() == "HTTP POST http://:8080/x"


# --------------------------------------------------------------------------- the wait plan


def test_all_of_is_ready_when_every_member_succeeded() -> None:
    plan = WaitPlan(all_of(for_log("a"), for_port(80)), start=0.0, default_timeout=10)
    first, second = plan.pending()
    first.record(True, "seen")
    assert plan.update(1.0) == "pending"
    assert plan.pending() == [second]  # a satisfied step is not probed again
    second.record(False, "refused")
    second.record(True, "accepts")
    assert plan.update(2.0) == "ok"


def test_a_member_timing_out_fails_all_of_and_names_it() -> None:
    plan = WaitPlan(
        [for_log("ready", timeout=5), for_port(80, timeout=50)], start=100.0, default_timeout=60
    )
    log, port = plan.pending()
    log.record(False, "seen 0 of 1 times")
    port.record(True, "accepts")
    assert plan.next_deadline() == 105.0
    assert plan.update(104.9) == "pending"
    assert plan.update(105.0) == "failed"
    assert plan.unsatisfied() == ["log text 'ready': seen 0 of 1 times"]


def test_any_of_needs_one_member_and_fails_when_all_failed() -> None:
    plan = WaitPlan(
        any_of(for_log("a", timeout=1), for_log("b", timeout=3)), start=0.0, default_timeout=60
    )
    assert plan.update(1.5) == "pending"  # "a" failed, "b" may still come
    assert [s.strategy for s in plan.pending()] == [for_log("b", timeout=3)]
    assert plan.update(3.0) == "failed"

    plan = WaitPlan(any_of(for_log("a"), for_log("b")), start=0.0, default_timeout=60)
    plan.pending()[1].record(True, "seen")
    assert plan.update(0.5) == "ok"


def test_a_group_timeout_bounds_its_members() -> None:
    plan = WaitPlan(all_of(for_log("a"), timeout=2), start=0.0, default_timeout=60)
    assert plan.update(1.0) == "pending"
    assert plan.update(2.0) == "failed"


def test_default_timeout_applies_to_members_without_one() -> None:
    plan = WaitPlan(for_healthy(), start=10.0, default_timeout=4)
    assert plan.next_deadline() == 14.0
    assert plan.update(14.0) == "failed"
    assert plan.unsatisfied() == ["health status 'healthy': not probed yet"]


# --------------------------------------------------------------------------- messages


def test_last_lines_and_state_descriptions() -> None:
    assert last_lines(b"") == ""
    assert last_lines(b"a\nb\nc\n", 2) == "b\nc"
    assert last_lines(b"bad \xff byte") == "bad \ufffd byte"
    state = ContainerState(
        status="exited",
        running=False,
        paused=False,
        restarting=False,
        oom_killed=True,
        dead=False,
        pid=0,
        exit_code=137,
        error="",
        started_at=None,
        finished_at=None,
        health="unhealthy",
    )
    assert describe_state(state, "") == (
        "exited (code 137), killed for lack of memory, health unhealthy"
    )
    assert describe_state(None, "running") == "running"


# --------------------------------------------------------------------------- host and ports


@attrs.frozen
class _FakeClient:
    base_url: str


@attrs.frozen
class _Snapshot:
    _client: _FakeClient
    ports: Mapping[str, list[PortBinding]]


def snapshot(
    url: str, ports: Mapping[str, list[tuple[str, int | None]]] | None = None
) -> _Snapshot:
    bindings = {key: [PortBinding(ip, port) for ip, port in v] for key, v in (ports or {}).items()}
    return _Snapshot(_FakeClient(url), bindings)


def test_ports_bound_everywhere_are_reached_at_the_engine_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYDOCK_TESTING_HOST", raising=False)
    # Docker lists 0.0.0.0 and :: for one port; Podman gives "".
    docker = snapshot("unix:///var/run/docker.sock", {"80/tcp": [("::", 3), ("0.0.0.0", 3)]})
    podman = snapshot("unix:///run/podman/podman.sock", {"80/tcp": [("", 4)]})
    assert (host_address(docker, 80), host_port(docker, 80)) == ("127.0.0.1", 3)
    assert (host_address(podman, "80/tcp"), host_port(podman, 80)) == ("127.0.0.1", 4)
    remote = snapshot("tcp://10.1.2.3:2376", {"80/tcp": [("0.0.0.0", 5)]})
    assert http_url(remote, 80, "health") == "http://10.1.2.3:5/health"
    assert host_address(remote) == "10.1.2.3"


def test_ports_bound_to_one_address_are_reached_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYDOCK_TESTING_HOST", raising=False)
    local = snapshot("unix:///x.sock", {"80/tcp": [("::1", 7)]})
    assert http_url(local, 80) == "http://[::1]:7/"
    remote = snapshot("ssh://me@build-box", {"80/tcp": [("127.0.0.1", 8)]})
    assert host_address(remote, 80) == "build-box"
    monkeypatch.setenv("PYDOCK_TESTING_HOST", "docker.internal")
    assert host_address(local, 80) == "docker.internal"
    assert engine_host("unix:///x.sock", {}) == "127.0.0.1"


def test_unpublished_ports_raise_a_typed_error() -> None:
    container = snapshot("unix:///x.sock", {"80/tcp": [("", None)], "443/tcp": [("", 9)]})
    with pytest.raises(PortNotPublished, match=r"80/tcp is not published.*published: 443/tcp"):
        host_port(container, 80)
    with pytest.raises(LookupError):
        host_address(container, 5432)
    assert only_tcp_port(container) == "443/tcp"
    with pytest.raises(PortNotPublished, match="none is"):
        only_tcp_port(snapshot("unix:///x.sock"))


def test_default_ports_publish_on_loopback_for_local_engines() -> None:
    assert default_ports(None, local=True) is None
    assert default_ports([80, "53/udp"], local=True) == {
        "80/tcp": ("127.0.0.1", None),
        "53/udp": ("127.0.0.1", None),
    }
    assert default_ports([80], local=False) == {"80/tcp": None}
    assert default_ports({"80/tcp": 8080}, local=True) == {"80/tcp": 8080}
    with pytest.raises(TypeError, match="ports="):
        default_ports(80, local=True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- owners


def _session(**changes: object) -> Session:
    me = ProcessIdentity(host="ci-1", boot="b1", pidns="pid:[1]", pid=100, started="555")
    return Session(id="mine", owner=attrs.evolve(me, **changes))  # type: ignore[arg-type]


def _labels(**changes: object) -> dict[str, str]:
    other = Session(id="theirs", owner=_session().owner)
    labels = other.labels()
    for key, value in changes.items():
        labels[f"pydock.testing.{key}"] = str(value)
    return labels


def test_owner_classification() -> None:
    here = _session()
    alive = {(100, "555"), (200, "777")}

    def is_alive(pid: int, started: str) -> bool:
        return (pid, started) in alive

    assert classify_owner({**_labels(), SESSION_LABEL: "mine"}, here, is_alive) == "own"
    assert classify_owner(_labels(pid=200, started=777), here, is_alive) == "live"
    assert classify_owner(_labels(pid=200, started=778), here, is_alive) == "stale"  # pid reused
    assert classify_owner(_labels(pid=300), here, is_alive) == "stale"
    assert classify_owner(_labels(pid=200, boot="b0"), here, is_alive) == "stale"  # rebooted
    assert classify_owner(_labels(host="ci-2", pid=300), here, is_alive) == "foreign"
    assert classify_owner(_labels(pidns="pid:[2]", pid=300), here, is_alive) == "foreign"
    assert classify_owner(_labels(pid="x"), here, is_alive) == "foreign"


def test_process_checks_on_this_machine() -> None:
    me = ProcessIdentity.current()
    assert me.pid == os.getpid()
    assert process_alive(me.pid, me.started)
    assert not process_alive(me.pid, "1")  # same pid, other start time: a recycled pid
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    assert not process_alive(int(done.stdout), "")
    assert not process_alive(0, "")


def test_process_start_reads_past_odd_command_names(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    fields = " ".join(str(n) for n in range(3, 30))  # field 22 holds "22"
    (tmp_path / "42" / "stat").write_text(f"42 (a) b (c) {fields}\n")
    assert process_start(42, str(tmp_path)) == "22"
    assert process_start(43, str(tmp_path)) is None


def test_sessions_label_everything_with_their_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    session = Session.new()
    labels = session.labels()
    assert labels[SESSION_LABEL] == session.id
    assert labels["pydock.testing.pid"] == str(os.getpid())
    assert labels["pydock.testing.worker"] == "gw3"
    assert session.resource_name("c", 2) == f"pydock-{session.id}-c2"
    assert current_session() is current_session()


def test_the_plugin_is_inert_until_a_fixture_is_used() -> None:
    code = (
        "import sys, pydock.pytest_plugin\n"
        "heavy = [m for m in ('pydock.testing', 'httpx', 'anyio', 'attrs') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_strategies_compare_by_value() -> None:
    assert for_log("x") == LogWait("x")
    assert isinstance(any_of(for_log("x")), AnyOf)
