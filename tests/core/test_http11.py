"""The HTTP/1.1 client codec: bytes in, events out, whatever the chunking."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.http11 import (
    Data,
    EndOfMessage,
    ProtocolError,
    Response,
    ResponseParser,
    encode_chunk,
    encode_request_head,
)


def run(parser: ResponseParser, pieces: list[bytes], *, eof: bool = False) -> list[object]:
    events: list[object] = []
    for piece in pieces:
        events += parser.feed(piece)
    if eof:
        events += parser.feed(b"")
    return events


def body_of(events: Sequence[object]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Data))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return [p for p in out if p]


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n"
)


def test_request_head() -> None:
    head = encode_request_head("GET", b"/v1.41/_ping", [(b"Host", b"localhost")])
    assert head == b"GET /v1.41/_ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with pytest.raises(ValueError, match="line break"):
        encode_request_head("GET", b"/", [(b"X", b"a\r\nInjected: 1")])
    assert encode_chunk(b"abc") == b"3\r\nabc\r\n"


def test_chunked_answer() -> None:
    events = run(ResponseParser(), [CHUNKED])
    head = events[0]
    assert isinstance(head, Response)
    assert head.status_code == 200
    assert head.keep_alive
    assert (b"Content-Type", b"application/json") in head.headers
    assert body_of(events) == b"hello world!"
    assert isinstance(events[-1], EndOfMessage)


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED)), max_size=30))
def test_any_rechunking_gives_the_same_body(cuts: list[int]) -> None:
    parser = ResponseParser()
    events = run(parser, split(CHUNKED, cuts))
    assert body_of(events) == b"hello world!"
    assert parser.done


@given(
    st.lists(st.binary(min_size=1, max_size=300), max_size=20),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_random_chunked_bodies(chunks: list[bytes], cuts: list[int]) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire += b"".join(encode_chunk(c) for c in chunks) + b"0\r\n\r\n"
    parser = ResponseParser()
    events = run(parser, split(wire, cuts))
    assert body_of(events) == b"".join(chunks)
    assert parser.done


@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0, max_value=3000), max_size=10))
def test_content_length_bodies(body: bytes, cuts: list[int]) -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    parser = ResponseParser()
    events = run(parser, split(wire, cuts))
    assert body_of(events) == body
    assert parser.done


def test_two_answers_on_one_connection() -> None:
    wire = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
    parser = ResponseParser()
    first = parser.feed(wire)
    assert [type(e) for e in first] == [Response, EndOfMessage]
    parser.start_next()
    # the second answer is already buffered: resume() parses it without a read
    second = parser.resume()
    assert body_of(second) == b"OK"
    assert parser.done


def test_close_delimited_body_and_keep_alive_rules() -> None:
    parser = ResponseParser()
    events = run(parser, [b"HTTP/1.0 200 OK\r\n\r\nsome", b" data"], eof=True)
    head = events[0]
    assert isinstance(head, Response)
    assert not head.keep_alive
    assert body_of(events) == b"some data"
    assert parser.done
    closing = ResponseParser().feed(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    assert isinstance(closing[0], Response)
    assert not closing[0].keep_alive


def test_informational_answers_are_skipped_and_101_upgrades() -> None:
    events = ResponseParser().feed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    )
    assert isinstance(events[0], Response)
    assert events[0].status_code == 200
    parser = ResponseParser()
    events = parser.feed(
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x01a"
    )
    assert isinstance(events[0], Response)
    assert events[0].status_code == 101
    assert parser.upgraded
    assert parser.take_trailing() == b"\x01\x00\x00\x00\x00\x00\x00\x01a"


def test_head_request_and_304_have_no_body() -> None:
    events = ResponseParser(head_request=True).feed(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    )
    assert [type(e) for e in events] == [Response, EndOfMessage]
    events = ResponseParser().feed(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    assert [type(e) for e in events] == [Response, EndOfMessage]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "bad header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab", "CRLF"),
    ],
)
def test_malformed_answers(wire: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        ResponseParser().feed(wire)


def test_truncated_answers() -> None:
    with pytest.raises(ProtocolError, match="without answering"):
        ResponseParser().feed(b"")
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    with pytest.raises(ProtocolError, match="middle of an answer"):
        parser.feed(b"")


@pytest.mark.parametrize(
    ("header", "encoded"),
    [
        (b"Content-Encoding: gzip\r\n", True),
        (b"content-encoding:  GZIP , br\r\n", True),
        (b"Content-Encoding: identity\r\n", False),
        (b"Content-Type: text/plain\r\n", False),
    ],
)
def test_response_says_whether_the_body_is_encoded(header: bytes, encoded: bool) -> None:
    parser = ResponseParser()
    events = parser.feed(b"HTTP/1.1 200 OK\r\n" + header + b"Content-Length: 2\r\n\r\nhi")
    head = events[0]
    assert isinstance(head, Response)
    assert head.encoded is encoded
    name, _, value = header.rstrip(b"\r\n").partition(b":")
    assert head.headers[0] == (name, value.strip(b" \t"))  # kept as sent
