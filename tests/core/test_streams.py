"""Tests for pydock._core.streams: incremental decoders, whatever the chunking."""

from __future__ import annotations

import contextlib
import itertools
import json
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydock._core.streams import (
    STDERR,
    STDIN,
    STDOUT,
    SYSTEMERR,
    Frame,
    JsonLinesDecoder,
    LineSplitter,
    MultiplexDecoder,
    RawDecoder,
    demux_all,
    frame_decoder,
    raise_for_error,
)
from pydock.errors import BuildError, PullError, PushError, StreamError


def split(blob: bytes, cuts: Sequence[int]) -> list[bytes]:
    """Cut ``blob`` at the given offsets (any order, duplicates allowed)."""
    points = sorted({0, len(blob), *(c % (len(blob) + 1) for c in cuts)})
    return [blob[a:b] for a, b in itertools.pairwise(points)]


def feed_all(decoder: Any, chunks: Sequence[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    return out


def header(stream: int, length: int) -> bytes:
    return struct.pack(">BxxxL", stream, length)


def mux(frames: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(header(stream, len(data)) + data for stream, data in frames)


# --------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
separators = st.sampled_from(["", "\n", "\r\n", " ", "\n\n", "\t\r\n"])
cut_lists = st.lists(st.integers(min_value=0), max_size=40)


# --------------------------------------------------------------------------- JSON: properties


@settings(deadline=None)
@given(
    objects=st.lists(st.tuples(json_objects, separators, st.booleans()), max_size=12),
    cuts=cut_lists,
)
def test_json_any_rechunking_gives_the_same_objects(
    objects: list[tuple[dict[str, Any], str, bool]], cuts: list[int]
) -> None:
    blob = "".join(
        json.dumps(obj, ensure_ascii=ascii) + sep for obj, sep, ascii in objects
    ).encode()
    expected = [obj for obj, _, _ in objects]
    whole = feed_all(JsonLinesDecoder(), [blob])
    assert whole == expected
    assert feed_all(JsonLinesDecoder(), split(blob, cuts)) == expected


@settings(deadline=None)
@given(objects=st.lists(json_objects, min_size=1, max_size=6))
def test_json_byte_by_byte(objects: list[dict[str, Any]]) -> None:
    blob = b"".join(json.dumps(o, ensure_ascii=False).encode() for o in objects)
    chunks = [blob[i : i + 1] for i in range(len(blob))]
    assert feed_all(JsonLinesDecoder(), chunks) == objects


# --------------------------------------------------------------------------- JSON: units


def test_json_several_objects_per_chunk() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"status":"a"}\n{"status":"b"}\n{"status":"c"}\n') == [
        {"status": "a"},
        {"status": "b"},
        {"status": "c"},
    ]
    assert dec.flush() == []


def test_json_object_split_across_chunks_is_returned_by_the_completing_chunk() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"id":"abc","progressDetail":{"cur') == []
    assert dec.feed(b'rent":5}') == []
    assert dec.feed(b'}\r\n{"id":') == [{"id": "abc", "progressDetail": {"current": 5}}]
    assert dec.feed(b'"x"}') == [{"id": "x"}]
    assert dec.flush() == []


def test_json_split_mid_utf8_sequence() -> None:
    blob = json.dumps({"stream": "caf\u00e9 \u2603 \U0001f433"}, ensure_ascii=False).encode()
    snowman = blob.index("\u2603".encode())
    whale = blob.index("\U0001f433".encode())
    chunks = [blob[: snowman + 1], blob[snowman + 1 : whale + 2], blob[whale + 2 :]]
    assert feed_all(JsonLinesDecoder(), chunks) == [{"stream": "caf\u00e9 \u2603 \U0001f433"}]


def test_json_concatenated_without_newlines() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"a":1}{"b":2}{"c":') == [{"a": 1}, {"b": 2}]
    assert dec.feed(b"3}") == [{"c": 3}]


def test_json_crlf_and_blank_lines() -> None:
    blob = b'\r\n{"a":1}\r\n\r\n{"b":"x\\r\\n"}\r\n  \n'
    assert feed_all(JsonLinesDecoder(), [blob]) == [{"a": 1}, {"b": "x\r\n"}]


def test_json_braces_and_escapes_inside_strings_across_chunks() -> None:
    obj = {"stream": 'a } { \\" "} \\\\', "k}": ["{", "}"]}
    blob = json.dumps(obj).encode()
    for i in range(len(blob) + 1):
        assert feed_all(JsonLinesDecoder(), [blob[:i], blob[i:]]) == [obj], i


def test_json_accepts_bytearray_and_memoryview() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(bytearray(b'{"a":')) == []
    assert dec.feed(memoryview(b'1}{"b":2}')) == [{"a": 1}, {"b": 2}]


def test_json_invalid_raises_with_an_excerpt() -> None:
    with pytest.raises(
        StreamError, match=r"invalid JSON in stream: Expecting ',' delimiter near .*1 2"
    ):
        JsonLinesDecoder().feed(b'{"a": 1 2}\n')


def test_json_non_object_raises() -> None:
    with pytest.raises(StreamError, match=r"expected a JSON object.*'<html>"):
        JsonLinesDecoder().feed(b"<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(StreamError, match="expected a JSON object"):
        JsonLinesDecoder().feed(b'"just a string"\n')


def test_json_error_after_good_objects_is_deferred() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"a":1}\n{"b":2}\nnot json\n') == [{"a": 1}, {"b": 2}]
    with pytest.raises(StreamError, match="expected a JSON object"):
        dec.feed(b'{"c":3}\n')
    with pytest.raises(StreamError, match="expected a JSON object"):
        dec.flush()


def test_json_invalid_utf8_raises() -> None:
    with pytest.raises(StreamError, match="UTF-8"):
        JsonLinesDecoder().feed(b'{"a":"\xff"}')


def test_json_flush_inside_an_object_raises() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"a":1}\n{"status":"Downloa') == [{"a": 1}]
    with pytest.raises(StreamError, match="stream ended inside a JSON object"):
        dec.flush()


def test_json_flush_inside_a_utf8_sequence_raises() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"a":1}\n\xe2\x98') == [{"a": 1}]
    with pytest.raises(StreamError, match="UTF-8"):
        dec.flush()


def test_json_flush_after_trailing_whitespace_is_fine() -> None:
    dec = JsonLinesDecoder()
    assert dec.feed(b'{"a":1}\r\n \n') == [{"a": 1}]
    assert dec.flush() == []


def test_json_large_object_in_small_chunks_is_linear() -> None:
    obj = {"aux": [{"i": i, "s": "}{" * 3} for i in range(60_000)], "pad": "x" * 2_000_000}
    blob = json.dumps(obj).encode() + b"\n"
    chunks = split(blob, range(0, len(blob), 512))
    start = time.perf_counter()
    assert feed_all(JsonLinesDecoder(), chunks) == [obj]
    # A decoder that re-parsed the buffer on every chunk would take minutes.
    assert time.perf_counter() - start < 20


# --------------------------------------------------------------------------- raise_for_error


def test_raise_for_error_uses_the_error_detail_message() -> None:
    obj = {
        "errorDetail": {"code": 1, "message": "manifest for nope:latest not found"},
        "error": "something else",
    }
    with pytest.raises(PullError) as info:
        raise_for_error(obj, PullError)
    assert type(info.value) is PullError
    assert info.value.message == "manifest for nope:latest not found"


def test_raise_for_error_falls_back_to_error() -> None:
    with pytest.raises(PushError, match=r"^denied: requested access to the resource is denied$"):
        raise_for_error({"error": "denied: requested access to the resource is denied"}, PushError)


def test_raise_for_error_build_error() -> None:
    obj = {
        "errorDetail": {
            "code": 1,
            "message": "The command '/bin/sh -c false' returned a non-zero code: 1",
        },
        "error": "The command '/bin/sh -c false' returned a non-zero code: 1",
    }
    with pytest.raises(BuildError, match="returned a non-zero code: 1") as info:
        raise_for_error(obj, BuildError)
    assert info.value.step is None
    assert info.value.log == []


def test_raise_for_error_default_class_and_odd_shapes() -> None:
    with pytest.raises(StreamError, match="without a message"):
        raise_for_error({"errorDetail": {"code": 5}})
    with pytest.raises(StreamError, match='"reason"'):
        raise_for_error({"error": {"reason": "x"}})


@pytest.mark.parametrize(
    "obj",
    [
        {"status": "Pulling fs layer", "id": "abc"},
        {"stream": "Step 1/2 : FROM alpine\n"},
        {"error": ""},
        {"error": None, "errorDetail": None},
        {},
    ],
)
def test_raise_for_error_passes_normal_objects(obj: dict[str, Any]) -> None:
    raise_for_error(obj, PullError)


def test_raise_for_error_scrubs_credentials() -> None:
    with pytest.raises(PullError) as info:
        raise_for_error({"error": "failed: password=hunter2 rejected"}, PullError)
    assert "hunter2" not in str(info.value)


# --------------------------------------------------------------------------- multiplex: properties

frames_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.binary(max_size=300)), max_size=20
)


