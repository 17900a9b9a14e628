"""The code-rule pattern parser and renderer (riveredge.codes), without DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from riveredge import codes

MOMENT = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "sequence", "context", "expected"),
    [
        ("INV-{SEQ:5}", 42, None, "INV-00042"),
        ("{YYYY}-{MM}-{DD}/{SEQ:2}", 7, None, "2026-03-04/07"),
        ("{YY}{SEQ:1}", 123, None, "26123"),  # wider than n: never truncated
        ("PO{YYYYMMDD}{CTX}{SEQ:3}", 1, "WH", "PO20260304WH001"),
        ("{SEQ:12}", 1, None, "000000000001"),
        ("订单-{SEQ:3}", 9, None, "订单-009"),
    ],
)
def test_patterns_render(pattern: str, sequence: int, context: str | None, expected: str) -> None:
    assert codes.parse(pattern).render(MOMENT, sequence, context) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty"),
        ("INV", "exactly one"),
        ("{SEQ:2}{SEQ:2}", "not 2"),
        ("{SEQ}", "unknown token"),
        ("{SEQ:0}", "from 1"),
        ("{SEQ:13}", "from 1"),
        ("{SEQ:123}", "unknown token"),
        ("{yyyy}{SEQ:2}", "unknown token"),
        ("{DATE}{SEQ:2}", "unknown token"),
        ("{SEQ:2", "brace"),
        ("SEQ:2}", "brace"),
        ("{{SEQ:2}}", "brace"),
        ("a\n{SEQ:2}", "control"),
        ("x" * 101 + "{SEQ:2}", "longer"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(codes.PatternError, match=message):
        codes.parse(pattern)


@pytest.mark.parametrize(
    ("pattern", "reset", "ok"),
    [
        ("{SEQ:3}", "never", True),
        ("{SEQ:3}", "year", False),
        ("{YY}{SEQ:3}", "year", True),
        ("{YYYY}{SEQ:3}", "month", False),
        ("{MM}{SEQ:3}", "month", False),
        ("{YYYY}{MM}{SEQ:3}", "month", True),
        ("{YYYY}{MM}{SEQ:3}", "day", False),
        ("{YYYY}{MM}{DD}{SEQ:3}", "day", True),
        ("{YYYYMMDD}{SEQ:3}", "day", True),
        ("{YYYYMMDD}{SEQ:3}", "never", True),
    ],
)
def test_a_resetting_pattern_must_show_its_period(pattern: str, reset: str, ok: bool) -> None:
    if ok:
        codes.check(pattern, reset)
    else:
        with pytest.raises(codes.PatternError, match=f"every {reset}"):
            codes.check(pattern, reset)


def test_periods() -> None:
    assert [codes.period(r, MOMENT) for r in codes.RESETS] == ["20260304", "202603", "2026", "ALL"]


def test_tokens_and_context() -> None:
    parsed = codes.parse("{CTX}-{SEQ:2}")
    assert parsed.has_context and parsed.tokens == {"CTX", "SEQ"}
    assert not codes.parse("{SEQ:2}").has_context
    assert codes.CONTEXT_PATTERN.match("HR-01.a_b")
    assert not codes.CONTEXT_PATTERN.match("a#b")  # "#" separates context and period in the counter key
