"""The sitting clock: allowed time, deadline through pauses and extensions, grace, client offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.delivery.clock import DEFAULT_GRACE, Clock, client_offset

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def running(minutes: int = 90, **kw: object) -> Clock:
    return Clock(duration=timedelta(minutes=minutes), started_at=T0, **kw)  # type: ignore[arg-type]


# --- allowed time -------------------------------------------------------------------------


def test_allowed_is_duration_times_extra_plus_extensions() -> None:
    clock = Clock(HOUR, extra_ratio=Decimal("0.5"), extensions=(10 * MIN, 5 * MIN))
    assert clock.allowed() == timedelta(minutes=105)


def test_extra_time_rounds_up_to_the_second_in_the_candidates_favour() -> None:
    assert Clock(7 * SEC, extra_ratio=Decimal("0.5")).allowed() == 11 * SEC  # 3.5 s → 4 s
    assert Clock(HOUR, extra_ratio=Decimal("0.333")).allowed() == HOUR + 1199 * SEC  # 1198.8


def test_extra_ratio_of_one_doubles_the_time() -> None:
    assert Clock(HOUR, extra_ratio=Decimal(1)).allowed() == 2 * HOUR


# --- before the start ---------------------------------------------------------------------


def test_before_the_start_there_is_no_deadline_and_all_the_time_remains() -> None:
    clock = Clock(90 * MIN)
    assert clock.deadline(T0) is None
    assert clock.closes_at(T0) is None
    assert clock.remaining(T0) == 90 * MIN
    assert not clock.is_started
    assert not clock.accepts_answer_at(T0)
    assert not clock.is_over(T0 + 10 * HOUR)


# --- running ------------------------------------------------------------------------------


def test_deadline_and_remaining_while_running() -> None:
    clock = running(90)
    assert clock.deadline(at(10)) == at(90)
    assert clock.remaining(at(60)) == 30 * MIN
    assert clock.remaining(at(200)) == timedelta(0)  # never negative
    assert clock.elapsed(at(60)) == HOUR


def test_an_instant_before_the_recorded_start_has_all_the_time() -> None:
    # another server process's clock may be a few milliseconds behind
    clock = running(90)
    early = T0 - timedelta(milliseconds=3)
    assert clock.remaining(early) == 90 * MIN
    assert clock.accepts_answer_at(early)


def test_an_extension_granted_while_running_moves_the_deadline_at_once() -> None:
    clock = running(90)
    assert clock.remaining(at(80)) == 10 * MIN
    extended = clock.extend(15 * MIN)
    assert extended.deadline(at(80)) == at(105)
    assert extended.remaining(at(80)) == 25 * MIN


# --- grace --------------------------------------------------------------------------------


def test_grace_accepts_late_arrivals_but_never_shows_as_time() -> None:
    clock = running(90)
    deadline = at(90)
    assert clock.grace == DEFAULT_GRACE == 5 * SEC
    assert clock.remaining(deadline) == timedelta(0)
    assert clock.accepts_answer_at(deadline + 4 * SEC)
    assert not clock.is_over(deadline + 4 * SEC)
    assert not clock.accepts_answer_at(deadline + 5 * SEC)
    assert clock.is_over(deadline + 5 * SEC)
    assert clock.closes_at(at(0)) == deadline + 5 * SEC


def test_zero_grace_closes_at_the_deadline() -> None:
    clock = running(90, grace=timedelta(0))
    assert clock.accepts_answer_at(at(90) - timedelta(microseconds=1))
    assert not clock.accepts_answer_at(at(90))
    assert clock.is_over(at(90))


# --- pauses -------------------------------------------------------------------------------


def test_a_finished_pause_credits_its_length() -> None:
    clock = running(90, pauses=((at(30), at(40)),))
    assert not clock.is_paused
    assert clock.deadline(at(50)) == at(100)
    assert clock.remaining(at(50)) == 50 * MIN
    assert clock.paused_for(at(50)) == 10 * MIN


def test_the_clock_answers_for_past_instants_from_the_history() -> None:
    clock = running(90, pauses=((at(30), at(40)),))
    assert clock.deadline(at(20)) == at(90)  # the pause had not happened yet
    assert clock.deadline(at(35)) == at(95)  # half of it had
    assert clock.paused_at(at(35))
    assert not clock.paused_at(at(40))  # the end is exclusive
    assert not clock.accepts_answer_at(at(35))
    assert clock.accepts_answer_at(at(20))
    assert clock.accepts_answer_at(at(40))


def test_during_an_open_pause_remaining_is_frozen_and_the_deadline_moves() -> None:
    clock = running(90).pause(at(30))
    assert clock.is_paused
    assert clock.remaining(at(31)) == clock.remaining(at(300)) == HOUR
    assert clock.deadline(at(31)) == at(91)
    assert clock.deadline(at(300)) == at(360)
    assert not clock.accepts_answer_at(at(31))
    assert not clock.is_over(at(10_000))  # a paused sitting is never over


def test_resume_fixes_the_deadline() -> None:
    clock = running(90).pause(at(30)).resume(at(45))
    assert clock.pauses == ((at(30), at(45)),)
    assert clock.deadline(at(50)) == clock.deadline(at(500)) == at(105)
    assert clock.accepts_answer_at(at(104))


def test_several_pauses_add_up_and_may_touch() -> None:
    clock = running(90, pauses=((at(10), at(20)), (at(20), at(25)), (at(50), None)))
    assert clock.paused_for(at(60)) == 25 * MIN
    assert clock.remaining(at(60)) == 55 * MIN  # 60 min passed, 25 of them paused


def test_an_extension_during_a_pause_counts_after_it() -> None:
    clock = running(90).pause(at(30)).extend(10 * MIN)
    assert clock.remaining(at(40)) == 70 * MIN
    assert clock.resume(at(40)).deadline(at(41)) == at(110)


# --- nonsense is refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": timedelta(0)}, "考试时长必须大于 0"),
        ({"extra_ratio": Decimal("1.5")}, "额外时间比例 1.5 超出范围"),
        ({"extra_ratio": Decimal("-0.1")}, "超出范围"),
        ({"extra_ratio": Decimal("NaN")}, "应为 Decimal"),
        ({"extra_ratio": 0.5}, "应为 Decimal"),
        ({"extensions": (5 * MIN, -MIN)}, "第 2 次延时为负"),
        ({"grace": -SEC}, "宽限时间"),
        ({"grace": 2 * MIN}, "只用于抵消网络延迟"),
        ({"started_at": datetime(2026, 6, 1, 9, 0)}, "开考时间（2026-06-01T09:00:00）缺少时区"),
        ({"pauses": ((at(40), at(30)),)}, "第 1 次暂停结束于 .*早于开始"),
        ({"pauses": ((at(10), at(30)), (at(20), at(40)))}, "第 2 次暂停开始于 .*暂停不能重叠"),
        ({"pauses": ((at(-5), at(10)),)}, "第 1 次暂停开始于 .*早于开考时间"),
        ({"pauses": ((at(10), None), (at(20), at(30)))}, "第 1 次暂停尚未结束"),
        ({"pauses": ((at(90), None),)}, "已过截止时间 .*不能暂停"),
        ({"pauses": ((T0.replace(tzinfo=None), None),)}, "开始时间.*缺少时区"),
        ({"pauses": ((at(10), at(20).replace(tzinfo=None)),)}, "结束时间.*缺少时区"),
    ],
)
def test_nonsense_clocks_are_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"duration": 90 * MIN, "started_at": T0, **kwargs}
    with pytest.raises(ValueError, match=message):
        Clock(**fields)  # type: ignore[arg-type]


def test_pauses_without_a_start_are_refused() -> None:
    with pytest.raises(ValueError, match="尚未开考就有暂停记录"):
        Clock(HOUR, pauses=((T0, None),))


def test_naive_query_times_are_refused() -> None:
    with pytest.raises(ValueError, match=r"查询时间.*缺少时区"):
        running().remaining(datetime(2026, 6, 1, 9, 30))


def test_steps_that_make_no_sense_are_refused() -> None:
    with pytest.raises(ValueError, match="不能再次开考"):
        running().start(at(1))
    with pytest.raises(ValueError, match="尚未开考，不能暂停"):
        Clock(HOUR).pause(T0)
    with pytest.raises(ValueError, match="不能重复暂停"):
        running().pause(at(1)).pause(at(2))
    with pytest.raises(ValueError, match="当前没有暂停"):
        running().resume(at(1))
    with pytest.raises(ValueError, match="早于开始"):
        running().pause(at(10)).resume(at(5))
    with pytest.raises(ValueError, match="延时为负"):
        running().extend(-SEC)
    with pytest.raises(ValueError, match="不能暂停"):
        running(90).pause(at(95))


def test_start_records_the_start() -> None:
    assert Clock(HOUR).start(T0) == Clock(HOUR, started_at=T0)


# --- properties ---------------------------------------------------------------------------


@st.composite
def clocks(draw: st.DrawFn) -> Clock:
    """A started clock with random pauses (the last maybe open) and extensions."""
    duration = timedelta(minutes=draw(st.integers(1, 180)))
    clock = Clock(
        duration,
        started_at=T0,
        extra_ratio=Decimal(draw(st.integers(0, 100))) / 100,
        extensions=tuple(MIN * m for m in draw(st.lists(st.integers(0, 30), max_size=3))),
        grace=SEC * draw(st.integers(0, 60)),
    )
    moment = T0
    for _ in range(draw(st.integers(0, 4))):
        moment += SEC * draw(st.integers(0, 3600))
        if moment >= clock.deadline(moment):  # type: ignore[operator]
            break
        clock = clock.pause(moment)
        if draw(st.booleans()):
            break
        moment += SEC * draw(st.integers(0, 3600))
        clock = clock.resume(moment)
    return clock


instants = st.integers(-600, 6 * 3600).map(lambda s: T0 + SEC * s)


@SETTINGS
@given(clocks(), instants, instants)
def test_time_only_runs_forward(clock: Clock, a: datetime, b: datetime) -> None:
    early, late = sorted((a, b))
    assert clock.deadline(early) <= clock.deadline(late)  # type: ignore[operator]
    assert clock.remaining(early) >= clock.remaining(late) >= timedelta(0)
    assert clock.remaining(early) <= clock.allowed()


@SETTINGS
@given(clocks(), instants)
def test_remaining_is_the_deadline_minus_now_until_it_passes(clock: Clock, now: datetime) -> None:
    deadline = clock.deadline(now)
    assert deadline is not None
    if now >= T0:
        assert clock.remaining(now) == max(deadline - now, timedelta(0))
        assert clock.elapsed(now) + clock.remaining(now) == max(clock.allowed(), clock.elapsed(now))


@SETTINGS
@given(clocks(), instants, st.integers(1, 3600))
def test_remaining_stands_still_inside_a_pause(clock: Clock, now: datetime, later: int) -> None:
    if clock.paused_at(now) and clock.paused_at(now + SEC * later):
        assert clock.remaining(now) == clock.remaining(now + SEC * later)


@SETTINGS
@given(clocks(), instants)
def test_accepting_and_over_exclude_each_other(clock: Clock, now: datetime) -> None:
    accepts, over = clock.accepts_answer_at(now), clock.is_over(now)
    assert not (accepts and over)
    assert (accepts or over) == (not clock.paused_at(now))
    closes = clock.closes_at(now)
    assert closes is not None
    assert accepts == (not clock.paused_at(now) and now < closes)


@SETTINGS
@given(clocks(), instants)
def test_the_running_deadline_is_the_deadline_at_any_later_instant(
    clock: Clock, now: datetime
) -> None:
    """What the database stores may stand in for the clock whenever the clock runs."""
    stored = clock.running_deadline()
    if clock.is_paused:
        assert stored is None
        return
    last = clock.pauses[-1][1] if clock.pauses else T0
    assert last is not None
    later = max(now, last)
    assert stored == clock.deadline(later)
    assert clock.accepts_answer_at(later) == (later < stored + clock.grace)  # type: ignore[operator]


def test_no_running_deadline_before_the_start() -> None:
    assert Clock(HOUR).running_deadline() is None


# --- client offset ------------------------------------------------------------------------


def test_offset_of_a_client_behind_the_server() -> None:
    # the PC clock is 2 s slow; 100 ms each way
    client_sent = T0
    server_sent = T0 + 2 * SEC + timedelta(milliseconds=100)
    client_received = T0 + timedelta(milliseconds=200)
    measured = client_offset(server_sent, client_received, client_sent)
    assert measured.offset == 2 * SEC
    assert measured.round_trip == timedelta(milliseconds=200)
    assert measured.uncertainty == timedelta(milliseconds=100)


def test_offset_of_a_client_ahead_is_negative() -> None:
    measured = client_offset(T0, T0 + 30 * SEC, T0 + 30 * SEC)
    assert measured.offset == -30 * SEC
    assert measured.round_trip == timedelta(0)


def test_offset_refuses_a_reply_received_before_it_was_sent() -> None:
    with pytest.raises(ValueError, match=r"浏览器接收时间 .*早于发送时间"):
        client_offset(T0, T0, T0 + SEC)
    with pytest.raises(ValueError, match=r"服务器发送时间.*缺少时区"):
        client_offset(datetime(2026, 6, 1), T0, T0)


@SETTINGS
@given(
    st.integers(-3_600_000, 3_600_000),  # true offset, ms
    st.integers(0, 5_000),  # delay out, ms
    st.integers(0, 5_000),  # delay back, ms
)
def test_the_true_offset_lies_within_the_uncertainty(true_ms: int, out: int, back: int) -> None:
    ms = timedelta(milliseconds=1)
    client_sent = T0
    server_sent = client_sent + out * ms + true_ms * ms  # on the server's clock
    client_received = client_sent + (out + back) * ms
    measured = client_offset(server_sent, client_received, client_sent)
    assert abs(measured.offset - true_ms * ms) <= measured.uncertainty
    if out == back:
        assert measured.offset == true_ms * ms
