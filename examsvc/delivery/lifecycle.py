"""The sitting state machine: one candidate's one exam part, from registration to submission.

    registered ─check_in→ checked_in ─admit→ waiting ─start→ in_progress ⇄ paused
    in_progress ─submit / force_submit→ submitted, ─auto_submit→ auto_submitted
    paused ─force_submit→ submitted;  any state but voided ─void→ voided (取消成绩)

The table says which actor may cause each step. Who may do what follows the exam room: the
candidate signs in, starts once the room is open, and submits; the invigilator checks in at the
door, authorizes, pauses, resumes, forces a submission or voids; the system admits when no
authorization is needed, starts at a scheduled time and submits at the deadline. A paused
sitting is never auto-submitted: its clock stands still. The service stores every step with
its time and actor; this module only decides whether a step is allowed.
"""

from __future__ import annotations

STATES = (
    "registered",
    "checked_in",
    "waiting",
    "in_progress",
    "paused",
    "submitted",
    "auto_submitted",
    "voided",
)
FINAL_STATES = frozenset({"submitted", "auto_submitted", "voided"})
# Names for the invigilator board and for messages ("已交卷的考试不能再暂停").
STATE_NAMES = {
    "registered": "未签到",
    "checked_in": "已签到",
    "waiting": "候考中",
    "in_progress": "答题中",
    "paused": "已暂停",
    "submitted": "已交卷",
    "auto_submitted": "已自动交卷",
    "voided": "已作废",
}
EVENTS = (
    "check_in",
    "admit",
    "start",
    "pause",
    "resume",
    "submit",
    "force_submit",
    "auto_submit",
    "void",
)
EVENT_NAMES = {
    "check_in": "签到",
    "admit": "进入候考",
    "start": "开始答题",
    "pause": "暂停",
    "resume": "继续",
    "submit": "交卷",
    "force_submit": "强制交卷",
    "auto_submit": "到时自动交卷",
    "void": "作废",
}
ACTORS = ("candidate", "invigilator", "system")
ACTOR_NAMES = {"candidate": "考生", "invigilator": "监考员", "system": "系统"}

_CANDIDATE = frozenset({"candidate"})
_INVIGILATOR = frozenset({"invigilator"})
_SYSTEM = frozenset({"system"})

# (state, event) → (next state, the actors who may cause it). Nothing else is allowed.
TRANSITIONS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("registered", "check_in"): ("checked_in", _CANDIDATE | _INVIGILATOR),
    ("checked_in", "admit"): ("waiting", _INVIGILATOR | _SYSTEM),
    ("waiting", "start"): ("in_progress", _CANDIDATE | _INVIGILATOR | _SYSTEM),
    ("in_progress", "pause"): ("paused", _INVIGILATOR),
    ("paused", "resume"): ("in_progress", _INVIGILATOR),
    ("in_progress", "submit"): ("submitted", _CANDIDATE),
    ("in_progress", "force_submit"): ("submitted", _INVIGILATOR),
    ("paused", "force_submit"): ("submitted", _INVIGILATOR),
    ("in_progress", "auto_submit"): ("auto_submitted", _SYSTEM),
    # Misconduct found at or after submission still cancels the result (取消成绩).
    **{(s, "void"): ("voided", _INVIGILATOR) for s in STATES if s != "voided"},
}


class TransitionError(ValueError):
    """A step the state machine does not allow; the message says why in Chinese."""

    def __init__(self, message: str, state: str, event: str, actor_kind: str) -> None:
        super().__init__(message)
        self.state = state
        self.event = event
        self.actor_kind = actor_kind


def _check_known(state: str, event: str, actor_kind: str) -> None:
    for value, known, what in (
        (state, STATES, "状态"),
        (event, EVENTS, "操作"),
        (actor_kind, ACTORS, "操作者"),
    ):
        if value not in known:
            raise TransitionError(
                f"未知的{what}“{value}”：应为 {'、'.join(known)} 之一", state, event, actor_kind
            )


def _names(events: tuple[str, ...]) -> str:
    return "、".join(EVENT_NAMES[e] for e in events)


def transition(state: str, event: str, actor_kind: str) -> str:
    """The state after ``event`` caused by ``actor_kind``; TransitionError if not allowed."""
    _check_known(state, event, actor_kind)
    step = TRANSITIONS.get((state, event))
    if step is None:
        name = STATE_NAMES[state]
        if state in FINAL_STATES:
            message = f"{name}的考试不能再{EVENT_NAMES[event]}"
        else:
            possible = tuple(e for e in EVENTS if (state, e) in TRANSITIONS)
            message = f"{name}的考试不能{EVENT_NAMES[event]}：当前只能{_names(possible)}"
        raise TransitionError(message, state, event, actor_kind)
    target, actors = step
    if actor_kind not in actors:
        who = "或".join(ACTOR_NAMES[a] for a in ACTORS if a in actors)
        raise TransitionError(
            f"{ACTOR_NAMES[actor_kind]}不能{EVENT_NAMES[event]}（{STATE_NAMES[state]}）：只有{who}可以",
            state,
            event,
            actor_kind,
        )
    return target


def allowed_events(state: str, actor_kind: str) -> tuple[str, ...]:
    """The events ``actor_kind`` may cause in ``state``, in EVENTS order (e.g. for buttons)."""
    _check_known(state, EVENTS[0], actor_kind)
    return tuple(
        e
        for e in EVENTS
        if (step := TRANSITIONS.get((state, e))) is not None and actor_kind in step[1]
    )
