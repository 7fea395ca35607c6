"""Impossible or malformed framing is refused at once by the codec, never waited for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.http11 import (
    MAX_CHUNK_SIZE,
    ConnectionClosed,
    Data,
    ProtocolError,
    ResponseParser,
)

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "size",
    [
        b"FFFFFFFFFFFFFFFFFFFF",  # 20 hex digits: would be waited for until a timeout
        b"10000000001",  # above the 1 TiB maximum
        b"-5",
        b"+5",
        b"0x5",
        b"5_0",
        b"",
        b"zz",
    ],
)
def test_an_impossible_or_malformed_chunk_size_is_refused_at_once(size: bytes) -> None:
    parser = ResponseParser()
    with pytest.raises(ProtocolError, match="chunk size") as caught:
        parser.feed(CHUNKED + size + b"\r\nabc")
    assert not isinstance(caught.value, ConnectionClosed)


def test_the_largest_chunk_size_is_accepted_and_its_data_streams() -> None:
    parser = ResponseParser()
    events = parser.feed(CHUNKED + b"%x; ext=1\r\nabc" % MAX_CHUNK_SIZE)
    assert [e for e in events if isinstance(e, Data)] == [Data(b"abc")]


@pytest.mark.parametrize("length", [b"+5", b"5_0", b" 5x", b"-1", b"1" * 19, b"0x10"])
def test_a_malformed_content_length_is_refused(length: bytes) -> None:
    with pytest.raises(ProtocolError, match="Content-Length"):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\n")


def test_a_connection_closed_early_is_told_apart_from_garbage() -> None:
    parser = ResponseParser()
    with pytest.raises(ConnectionClosed) as caught:
        parser.feed(b"")
    assert caught.value.answered is False
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234")
    with pytest.raises(ConnectionClosed) as caught:
        parser.feed(b"")
    assert caught.value.answered is True


@given(st.integers(min_value=0, max_value=MAX_CHUNK_SIZE))
def test_any_sane_chunk_size_in_any_case_is_read(size: int) -> None:
    for spelled in (b"%x" % size, b"%X" % size):
        parser = ResponseParser()
        events = parser.feed(CHUNKED + spelled + b"\r\n")
        assert not parser.done or size == 0
        assert all(not isinstance(e, Data) for e in events)
