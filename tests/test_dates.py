"""Tests for newssearch.dates: absolute and relative dates, durations, and clean failures."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newssearch.dates import TZ_ABBREVIATIONS, parse_datetime, parse_duration, parse_relative
from newssearch.errors import BadInput

UTC = timezone.utc
NOW = datetime(2025, 8, 13, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-08-13T10:00:00Z", utc(2025, 8, 13, 10)),
        ("2025-08-13T10:00:00+03:00", utc(2025, 8, 13, 7)),
        ("2025-08-13T10:00:00.250-04:00", utc(2025, 8, 13, 14, 0, 0, 250000)),
        ("2025-08-13 10:00", utc(2025, 8, 13, 10)),
        ("2025-08-13", utc(2025, 8, 13)),
        ("Wed, 13 Aug 2025 10:00:00 +0300", utc(2025, 8, 13, 7)),
        ("Wed, 13 Aug 2025 10:00:00 GMT", utc(2025, 8, 13, 10)),
        ("August 13, 2025", utc(2025, 8, 13)),
        ("13 Aug 2025 10:00 EDT", utc(2025, 8, 13, 14)),
        ("13 aug 2025 10:00 edt", utc(2025, 8, 13, 14)),
        ("  13   Aug 2025\t10:00  UTC ", utc(2025, 8, 13, 10)),
        ("1755079200", utc(2025, 8, 13, 10)),
        ("1755079200.5", utc(2025, 8, 13, 10, 0, 0, 500000)),
    ],
)
def test_absolute_forms(text: str, expected: datetime) -> None:
    got = parse_datetime(text)
    assert got == expected
    assert got.tzinfo == UTC


@pytest.mark.parametrize(
    "zone, utc_hour, utc_minute",
    [
        ("PDT", 17, 0), ("PST", 18, 0), ("CEST", 8, 0), ("CET", 9, 0), ("BST", 9, 0),
        ("EEST", 7, 0), ("MSK", 7, 0), ("IDT", 7, 0), ("IST", 4, 30), ("JST", 1, 0),
        ("AEST", 0, 0), ("CST", 16, 0),
    ],
)
def test_zone_abbreviations(zone: str, utc_hour: int, utc_minute: int) -> None:
    assert parse_datetime(f"13 Aug 2025 10:00 {zone}") == utc(2025, 8, 13, utc_hour, utc_minute)


def test_naive_time_is_utc_and_ignores_now() -> None:
    other_now = datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    assert parse_datetime("2014-07-01T10:51:00", now=other_now) == utc(2014, 7, 1, 10, 51)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2 days ago", utc(2025, 8, 11, 12)),
        ("an hour ago", utc(2025, 8, 13, 11)),
        ("a minute ago", utc(2025, 8, 13, 11, 59)),
        ("2 hours ago", utc(2025, 8, 13, 10)),
        ("5 mins ago", utc(2025, 8, 13, 11, 55)),
        ("3 hrs ago", utc(2025, 8, 13, 9)),
        ("30 seconds ago", utc(2025, 8, 13, 11, 59, 30)),
        ("1 week ago", utc(2025, 8, 6, 12)),
        ("2 months ago", NOW - timedelta(days=60)),
        ("a year ago", NOW - timedelta(days=365)),
        ("two days ago", utc(2025, 8, 11, 12)),
        ("yesterday", utc(2025, 8, 12, 12)),
        ("today", NOW),
        ("just now", NOW),
        ("now", NOW),
        ("  An   HOUR ago ", utc(2025, 8, 13, 11)),
        ("YESTERDAY", utc(2025, 8, 12, 12)),
        ("2days ago", utc(2025, 8, 11, 12)),
    ],
)
def test_relative_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text, now=NOW) == expected
    assert parse_relative(text, now=NOW) == expected


def test_relative_with_other_zone_or_naive_now() -> None:
    tel_aviv_noon = datetime(2025, 8, 13, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    assert parse_datetime("an hour ago", now=tel_aviv_noon) == utc(2025, 8, 13, 11)
    assert parse_datetime("an hour ago", now=datetime(2025, 8, 13, 12)) == utc(2025, 8, 13, 11)


def test_relative_needs_a_reference_time() -> None:
    with pytest.raises(BadInput, match="reference time") as info:
        parse_datetime("2 days ago")
    assert "2 days ago" in str(info.value)


def test_parse_relative_is_none_for_absolute_or_junk() -> None:
    assert parse_relative("2025-08-13", now=NOW) is None
    assert parse_relative("the day before", now=NOW) is None


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello world", "1", "August", "Aug 2025", "10:00", "sat",
     "5m ago",  # "m" is a month in durations and minutes on social media: refused
     "ones ago", "2 days", "yesterday evening", "2025-13-45", "not a date 2025-08-13"],
)
def test_rejects_non_dates(text: str) -> None:
    with pytest.raises(BadInput):
        parse_datetime(text, now=NOW)


def test_unknown_zone_is_named_not_guessed() -> None:
    with pytest.raises(BadInput, match="XYZ"):
        parse_datetime("13 Aug 2025 10:00 XYZ")


def test_error_message_is_one_short_line() -> None:
    with pytest.raises(BadInput) as info:
        parse_datetime("no date here\n" + "x" * 500)
    message = str(info.value)
    assert "\n" not in message and len(message) < 100
    assert "no date here" in message


def test_table_covers_the_common_zones() -> None:
    for zone in ("UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT",
                 "BST", "CET", "CEST", "EET", "EEST", "MSK", "IDT", "IST", "JST", "AEST"):
        assert zone in TZ_ABBREVIATIONS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("90d", timedelta(days=90)),
        ("7d", timedelta(days=7)),
        ("24h", timedelta(hours=24)),
        ("1h", timedelta(hours=1)),
        ("30min", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("1m", timedelta(days=30)),  # a month, as in the query language's when:1m
        ("1mo", timedelta(days=30)),
        ("1y", timedelta(days=365)),
        ("1y6m", timedelta(days=365 + 180)),
        ("1h 30min", timedelta(minutes=90)),
        (" 3 Days ", timedelta(days=3)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "d", "7", "7x", "-7d", "7d ago", "week", "1e9y", "9" * 30 + "y"])
def test_duration_junk(text: str) -> None:
    with pytest.raises(BadInput):
        parse_duration(text)


@given(st.text(max_size=80))
def test_parse_datetime_only_raises_badinput(text: str) -> None:
    try:
        value = parse_datetime(text, now=NOW)
    except BadInput:
        return
    assert value.tzinfo == UTC


@given(st.from_regex(r"[0-9a-zA-Z :,+\-./TZ]{0,40}", fullmatch=True))
def test_date_like_text_only_raises_badinput(text: str) -> None:
    for now in (NOW, None):
        try:
            assert parse_datetime(text, now=now).tzinfo == UTC
        except BadInput:
            pass


@given(st.text(max_size=40))
def test_parse_duration_only_raises_badinput(text: str) -> None:
    try:
        assert parse_duration(text) >= timedelta(0)
    except BadInput:
        pass


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))])))
def test_isoformat_round_trips(value: datetime) -> None:
    assert parse_datetime(value.isoformat()) == value


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["minutes", "hours", "days", "weeks"]))
def test_n_units_ago(n: int, unit: str) -> None:
    assert parse_datetime(f"{n} {unit} ago", now=NOW) == NOW - timedelta(**{unit: n})
