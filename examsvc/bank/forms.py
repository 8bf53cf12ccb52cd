"""The item form: one form for every type; practical fields appear only for practical items."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from .model import OPTION_KEYS, AnswerForm, Criterion, ItemData, parse_points


class ItemForm(FlaskForm):
    stem = TextAreaField(_l("Stem (Markdown)"), validators=[DataRequired()])
    option_a = StringField("A")
    option_b = StringField("B")
    option_c = StringField("C")
    option_d = StringField("D")
    option_e = StringField("E")
    option_f = StringField("F")
    option_g = StringField("G")
    option_h = StringField("H")
    answer = StringField(_l("Key"))
    explanation = TextAreaField(_l("Explanation"), validators=[DataRequired()])
    difficulty = IntegerField(_l("Difficulty (1–5)"), validators=[NumberRange(1, 5)], default=3)
    skills = StringField(_l("Skill codes"), validators=[DataRequired()])
    tags = StringField(_l("Tags"))
    points = StringField(_l("Points"), validators=[Optional()])
    title = StringField(_l("Title"))
    # Choices are checked by the item rules, which also know when the field applies.
    task_kind = SelectField(
        _l("Task kind"),
        validate_choice=False,
        choices=[
            SelectChoice("web_page", _l("Web page")),
            SelectChoice("coding", _l("Coding")),
            SelectChoice("case_analysis", _l("Case analysis")),
        ],
    )
    editor = SelectField(
        _l("Answer editor"),
        validate_choice=False,
        choices=[
            SelectChoice("html", "HTML"),
            SelectChoice("css", "CSS"),
            SelectChoice("javascript", "JavaScript"),
            SelectChoice("text", _l("Text")),
            SelectChoice("none", _l("None")),
        ],
    )
    upload = BooleanField(_l("Accept a file upload"))
    upload_types = StringField(_l("Upload types"))
    rubric = TextAreaField(_l("Rubric"))
    materials = MultipleFileField(_l("Materials"))
    images = MultipleFileField(_l("Images"))
    image_names = StringField()
    material_names = StringField()
    xlsx = FileField()

    def option_fields(self) -> list[tuple[str, StringField]]:
        return [(k, getattr(self, f"option_{k.lower()}")) for k in OPTION_KEYS]


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(
        p for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()
    )


def parse_rubric(text: str) -> tuple[Criterion, ...]:
    """One criterion per line: ``评分项 | 分值 | 采分点说明``."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            raise ValueError(f"评分细则第 {n} 行应写成“评分项 | 分值 | 采分点说明”")
        out.append(Criterion(parts[0], parse_points(parts[1]), parts[2] if len(parts) > 2 else ""))
    return tuple(out)


def form_to_data(form: ItemForm, ident: str, type_: str, kept: dict[str, list[str]]) -> ItemData:
    """Read the form into ItemData; raises ValueError for text that cannot be read."""
    points = parse_points(form.points.data) if (form.points.data or "").strip() else None
    skills = tuple(s.strip() for s in _split(form.skills.data))
    tags = tuple(t.strip() for t in _split(form.tags.data))
    common = {
        "id": ident,
        "type": type_,
        "stem": (form.stem.data or "").strip("\n").replace("\r\n", "\n"),
        "explanation": (form.explanation.data or "").strip("\n").replace("\r\n", "\n"),
        "difficulty": form.difficulty.data or 0,
        "skills": skills,
        "tags": tags,
        "points": points,
        "status": "draft",
        "images": tuple(kept.get("images", [])),
    }
    if type_ == "practical":
        return ItemData(
            **common,
            title=(form.title.data or "").strip(),
            task_kind=form.task_kind.data or "",
            answer_form=AnswerForm(
                form.editor.data or "text",
                bool(form.upload.data),
                tuple(t.strip() for t in _split(form.upload_types.data)),
            ),
            materials=tuple(kept.get("materials", [])),
            rubric=parse_rubric(form.rubric.data or ""),
        )
    options = tuple((k, f.data.strip()) for k, f in form.option_fields() if (f.data or "").strip())
    raw = (form.answer.data or "").strip().upper()
    if type_ == "truefalse":
        answer = {"对": "true", "TRUE": "true", "错": "false", "FALSE": "false"}.get(raw, raw)
        options = ()
    else:
        answer = "".join(sorted(c for c in raw if c.isalpha()))
    return ItemData(**common, options=options, answer=answer)


def data_to_form(form: ItemForm, data: ItemData) -> None:
    """Fill the form from a version's content, for editing."""
    form.stem.data = data.stem
    for key, field in form.option_fields():
        field.data = data.option_map.get(key, "")
    form.answer.data = {"true": "对", "false": "错"}.get(data.answer, data.answer)
    form.explanation.data = data.explanation
    form.difficulty.data = data.difficulty
    form.skills.data = ", ".join(data.skills)
    form.tags.data = ", ".join(data.tags)
    form.points.data = "" if data.points is None else str(Decimal(data.points).normalize())
    form.title.data = data.title
    form.task_kind.data = data.task_kind
    if data.answer_form:
        form.editor.data = data.answer_form.editor
        form.upload.data = data.answer_form.upload
        form.upload_types.data = ", ".join(data.answer_form.upload_types)
    form.rubric.data = "\n".join(f"{c.criterion} | {c.points} | {c.guide}" for c in data.rubric)
