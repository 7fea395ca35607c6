"""Tests for engine URL parsing, TLS settings and endpoint resolution."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from pydock._core.config import (
    Backend,
    EngineEndpoint,
    EngineURL,
    TLSConfig,
    docker_config_dir,
    load_docker_config,
    parse_engine_url,
    resolve_endpoint,
)
from pydock.errors import InvalidConfiguration

# ---------------------------------------------------------------------------
# helpers and fixtures
# ---------------------------------------------------------------------------


def nothing_exists(path: str) -> bool:
    """An ``exists`` that finds no default socket."""
    return False


def only(*paths: str) -> Callable[[str], bool]:
    """An ``exists`` that finds exactly ``paths``."""
    found = set(paths)
    return found.__contains__


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def context_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def make_context(
    config_dir: Path,
    name: str,
    host: str | None,
    *,
    skip_verify: bool | None = None,
    tls_files: tuple[str, ...] = (),
    pem: Path | None = None,
) -> Path:
    """Create a context in a docker context store; returns its TLS folder."""
    docker: dict[str, object] = {}
    if host is not None:
        docker["Host"] = host
    if skip_verify is not None:
        docker["SkipTLSVerify"] = skip_verify
    meta = {"Name": name, "Metadata": {}, "Endpoints": {"docker": docker}}
    write_json(config_dir / "contexts" / "meta" / context_id(name) / "meta.json", meta)
    tls_dir = config_dir / "contexts" / "tls" / context_id(name) / "docker"
    if tls_files:
        tls_dir.mkdir(parents=True)
        for file in tls_files:
            (tls_dir / file).write_text(pem.read_text() if pem else "dummy\n")
    return tls_dir


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def dotdocker(home: Path) -> Path:
    folder = home / ".docker"
    folder.mkdir()
    return folder


@attrs.frozen
class PKI:
    """Throwaway certificates: a CA, a leaf for ``localhost`` signed by it, another CA."""

    ca: Path
    cert: Path
    key: Path
    other_ca: Path
    folder: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    d = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    ca_ext = ("-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for prefix in ("ca", "other-ca"):
        _openssl(
            "req", "-x509", *ec, "-keyout", f"{prefix}-key.pem", "-out", f"{prefix}.pem",
            "-days", "2", "-subj", f"/CN=pydock test {prefix}", *ca_ext, cwd=d,
        )  # fmt: skip
    _openssl("req", *ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "leaf.ext").write_text(
        "subjectAltName=DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "leaf.ext", cwd=d,
    )  # fmt: skip
    return PKI(
        ca=d / "ca.pem",
        cert=d / "cert.pem",
        key=d / "key.pem",
        other_ca=d / "other-ca.pem",
        folder=d,
    )


def handshake(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext, hostname: str = "localhost"
) -> None:
    """Run a TLS handshake entirely in memory; raises what either side raises."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client_done = server_done = False
    for _ in range(10):
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
        c_in.write(s_out.read())
        if client_done and server_done:
            return
    raise AssertionError("the handshake did not finish")


def server_context(pki: PKI, *, require_client_cert: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert, pki.key)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki.ca)
    return ctx


