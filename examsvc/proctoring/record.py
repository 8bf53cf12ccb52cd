"""The room record (考场情况记录表): who was expected and who came, what happened in the room and
what the invigilators did about it, with their reasons.

Everything comes from what is stored: the registrations and sign-ins, the sittings with their
event log (transitions, anomalies, automatic time credit) and the invigilators' append-only
audit log. ``room_record`` gathers it into plain data (no Flask); the HTML page and the PDF
(``record_pdf``, laid out with the tickets' ``Page`` and printed by ``pdf_document``) are two
renderings of the same ``RoomRecord``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ..assembly.models import PaperItem
from ..delivery.lifecycle import STATE_NAMES
from ..delivery.models import CandidateLogin, Sitting, SittingEvent
from ..delivery.services import ANOMALY_KINDS, ANOMALY_NAMES, aware
from ..extensions import db
from ..plans.admission_ticket import (
    MARGIN,
    PAGE_H,
    PAGE_W,
    PT,
    Box,
    Measure,
    Page,
    pdf_document,
    wrap,
)
from ..plans.models import SITE_TZ, ExamPlan
from ..registration.models import Registration
from ..sites.models import Room
from .actions import ACTIONS, Reason
from .services import actions_in, registrations_in

PRESENT_LOGINS = ("live", "replaced")  # a sign-in the candidate actually used
STARTED_STATES = ("in_progress", "paused", "submitted", "auto_submitted")
SUBMITTED_STATES = ("submitted", "auto_submitted")
VIOLATIONS = ("warn", "void")
SYSTEM = "系统"


def local(moment: datetime | None) -> datetime | None:
    """A stored UTC time as the site's wall-clock time (every site is in China, UTC+8)."""
    moment = aware(moment)
    return None if moment is None else moment.astimezone(SITE_TZ).replace(tzinfo=None)


@dataclass(frozen=True)
class SessionLine:
    part: str
    name: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int


@dataclass(frozen=True)
class PartMark:
    """One candidate's one part as it stands: state, times, progress and extra time."""

    part: str
    name: str
    state: str
    state_name: str
    started_at: datetime | None
    ended_at: datetime | None
    answered: int
    total: int
    extended_minutes: int


@dataclass(frozen=True)
class Candidate:
    registration_id: int
    seat: int
    seat_label: str
    ticket_number: str
    name: str
    signed_in_at: datetime | None
    parts: tuple[PartMark, ...]

    @property
    def present(self) -> bool:
        return self.signed_in_at is not None or any(p.started_at for p in self.parts)

    @property
    def who(self) -> str:
        """``3排4列 王子涵（260001001010035）`` for incident and violation lines."""
        return f"{self.short}（{self.ticket_number}）"

    @property
    def short(self) -> str:
        """``3排4列 王子涵`` where a list of names must stay short."""
        return f"{self.seat_label} {self.name}" if self.seat_label else self.name


@dataclass(frozen=True)
class Anomaly:
    at: datetime
    part_name: str
    kind: str
    text: str
    detail: str


@dataclass(frozen=True)
class Incident:
    """A candidate's anomalies (focus lost, copy, a second sign-in …), oldest first."""

    candidate: Candidate
    anomalies: tuple[Anomaly, ...]


@dataclass(frozen=True)
class Violation:
    at: datetime
    action: str  # warn | void
    name: str  # 违纪警告 | 取消成绩
    candidate: Candidate
    reason: str
    actor: str
    message: str


@dataclass(frozen=True)
class ActionLine:
    """One action of the room's log: an invigilator's (audit log) or the system's (time credit)."""

    at: datetime
    actor: str
    action: str
    name: str
    part_name: str
    scope: str  # room | candidates
    reason: str
    reached: tuple[str, ...]  # who it reached (``Candidate.short``)
    skipped: tuple[str, ...]  # ``why not：who、who``, one line per reason
    detail: str  # +10 分钟, the message sent, the start code …

    @property
    def target(self) -> str:
        if self.scope == "room":
            return f"整个考场（{len(self.reached)} 人）"
        return "、".join(self.reached) if self.reached else "—"


@dataclass(frozen=True)
class SubmissionSpan:
    part_name: str
    submitted: int
    earliest: tuple[datetime, str] | None  # (time, who)
    latest: tuple[datetime, str] | None


