"""The server-authoritative clock of one sitting (one exam part of one candidate), as pure data.

The server's clock rules: a sitting's time is ``duration × (1 + extra_ratio) + extensions``
(``allowed()``), counted from ``started_at``; time spent paused is credited back. Every question
is asked of the recorded history at an instant ``now``, so the same clock answers for the present
and, for audits, for any moment in the past:

- ``paused_for(now)``: pause time up to ``now`` (an open pause counts up to ``now``);
- ``elapsed(now)``: running time used, ``now − started_at − paused_for(now)``;
- ``deadline(now) = started_at + allowed() + paused_for(now)``. While a pause is open this moves
  forward with ``now``, one second per second, so ``remaining(now) = deadline(now) − now`` stays
  frozen; after the pause ends it stays put, later by the pause's length. The deadline shown to
  the candidate is the one at the moment it is sent (re-sent on pause, resume and extension).

Grace covers network latency only: an answer sent by the browser just before the deadline may
arrive a little after it, so the server accepts answers until ``deadline + grace`` and submits the
sitting at that moment (``closes_at``). The countdown, ``remaining()`` and the browser's lock
all use the deadline itself, never the grace, so a candidate gains no answering time from it.

The browser's countdown is ``deadline − (client_now + offset)`` with the offset measured by a
ping (``client_offset``), never a local interval, so a wrong PC clock or a reload changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

DEFAULT_GRACE = timedelta(seconds=5)
# Grace is for network latency, not extra time: more than this is a misconfiguration.
MAX_GRACE = timedelta(seconds=60)
MAX_EXTRA_RATIO = Decimal(1)  # +100 %, the usual upper bound of accommodations

Pause = tuple[datetime, datetime | None]  # (start, end); end None while the pause lasts


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _aware(moment: datetime, what: str) -> None:
    # Naive datetimes are ambiguous across server processes and DST; refuse rather than guess.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what}（{_at(moment)}）缺少时区：请使用带时区的时间，如 UTC")


@dataclass(frozen=True)
class Clock:
    """One sitting's time; build the next state with ``start``/``extend``/``pause``/``resume``."""

    duration: timedelta  # from the exam scheme
    started_at: datetime | None = None
    # granted live by invigilators; untimed: every recorded one counts at any ``now`` asked about
    extensions: tuple[timedelta, ...] = ()
    extra_ratio: Decimal = Decimal(0)  # accommodation set before the start: 0.5 is +50 %
    pauses: tuple[Pause, ...] = ()  # in order, not overlapping; only the last may be open
    grace: timedelta = DEFAULT_GRACE

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError(f"考试时长必须大于 0，现为 {self.duration}：请检查考核方案的时长")
        if not isinstance(self.extra_ratio, Decimal) or not self.extra_ratio.is_finite():
            raise ValueError(f"额外时间比例“{self.extra_ratio}”应为 Decimal 数值，如 0.5")
        if not Decimal(0) <= self.extra_ratio <= MAX_EXTRA_RATIO:
            raise ValueError(
                f"额外时间比例 {self.extra_ratio} 超出范围：应在 0 到 {MAX_EXTRA_RATIO}"
                "（即最多延长 100%）之间"
            )
        for number, extension in enumerate(self.extensions, start=1):
            if extension < timedelta(0):
                raise ValueError(f"第 {number} 次延时为负（{extension}）：延时只能增加时间")
        if not timedelta(0) <= self.grace <= MAX_GRACE:
            raise ValueError(
                f"宽限时间 {self.grace} 无效：应在 0 到 {MAX_GRACE.seconds} 秒之间，只用于抵消网络延迟"
            )
        if self.started_at is not None:
            _aware(self.started_at, "开考时间")
        self._check_pauses()

    def _check_pauses(self) -> None:
        if self.pauses and self.started_at is None:
            raise ValueError("尚未开考就有暂停记录：请先记录开考时间")
        previous_end = self.started_at
        for number, (start, end) in enumerate(self.pauses, start=1):
            where = f"第 {number} 次暂停"
            _aware(start, f"{where}的开始时间")
            if end is not None:
                _aware(end, f"{where}的结束时间")
                if end < start:
                    raise ValueError(f"{where}结束于 {_at(end)}，早于开始 {_at(start)}：请核对时间")
            elif number != len(self.pauses):
                raise ValueError(f"{where}尚未结束，后面却还有暂停：请先记录它的结束时间")
            assert previous_end is not None  # started_at is set whenever there are pauses
            if start < previous_end:
                what = "开考时间" if number == 1 else f"第 {number - 1} 次暂停的结束"
                raise ValueError(
                    f"{where}开始于 {_at(start)}，早于{what} {_at(previous_end)}：暂停不能重叠"
                )
            deadline = self.deadline(start)
            assert deadline is not None
            # A pause after time is up would hand back time already lost; submit instead.
            if start >= deadline:
                raise ValueError(
                    f"{where}开始于 {_at(start)}，已过截止时间 {_at(deadline)}：时间已到，不能暂停"
                )
            previous_end = end

    def allowed(self) -> timedelta:
        """The answering time: duration × (1 + extra_ratio) + every extension.

        The extra time is rounded up to the whole second, in the candidate's favour.
        """
        micros = self.duration // timedelta(microseconds=1)
        extra = math.ceil(Decimal(micros) * self.extra_ratio / 1_000_000)
        return self.duration + timedelta(seconds=extra) + sum(self.extensions, timedelta(0))

    @property
    def is_started(self) -> bool:
        return self.started_at is not None

    @property
    def is_paused(self) -> bool:
        """Is the latest recorded pause still open?"""
        return bool(self.pauses) and self.pauses[-1][1] is None

    def paused_at(self, now: datetime) -> bool:
        """Was the sitting paused at ``now``?"""
        _aware(now, "查询时间")
        return any(start <= now and (end is None or now < end) for start, end in self.pauses)

    def paused_for(self, now: datetime) -> timedelta:
        """Pause time credited up to ``now``; an open pause counts up to ``now``."""
        _aware(now, "查询时间")
        total = timedelta(0)
        for start, end in self.pauses:
            until = now if end is None else min(end, now)
            total += max(until - start, timedelta(0))
        return total

    def elapsed(self, now: datetime) -> timedelta:
        """Running (unpaused) time used by ``now``; 0 before the start."""
        if self.started_at is None:
            return timedelta(0)
        return max(now - self.started_at - self.paused_for(now), timedelta(0))

    def deadline(self, now: datetime) -> datetime | None:
        """When time is up, as it stands at ``now``; None before the start (see the module doc)."""
        if self.started_at is None:
            return None
        return self.started_at + self.allowed() + self.paused_for(now)

    def running_deadline(self) -> datetime | None:
        """The deadline while the clock runs, which no later instant moves; None before the
        start and during a pause (when the deadline moves on with ``now``). Stored with the
        sitting, it lets the server check an answer or find overdue sittings without the clock."""
        if self.started_at is None or self.is_paused:
            return None
        paused = sum((end - start for start, end in self.pauses if end), timedelta(0))
        return self.started_at + self.allowed() + paused

    def closes_at(self, now: datetime) -> datetime | None:
        """Deadline + grace: the last moment an answer is accepted, and when to auto-submit."""
        deadline = self.deadline(now)
        return None if deadline is None else deadline + self.grace

    def remaining(self, now: datetime) -> timedelta:
        """Answering time left at ``now``: all of it before the start, frozen while paused, never < 0."""
        _aware(now, "查询时间")
        return max(self.allowed() - self.elapsed(now), timedelta(0))

    def accepts_answer_at(self, now: datetime) -> bool:
        """May an answer arriving at ``now`` be stored? Started, not paused, before deadline + grace.

        An instant just before ``started_at`` counts as started once the start is recorded: the
        clocks of several server processes differ by milliseconds, and the lifecycle state already
        says whether the part is in progress.
        """
        closes = self.closes_at(now)
        return closes is not None and not self.paused_at(now) and now < closes

    def is_over(self, now: datetime) -> bool:
        """Has time run out for good at ``now`` (deadline + grace passed, not paused)?"""
        closes = self.closes_at(now)
        return closes is not None and not self.paused_at(now) and now >= closes

    # The next state of the clock; each raises ValueError when the step makes no sense.

    def start(self, at: datetime) -> Clock:
        if self.started_at is not None:
            raise ValueError(f"已于 {_at(self.started_at)} 开考，不能再次开考")
        return replace(self, started_at=at)

    def extend(self, by: timedelta) -> Clock:
        return replace(self, extensions=(*self.extensions, by))

    def pause(self, at: datetime) -> Clock:
        if self.started_at is None:
            raise ValueError("尚未开考，不能暂停")
        if self.is_paused:
            raise ValueError(f"已于 {_at(self.pauses[-1][0])} 暂停，不能重复暂停")
        return replace(self, pauses=(*self.pauses, (at, None)))

    def resume(self, at: datetime) -> Clock:
        if not self.is_paused:
            raise ValueError("当前没有暂停，不能继续")
        start, _ = self.pauses[-1]
        return replace(self, pauses=(*self.pauses[:-1], (start, at)))


