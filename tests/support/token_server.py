"""A Docker token-auth service for tests, and a real registry that trusts it.

The service signs RS256 JWTs with a key made by the ``openssl`` CLI; the
signature is computed here (PKCS#1 v1.5 is a modular power), so no crypto
package is needed. :func:`start_token_registry` runs ``docker-registry serve``
configured with ``auth.token`` against it.

Policy (per user): ``admin`` gets every action asked for (and the catalog);
``reader`` gets ``pull`` only; anonymous callers get ``pull`` on
``public/...`` repositories.

:class:`RecordingServer` is a hostile registry or token service scripted by a
test (plain or TLS, on any loopback address) that records every request it
gets and counts how much of a streamed answer the client took.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

SERVICE = "pydock-token-registry"
ISSUER = "pydock-test-issuer"
USERS = {"admin": "admin-secret", "reader": "reader-secret"}
REFRESH_TOKENS = {"refresh-admin": "admin"}
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _hex_field(text: str, name: str) -> int:
    m = re.search(rf"^{name}:\s*\n((?:\s+[0-9a-f:]+\n)+)", text, re.MULTILINE)
    assert m is not None, name
    return int(re.sub(r"[\s:]", "", m.group(1)), 16)


class RS256Key:
    """An RSA key (made by openssl) that signs JWTs, and its self-signed certificate."""

    def __init__(self, folder: Path) -> None:
        key, cert = folder / "token-key.pem", folder / "token-cert.pem"
        run = ["openssl"]
        subprocess.run([*run, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        subprocess.run(
            [*run, "req", "-x509", "-new", "-key", str(key), "-subj", "/CN=pydock-token",
             "-days", "2", "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        text = subprocess.run(
            [*run, "rsa", "-in", str(key), "-noout", "-text"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        self.n = _hex_field(text, "modulus")
        self.d = _hex_field(text, "privateExponent")
        der = subprocess.run(
            [*run, "x509", "-in", str(cert), "-outform", "DER"], check=True, capture_output=True
        ).stdout
        self.x5c = base64.b64encode(der).decode("ascii")
        self.cert_path = cert

    def sign(self, message: bytes) -> bytes:
        size = (self.n.bit_length() + 7) // 8
        digest_info = _SHA256_PREFIX + hashlib.sha256(message).digest()
        padded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        return pow(int.from_bytes(padded, "big"), self.d, self.n).to_bytes(size, "big")

    def jwt(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        return signing_input + "." + _b64url(self.sign(signing_input.encode()))


@attrs.define
class TokenLog:
    """What the token service saw: one entry per request."""

    method: str
    user: str | None
    scopes: list[str]
    grant_type: str | None = None


class TokenService:
    """The token endpoint (``/token``) on 127.0.0.1, in a thread."""

    def __init__(self, key: RS256Key) -> None:
        self.key = key
        self.requests: list[TokenLog] = []
        #: ``expires_in`` told to clients (the JWT itself lives 5 minutes).
        self.expires_in = 300
        #: Issue the next N tokens already expired (beyond the registry's leeway).
        self.expired_tokens = 0
        #: Answer POSTs with 404, like services without OAuth2.
        self.oauth = True
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                user = self._basic_user()
                if user == "":
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad creds"}]})
                    return
                scopes = query.get("scope", [])
                service.requests.append(TokenLog("GET", user, scopes))
                self._send(200, service.issue(user, scopes))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if not service.oauth:
                    self._send(404, {"error": "not found"})
                    return
                refresh = form.get("refresh_token", [""])[0]
                user = REFRESH_TOKENS.get(refresh)
                scopes = form.get("scope", [""])[0].split()
                service.requests.append(
                    TokenLog("POST", user, scopes, form.get("grant_type", [""])[0])
                )
                if user is None:
                    self._send(401, {"error": "invalid_grant"})
                    return
                answer = service.issue(user, scopes)
                answer["access_token"] = answer.pop("token")
                answer["refresh_token"] = refresh
                self._send(200, answer)

            def _basic_user(self) -> str | None:
                """The authenticated user; ``None`` for anonymous, ``""`` for bad credentials."""
                header = self.headers.get("Authorization")
                if not header:
                    return None
                if not header.startswith("Basic "):
                    return ""
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if USERS.get(user) == password:
                    return user
                if user == "<token>" and password in REFRESH_TOKENS:
                    return REFRESH_TOKENS[password]
                return ""

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def grant(self, user: str | None, scope: str) -> dict[str, Any] | None:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        asked = [a for a in actions.split(",") if a]
        if kind == "registry":
            allowed = asked if user == "admin" else []
        elif user == "admin":
            allowed = asked
        elif user == "reader" or name.startswith("public/"):
            allowed = [a for a in asked if a == "pull"]
        else:
            allowed = []
        return {"type": kind, "name": name, "actions": allowed} if allowed else None

    def issue(self, user: str | None, scopes: list[str]) -> dict[str, Any]:
        now = int(time.time())
        access = [g for s in scopes for part in s.split() if (g := self.grant(user, part))]
        with self.lock:
            expired = self.expired_tokens > 0
            self.expired_tokens -= 1 if expired else 0
        exp = now - 600 if expired else now + 300
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "exp": exp,
            "nbf": exp - 900,
            "iat": exp - 900,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return {"token": self.key.jwt(claims), "expires_in": self.expires_in}

    def reset(self) -> None:
        self.requests.clear()
        self.expires_in = 300
        self.expired_tokens = 0
        self.oauth = True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@attrs.frozen
class TokenRegistry:
    """A running token-auth registry and its token service."""

    host: str
    tokens: TokenService


@contextmanager
def start_token_registry(folder: Path) -> Iterator[TokenRegistry]:
    """Start the token service and a ``docker-registry`` that trusts it."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    key = RS256Key(folder)
    tokens = TokenService(key)
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {folder / "data"}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: pydock-token-registry
auth:
  token:
    realm: {tokens.realm}
    service: {SERVICE}
    issuer: {ISSUER}
    rootcertbundle: {key.cert_path}