@dataclass(frozen=True)
class RoomRecord:
    plan_id: int
    room_id: int
    plan_title: str
    certificate: str
    level: str
    batch: str
    site: str
    address: str
    room: str
    sessions: tuple[SessionLine, ...]
    invigilators: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    incidents: tuple[Incident, ...]
    violations: tuple[Violation, ...]
    actions: tuple[ActionLine, ...]
    submissions: tuple[SubmissionSpan, ...]
    zero_answers: tuple[tuple[Candidate, str], ...]  # (candidate, part name) submitted blank
    made_at: datetime

    @property
    def expected(self) -> int:
        return len(self.candidates)

    @property
    def present(self) -> int:
        return sum(1 for c in self.candidates if c.present)

    @property
    def absentees(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if not c.present)

    @property
    def absent(self) -> int:
        return len(self.absentees)


def _detail(action: str, data: dict[str, object]) -> str:
    bits = []
    if action == "extend" and data.get("minutes"):
        bits.append(f"+{data['minutes']} 分钟")
    if action == "start_code":
        code = data.get("start_code")
        bits.append(f"开考码 {code}" if code else "取消开考码")
    if action == "require_authorization" and "enabled" in data:
        bits.append("开启" if data["enabled"] else "关闭")
    if data.get("message"):
        bits.append(f"「{data['message']}」")
    return "；".join(bits)


def _grouped(skipped: Sequence[dict[str, Any]], who: Callable[[int], str]) -> tuple[str, ...]:
    """Skipped candidates by reason: ``未签到的考试不能暂停：王子涵（…）、李浩然（…）``."""
    by: dict[str, list[str]] = {}
    for s in skipped:
        by.setdefault(str(s.get("message", "")), []).append(who(int(s["registration_id"])))
    return tuple(f"{message}：{'、'.join(names)}" for message, names in by.items())


