"""What an answer may make pydock hold in memory: one object of a JSON-lines stream."""

from __future__ import annotations

import pytest

from pydock._core.streams import MAX_STREAM_OBJECT, JsonLinesDecoder
from pydock.errors import ResponseTooLarge


def test_an_endless_object_in_a_progress_stream_is_refused_once_over_the_limit() -> None:
    decoder = JsonLinesDecoder(max_object=1000)
    assert decoder.feed(b'{"status": "ok"}\n') == [{"status": "ok"}]
    decoder.feed(b'{"status": "')
    for _ in range(9):
        assert decoder.feed(b"x" * 100) == []  # 912 characters held: still under
    with pytest.raises(ResponseTooLarge) as caught:
        decoder.feed(b"x" * 100)  # never closes
    assert caught.value.limit == 1000
    assert "1000" in str(caught.value)
    with pytest.raises(ResponseTooLarge):
        decoder.feed(b'"}')  # the stream stays failed


def test_objects_up_to_the_limit_pass_whatever_the_chunking() -> None:
    decoder = JsonLinesDecoder(max_object=200)
    line = b'{"status": "' + b"y" * 150 + b'"}\r\n'
    out = []
    for _ in range(3):
        for i in range(0, len(line), 7):
            out += decoder.feed(line[i : i + 7])
    assert out == [{"status": "y" * 150}] * 3
    assert decoder.flush() == []


def test_the_default_limit_is_generous() -> None:
    assert MAX_STREAM_OBJECT == 16 * 1024 * 1024
    decoder = JsonLinesDecoder()
    big = b'{"stream": "' + b"z" * (4 * 1024 * 1024) + b'"}\n'
    out = []
    for i in range(0, len(big), 256 * 1024):
        out += decoder.feed(big[i : i + 256 * 1024])
    assert out == [{"stream": "z" * (4 * 1024 * 1024)}]
