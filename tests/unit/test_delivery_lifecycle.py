"""The sitting state machine: every (state, event, actor) against the expected table."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.delivery.lifecycle import (
    ACTORS,
    EVENTS,
    FINAL_STATES,
    STATE_NAMES,
    STATES,
    TransitionError,
    allowed_events,
    transition,
)

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)

# Written out by hand, independently of the module's table: (state, event, actor) → next state.
CAND, INV, SYS = "candidate", "invigilator", "system"
EXPECTED = {
    ("registered", "check_in", CAND): "checked_in",
    ("registered", "check_in", INV): "checked_in",
    ("checked_in", "admit", INV): "waiting",
    ("checked_in", "admit", SYS): "waiting",
    ("waiting", "start", CAND): "in_progress",
    ("waiting", "start", INV): "in_progress",
    ("waiting", "start", SYS): "in_progress",
    ("in_progress", "pause", INV): "paused",
    ("paused", "resume", INV): "in_progress",
    ("in_progress", "submit", CAND): "submitted",
    ("in_progress", "force_submit", INV): "submitted",
    ("paused", "force_submit", INV): "submitted",
    ("in_progress", "auto_submit", SYS): "auto_submitted",
    ("registered", "void", INV): "voided",
    ("checked_in", "void", INV): "voided",
    ("waiting", "void", INV): "voided",
    ("in_progress", "void", INV): "voided",
    ("paused", "void", INV): "voided",
    ("submitted", "void", INV): "voided",
    ("auto_submitted", "void", INV): "voided",
}
EVERY = list(itertools.product(STATES, EVENTS, ACTORS))


def test_the_vocabulary() -> None:
    assert len(STATES) == 8 and len(EVENTS) == 9 and len(ACTORS) == 3
    assert {"submitted", "auto_submitted", "voided"} == FINAL_STATES
    assert set(STATE_NAMES) == set(STATES)


@pytest.mark.parametrize(("state", "event", "actor"), EVERY)
def test_every_combination_follows_the_table(state: str, event: str, actor: str) -> None:
    expected = EXPECTED.get((state, event, actor))
    if expected is not None:
        assert transition(state, event, actor) == expected
    else:
        with pytest.raises(TransitionError) as caught:
            transition(state, event, actor)
        error = caught.value
        assert (error.state, error.event, error.actor_kind) == (state, event, actor)
        assert STATE_NAMES[state] in str(error)  # the message names the state


def _message(state: str, event: str, actor: str) -> str:
    with pytest.raises(TransitionError) as caught:
        transition(state, event, actor)
    return str(caught.value)


def test_a_finished_sitting_says_it_cannot_be_changed_again() -> None:
    assert _message("submitted", "pause", INV) == "已交卷的考试不能再暂停"
    assert _message("auto_submitted", "submit", CAND) == "已自动交卷的考试不能再交卷"
    assert _message("voided", "void", INV) == "已作废的考试不能再作废"


def test_a_step_out_of_order_says_what_is_possible() -> None:
    assert _message("registered", "start", CAND) == "未签到的考试不能开始答题：当前只能签到、作废"
    assert (
        _message("paused", "auto_submit", SYS)
        == "已暂停的考试不能到时自动交卷：当前只能继续、强制交卷、作废"
    )


def test_a_step_by_the_wrong_actor_says_who_may() -> None:
    assert _message("in_progress", "pause", CAND) == "考生不能暂停（答题中）：只有监考员可以"
    assert _message("in_progress", "submit", INV) == "监考员不能交卷（答题中）：只有考生可以"
    assert (
        _message("checked_in", "admit", CAND) == "考生不能进入候考（已签到）：只有监考员或系统可以"
    )


@pytest.mark.parametrize(
    ("state", "event", "actor", "what"),
    [
        ("finished", "submit", "candidate", "未知的状态“finished”"),
        ("in_progress", "teleport", "candidate", "未知的操作“teleport”"),
        ("in_progress", "submit", "proctor", "未知的操作者“proctor”"),
    ],
)
def test_unknown_words_are_refused(state: str, event: str, actor: str, what: str) -> None:
    with pytest.raises(TransitionError, match=what):
        transition(state, event, actor)


@pytest.mark.parametrize(("state", "actor"), list(itertools.product(STATES, ACTORS)))
def test_allowed_events_are_exactly_those_that_succeed(state: str, actor: str) -> None:
    expected = tuple(e for e in EVENTS if (state, e, actor) in EXPECTED)
    assert allowed_events(state, actor) == expected


def test_the_usual_path() -> None:
    state = "registered"
    for event, actor in [
        ("check_in", CAND),
        ("admit", SYS),
        ("start", CAND),
        ("pause", INV),
        ("resume", INV),
        ("submit", CAND),
    ]:
        state = transition(state, event, actor)
    assert state == "submitted"


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(EVENTS), st.sampled_from(ACTORS)), max_size=40))
def test_random_sequences_never_leave_a_final_state(steps: list[tuple[str, str]]) -> None:
    state = "registered"
    for event, actor in steps:
        before = state
        try:
            state = transition(state, event, actor)
        except TransitionError:
            continue
        assert before not in FINAL_STATES  # nothing succeeds from a final state
        assert state in STATES


@SETTINGS
@given(st.data())
def test_walks_along_allowed_steps_end_final_and_stay_there(data: st.DataObject) -> None:
    # Random walks through allowed steps only, so final states are reached often.
    state = "registered"
    for _ in range(30):
        steps = [(e, a) for a in ACTORS for e in allowed_events(state, a)]
        if not steps:
            break
        event, actor = data.draw(st.sampled_from(steps))
        state = transition(state, event, actor)
    if state in FINAL_STATES:
        for event, actor in itertools.product(EVENTS, ACTORS):
            with pytest.raises(TransitionError):
                transition(state, event, actor)