# ---------------------------------------------------------------------------
# parse_engine_url
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "tls", "expected"),
    [
        (
            "unix:///var/run/docker.sock",
            False,
            EngineURL(
                scheme="unix", socket_path="/var/run/docker.sock", base_url="http://localhost"
            ),
        ),
        (
            "unix:///run/user/1000/podman/podman.sock/",
            False,
            EngineURL(
                scheme="unix",
                socket_path="/run/user/1000/podman/podman.sock",
                base_url="http://localhost",
            ),
        ),
        # unix://path is accepted and kept as written (relative), as the docker CLI does
        (
            "unix://docker.sock",
            False,
            EngineURL(scheme="unix", socket_path="docker.sock", base_url="http://localhost"),
        ),
        # TLS never applies to a unix socket
        (
            "UNIX:///var/run/docker.sock",
            True,
            EngineURL(
                scheme="unix", socket_path="/var/run/docker.sock", base_url="http://localhost"
            ),
        ),
        (
            "tcp://example.com:2375",
            False,
            EngineURL(
                scheme="tcp", host="example.com", port=2375, base_url="http://example.com:2375"
            ),
        ),
        (
            "tcp://example.com",
            False,
            EngineURL(
                scheme="tcp", host="example.com", port=2375, base_url="http://example.com:2375"
            ),
        ),
        (
            "tcp://example.com",
            True,
            EngineURL(
                scheme="tcp",
                host="example.com",
                port=2376,
                base_url="https://example.com:2376",
                tls=True,
            ),
        ),
        (
            "tcp://10.0.0.1:1234",
            True,
            EngineURL(
                scheme="tcp", host="10.0.0.1", port=1234, base_url="https://10.0.0.1:1234", tls=True
            ),
        ),
        (
            "tcp://[::1]:2375",
            False,
            EngineURL(scheme="tcp", host="::1", port=2375, base_url="http://[::1]:2375"),
        ),
        (
            "tcp://[2001:db8::1]",
            True,
            EngineURL(
                scheme="tcp",
                host="2001:db8::1",
                port=2376,
                base_url="https://[2001:db8::1]:2376",
                tls=True,
            ),
        ),
        (
            "tcp://[fe80::1%eth0]:2375",
            False,
            EngineURL(
                scheme="tcp",
                host="fe80::1%eth0",
                port=2375,
                base_url="http://[fe80::1%25eth0]:2375",
            ),
        ),
        (
            "tcp://h:2375/prefix",
            False,
            EngineURL(
                scheme="tcp",
                host="h",
                port=2375,
                base_path="/prefix",
                base_url="http://h:2375/prefix",
            ),
        ),
        (
            "tcp://h:2375/a//b/",
            False,
            EngineURL(
                scheme="tcp", host="h", port=2375, base_path="/a/b", base_url="http://h:2375/a/b"
            ),
        ),
        (
            "tcp://h:2375/",
            False,
            EngineURL(scheme="tcp", host="h", port=2375, base_url="http://h:2375"),
        ),
        (
            "tcp://h:2375///",
            False,
            EngineURL(scheme="tcp", host="h", port=2375, base_url="http://h:2375"),
        ),
        # a bare host:port means tcp, as in the docker CLI
        (
            "localhost:2375",
            False,
            EngineURL(scheme="tcp", host="localhost", port=2375, base_url="http://localhost:2375"),
        ),
        (
            "  tcp://docker_host:1 \n",
            False,
            EngineURL(scheme="tcp", host="docker_host", port=1, base_url="http://docker_host:1"),
        ),
        (
            "http://h",
            False,
            EngineURL(scheme="http", host="h", port=80, base_url="http://h:80"),
        ),
        # an explicit http:// stays plain even with TLS settings
        (
            "http://h:8080/engine/",
            True,
            EngineURL(
                scheme="http",
                host="h",
                port=8080,
                base_path="/engine",
                base_url="http://h:8080/engine",
            ),
        ),
        (
            "https://h",
            False,
            EngineURL(scheme="https", host="h", port=443, base_url="https://h:443", tls=True),
        ),
        (
            "HTTPS://h:2376",
            True,
            EngineURL(scheme="https", host="h", port=2376, base_url="https://h:2376", tls=True),
        ),
    ],
)
def test_parse_engine_url(url: str, tls: bool, expected: EngineURL) -> None:
    assert parse_engine_url(url, tls=tls) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "the URL is empty"),
        ("   ", "the URL is empty"),
        ("tcp://h:23 75", "whitespace"),
        ("foo://x", "unsupported scheme 'foo'"),
        ("fd://", "unsupported scheme 'fd'"),
        ("://x", "malformed"),
        ("/var/run/docker.sock", "write 'unix:///var/run/docker.sock'"),
        ("unix://", "socket path is missing"),
        ("unix:///", "socket path is missing"),
        ("tcp://", "host is missing"),
        ("tcp://:2375", "host is missing"),
        ("tcp://h:", "invalid port ''"),
        ("tcp://h:port", "invalid port 'port'"),
        ("tcp://h:-1", "invalid port '-1'"),
        ("tcp://h:0", "out of range"),
        ("tcp://h:65536", "out of range"),
        ("tcp://h:١٢", "invalid port"),
        ("tcp://::1", "must be in brackets"),
        ("tcp://[::1", "unclosed '['"),
        ("tcp://[nope]:1", "'nope' is not an IPv6 address"),
        ("tcp://[::1]x", "unexpected 'x'"),
        ("tcp://h$st:1", "not a valid host name"),
        ("tcp://-h:1", "not a valid host name"),
        ("tcp://user@h:2375", "user information"),
        ("tcp://h:2375?x=1", "query strings"),
        ("tcp://h:2375#frag", "fragments"),
        ("npipe:////./pipe/docker_engine", "Windows named pipes (npipe://) are not supported"),
    ],
)
def test_parse_engine_url_rejects(url: str, message: str) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        parse_engine_url(url)
    assert message in str(info.value)
    assert str(info.value).startswith("engine URL ")


def test_parse_engine_url_names_origin() -> None:
    with pytest.raises(InvalidConfiguration) as info:
        parse_engine_url("foo://x", origin="DOCKER_HOST")
    assert str(info.value) == (
        "DOCKER_HOST='foo://x': unsupported scheme 'foo' (use unix://, tcp://, http:// or https://)"
    )


