"""Plan and registration forms, read from the request into what the services take.

The plan form's rows come from the chosen level's exam scheme: one start and one fee per part,
with the part's duration and fee caps shown beside them, so the form has no fixed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from ..catalog.models import CertificateLevel
from ..catalog.scheme_rules import FEE_CAPS, fee_cap
from ..catalog.services import scheme_spec
from ..registration.fees import yuan
from ..registration.roster_format import FIELD_HEADERS
from .models import ExamPlan
from .services import PlanData

YES, NO = "是", "否"
FLAGS = ("poor_family", "trained", "graduating")  # check boxes of the candidate form
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


@dataclass(frozen=True)
class PartRow:
    """One exam part of the chosen level: what the form shows beside its start and fee."""

    kind: str
    name: str
    duration_minutes: int
    exam_form: str
    cap: str  # 元, as written in messages (fees.yuan)


@dataclass(frozen=True)
class SchemeRows:
    parts: tuple[PartRow, ...]
    cap: str | None  # the points-weighted cap of a mixed exam; None for a single part


def scheme_rows(level: CertificateLevel | None) -> SchemeRows:
    if level is None or level.scheme is None:
        return SchemeRows((), None)
    parts = scheme_spec(level.scheme).parts
    rows = tuple(
        PartRow(p.kind, p.name, p.duration_minutes, p.exam_form, yuan(FEE_CAPS[p.exam_form]))
        for p in parts
        if p.exam_form in FEE_CAPS
    )
    mixed = len(parts) > 1 and len(rows) == len(parts)
    return SchemeRows(rows, yuan(fee_cap(parts)) if mixed else None)


@dataclass
class PlanForm:
    level_id: int | None = None
    batch: str = ""
    starts: dict[str, str] = field(default_factory=dict)  # part kind → as typed
    fees: dict[str, str] = field(default_factory=dict)
    credit_outages: bool = True

    @classmethod
    def from_plan(cls, plan: ExamPlan) -> PlanForm:
        return cls(
            level_id=plan.level_id,
            batch=plan.batch,
            starts={s.part_kind: s.starts_at.strftime(INPUT_FORMAT) for s in plan.sessions},
            fees=dict(plan.fees or {}),
            credit_outages=plan.credit_outages,
        )

    @classmethod
    def from_request(cls, form: Mapping[str, str]) -> PlanForm:
        level = (form.get("level_id") or "").strip()
        return cls(
            level_id=int(level) if level.isdigit() else None,
            batch=(form.get("batch") or "").strip(),
            starts={k[6:]: v.strip() for k, v in form.items() if k.startswith("start-")},
            fees={k[4:]: v.strip() for k, v in form.items() if k.startswith("fee-")},
            credit_outages=form.get("credit_outages") == "1",
        )

    def data(self, rows: SchemeRows) -> tuple[PlanData | None, list[str]]:
        """The plan to save, or None and what cannot be read; the service checks the rest."""
        problems = []
        starts: dict[str, datetime] = {}
        for part in rows.parts:
            text = self.starts.get(part.kind, "")
            if not text:
                continue  # the service names every part without a start
            try:
                starts[part.kind] = datetime.fromisoformat(text).replace(tzinfo=None)
            except ValueError:
                problems.append(
                    _(
                        "%(part)s: “%(value)s” is not a date and time, e.g. 2026-12-05 09:00.",
                        part=part.name,
                        value=text,
                    )
                )
        if self.level_id is None:
            problems.append(_("Choose a certificate level."))
        if problems or self.level_id is None:
            return None, problems
        fees = {p.kind: self.fees.get(p.kind, "") for p in rows.parts}
        return PlanData(self.level_id, self.batch, starts, fees, self.credit_outages), []


def candidate_fields(form: Mapping[str, str] | None, level: str) -> dict[str, str]:
    """The one-by-one form's values by field name (see FIELD_HEADERS); blank for a new form."""
    if form is None:
        return {name: "" for name in FIELD_HEADERS} | {"level": level}
    values = {name: (form.get(name) or "").strip() for name in FIELD_HEADERS}
    for name in FLAGS:
        values[name] = YES if form.get(name) else NO
    return values
