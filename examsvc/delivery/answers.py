"""Answer changes from the browser (autosave): validation, option mapping and the idempotent merge.

The candidate sees the items of a paper by ``position`` (1..N across the whole paper) and the
options of a choice item in a shuffled order (``option_order``, e.g. "CADB": shown first is the
bank's option C). The browser only ever sends the **displayed** labels (A, B, C … in the order
shown), so a payload reveals nothing about the original keys; the server maps them back and
stores original keys, which is what scoring compares with the bank's answer.

Each change carries the item's whole state (value and flag), numbered by the sitting's sequence
number ``seq``. The merge keeps, per item, the change with the highest ``seq``: duplicates and
older changes — replayed from the browser's journal, reordered by the network — are acknowledged
without writing, so the browser can drop them, and never overwrite a newer answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..bank.model import OPTION_KEYS, TYPE_NAMES, TYPES

PART_KINDS = ("theory", "practical")
PART_NAMES = {"theory": "理论考试", "practical": "实操考试"}
CHOICE_TYPES = ("single", "multiple")
MAX_TEXT_CHARS = 200_000
# seq is stored in a 32-bit integer column (PostgreSQL ``integer``); a sitting uses far fewer.
# Positions share the bound, which also keeps a huge number out of the messages.
MAX_SEQ = 2**31 - 1
FIELDS = ("seq", "position", "value", "flagged")
ERROR_CODES = (
    "malformed",  # not an object, missing or unknown field, wrong field type
    "too_large",  # a practical answer over MAX_TEXT_CHARS
    "unknown_item",  # no such position in this candidate's paper
    "wrong_part",  # an item of another part than the one in progress
    "unknown_option",  # a label the item does not show
    "bad_value",  # a value of the wrong shape for the item type
    "seq_conflict",  # the same seq already saved a different answer
)
OUTCOMES = ("saved", "duplicate", "stale")

# What a normalized answer is, as stored (JSON) and compared: single "C", multiple ["A", "C"]
# (original keys, sorted), truefalse true/false, practical {"text": "…"}; None means unanswered.
Value = str | bool | list[str] | dict[str, str] | None


class AnswerError(ValueError):
    """A change the server refuses; ``code`` is one of ERROR_CODES, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ItemView:
    """One item of a candidate's paper as the delivery sees it (from a PaperItem and its version)."""

    position: int
    part: str  # theory | practical
    item_type: str  # single | multiple | truefalse | practical
    option_order: str  # original keys in displayed order, e.g. "CADB"; "" keeps bank order
    option_count: int  # 0 for truefalse and practical

    def __post_init__(self) -> None:
        # Bad data here is a bug in the paper, not the candidate's input: plain ValueError.
        where = f"第 {self.position} 题"
        if self.position < 1:
            raise ValueError(f"{where}：题号应从 1 开始")
        if self.part not in PART_KINDS:
            raise ValueError(f"{where}：考试部分“{self.part}”应为 theory 或 practical")
        if self.item_type not in TYPES:
            raise ValueError(f"{where}：题型“{self.item_type}”应为 {'、'.join(TYPES)} 之一")
        if self.item_type in CHOICE_TYPES:
            if not 2 <= self.option_count <= len(OPTION_KEYS):
                raise ValueError(f"{where}：选项数 {self.option_count} 应在 2 到 8 之间")
            if self.option_order and sorted(self.option_order) != list(self.labels):
                raise ValueError(
                    f"{where}：选项顺序“{self.option_order}”应为 {self.labels} 的一种排列"
                )
        elif self.option_count or self.option_order:
            raise ValueError(f"{where}：{TYPE_NAMES[self.item_type]}题不能有选项")

    @property
    def labels(self) -> str:
        """The labels shown, in order: A, B, C … one per option."""
        return OPTION_KEYS[: self.option_count]

    @property
    def order(self) -> str:
        """The original keys in displayed order ("" option_order means bank order)."""
        return self.option_order or self.labels


