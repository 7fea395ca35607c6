"""Read engine answers by their expected shape: a wrong shape is a ProtocolError naming the field.

Every engine decoder reads its JSON through these few helpers instead of
``payload.get(...)`` and ``str()``/``int()``: an object where a list was
expected, ``"Names": "notalist"`` or ``"Pid": "x"`` raise
:class:`~pydock.errors.ProtocolError` with ``field`` set to where it was
(``"Names"``, ``"[3].Id"``, ``"State.Pid"``), never ``AttributeError`` or a
silently wrong value. A missing member or ``null`` reads as the default: the
engines leave many members out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydock.errors import ProtocolError

__all__ = [
    "at",
    "get_bool",
    "get_int",
    "get_list",
    "get_object",
    "get_str",
    "get_str_list",
    "get_str_map",
    "index",
    "json_kind",
    "list_",
    "object_",
    "str_list",
]


def at(prefix: str, key: str) -> str:
    """The field name of ``key`` inside ``prefix`` (``"State"`` + ``"Pid"`` → ``"State.Pid"``)."""
    return f"{prefix}.{key}" if prefix else key


def index(prefix: str, i: int) -> str:
    """The field name of item ``i`` of ``prefix`` (``""`` + 3 → ``"[3]"``)."""
    return f"{prefix}[{i}]"


def json_kind(value: object) -> str:
    """How an error message names a JSON value's type (``"a list"``, ``"null"``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _wrong(field: str, expected: str, value: object) -> ProtocolError:
    where = field or "the answer"
    return ProtocolError(
        f"the engine's answer has the wrong shape: {where} is {json_kind(value)}, not {expected}",
        field=field or None,
    )


def object_(value: object, field: str = "") -> Mapping[str, Any]:
    """``value`` as a JSON object.

    Raises:
        ProtocolError: It is not an object.
    """
    if not isinstance(value, Mapping):
        raise _wrong(field, "an object", value)
    return value


def list_(value: object, field: str = "") -> list[Any]:
    """``value`` as a JSON list.

    Raises:
        ProtocolError: It is not a list.
    """
    if not isinstance(value, list):
        raise _wrong(field, "a list", value)
    return value


def get_object(payload: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    """Member ``key`` as an object; ``{}`` when missing or null.

    Raises:
        ProtocolError: It is something else.
    """
    value = payload.get(key)
    return {} if value is None else object_(value, at(prefix, key))


def get_list(payload: Mapping[str, Any], key: str, prefix: str = "") -> list[Any]:
    """Member ``key`` as a list; ``[]`` when missing or null.

    Raises:
        ProtocolError: It is something else.
    """
    value = payload.get(key)
    return [] if value is None else list_(value, at(prefix, key))


def get_str(payload: Mapping[str, Any], key: str, prefix: str = "", default: str = "") -> str:
    """Member ``key`` as a string; ``default`` when missing or null.

    Raises:
        ProtocolError: It is not a string.
    """
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _wrong(at(prefix, key), "a string", value)
    return value


def get_int(payload: Mapping[str, Any], key: str, prefix: str = "", default: int = 0) -> int:
    """Member ``key`` as an integer; ``default`` when missing or null.

    A whole float (``3.0``, as some JSON writers spell counts) is accepted.

    Raises:
        ProtocolError: It is not a whole number.
    """
    value = payload.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(at(prefix, key), "an integer", value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _wrong(at(prefix, key), "an integer", value)
        return int(value)
    return value


def get_bool(payload: Mapping[str, Any], key: str, prefix: str = "") -> bool:
    """Member ``key`` as a boolean; False when missing or null.

    Raises:
        ProtocolError: It is not a boolean.
    """
    value = payload.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong(at(prefix, key), "a boolean", value)
    return value


def get_str_list(payload: Mapping[str, Any], key: str, prefix: str = "") -> list[str]:
    """Member ``key`` as a list of strings; ``[]`` when missing or null.

    Raises:
        ProtocolError: It is not a list, or an item is not a string.
    """
    value = payload.get(key)
    return [] if value is None else str_list(value, at(prefix, key))


def str_list(value: object, field: str = "") -> list[str]:
    """``value`` as a list of strings.

    Raises:
        ProtocolError: It is not a list, or an item is not a string.
    """
    items = list_(value, field)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _wrong(index(field, i), "a string", item)
    return items


def get_str_map(payload: Mapping[str, Any], key: str, prefix: str = "") -> dict[str, str]:
    """Member ``key`` as an object of strings (labels, attributes); ``{}`` when missing or null.

    Raises:
        ProtocolError: It is not an object, or a value is not a string.
    """
    field = at(prefix, key)
    out: dict[str, str] = {}
    for name, value in get_object(payload, key, prefix).items():
        if not isinstance(value, str):
            raise _wrong(at(field, str(name)), "a string", value)
        out[str(name)] = value
    return out