"""
    )
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/")
        yield TokenRegistry(f"127.0.0.1:{port}", tokens)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        tokens.close()


# --------------------------------------------------------------------------- hostile servers


@attrs.frozen
class Seen:
    """One request a :class:`RecordingServer` received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                return value
        return None


@attrs.frozen
class Reply:
    """What a :class:`RecordingServer` answers.

    ``body`` is bytes (sent with ``Content-Length``) or an iterator of chunks
    (sent until the client hangs up, then the connection is closed;
    ``length`` is announced as ``Content-Length`` when given, else the end of
    the body is the end of the connection).
    """

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes | Iterator[bytes] = b""
    length: int | None = None


def json_reply(payload: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(
        status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()
    )


def endless(chunk: bytes = b"x" * 65536, total: int = 200 << 20) -> Iterator[bytes]:
    """``total`` bytes (200 MiB by default) in ``chunk``-sized pieces."""
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


class RecordingServer:
    """A scripted HTTP/1.1 server (TLS with ``certfile``) that records every request.

    ``app`` maps each :class:`Seen` request to a :class:`Reply`. ``sent``
    counts the body bytes of streamed replies that the socket accepted before
    the client hung up (the server's send buffer is kept small, so this is
    close to what the client read).
    """

    def __init__(
        self,
        app: Callable[[Seen], Reply],
        *,
        host: str = "127.0.0.1",
        certfile: str | None = None,
        keyfile: str | None = None,
        name: str | None = None,
    ) -> None:
        self.app = app
        self.requests: list[Seen] = []
        self.sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 << 10)

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                server.requests.append(seen)
                reply = server.app(seen)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(reply.body)
                    return
                if reply.length is not None:
                    self.send_header("Content-Length", str(reply.length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for chunk in reply.body:
                        self.wfile.write(chunk)
                        server.sent += len(chunk)
                except OSError:
                    pass

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if certfile is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        scheme = "https" if certfile else "http"
        self.host = f"{name or host}:{self.port}"
        self.url = f"{scheme}://{self.host}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
