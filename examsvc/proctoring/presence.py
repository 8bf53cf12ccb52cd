"""Presence from real heartbeats, disconnection periods, and site-caused outages.

A candidate is online while one of their browser's sockets is open and has beaten recently; the
sitting state says nothing about it (a sitting stays "in progress" through a power cut). From
the connection intervals we measure each disconnection, and find outages: moments when a large
share of a room was offline at once, which points at the site (power, network) rather than at
one candidate. Only time lost in such outages is credited back automatically: a candidate who
goes offline alone keeps answering into the browser's journal and gets no extra time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# A socket that has not beaten for this long is gone, even if its close never arrived
# (a server restart or a pulled cable leaves it open on paper).
STALE_AFTER = timedelta(seconds=45)


@dataclass(frozen=True)
class Link:
    """One socket: when it opened, last beat, and closed (None while open)."""

    opened_at: datetime
    last_seen: datetime
    closed_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.closed_at is None and now - self.last_seen <= STALE_AFTER

    def end(self, now: datetime) -> datetime:
        """When the link stopped carrying traffic (``now`` if it still does)."""
        if self.closed_at is not None:
            return self.closed_at
        if now - self.last_seen > STALE_AFTER:
            return self.last_seen
        return now


@dataclass(frozen=True)
class Presence:
    status: str  # online | offline | never
    since: datetime | None  # online since / offline since


def presence(links: Iterable[Link], now: datetime) -> Presence:
    links = list(links)
    if not links:
        return Presence("never", None)
    live = [link for link in links if link.is_live(now)]
    if live:
        return Presence("online", min(link.opened_at for link in live))
    return Presence("offline", max(link.end(now) for link in links))


def _merged(links: Iterable[Link], now: datetime) -> list[tuple[datetime, datetime]]:
    spans = sorted((link.opened_at, link.end(now)) for link in links)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def gaps(
    links: Iterable[Link], window_start: datetime, window_end: datetime, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The disconnection periods inside [window_start, window_end] (e.g. a sitting's run),
    counting only after the first connection: before it the candidate had not arrived."""
    merged = _merged(links, now)
    if not merged:
        return []
    out = []
    cursor = max(window_start, merged[0][0])
    for start, end in merged:
        if start > cursor and start > window_start:
            out.append((cursor, min(start, window_end)))
        cursor = max(cursor, end)
    if cursor < window_end:
        out.append((cursor, window_end))
    return [(a, b) for a, b in out if b > a]


def outages(
    room_gaps: Sequence[Sequence[tuple[datetime, datetime]]], share: float = 0.5, minimum: int = 2
) -> list[tuple[datetime, datetime]]:
    """Periods when at least ``share`` of the room's candidates (and at least ``minimum``) were
    disconnected at once: a sweep over every gap's start and end."""
    total = len(room_gaps)
    needed = max(minimum, -(-int(share * 1000) * total // 1000))
    if total == 0 or needed > total:
        return []
    points = sorted(
        [(a, 1) for person in room_gaps for a, _ in person]
        + [(b, -1) for person in room_gaps for _, b in person],
        key=lambda p: (p[0], p[1]),
    )
    out: list[tuple[datetime, datetime]] = []
    down, began = 0, None
    for moment, step in points:
        down += step
        if down >= needed and began is None:
            began = moment
        elif down < needed and began is not None:
            if moment > began:
                out.append((began, moment))
            began = None
    return out


def credit(
    own_gaps: Iterable[tuple[datetime, datetime]],
    room_outages: Iterable[tuple[datetime, datetime]],
    at_least: timedelta = timedelta(seconds=30),
) -> timedelta:
    """Time to give back: the overlap of the candidate's gaps with the room's outages, when an
    overlap lasts ``at_least`` (a blip of a few seconds costs nobody anything)."""
    total = timedelta(0)
    outage_list = list(room_outages)
    for a, b in own_gaps:
        for c, d in outage_list:
            overlap = min(b, d) - max(a, c)
            if overlap >= at_least:
                total += overlap
    return total