def room_record(plan: ExamPlan, room: Room, now: datetime) -> RoomRecord:
    """The record of one room of a plan as it stands at ``now``."""
    regs = registrations_in(plan, room.id)
    ids = [r.id for r in regs]
    part_names = {s.part_kind: s.part_name for s in plan.sessions}
    sittings: dict[int, dict[str, Sitting]] = {}
    for s in db.session.scalars(select(Sitting).where(Sitting.registration_id.in_(ids))):
        sittings.setdefault(s.registration_id, {})[s.part_kind] = s
    papers = {r.paper_id for r in regs if r.paper_id is not None}
    totals: dict[tuple[int, str], int] = {}
    if papers:
        rows = db.session.execute(
            select(PaperItem.paper_id, PaperItem.part_kind, func.count())
            .where(PaperItem.paper_id.in_(papers))
            .group_by(PaperItem.paper_id, PaperItem.part_kind)
        )
        totals = {(p, k): n for p, k, n in rows}
    first_login: dict[int, datetime] = {}
    for login in db.session.scalars(
        select(CandidateLogin)
        .where(CandidateLogin.registration_id.in_(ids), CandidateLogin.state.in_(PRESENT_LOGINS))
        .order_by(CandidateLogin.id)
    ):
        at = local(login.created_at)
        if at is not None:
            first_login.setdefault(login.registration_id, at)

    candidates: dict[int, Candidate] = {}
    for reg in regs:
        marks = []
        for session in plan.sessions:
            one = sittings.get(reg.id, {}).get(session.part_kind)
            state = one.state if one is not None else "registered"
            marks.append(
                PartMark(
                    part=session.part_kind,
                    name=session.part_name,
                    state=state,
                    state_name=STATE_NAMES[state],
                    started_at=local(one.started_at) if one is not None else None,
                    ended_at=local(one.ended_at) if one is not None else None,
                    answered=one.answered if one is not None else 0,
                    total=totals.get((reg.paper_id or 0, session.part_kind), 0),
                    extended_minutes=sum(one.extensions or ()) // 60 if one is not None else 0,
                )
            )
        candidates[reg.id] = Candidate(
            registration_id=reg.id,
            seat=reg.seat or 0,
            seat_label=room.seatmap.label(reg.seat) if reg.seat else "",
            ticket_number=reg.ticket_number or "",
            name=reg.candidate.name,
            signed_in_at=first_login.get(reg.id),
            parts=tuple(marks),
        )

    sitting_ids = {s.id: s for per in sittings.values() for s in per.values()}
    events = list(
        db.session.scalars(
            select(SittingEvent)
            .where(SittingEvent.sitting_id.in_(list(sitting_ids)))
            .order_by(SittingEvent.id)
        )
    )
    anomalies: dict[int, list[Anomaly]] = {}
    credits: list[ActionLine] = []
    for e in events:
        sitting = sitting_ids[e.sitting_id]
        at = local(e.at)
        assert at is not None
        if e.kind in ANOMALY_KINDS and e.kind != "focus_back":
            anomalies.setdefault(sitting.registration_id, []).append(
                Anomaly(
                    at=at,
                    part_name=part_names.get(sitting.part_kind, sitting.part_kind),
                    kind=e.kind,
                    text=ANOMALY_NAMES.get(e.kind, e.kind),
                    detail=str((e.data or {}).get("detail", "") or (e.data or {}).get("ip", "")),
                )
            )
        elif e.kind == "outage_credit":
            seconds = int((e.data or {}).get("seconds", 0))
            credits.append(
                ActionLine(
                    at=at,
                    actor=SYSTEM,
                    action="outage_credit",
                    name="自动补时",
                    part_name=part_names.get(sitting.part_kind, sitting.part_kind),
                    scope="candidates",
                    reason=e.reason,
                    reached=(candidates[sitting.registration_id].short,),
                    skipped=(),
                    detail=f"+{seconds // 60} 分 {seconds % 60} 秒",
                )
            )

    def who(reg_id: int) -> str:
        known = candidates.get(reg_id)
        if known is not None:
            return known.short
        other = db.session.get(Registration, reg_id)  # moved to another room since
        return other.candidate.name if other else f"报名号 {reg_id}"

    lines: list[ActionLine] = []
    violations: list[Violation] = []
    for record in actions_in(plan, room.id):
        at = local(record.at)
        assert at is not None
        actor = record.actor.display_name if record.actor else SYSTEM
        reason = Reason(record.reason_category, record.reason_code, record.reason_text).label
        data = record.data or {}
        name = ACTIONS[record.action][0] if record.action in ACTIONS else record.action
        lines.append(
            ActionLine(
                at=at,
                actor=actor,
                action=record.action,
                name=name,
                part_name=part_names.get(record.part_kind, record.part_kind),
                scope=record.scope,
                reason=reason,
                reached=tuple(who(r) for r in record.applied or ()),
                skipped=_grouped(record.skipped or (), who),
                detail=_detail(record.action, data),
            )
        )
        if record.action in VIOLATIONS:
            for reg_id in record.applied or ():
                if reg_id in candidates:
                    violations.append(
                        Violation(
                            at=at,
                            action=record.action,
                            name=name,
                            candidate=candidates[reg_id],
                            reason=reason,
                            actor=actor,
                            message=str(data.get("message", "")),
                        )
                    )

    spans = []
    zero: list[tuple[Candidate, str]] = []
    for session in plan.sessions:
        done = []
        for c in candidates.values():
            mark = next(p for p in c.parts if p.part == session.part_kind)
            if mark.state in SUBMITTED_STATES and mark.ended_at is not None:
                done.append((mark.ended_at, c.short))
                if mark.answered == 0:
                    zero.append((c, session.part_name))
        done.sort()
        spans.append(
            SubmissionSpan(
                session.part_name, len(done), done[0] if done else None, done[-1] if done else None
            )
        )

    made_at = local(now)
    assert made_at is not None
    return RoomRecord(
        plan_id=plan.id,
        room_id=room.id,
        plan_title=plan.title,
        certificate=plan.level.certificate.name,
        level=plan.level.name,
        batch=plan.batch,
        site=room.site.name,
        address=room.site.address,
        room=room.name,
        sessions=tuple(
            SessionLine(s.part_kind, s.part_name, s.starts_at, s.ends_at, s.duration_minutes)
            for s in plan.sessions
        ),
        invigilators=tuple(
            s.user.display_name
            for s in plan.staff
            if s.role == "invigilator" and s.room_id == room.id
        ),
        candidates=tuple(candidates.values()),
        incidents=tuple(
            Incident(candidates[reg_id], tuple(found))
            for reg_id, found in sorted(anomalies.items(), key=lambda kv: candidates[kv[0]].seat)
        ),
        violations=tuple(violations),
        actions=tuple(sorted(lines + credits, key=lambda line: line.at)),
        submissions=tuple(spans),
        zero_answers=tuple(zero),
        made_at=made_at,
    )


