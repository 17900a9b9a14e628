"""Values read from a database, made JSON-ready: what the API answers and an export writes."""

from __future__ import annotations

import base64
import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def _float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


_CONVERTERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...] = (
    (float, _float),
    (Decimal, str),
    ((datetime.datetime, datetime.date, datetime.time), lambda value: value.isoformat()),
    (datetime.timedelta, lambda value: value.total_seconds()),
    ((bytes, bytearray, memoryview), lambda value: base64.b64encode(bytes(value)).decode("ascii")),
    ((list, tuple), lambda value: [json_ready(item) for item in value]),
    (dict, lambda value: {str(key): json_ready(item) for key, item in value.items()}),
)


def json_ready(value: Any) -> Any:
    """`value` as JSON can carry it, without losing what it said.

    None, bool, int and str stay; a float stays unless it is NaN or infinite ("NaN", "Infinity", "-Infinity");
    Decimal becomes its exact decimal string (a JSON number would lose digits in most readers); date, time and
    datetime their ISO 8601 text (an aware datetime keeps its offset); timedelta its seconds as a number; bytes
    base64 text; lists, tuples and dicts (PostgreSQL arrays, json / jsonb) are converted item by item; anything
    else (UUID, network addresses, ranges) its text.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return next((convert(value) for kinds, convert in _CONVERTERS if isinstance(value, kinds)), str(value))
