"""Between stored versions and the pure ItemData that formats and rules work on."""

from __future__ import annotations

import mimetypes
from decimal import Decimal
from typing import Any

from .model import AnswerForm, Criterion, ItemData
from .models import Attachment, Item, ItemVersion


def version_data(item: Item, version: ItemVersion) -> ItemData:
    """The ItemData that a version holds."""
    p: dict[str, Any] = version.practical or {}
    form = p.get("answer_form")
    return ItemData(
        id=item.external_id,
        type=item.type,
        stem=version.stem,
        explanation=version.explanation,
        difficulty=version.difficulty,
        skills=tuple(version.skills),
        options=tuple((k, t) for k, t in version.options),
        answer=version.answer,
        tags=tuple(version.tags),
        points=None if version.points is None else Decimal(version.points).normalize(),
        status=version.status if version.status != "superseded" else "approved",
        images=tuple(version.images),
        title=p.get("title", ""),
        task_kind=p.get("task_kind", ""),
        answer_form=(
            AnswerForm(form["editor"], form["upload"], tuple(form["upload_types"]))
            if form
            else None
        ),
        materials=tuple(p.get("materials", ())),
        rubric=tuple(
            Criterion(c["criterion"], Decimal(c["points"]), c["guide"]) for c in p.get("rubric", ())
        ),
    )


def fill_version(version: ItemVersion, data: ItemData, files: dict[str, bytes]) -> None:
    """Write ItemData (and its attachment bytes) into a version that is still editable."""
    version.stem = data.stem
    version.explanation = data.explanation
    version.difficulty = data.difficulty
    version.skills = list(data.skills)
    version.options = [[k, t] for k, t in data.options]
    version.answer = data.answer
    version.tags = list(data.tags)
    version.points = data.points
    version.images = list(data.images)
    version.practical = None
    if data.type == "practical":
        form = data.answer_form or AnswerForm()
        version.practical = {
            "title": data.title,
            "task_kind": data.task_kind,
            "answer_form": {
                "editor": form.editor,
                "upload": form.upload,
                "upload_types": list(form.upload_types),
            },
            "materials": list(data.materials),
            "rubric": [
                {"criterion": c.criterion, "points": str(c.points), "guide": c.guide}
                for c in data.rubric
            ],
        }
    wanted = {n: "material" for n in data.materials} | {n: "image" for n in data.images}
    kept = {a.name: a for a in version.attachments if a.name in wanted}
    version.attachments = list(kept.values())
    for name, kind in wanted.items():
        if name in files:
            att = kept.get(name) or Attachment(name=name)
            att.kind, att.data = kind, files[name]
            att.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if name not in kept:
                version.attachments.append(att)


def version_files(version: ItemVersion) -> dict[str, bytes]:
    return {a.name: a.data for a in version.attachments}