@dataclass(frozen=True)
class PaperView:
    """A candidate's paper: every item by position."""

    items: tuple[ItemView, ...]
    _by_position: dict[int, ItemView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_position: dict[int, ItemView] = {}
        for item in self.items:
            if item.position in by_position:
                raise ValueError(f"试卷中第 {item.position} 题出现了两次")
            by_position[item.position] = item
        object.__setattr__(self, "_by_position", by_position)

    def item(self, position: int) -> ItemView | None:
        return self._by_position.get(position)


@dataclass(frozen=True)
class AnswerChange:
    """One validated change: the item's whole new state, original option keys."""

    seq: int
    position: int
    value: Value
    flagged: bool = False


@dataclass(frozen=True)
class StoredAnswer:
    """What is stored for one item: the seq of the change that wrote it, and its state."""

    seq: int
    value: Value
    flagged: bool = False


@dataclass(frozen=True)
class Merge:
    write: bool  # store the change (and its seq)?
    outcome: str  # saved | duplicate | stale; all three are acknowledged to the browser


def displayed(option_order: str, original_key: str) -> str:
    """The label an original option key is shown under: displayed("CADB", "C") == "A"."""
    index = option_order.find(original_key)
    if len(original_key) != 1 or index < 0:
        raise ValueError(f"选项“{original_key}”不在选项顺序“{option_order}”中")
    return OPTION_KEYS[index]


def original(option_order: str, label: str) -> str:
    """The original option key shown under ``label``: original("CADB", "A") == "C"."""
    index = OPTION_KEYS.find(label)
    if len(label) != 1 or not 0 <= index < len(option_order):
        raise ValueError(f"选项“{label}”超出选项顺序“{option_order}”的范围")
    return option_order[index]


def display_value(item: ItemView, value: Value) -> Value:
    """A stored answer as the browser shows it (labels instead of keys), e.g. on resume."""
    if item.item_type == "single" and isinstance(value, str):
        return displayed(item.order, value)
    if item.item_type == "multiple" and isinstance(value, list):
        return sorted(displayed(item.order, key) for key in value)
    return value


def _show(raw: object) -> str:
    # Echo a bad field back, but never a whole oversized payload.
    try:
        text = repr(raw)
    except ValueError:  # an int beyond Python's 4,300-digit str limit
        return "超长数字"
    return text if len(text) <= 40 else text[:40] + "…"


def _is_int(raw: object) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool)  # JSON true is not a number


def parse_change(payload: object, paper: PaperView, part: str) -> AnswerChange:
    """Validate a decoded JSON payload ``{"seq", "position", "value", "flagged"?}``.

    ``part`` is the part in progress. Raises AnswerError with a code of ERROR_CODES.
    """
    if part not in PART_KINDS:
        raise ValueError(f"考试部分“{part}”应为 theory 或 practical")
    if not isinstance(payload, dict):
        raise AnswerError(
            "malformed", '答案消息应为 JSON 对象，如 {"seq": 1, "position": 3, "value": "B"}'
        )
    unknown = sorted(str(k) for k in payload if k not in FIELDS)
    if unknown:
        raise AnswerError(
            "malformed", f"答案消息含未知字段 {'、'.join(unknown)}：只允许 {'、'.join(FIELDS)}"
        )
    missing = [k for k in FIELDS[:3] if k not in payload]
    if missing:
        raise AnswerError("malformed", f"答案消息缺少字段 {'、'.join(missing)}")
    seq, position, flagged = payload["seq"], payload["position"], payload.get("flagged", False)
    if not _is_int(seq) or not 1 <= seq <= MAX_SEQ:
        raise AnswerError("malformed", f"seq 应为 1 到 {MAX_SEQ} 的整数，现为 {_show(seq)}")
    if not _is_int(position) or not 1 <= position <= MAX_SEQ:
        raise AnswerError("malformed", f"position 应为正整数（题号），现为 {_show(position)}")
    if not isinstance(flagged, bool):
        raise AnswerError("malformed", f"flagged 应为 true 或 false，现为 {_show(flagged)}")
    item = paper.item(position)
    if item is None:
        raise AnswerError(
            "unknown_item", f"第 {position} 题不在你的试卷中：请刷新页面，按页面上的题号作答"
        )
    if item.part != part:
        raise AnswerError(
            "wrong_part",
            f"第 {position} 题属于{PART_NAMES[item.part]}，当前进行的是{PART_NAMES[part]}："
            f"请在{PART_NAMES[item.part]}开始后再作答",
        )
    value = _value(item, payload["value"])
    return AnswerChange(seq=seq, position=position, value=value, flagged=flagged)


