"""Question-bank items as pure data, and every rule an item must meet.

Formats (YAML, Excel) read into these dataclasses and write from them, so one set of rules
validates every way in, and export → import round-trips to equal objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..catalog.standards import Standard

TYPES = ("single", "multiple", "truefalse", "practical")
TYPE_NAMES = {"single": "单选", "multiple": "多选", "truefalse": "判断", "practical": "实操"}
STATUSES = ("draft", "review", "approved", "retired")
TASK_KINDS = ("case_analysis", "coding", "web_page")
TASK_KIND_NAMES = {"case_analysis": "案例分析", "coding": "编程", "web_page": "网页制作"}
EDITORS = ("html", "css", "javascript", "text", "none")
OPTION_KEYS = "ABCDEFGH"
ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
UPLOAD_TYPES = re.compile(r"^\.[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, and for workbooks sheet, row and column; for YAML a field path."""

    file: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"“{self.column}”列" if self.sheet else self.column)
        return "，".join(parts)


@dataclass(frozen=True)
class Issue:
    where: Location
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


class BankFormatError(ValueError):
    """A bank file or workbook cannot be read; carries every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Criterion:
    criterion: str
    points: Decimal
    guide: str = ""


@dataclass(frozen=True)
class AnswerForm:
    editor: str = "text"
    upload: bool = False
    upload_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemData:
    """One item as written in a bank file (the content of one version)."""

    id: str
    type: str
    stem: str
    explanation: str
    difficulty: int
    skills: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()
    answer: str = ""  # single "B", multiple "ACD", truefalse "true"/"false"; practical ""
    tags: tuple[str, ...] = ()
    points: Decimal | None = None
    status: str = "approved"
    images: tuple[str, ...] = ()
    # practical only
    title: str = ""
    task_kind: str = ""
    answer_form: AnswerForm | None = None
    materials: tuple[str, ...] = ()
    rubric: tuple[Criterion, ...] = ()

    @property
    def option_map(self) -> dict[str, str]:
        return dict(self.options)


@dataclass
class BankData:
    """A whole bank: metadata, items in file order, and attachment bytes per item."""

    code: str
    name: str
    certificate: str
    level: str
    standard: str = ""
    items: list[ItemData] = field(default_factory=list)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)


def normalize_stem(stem: str) -> str:
    """The stem as compared for duplicates: white space collapsed, case kept."""
    return re.sub(r"\s+", " ", stem).strip()


def safe_file_name(name: str) -> bool:
    """A relative path inside the item's folder: no absolute paths, no '..', no backslashes."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and ".." not in parts