@dataclass(frozen=True)
class ClockOffset:
    """How far the server's clock is ahead of the browser's, measured by one ping."""

    offset: timedelta  # server clock − client clock
    round_trip: timedelta

    @property
    def uncertainty(self) -> timedelta:
        """The true offset lies within ``offset ± round_trip / 2``."""
        return self.round_trip / 2


def client_offset(
    server_sent: datetime, client_received: datetime, client_sent: datetime
) -> ClockOffset:
    """Estimate the browser's clock offset from one ping, NTP-style.

    The browser sends a ping at ``client_sent`` (its clock), the server answers stamped with
    ``server_sent`` (its clock), the browser receives it at ``client_received`` (its clock).
    With equal delays each way, the server stamped its reply at the midpoint of the round trip:

        offset = server_sent − (client_sent + client_received) / 2
        round_trip = client_received − client_sent, error at most ± round_trip / 2

    (NTP's four-timestamp formula with the server's receive and send stamps taken as one.) The
    browser then shows ``deadline − (Date.now() + offset)`` and, over several pings, keeps the
    offset of the shortest round trip, the most precise.
    """
    _aware(server_sent, "服务器发送时间")
    _aware(client_received, "浏览器接收时间")
    _aware(client_sent, "浏览器发送时间")
    round_trip = client_received - client_sent
    if round_trip < timedelta(0):
        raise ValueError(
            f"浏览器接收时间 {_at(client_received)} 早于发送时间 {_at(client_sent)}：请核对这次测时"
        )
    midpoint = client_sent + round_trip / 2
    return ClockOffset(offset=server_sent - midpoint, round_trip=round_trip)