def _value(item: ItemView, raw: object) -> Value:
    """The normalized value of ``raw`` for ``item``; None (cleared) stays None."""
    if raw is None:
        return None
    where = f"第 {item.position} 题"
    if item.item_type == "single":
        if not isinstance(raw, str):
            raise AnswerError(
                "bad_value", f'{where}是单选题：答案应为一个选项字母，如 "B"，或 null 表示清除'
            )
        return original(item.order, _label(item, raw))
    if item.item_type == "multiple":
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise AnswerError(
                "bad_value", f'{where}是多选题：答案应为选项字母的列表，如 ["A", "C"]，或 null'
            )
        if len(set(raw)) != len(raw):
            raise AnswerError("bad_value", f"{where}的答案中有重复的选项：每个选项只能选一次")
        keys = sorted(original(item.order, _label(item, x)) for x in raw)
        return keys or None  # nothing ticked is unanswered, like null
    if item.item_type == "truefalse":
        if not isinstance(raw, bool):
            raise AnswerError("bad_value", f"{where}是判断题：答案应为 true、false 或 null")
        return raw
    return _text(item, raw, where)


def _label(item: ItemView, raw: str) -> str:
    if len(raw) != 1 or raw not in item.labels:
        shown = raw if len(raw) <= 8 else raw[:8] + "…"
        raise AnswerError(
            "unknown_option",
            f"第 {item.position} 题没有选项“{shown}”（本题选项为 {item.labels[0]}–{item.labels[-1]}）："
            "请刷新页面后重新选择",
        )
    return raw


def _text(item: ItemView, raw: object, where: str) -> Value:
    if not isinstance(raw, dict) or set(raw) != {"text"} or not isinstance(raw["text"], str):
        raise AnswerError(
            "bad_value", f'{where}是实操题：答案应为 {{"text": "作答内容"}}，或 null 表示清除'
        )
    text: str = raw["text"]
    if len(text) > MAX_TEXT_CHARS:
        raise AnswerError(
            "too_large",
            f"{where}的作答有 {len(text):,} 个字符，超过上限 {MAX_TEXT_CHARS:,}：请精简后再保存，"
            "大文件请用上传",
        )
    # NUL cannot be stored in PostgreSQL text and a lone surrogate (from a JSON "\ud800")
    # cannot be encoded as UTF-8: refuse them here rather than fail on commit.
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise AnswerError(
            "bad_value", f"{where}的作答含无法保存的字符（空字符或不成对的代理项）：请删除后再保存"
        )
    return {"text": text} if text else None


def merge(stored: StoredAnswer | None, change: AnswerChange) -> Merge:
    """Decide what one change does to one item's stored answer; the highest seq wins.

    A newer seq is saved; an older one is stale and an equal one with the same state a
    duplicate — both acknowledged, nothing written. An equal seq with another state means the
    browser reused a number: refused as ``seq_conflict``, the stored answer kept.
    """
    if stored is None or change.seq > stored.seq:
        return Merge(write=True, outcome="saved")
    if change.seq < stored.seq:
        return Merge(write=False, outcome="stale")
    if change.value == stored.value and change.flagged == stored.flagged:
        return Merge(write=False, outcome="duplicate")
    raise AnswerError(
        "seq_conflict",
        f"第 {change.position} 题的序号 {change.seq} 已保存过另一份答案：同一序号不能改写答案，"
        "请刷新页面后继续作答",
    )