@settings(deadline=None)
@given(frames=frames_strategy, cuts=cut_lists)
def test_mux_any_rechunking_gives_the_same_frames(
    frames: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    blob = mux(frames)
    expected = [Frame(stream, data) for stream, data in frames if data]
    assert feed_all(MultiplexDecoder(), [blob]) == expected
    assert feed_all(MultiplexDecoder(), split(blob, cuts)) == expected


@settings(deadline=None)
@given(frames=frames_strategy, cuts=cut_lists, kind=st.sampled_from([bytearray, memoryview]))
def test_mux_accepts_any_buffer_type(
    frames: list[tuple[int, bytes]], cuts: list[int], kind: Callable[[bytes], Any]
) -> None:
    blob = mux(frames)
    expected = [Frame(stream, data) for stream, data in frames if data]
    out = feed_all(MultiplexDecoder(), [kind(c) for c in split(blob, cuts)])
    assert out == expected
    assert all(type(f.data) is bytes for f in out)


# --------------------------------------------------------------------------- multiplex: units


def test_mux_basic_frames() -> None:
    blob = mux([(STDOUT, b"hello\n"), (STDERR, b"oops\n"), (SYSTEMERR, b"engine"), (STDIN, b"i")])
    assert feed_all(MultiplexDecoder(), [blob]) == [
        Frame(STDOUT, b"hello\n"),
        Frame(STDERR, b"oops\n"),
        Frame(SYSTEMERR, b"engine"),
        Frame(STDIN, b"i"),
    ]


def test_mux_zero_length_frames_yield_nothing() -> None:
    blob = mux([(STDOUT, b""), (STDERR, b"e"), (STDOUT, b""), (STDOUT, b"o")])
    dec = MultiplexDecoder()
    assert dec.feed(blob[:8]) == []
    assert dec.feed(blob[8:]) == [Frame(STDERR, b"e"), Frame(STDOUT, b"o")]
    assert dec.flush() == []


def test_mux_header_split_across_chunks() -> None:
    blob = mux([(STDERR, b"abc")])
    dec = MultiplexDecoder()
    assert dec.feed(blob[:3]) == []
    assert dec.feed(blob[3:9]) == []
    assert dec.feed(blob[9:]) == [Frame(STDERR, b"abc")]


def test_mux_4_mib_frame() -> None:
    payload = bytes(range(256)) * (4 * 1024 * 4)
    assert len(payload) == 4 * 1024 * 1024
    blob = mux([(STDOUT, b"before"), (STDERR, payload), (STDOUT, b"after")])
    expected = [Frame(STDOUT, b"before"), Frame(STDERR, payload), Frame(STDOUT, b"after")]
    assert feed_all(MultiplexDecoder(), [blob]) == expected
    chunk_size = 64 * 1024
    chunks = split(blob, range(0, len(blob), chunk_size))
    big_end = 8 + 6 + 8 + len(payload)  # the big frame is complete after this many bytes
    dec = MultiplexDecoder()
    got: list[Frame] = []
    for i, chunk in enumerate(chunks):
        events = dec.feed(chunk)
        assert (Frame(STDERR, payload) in events) == (i == (big_end - 1) // chunk_size)
        got.extend(events)
    got.extend(dec.flush())
    assert got == expected


def test_mux_truncated_payload_on_flush() -> None:
    dec = MultiplexDecoder()
    assert dec.feed(mux([(STDOUT, b"ok")]) + header(STDOUT, 100) + b"x" * 40) == [
        Frame(STDOUT, b"ok")
    ]
    with pytest.raises(StreamError, match="stream ended inside a frame: 40 of 100 bytes"):
        dec.flush()


def test_mux_truncated_header_on_flush() -> None:
    dec = MultiplexDecoder()
    assert dec.feed(b"\x01\x00\x00") == []
    with pytest.raises(StreamError, match="stream ended inside a frame header: 3 of 8 bytes"):
        dec.flush()


def test_mux_invalid_stream_type() -> None:
    with pytest.raises(StreamError, match="invalid stream type 4"):
        MultiplexDecoder().feed(header(4, 1) + b"x")
    with pytest.raises(StreamError, match="invalid stream type 104"):
        MultiplexDecoder().feed(b"hello from a tty\n")
    with pytest.raises(StreamError, match="invalid stream type 104"):
        MultiplexDecoder().feed(b"hi")
    dec = MultiplexDecoder()
    assert dec.feed(mux([(STDOUT, b"a")])) == [Frame(STDOUT, b"a")]
    with pytest.raises(StreamError, match="invalid stream type 5"):
        dec.feed(b"\x05\x00")


def test_mux_invalid_stream_type_after_good_frames_is_deferred() -> None:
    dec = MultiplexDecoder()
    assert dec.feed(mux([(STDOUT, b"a")]) + header(9, 0)) == [Frame(STDOUT, b"a")]
    with pytest.raises(StreamError, match="invalid stream type 9"):
        dec.feed(b"")
    with pytest.raises(StreamError, match="invalid stream type 9"):
        dec.flush()


def test_mux_does_not_keep_references_to_callers_buffers() -> None:
    chunk = bytearray(mux([(STDOUT, b"abc")]) + header(STDERR, 3) + b"d")
    dec = MultiplexDecoder()
    frames = dec.feed(chunk)
    chunk[:] = b"\xff" * len(chunk)
    assert frames == [Frame(STDOUT, b"abc")]
    assert dec.feed(b"ef") == [Frame(STDERR, b"def")]


def test_demux_all() -> None:
    blob = mux([(STDOUT, b"a"), (STDERR, b"1"), (STDIN, b"in"), (STDOUT, b"b"), (STDERR, b"2")])
    assert demux_all(blob) == (b"ab", b"12")
    assert demux_all(b"") == (b"", b"")


def test_demux_all_raises_on_engine_error_and_truncation() -> None:
    with pytest.raises(StreamError, match="error from the engine in the stream: it broke"):
        demux_all(mux([(STDOUT, b"a"), (SYSTEMERR, b"it broke\n")]))
    with pytest.raises(StreamError, match="inside a frame"):
        demux_all(mux([(STDOUT, b"abc")])[:-1])


# --------------------------------------------------------------------------- raw


@given(blob=st.binary(max_size=2000), cuts=cut_lists)
def test_raw_any_rechunking_gives_the_same_bytes(blob: bytes, cuts: list[int]) -> None:
    out = feed_all(RawDecoder(), split(blob, cuts))
    assert b"".join(f.data for f in out) == blob
    assert all(f.stream == STDOUT and f.data for f in out)


def test_raw_decoder() -> None:
    dec = RawDecoder()
    assert dec.feed(b"") == []
    assert dec.feed(bytearray(b"\x01\x00\x00\x00abc")) == [Frame(STDOUT, b"\x01\x00\x00\x00abc")]
    assert dec.feed(memoryview(b"x")) == [Frame(STDOUT, b"x")]
    assert dec.flush() == []


def test_frame_decoder_by_tty_flag() -> None:
    assert isinstance(frame_decoder(tty=True), RawDecoder)
    assert isinstance(frame_decoder(tty=False), MultiplexDecoder)


# --------------------------------------------------------------------------- lines


@given(blob=st.binary(max_size=2000), cuts=cut_lists)
def test_lines_any_rechunking_gives_the_same_lines(blob: bytes, cuts: list[int]) -> None:
    expected = feed_all(LineSplitter(), [blob])
    assert b"".join(expected) == blob
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in expected[:-1])
    assert feed_all(LineSplitter(), split(blob, cuts)) == expected


def test_lines() -> None:
    dec = LineSplitter()
    assert dec.feed(b"Step 1/3 : FROM alpine\r\nStep 2") == [b"Step 1/3 : FROM alpine\r\n"]
    assert dec.feed(bytearray(b"/3 : RUN true")) == []
    assert dec.feed(memoryview(b"\n\nlast")) == [b"Step 2/3 : RUN true\n", b"\n"]
    assert dec.flush() == [b"last"]
    assert dec.flush() == []


def test_lines_empty_and_exact() -> None:
    dec = LineSplitter()
    assert dec.feed(b"") == []
    assert dec.feed(b"a\nb\n") == [b"a\n", b"b\n"]
    assert dec.flush() == []


# --------------------------------------------------------------------------- fuzz


@pytest.mark.parametrize("make", [JsonLinesDecoder, MultiplexDecoder, RawDecoder, LineSplitter])
@given(blob=st.binary(max_size=500), cuts=cut_lists)
def test_garbage_raises_only_stream_error(
    make: Callable[[], Any], blob: bytes, cuts: list[int]
) -> None:
    with contextlib.suppress(StreamError):
        feed_all(make(), split(blob, cuts))