# ---- PDF -----------------------------------------------------------------------------------------

WIDTH = PAGE_W - 2 * MARGIN
FOOTER_H = 10.0
REMARKS_H = 28.0
SIGN_H = 11.0
LINE = 1.35  # line height in em, as Page.lines sets it


def _hm(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%H:%M:%S}"


class _Flow:
    """Headings, paragraphs and tables down A4 pages; a table's header repeats on each page."""

    def __init__(self, measure: Measure, title: str) -> None:
        self.measure = measure
        self.title = title
        self.pages: list[Page] = []
        self._new_page()

    def _new_page(self) -> None:
        self.page = Page(self.measure)
        self.pages.append(self.page)
        self.y = MARGIN

    def _room(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN - FOOTER_H:
            self._new_page()

    def title_block(self, title: str) -> None:
        self.page.lines([title], MARGIN, self.y, WIDTH, 10, 18, align="center", bold=True)
        self.y += 13

    def heading(self, text: str) -> None:
        self._room(8 + 12)  # never a heading alone at the foot of a page
        self.y += 2
        self.page.lines([text], MARGIN, self.y, WIDTH, 7, 12, bold=True)
        self.y += 8

    def paragraph(self, text: str, size: float = 10.5) -> None:
        step = size * PT * LINE
        for line in wrap(text, WIDTH - 4, size, self.measure):
            self._room(step)
            self.page.lines([line], MARGIN, self.y, WIDTH, step, size)
            self.y += step
        self.y += 1

    def table(
        self,
        columns: Sequence[tuple[str, float]],
        rows: Sequence[Sequence[str]],
        size: float = 9,
    ) -> None:
        scale = WIDTH / sum(w for _, w in columns)
        widths = [w * scale for _, w in columns]
        step = size * PT * LINE

        def row_height(cells: list[list[str]]) -> float:
            return max(len(c) for c in cells) * step + 2

        def draw(cells: list[list[str]], label: bool) -> None:
            height = row_height(cells)
            x = MARGIN
            for lines, w in zip(cells, widths, strict=True):
                self.page.cell(x, self.y, w, height, lines, size, label=label)
                x += w
            self.y += height

        head = [
            wrap(h, w - 4, size, self.measure) for (h, _), w in zip(columns, widths, strict=True)
        ]
        self._room(row_height(head) + step + 2)
        draw(head, True)
        for row in rows:
            cells = [wrap(v, w - 4, size, self.measure) for v, w in zip(row, widths, strict=True)]
            if self.y + row_height(cells) > PAGE_H - MARGIN - FOOTER_H:
                self._new_page()
                draw(head, True)
            draw(cells, False)
        self.y += 2

    def box(self, height: float, extra: float = 0) -> None:
        """An empty framed box to write in; ``extra`` more must fit below it on the page."""
        self._room(height + extra)
        self.page.ops.append(Box(MARGIN, self.y, WIDTH, height))
        self.y += height + 2

    def sign(self, label: str, then: str = "") -> None:
        """``label`` and a line to sign on (and ``then`` with a shorter line, e.g. the date)."""
        self._room(SIGN_H)
        size = 11
        baseline = self.y + SIGN_H - 2
        self.page.lines([label], MARGIN, self.y + SIGN_H - 8, WIDTH, 7, size)
        x = MARGIN + 2 + self.measure.width(label, size)
        self.page.ops.append(Box(x, baseline, 55, 0, line=0.3))
        if then:
            x2 = x + 65
            self.page.lines([then], x2 - 2, self.y + SIGN_H - 8, WIDTH, 7, size)
            self.page.ops.append(Box(x2 + self.measure.width(then, size), baseline, 35, 0))
        self.y += SIGN_H

    def finish(self) -> list[Page]:
        total = len(self.pages)
        for number, page in enumerate(self.pages, 1):
            page.lines(
                [f"{self.title}　第 {number}/{total} 页"],
                MARGIN,
                PAGE_H - MARGIN - 6,
                WIDTH,
                6,
                9,
                "center",
            )
        return self.pages


def record_pages(record: RoomRecord, measure: Measure) -> list[Page]:
    """The record laid out on A4 pages: heading facts, attendance, incidents, violations, the
    action log, submissions and the signature lines."""
    title = "考场情况记录表"
    flow = _Flow(measure, f"{record.site} {record.room} {title}")
    flow.title_block(title)
    flow.paragraph(f"考核计划：{record.plan_title}　证书：{record.certificate}")
    flow.paragraph(f"考点：{record.site}　地址：{record.address}　考场：{record.room}")
    for s in record.sessions:
        flow.paragraph(
            f"{s.name}：{s.starts_at:%Y-%m-%d %H:%M}–{s.ends_at:%H:%M}（{s.duration_minutes} 分钟）"
        )
    flow.paragraph(f"监考员：{'、'.join(record.invigilators) or '—'}")
    flow.paragraph(
        f"应到 {record.expected} 人　实到 {record.present} 人　缺考 {record.absent} 人"
        + (f"：{'、'.join(c.short for c in record.absentees)}" if record.absentees else "")
    )

    flow.heading("一、考生到考与作答情况")
    columns = [("座位", 14.0), ("准考证号", 30.0), ("姓名", 18.0), ("登录", 15.0)]
    columns += [(p.name, 38.0) for p in record.sessions]
    rows = []
    for c in record.candidates:
        row = [c.seat_label, c.ticket_number, c.name, _hm(c.signed_in_at) or "缺考"]
        for p in c.parts:
            times = "–".join(t for t in (_hm(p.started_at), _hm(p.ended_at)) if t)
            extra = f" 延时 {p.extended_minutes} 分" if p.extended_minutes else ""
            row.append(f"{p.state_name} {p.answered}/{p.total} {times}{extra}".strip())
        rows.append(row)
    flow.table(columns, rows)

    flow.heading("二、异常情况（按考生）")
    if record.incidents:
        flow.table(
            [("考生", 50.0), ("时间与异常", 130.0)],
            [
                (
                    i.candidate.who,
                    "；".join(
                        f"{_hm(a.at)} {a.part_name} {a.text}"
                        + (f"（{a.detail}）" if a.detail else "")
                        for a in i.anomalies
                    ),
                )
                for i in record.incidents
            ],
        )
    else:
        flow.paragraph("无")

    flow.heading("三、违纪处理")
    if record.violations:
        flow.table(
            [("时间", 18.0), ("考生", 50.0), ("处理", 18.0), ("原因", 60.0), ("监考员", 20.0)],
            [(_hm(v.at), v.candidate.who, v.name, v.reason, v.actor) for v in record.violations],
        )
    else:
        flow.paragraph("无")

    flow.heading("四、监考操作记录")
    if record.actions:
        flow.table(
            [
                ("时间", 17.0),
                ("操作人", 17.0),
                ("操作", 25.0),
                ("原因", 36.0),
                ("对象", 42.0),
                ("未执行及原因", 43.0),
            ],
            [
                (
                    _hm(a.at),
                    a.actor,
                    " ".join(x for x in (a.name, a.part_name, a.detail) if x),
                    a.reason,
                    a.target,
                    "；".join(a.skipped),
                )
                for a in record.actions
            ],
            size=8.5,
        )
    else:
        flow.paragraph("无")

    flow.heading("五、交卷情况")
    for span in record.submissions:
        line = f"{span.part_name}：已交卷 {span.submitted} 人"
        if span.earliest and span.latest:
            line += f"；最早 {_hm(span.earliest[0])} {span.earliest[1]}"
            line += f"；最晚 {_hm(span.latest[0])} {span.latest[1]}"
        flow.paragraph(line)
    if record.zero_answers:
        flow.paragraph(
            "零作答交卷：" + "、".join(f"{c.short} {part}" for c, part in record.zero_answers)
        )

    # remarks and signatures stay together on one page
    signers = [f"监考员 {n}　签名：" for n in record.invigilators] or ["监考员签名："]
    flow.heading("六、备注")
    flow.box(REMARKS_H, extra=len(signers) * SIGN_H + 2 * SIGN_H)
    for line in signers:
        flow.sign(line)
    flow.sign("主考签名：", "日期：")
    flow.paragraph(f"本表由系统于 {record.made_at:%Y-%m-%d %H:%M} 根据考场记录生成", size=9)
    return flow.finish()


def record_pdf(record: RoomRecord, font: Path | None = None) -> bytes:
    """The room record as an A4 PDF with its text embedded as text."""
    return pdf_document(
        "考场情况记录表", font, lambda measure: (p.ops for p in record_pages(record, measure))
    )