@pytest.mark.parametrize("url", ["ssh://me@example.com", "SSH://example.com:22/path"])
def test_parse_engine_url_ssh(url: str) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        parse_engine_url(url, origin="DOCKER_HOST")
    text = str(info.value)
    assert text.startswith("ssh:// engine URLs are not supported yet: DOCKER_HOST=")
    assert url in text


def test_parse_engine_url_hides_passwords() -> None:
    with pytest.raises(InvalidConfiguration) as info:
        parse_engine_url("tcp://me:hunter2@h:2375")
    assert "hunter2" not in str(info.value)
    assert "me:***@h" in str(info.value)
    with pytest.raises(InvalidConfiguration) as info:
        parse_engine_url("ssh://me:hunter2@h")
    assert "hunter2" not in str(info.value)


# ---------------------------------------------------------------------------
# TLSConfig
# ---------------------------------------------------------------------------


def test_tls_config_defaults() -> None:
    cfg = TLSConfig()
    assert cfg == TLSConfig(None, None, None, True, None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cfg.verify = False  # type: ignore[misc]


def test_tls_config_accepts_paths(tmp_path: Path) -> None:
    cfg = TLSConfig(ca_cert=tmp_path / "ca.pem")
    assert cfg.ca_cert == str(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("kwargs", "given", "missing"),
    [
        ({"client_cert": "cert.pem"}, "client_cert", "client_key"),
        ({"client_key": "key.pem"}, "client_key", "client_cert"),
    ],
)
def test_tls_config_needs_cert_and_key(kwargs: dict[str, str], given: str, missing: str) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        TLSConfig(**kwargs)  # type: ignore[arg-type]
    assert f"{given} is set but {missing} is not" in str(info.value)


def test_ssl_context_no_verify() -> None:
    ctx = TLSConfig(verify=False, ca_cert="/does/not/matter.pem").ssl_context()
    assert ctx.verify_mode == ssl.CERT_NONE
    assert ctx.check_hostname is False
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.get_ca_certs() == []  # the CA file is not even read


def test_ssl_context_verify_with_system_defaults() -> None:
    ctx = TLSConfig().ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True


def test_ssl_context_missing_ca(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(InvalidConfiguration) as info:
        TLSConfig(ca_cert=missing).ssl_context()
    assert str(missing) in str(info.value)
    assert "TLS CA certificate" in str(info.value)


def test_ssl_context_garbage_ca(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(InvalidConfiguration) as info:
        TLSConfig(ca_cert=garbage).ssl_context()
    assert str(garbage) in str(info.value)


def test_ssl_context_missing_client_cert(tmp_path: Path) -> None:
    cfg = TLSConfig(
        client_cert=tmp_path / "cert.pem", client_key=tmp_path / "key.pem", verify=False
    )
    with pytest.raises(InvalidConfiguration) as info:
        cfg.ssl_context()
    assert "TLS client certificate" in str(info.value)
    assert str(tmp_path / "cert.pem") in str(info.value)


def test_ssl_context_mismatched_key(pki: PKI, tmp_path: Path) -> None:
    cfg = TLSConfig(client_cert=pki.cert, client_key=pki.folder / "ca-key.pem", verify=False)
    with pytest.raises(InvalidConfiguration, match="TLS client certificate"):
        cfg.ssl_context()


def test_ssl_context_loads_ca_only(pki: PKI) -> None:
    ctx = TLSConfig(ca_cert=pki.ca).ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    subjects = [cert["subject"] for cert in ctx.get_ca_certs()]
    assert subjects == [((("commonName", "pydock test ca"),),)]


def test_ssl_context_verifies_server(pki: PKI) -> None:
    handshake(TLSConfig(ca_cert=pki.ca).ssl_context(), server_context(pki))


def test_ssl_context_rejects_unknown_ca(pki: PKI) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(TLSConfig(ca_cert=pki.other_ca).ssl_context(), server_context(pki))


def test_ssl_context_checks_hostname(pki: PKI) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Hh]ostname"):
        handshake(TLSConfig(ca_cert=pki.ca).ssl_context(), server_context(pki), "example.com")


def test_ssl_context_without_verify_accepts_anything(pki: PKI) -> None:
    ctx = TLSConfig(ca_cert=pki.other_ca, verify=False).ssl_context()
    handshake(ctx, server_context(pki), "example.com")


def test_ssl_context_sends_client_cert(pki: PKI) -> None:
    server = server_context(pki, require_client_cert=True)
    with pytest.raises(ssl.SSLError):
        handshake(TLSConfig(ca_cert=pki.ca).ssl_context(), server)
    cfg = TLSConfig(ca_cert=pki.ca, client_cert=pki.cert, client_key=pki.key)
    handshake(cfg.ssl_context(), server_context(pki, require_client_cert=True))


def test_from_cert_path_all_files(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    assert TLSConfig.from_cert_path(tmp_path, verify=False) == TLSConfig(
        ca_cert=str(tmp_path / "ca.pem"),
        client_cert=str(tmp_path / "cert.pem"),
        client_key=str(tmp_path / "key.pem"),
        verify=False,
    )


def test_from_cert_path_ca_only(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    assert TLSConfig.from_cert_path(str(tmp_path)) == TLSConfig(ca_cert=str(tmp_path / "ca.pem"))


def test_from_cert_path_empty_folder(tmp_path: Path) -> None:
    assert TLSConfig.from_cert_path(tmp_path / "missing", verify=True) == TLSConfig()


@pytest.mark.parametrize(("present", "absent"), [("cert.pem", "key.pem"), ("key.pem", "cert.pem")])
def test_from_cert_path_half_pair(tmp_path: Path, present: str, absent: str) -> None:
    (tmp_path / present).write_text("x")
    with pytest.raises(InvalidConfiguration) as info:
        TLSConfig.from_cert_path(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert f"{present} exists but {absent} does not" in str(info.value)


def test_from_cert_path_real_files(pki: PKI) -> None:
    cfg = TLSConfig.from_cert_path(pki.folder)
    handshake(cfg.ssl_context(), server_context(pki, require_client_cert=True))


# ---------------------------------------------------------------------------
# EngineEndpoint
# ---------------------------------------------------------------------------


def test_endpoint_defaults_and_engine_url() -> None:
    ep = EngineEndpoint("tcp://h")
    assert (ep.tls, ep.backend, ep.source) == (None, "auto", "explicit")
    assert ep.engine_url.base_url == "http://h:2375"
    assert EngineEndpoint("tcp://h", TLSConfig()).engine_url.base_url == "https://h:2376"


def test_endpoint_validates_url() -> None:
    with pytest.raises(InvalidConfiguration, match="unsupported scheme"):
        EngineEndpoint("foo://x")


def test_endpoint_validates_backend() -> None:
    with pytest.raises(InvalidConfiguration, match="backend='moby'"):
        EngineEndpoint("tcp://h", backend="moby")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# docker_config_dir / load_docker_config
# ---------------------------------------------------------------------------


def test_docker_config_dir(home: Path, tmp_path: Path) -> None:
    assert docker_config_dir({}, home) == home / ".docker"
    assert docker_config_dir({"DOCKER_CONFIG": ""}, str(home)) == home / ".docker"
    assert docker_config_dir({"DOCKER_CONFIG": str(tmp_path / "cfg")}, home) == tmp_path / "cfg"


def test_docker_config_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert docker_config_dir() == tmp_path / ".docker"


def test_load_docker_config_missing(home: Path) -> None:
    assert load_docker_config({}, home) == {}


def test_load_docker_config_empty_file(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").write_text("\n")
    assert load_docker_config({}, home) == {}


def test_load_docker_config_reads(dotdocker: Path, home: Path, tmp_path: Path) -> None:
    write_json(dotdocker / "config.json", {"auths": {"r.example": {"auth": "eA=="}}})
    assert load_docker_config({}, home) == {"auths": {"r.example": {"auth": "eA=="}}}
    other = write_json(tmp_path / "elsewhere" / "config.json", {"currentContext": "x"})
    assert load_docker_config({"DOCKER_CONFIG": str(other.parent)}, home) == {"currentContext": "x"}


def test_load_docker_config_bad_json(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").write_text('{"auths": ')
    with pytest.raises(InvalidConfiguration) as info:
        load_docker_config({}, home)
    assert str(dotdocker / "config.json") in str(info.value)
    assert "not valid JSON" in str(info.value)


def test_load_docker_config_not_an_object(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").write_text("[]")
    with pytest.raises(InvalidConfiguration, match="must hold a JSON object, not list"):
        load_docker_config({}, home)


def test_load_docker_config_unreadable(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").mkdir()
    with pytest.raises(InvalidConfiguration, match="cannot read docker config file"):
        load_docker_config({}, home)


# ---------------------------------------------------------------------------
# resolve_endpoint: DOCKER_HOST
# ---------------------------------------------------------------------------


def test_docker_host_plain(home: Path) -> None:
    ep = resolve_endpoint({"DOCKER_HOST": "tcp://h:2375"}, home=home, exists=nothing_exists)
    assert ep == EngineEndpoint("tcp://h:2375", None, "auto", "DOCKER_HOST")
    assert ep.engine_url.base_url == "http://h:2375"


def test_docker_host_unix(home: Path) -> None:
    ep = resolve_endpoint({"DOCKER_HOST": "unix:///tmp/d.sock"}, home=home, exists=nothing_exists)
    assert ep == EngineEndpoint("unix:///tmp/d.sock", None, "auto", "DOCKER_HOST")


def test_docker_host_blank_is_unset(home: Path) -> None:
    ep = resolve_endpoint({"DOCKER_HOST": "  "}, home=home, exists=nothing_exists)
    assert ep.source == "default (not found)"


def test_docker_host_tls_verify(dotdocker: Path, home: Path) -> None:
    (dotdocker / "ca.pem").write_text("x")
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "1"}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(ca_cert=str(dotdocker / "ca.pem"), verify=True)
    assert ep.engine_url.base_url == "https://h:2376"


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off"])
def test_docker_host_tls_verify_off(home: Path, value: str) -> None:
    env = {"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": value}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    # like --tlsverify=false: TLS on, verification off
    assert ep.tls == TLSConfig(verify=False)
    assert ep.engine_url.base_url == "https://h:2376"


def test_docker_host_tls_verify_empty_is_unset(home: Path) -> None:
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": ""}
    assert resolve_endpoint(env, home=home, exists=nothing_exists).tls is None


def test_docker_host_cert_path_enables_tls(tmp_path: Path, home: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("x")
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    # docker-py and the Go SDK: a cert path alone means TLS without verification
    assert ep.tls == TLSConfig(
        ca_cert=str(certs / "ca.pem"),
        client_cert=str(certs / "cert.pem"),
        client_key=str(certs / "key.pem"),
        verify=False,
    )
    env["DOCKER_TLS_VERIFY"] = "1"
    assert resolve_endpoint(env, home=home, exists=nothing_exists).tls == attrs.evolve(
        ep.tls, verify=True
    )


def test_docker_host_docker_tls(home: Path) -> None:
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_TLS": "1"}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(verify=False)
    assert ep.engine_url.tls


def test_docker_host_cert_path_defaults_to_docker_config(tmp_path: Path, home: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "ca.pem").write_text("x")
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "1", "DOCKER_CONFIG": str(cfg)}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(ca_cert=str(cfg / "ca.pem"))


def test_docker_host_half_cert_pair(dotdocker: Path, home: Path) -> None:
    (dotdocker / "cert.pem").write_text("x")
    env = {"DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "1"}
    with pytest.raises(InvalidConfiguration, match=r"cert\.pem exists but key\.pem does not"):
        resolve_endpoint(env, home=home, exists=nothing_exists)


@pytest.mark.parametrize("url", ["unix:///tmp/d.sock", "http://h:2375"])
def test_docker_host_tls_dropped_without_tls_scheme(home: Path, url: str) -> None:
    env = {"DOCKER_HOST": url, "DOCKER_TLS_VERIFY": "1"}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert ep.tls is None
    assert not ep.engine_url.tls


def test_docker_host_https_without_tls_env(home: Path) -> None:
    ep = resolve_endpoint({"DOCKER_HOST": "https://h"}, home=home, exists=nothing_exists)
    assert ep.tls is None
    assert ep.engine_url.base_url == "https://h:443"


def test_docker_host_https_with_tls_env(home: Path) -> None:
    env = {"DOCKER_HOST": "https://h", "DOCKER_TLS_VERIFY": "1"}
    assert resolve_endpoint(env, home=home, exists=nothing_exists).tls == TLSConfig()


def test_docker_host_invalid(home: Path) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_HOST": "foo://x"}, home=home, exists=nothing_exists)
    assert str(info.value).startswith("DOCKER_HOST='foo://x': unsupported scheme 'foo'")


def test_docker_host_ssh(home: Path) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_HOST": "ssh://me@box"}, home=home, exists=nothing_exists)
    assert str(info.value).startswith(
        "ssh:// engine URLs are not supported yet: DOCKER_HOST='ssh://me@box'"
    )


def test_docker_host_npipe(home: Path) -> None:
    with pytest.raises(InvalidConfiguration, match=r"DOCKER_HOST=.*named pipes"):
        resolve_endpoint(
            {"DOCKER_HOST": "npipe:////./pipe/docker_engine"}, home=home, exists=nothing_exists
        )


# ---------------------------------------------------------------------------
# resolve_endpoint: precedence
# ---------------------------------------------------------------------------


def test_docker_host_beats_docker_context(dotdocker: Path, home: Path) -> None:
    # The docker CLI uses the "default" context whenever DOCKER_HOST is set,
    # even if DOCKER_CONTEXT is set too; the context is not even looked up.
    env = {"DOCKER_HOST": "tcp://h:1", "DOCKER_CONTEXT": "does-not-exist"}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert (ep.url, ep.source) == ("tcp://h:1", "DOCKER_HOST")


def test_docker_host_beats_current_context(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": "remote"})
    make_context(dotdocker, "remote", "tcp://remote:2375")
    ep = resolve_endpoint({"DOCKER_HOST": "tcp://h:1"}, home=home, exists=nothing_exists)
    assert ep.source == "DOCKER_HOST"


def test_docker_host_ignores_bad_config_json(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").write_text("{")
    ep = resolve_endpoint({"DOCKER_HOST": "tcp://h:1"}, home=home, exists=nothing_exists)
    assert ep.source == "DOCKER_HOST"


def test_context_beats_container_host_and_sockets(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "remote", "tcp://remote:2375")
    env = {"DOCKER_CONTEXT": "remote", "CONTAINER_HOST": "unix:///podman.sock"}
    ep = resolve_endpoint(env, home=home, exists=only("/var/run/docker.sock"))
    assert ep.url == "tcp://remote:2375"


def test_container_host_beats_sockets(home: Path) -> None:
    env = {"CONTAINER_HOST": "unix:///run/user/1000/podman/podman.sock"}
    ep = resolve_endpoint(env, home=home, exists=only("/var/run/docker.sock"))
    assert ep == EngineEndpoint(
        "unix:///run/user/1000/podman/podman.sock", None, "podman", "CONTAINER_HOST"
    )


def test_container_host_tcp_has_no_tls(home: Path) -> None:
    env = {"CONTAINER_HOST": "tcp://h:8888", "DOCKER_TLS_VERIFY": "1"}
    ep = resolve_endpoint(env, home=home, exists=nothing_exists)
    assert ep.tls is None
    assert ep.engine_url.base_url == "http://h:8888"


def test_container_host_ssh(home: Path) -> None:
    env = {"CONTAINER_HOST": "ssh://core@localhost:2222/run/podman/podman.sock"}
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint(env, home=home, exists=nothing_exists)
    assert str(info.value).startswith("ssh:// engine URLs are not supported yet: CONTAINER_HOST=")


# ---------------------------------------------------------------------------
# resolve_endpoint: contexts
# ---------------------------------------------------------------------------


def test_docker_context_env(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "remote", "tcp://remote:2375")
    ep = resolve_endpoint({"DOCKER_CONTEXT": "remote"}, home=home, exists=nothing_exists)
    assert ep == EngineEndpoint(
        "tcp://remote:2375", None, "auto", "context 'remote' (DOCKER_CONTEXT)"
    )


def test_docker_context_beats_current_context(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": "a"})
    make_context(dotdocker, "a", "tcp://a:1")
    make_context(dotdocker, "b", "tcp://b:1")
    ep = resolve_endpoint({"DOCKER_CONTEXT": "b"}, home=home, exists=nothing_exists)
    assert ep.url == "tcp://b:1"


def test_current_context(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": "desktop-linux"})
    make_context(dotdocker, "desktop-linux", "unix:///home/me/.docker/run/docker.sock")
    ep = resolve_endpoint({}, home=home, exists=nothing_exists)
    assert ep.url == "unix:///home/me/.docker/run/docker.sock"
    assert ep.source == (f"context 'desktop-linux' (currentContext in {dotdocker / 'config.json'})")
    assert ep.tls is None


def test_context_store_uses_sha256_of_name(dotdocker: Path, home: Path) -> None:
    name = "my ctx/ü"
    meta = dotdocker / "contexts" / "meta" / context_id(name) / "meta.json"
    write_json(meta, {"Name": name, "Endpoints": {"docker": {"Host": "tcp://x:1"}}})
    assert context_id(name) == hashlib.sha256(name.encode()).hexdigest()
    ep = resolve_endpoint({"DOCKER_CONTEXT": name}, home=home, exists=nothing_exists)
    assert ep.url == "tcp://x:1"


def test_context_default_means_no_context(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": "default"})
    ep = resolve_endpoint({}, home=home, exists=only("/var/run/docker.sock"))
    assert ep.source == "default socket /var/run/docker.sock"
    ep = resolve_endpoint(
        {"DOCKER_CONTEXT": "default", "CONTAINER_HOST": "tcp://p:1"},
        home=home,
        exists=nothing_exists,
    )
    assert ep.source == "CONTAINER_HOST"


def test_current_context_empty_or_absent(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": ""})
    assert resolve_endpoint({}, home=home, exists=nothing_exists).source == "default (not found)"
    write_json(dotdocker / "config.json", {"auths": {}})
    assert resolve_endpoint({}, home=home, exists=nothing_exists).source == "default (not found)"


def test_current_context_not_a_string(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": 3})
    with pytest.raises(InvalidConfiguration, match="currentContext must be a string"):
        resolve_endpoint({}, home=home, exists=nothing_exists)


def test_context_with_docker_config_override(tmp_path: Path, home: Path) -> None:
    cfg = tmp_path / "cfg"
    write_json(cfg / "config.json", {"currentContext": "remote"})
    make_context(cfg, "remote", "tcp://remote:2375")
    # a context in ~/.docker is ignored when DOCKER_CONFIG points elsewhere
    make_context(home / ".docker", "remote", "tcp://wrong:2375")
    ep = resolve_endpoint({"DOCKER_CONFIG": str(cfg)}, home=home, exists=nothing_exists)
    assert ep.url == "tcp://remote:2375"


def test_missing_context(dotdocker: Path, home: Path) -> None:
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_CONTEXT": "nope"}, home=home, exists=nothing_exists)
    text = str(info.value)
    assert "context 'nope' (DOCKER_CONTEXT) does not exist" in text
    assert context_id("nope") in text


def test_missing_current_context(dotdocker: Path, home: Path) -> None:
    write_json(dotdocker / "config.json", {"currentContext": "gone"})
    with pytest.raises(InvalidConfiguration, match=r"context 'gone' \(currentContext in .*"):
        resolve_endpoint({}, home=home, exists=nothing_exists)


def test_bad_config_json_when_looking_for_context(dotdocker: Path, home: Path) -> None:
    (dotdocker / "config.json").write_text("{nope}")
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({}, home=home, exists=nothing_exists)
    assert str(dotdocker / "config.json") in str(info.value)


def test_context_bad_meta_json(dotdocker: Path, home: Path) -> None:
    meta = dotdocker / "contexts" / "meta" / context_id("x") / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text("{")
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_CONTEXT": "x"}, home=home, exists=nothing_exists)
    assert "metadata of docker context 'x'" in str(info.value)
    assert str(meta) in str(info.value)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"Name": "x"}, "has no Endpoints.docker object"),
        ({"Endpoints": {"kubernetes": {}}}, "has no Endpoints.docker object"),
        ({"Endpoints": []}, "has no Endpoints.docker object"),
        ({"Endpoints": {"docker": {"Host": 1}}}, "Host must be a string"),
        (
            {"Endpoints": {"docker": {"Host": "tcp://h", "SkipTLSVerify": "yes"}}},
            "SkipTLSVerify must be true or false",
        ),
    ],
)
def test_context_broken_meta(
    dotdocker: Path, home: Path, meta: dict[str, object], message: str
) -> None:
    write_json(dotdocker / "contexts" / "meta" / context_id("x") / "meta.json", meta)
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_CONTEXT": "x"}, home=home, exists=nothing_exists)
    assert message in str(info.value)
    assert "context 'x'" in str(info.value)


def test_context_without_host_uses_default_socket(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "x", None)
    ep = resolve_endpoint({"DOCKER_CONTEXT": "x"}, home=home, exists=nothing_exists)
    assert ep.url == "unix:///var/run/docker.sock"
    assert ep.source == "context 'x' (DOCKER_CONTEXT)"


def test_context_invalid_host(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "x", "ssh://me@box")
    with pytest.raises(InvalidConfiguration) as info:
        resolve_endpoint({"DOCKER_CONTEXT": "x"}, home=home, exists=nothing_exists)
    assert str(info.value).startswith(
        "ssh:// engine URLs are not supported yet: context 'x' (DOCKER_CONTEXT)='ssh://me@box'"
    )


def test_context_tls_files(dotdocker: Path, home: Path) -> None:
    tls_dir = make_context(
        dotdocker, "secure", "tcp://secure:2376", tls_files=("ca.pem", "cert.pem", "key.pem")
    )
    assert tls_dir == dotdocker / "contexts" / "tls" / context_id("secure") / "docker"
    ep = resolve_endpoint({"DOCKER_CONTEXT": "secure"}, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(
        ca_cert=str(tls_dir / "ca.pem"),
        client_cert=str(tls_dir / "cert.pem"),
        client_key=str(tls_dir / "key.pem"),
        verify=True,
    )
    assert ep.engine_url.base_url == "https://secure:2376"


def test_context_tls_ca_only_skip_verify(dotdocker: Path, home: Path) -> None:
    tls_dir = make_context(dotdocker, "s", "tcp://s:2376", skip_verify=True, tls_files=("ca.pem",))
    ep = resolve_endpoint({"DOCKER_CONTEXT": "s"}, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(ca_cert=str(tls_dir / "ca.pem"), verify=False)


def test_context_skip_verify_without_files(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "s", "tcp://s:2376", skip_verify=True)
    ep = resolve_endpoint({"DOCKER_CONTEXT": "s"}, home=home, exists=nothing_exists)
    assert ep.tls == TLSConfig(verify=False)
    assert ep.engine_url.base_url == "https://s:2376"


def test_context_without_tls(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "p", "tcp://p:2375", skip_verify=False)
    ep = resolve_endpoint({"DOCKER_CONTEXT": "p"}, home=home, exists=nothing_exists)
    assert ep.tls is None
    assert ep.engine_url.base_url == "http://p:2375"


def test_context_tls_half_pair(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "h", "tcp://h:2376", tls_files=("key.pem",))
    with pytest.raises(InvalidConfiguration, match=r"key\.pem exists but cert\.pem does not"):
        resolve_endpoint({"DOCKER_CONTEXT": "h"}, home=home, exists=nothing_exists)


def test_context_ignores_docker_tls_env(dotdocker: Path, home: Path) -> None:
    make_context(dotdocker, "p", "tcp://p:2375")
    env = {"DOCKER_CONTEXT": "p", "DOCKER_TLS_VERIFY": "1"}
    assert resolve_endpoint(env, home=home, exists=nothing_exists).tls is None


def test_context_tls_real_certificates(dotdocker: Path, home: Path, pki: PKI) -> None:
    tls_dir = make_context(dotdocker, "real", "tcp://localhost:2376")
    tls_dir.mkdir(parents=True)
    for name, src in (("ca.pem", pki.ca), ("cert.pem", pki.cert), ("key.pem", pki.key)):
        shutil.copy(src, tls_dir / name)
    ep = resolve_endpoint({"DOCKER_CONTEXT": "real"}, home=home, exists=nothing_exists)
    assert ep.tls is not None
    handshake(ep.tls.ssl_context(), server_context(pki, require_client_cert=True))


# ---------------------------------------------------------------------------
# resolve_endpoint: default sockets
# ---------------------------------------------------------------------------

XDG = "/run/user/1000"
ROOTLESS = f"{XDG}/podman/podman.sock"
ROOTFUL = "/run/podman/podman.sock"
DOCKER = "/var/run/docker.sock"


@pytest.mark.parametrize(
    ("prefer", "present", "expected", "backend"),
    [
        ("auto", (DOCKER, ROOTLESS, ROOTFUL), DOCKER, "docker"),
        ("docker", (DOCKER, ROOTLESS, ROOTFUL), DOCKER, "docker"),
        ("auto", (ROOTLESS, ROOTFUL), ROOTLESS, "podman"),
        ("auto", (ROOTFUL,), ROOTFUL, "podman"),
        ("docker", (ROOTFUL,), ROOTFUL, "podman"),
        ("podman", (DOCKER, ROOTLESS, ROOTFUL), ROOTLESS, "podman"),
        ("podman", (DOCKER, ROOTFUL), ROOTFUL, "podman"),
        ("podman", (DOCKER,), DOCKER, "docker"),
    ],
)
def test_default_sockets(
    home: Path, prefer: Backend, present: tuple[str, ...], expected: str, backend: Backend
) -> None:
    env = {"XDG_RUNTIME_DIR": XDG + "/"}
    ep = resolve_endpoint(env, home=home, exists=only(*present), prefer=prefer)
    assert ep == EngineEndpoint(f"unix://{expected}", None, backend, f"default socket {expected}")


def test_default_sockets_probe_order(home: Path) -> None:
    probed: list[str] = []

    def record(path: str) -> bool:
        probed.append(path)
        return False

    resolve_endpoint({"XDG_RUNTIME_DIR": XDG}, home=home, exists=record)
    assert probed == [DOCKER, ROOTLESS, ROOTFUL]
    probed.clear()
    resolve_endpoint({"XDG_RUNTIME_DIR": XDG}, home=home, exists=record, prefer="podman")
    assert probed == [ROOTLESS, ROOTFUL, DOCKER]
    probed.clear()
    resolve_endpoint({}, home=home, exists=record)
    assert probed == [DOCKER, ROOTFUL]


def test_no_socket_found_returns_docker_default(home: Path) -> None:
    ep = resolve_endpoint({}, home=home, exists=nothing_exists, prefer="podman")
    assert ep == EngineEndpoint(
        "unix:///var/run/docker.sock", None, "docker", "default (not found)"
    )


def test_bad_prefer(home: Path) -> None:
    with pytest.raises(InvalidConfiguration, match="prefer='moby'"):
        resolve_endpoint({}, home=home, exists=nothing_exists, prefer="moby")  # type: ignore[arg-type]


def test_defaults_use_os_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", "tcp://from-environ:1")
    ep = resolve_endpoint()
    assert (ep.url, ep.source) == ("tcp://from-environ:1", "DOCKER_HOST")


def test_default_home_is_user_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    make_context(tmp_path / ".docker", "c", "tcp://c:1")
    ep = resolve_endpoint({"DOCKER_CONTEXT": "c"}, exists=nothing_exists)
    assert ep.url == "tcp://c:1"
