"""Presence from heartbeats, disconnection periods and site-wide outages (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from examsvc.proctoring.presence import (
    STALE_AFTER,
    Link,
    credit,
    gaps,
    outages,
    presence,
)

T0 = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_online_needs_an_open_link_that_beats() -> None:
    assert presence([], m(0)).status == "never"
    beating = Link(m(0), m(10))
    assert presence([beating], m(10) + STALE_AFTER).status == "online"
    gone = presence([beating], m(10) + STALE_AFTER + timedelta(seconds=1))
    assert (gone.status, gone.since) == ("offline", m(10))  # silent since its last beat
    closed = Link(m(0), m(3), m(3))
    assert presence([closed, Link(m(4), m(10))], m(10)) == presence([Link(m(4), m(10))], m(10))
    assert presence([closed], m(10)).since == m(3)
    assert presence([closed], m(3)).status == "offline"  # closed this very moment


def test_gaps_count_from_the_first_connection_to_the_window_end() -> None:
    links = [Link(m(2), m(5), m(5)), Link(m(8), m(20), m(20)), Link(m(9), m(12), m(12))]
    assert gaps(links, m(0), m(30), m(30)) == [(m(5), m(8)), (m(20), m(30))]
    assert gaps([], m(0), m(30), m(30)) == []
    assert gaps([Link(m(0), m(30))], m(0), m(30), m(30)) == []


def test_an_outage_needs_half_the_room_and_at_least_two() -> None:
    room = [[(m(5), m(8))], [(m(6), m(9))], [], []]
    assert outages(room) == [(m(6), m(8))]
    assert outages([[(m(5), m(8))], [], []]) == []
    assert outages([[(m(5), m(8))]]) == []  # one candidate is never a site-wide outage
    assert outages([]) == []


def test_credit_is_the_overlap_with_outages_and_ignores_blips() -> None:
    assert credit([(m(5), m(8))], [(m(6), m(8))]) == timedelta(minutes=2)
    assert credit([(m(5), m(5.4))], [(m(5), m(8))]) == timedelta(0)
    assert credit([(m(1), m(2))], [(m(6), m(8))]) == timedelta(0)


def _disjoint(steps: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    """Gaps as gaps() makes them: ordered and apart (online in between)."""
    out, at = [], 0
    for online, away in steps:
        at += online
        out.append((m(at), m(at + away)))
        at += away
    return out


spans = st.lists(st.tuples(st.integers(1, 30), st.integers(1, 20)), max_size=4).map(_disjoint)


@given(st.lists(spans, min_size=2, max_size=6))
def test_credit_never_exceeds_the_time_away(room: list[list[tuple[datetime, datetime]]]) -> None:
    found = outages(room)
    for a, b in found:
        assert a < b
    for person in room:
        away = sum((b - a for a, b in person), timedelta(0))
        assert credit(person, found) <= away