def parse_points(raw: object) -> Decimal:
    """Points as a Decimal; raise ValueError with a readable message otherwise."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"分值“{raw}”不是数字") from exc
    if not value.is_finite() or value <= 0:
        raise ValueError(f"分值“{raw}”必须是正数")
    return value.normalize() if value == value.to_integral() else value


def validate_item(item: ItemData, standard: Standard | None, where: Location) -> list[str]:
    """Every rule the item breaks, as messages that say what is expected."""
    problems: list[str] = []
    if not ITEM_ID.match(item.id):
        problems.append(f"编号“{item.id}”无效：只能用字母、数字和“-”，最长 64 个字符")
    if item.type not in TYPES:
        problems.append(f"题型“{item.type}”无效，应为单选、多选、判断或实操")
        return problems
    if not item.stem.strip():
        problems.append("题干不能为空")
    if not item.explanation.strip():
        problems.append("解析不能为空：请说明正确答案的理由")
    if not 1 <= item.difficulty <= 5:
        problems.append(f"难度 {item.difficulty} 无效，应为 1 到 5 的整数")
    if item.status not in STATUSES:
        problems.append(f"状态“{item.status}”无效，应为 draft、review、approved 或 retired")
    problems += _skill_problems(item, standard)
    if item.type == "practical":
        problems += _practical_problems(item)
    else:
        problems += _choice_problems(item)
    return problems


def _skill_problems(item: ItemData, standard: Standard | None) -> list[str]:
    if not item.skills:
        return ["至少需要一个技能代码（如 1-1-1）"]
    if standard is None:
        return []
    unknown = [c for c in item.skills if standard.lookup(c) is None]
    if not unknown:
        return []
    return [
        f"技能代码 {'、'.join(unknown)} 不在《{standard.certificate_name}（{standard.level_name}）》"
        f"标准中；请使用标准里的任务、技能或要求代码，例如 {standard.skill_codes()[0]}"
    ]


def _choice_problems(item: ItemData) -> list[str]:
    problems = []
    keys = [k for k, _ in item.options]
    if item.type == "truefalse":
        if item.options:
            problems.append("判断题不能有选项")
        if item.answer not in ("true", "false"):
            problems.append(f"判断题答案“{item.answer}”无效，应为“对”或“错”")
        return problems
    if not 2 <= len(keys) <= 8:
        problems.append(f"选项数量 {len(keys)} 无效，应为 2 到 8 个")
    if keys != list(OPTION_KEYS[: len(keys)]):
        problems.append("选项必须从 A 开始连续编号，中间不能空缺")
    if any(not text.strip() for _, text in item.options):
        problems.append("选项内容不能为空")
    letters = list(item.answer)
    if not letters:
        problems.append("答案不能为空")
    elif len(set(letters)) != len(letters):
        problems.append(f"答案“{item.answer}”中有重复的选项")
    elif missing := [x for x in letters if x not in keys]:
        problems.append(f"答案中的 {'、'.join(missing)} 不是已有选项（{''.join(keys)}）")
    if item.type == "single" and len(letters) != 1:
        problems.append(f"单选题答案“{item.answer}”必须恰好是一个选项字母")
    if item.type == "multiple" and len(set(letters)) < 2:
        problems.append(f"多选题答案“{item.answer}”至少需要两个正确选项")
    if item.rubric or item.materials:
        problems.append("客观题不能有评分细则或素材")
    return problems


def _practical_problems(item: ItemData) -> list[str]:
    problems = []
    if not item.title.strip():
        problems.append("实操题需要标题")
    if item.task_kind not in TASK_KINDS:
        problems.append(f"任务类型“{item.task_kind}”无效，应为 case_analysis、coding 或 web_page")
    form = item.answer_form
    if form is None or form.editor not in EDITORS:
        problems.append("作答方式无效，编辑器应为 html、css、javascript、text 或 none")
    elif form.editor == "none" and not form.upload:
        problems.append("作答方式至少需要编辑器或文件上传之一")
    elif form.upload and not all(UPLOAD_TYPES.match(t) for t in form.upload_types):
        problems.append("上传类型应写成扩展名，如 .zip、.xlsx")
    if item.options or item.answer:
        problems.append("实操题不能有选项或客观答案")
    if item.points is None:
        problems.append("实操题需要分值")
    if not item.rubric:
        problems.append("实操题需要评分细则（至少一个评分项）")
    total = sum((c.points for c in item.rubric), Decimal(0))
    if item.points is not None and item.rubric and total != item.points:
        problems.append(f"评分细则各项分值合计 {total}，与本题分值 {item.points} 不一致")
    for n, c in enumerate(item.rubric, 1):
        if not c.criterion.strip():
            problems.append(f"评分细则第 {n} 项缺少评分项名称")
        if c.points <= 0:
            problems.append(f"评分细则第 {n} 项分值必须大于 0")
    return problems


def validate_bank(
    bank: BankData, standard: Standard | None, locations: dict[str, Location]
) -> list[Issue]:
    """Item rules plus bank-wide ones: unique ids, no duplicate stems, materials present."""
    issues: list[Issue] = []
    seen_ids: dict[str, Location] = {}
    seen_stems: dict[str, str] = {}
    for item in bank.items:
        where = locations.get(item.id, Location(bank.code))
        issues += [Issue(where, m) for m in validate_item(item, standard, where)]
        if item.id in seen_ids:
            issues.append(Issue(where, f"编号“{item.id}”重复（首次出现在 {seen_ids[item.id]}）"))
        seen_ids.setdefault(item.id, where)
        stem = normalize_stem(item.stem)
        if stem and stem in seen_stems and item.type != "practical":
            issues.append(Issue(where, f"题干与 {seen_stems[stem]} 重复"))
        seen_stems.setdefault(stem, item.id)
        present = bank.files.get(item.id, {})
        for name in (*item.materials, *item.images):
            if not safe_file_name(name):
                issues.append(Issue(where, f"附件名“{name}”无效：应为相对路径，不能含“..”"))
            elif name not in present:
                issues.append(Issue(where, f"找不到附件“{name}”：请把文件放在题目的素材目录中"))
    return issues
