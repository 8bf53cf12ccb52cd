"""What an invigilator may do, and the reason every action needs: parsed and checked here,
before anything is stored. Pure: the service applies a parsed request to the sittings.

A request names the action, the room or some candidates, a reason from fixed categories (so the
room record can count incidents by cause) plus free text, and the action's own values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# category → (name, {code → name}); "other" in every category takes any free text.
REASONS: dict[str, tuple[str, dict[str, str]]] = {
    "environment": ("环境", {"power_cut": "断电", "network": "网络故障", "noise": "噪音干扰"}),
    "candidate": (
        "考生",
        {"illness": "身体不适", "late": "迟到", "identity": "身份核验", "misconduct": "违纪"},
    ),
    "technical": ("技术", {"pc_failure": "电脑故障", "software": "软件故障"}),
    "administrative": ("组织", {"schedule": "按计划开考", "instruction": "考务通知"}),
}
for _name, _codes in REASONS.values():
    _codes["other"] = "其他"

# action → (name, who it may reach: room and/or candidates)
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "authorize": ("开考授权", frozenset({"room", "candidates"})),
    "pause": ("暂停", frozenset({"room", "candidates"})),
    "resume": ("继续", frozenset({"room", "candidates"})),
    "extend": ("延长时间", frozenset({"room", "candidates"})),
    "approve_switch": ("批准换机", frozenset({"candidates"})),
    "refuse_switch": ("拒绝换机", frozenset({"candidates"})),
    "force_submit": ("强制交卷", frozenset({"room", "candidates"})),
    "warn": ("违纪警告", frozenset({"candidates"})),
    "void": ("取消成绩", frozenset({"candidates"})),
    "broadcast": ("发送通知", frozenset({"room", "candidates"})),
    "start_code": ("开考码", frozenset({"room"})),
    "require_authorization": ("须授权开考", frozenset({"room"})),
}
PART_ACTIONS = frozenset({"authorize", "pause", "resume", "extend", "force_submit"})
MAX_EXTEND_MINUTES = 120
MAX_TEXT = 500
MAX_TARGETS = 500
FIELDS = frozenset(
    {"action", "plan_id", "room_id", "targets", "part", "reason", "minutes", "message", "enabled"}
)


class ActionError(ValueError):
    """A request that cannot be carried out; the message says what and how to fix it."""


@dataclass(frozen=True)
class Reason:
    category: str
    code: str
    text: str

    @property
    def label(self) -> str:
        """``环境 · 断电：机房 2 号配电箱跳闸`` for the board and the room record."""
        name, codes = REASONS[self.category]
        return f"{name} · {codes[self.code]}" + (f"：{self.text}" if self.text else "")


@dataclass(frozen=True)
class ActionRequest:
    action: str
    plan_id: int
    room_id: int
    targets: tuple[int, ...] | None  # None: the whole room
    reason: Reason
    part: str | None = None
    minutes: int = 0
    message: str = ""
    enabled: bool = False

    @property
    def name(self) -> str:
        return ACTIONS[self.action][0]

    @property
    def scope(self) -> str:
        return "room" if self.targets is None else "candidates"


def _int(value: object, what: str) -> int:
    if type(value) is not int or value < 1:
        raise ActionError(f"{what}应为正整数")
    return value


def _text(value: object, what: str, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ActionError(f"{what}应为不超过 {MAX_TEXT} 个字符的文本")
    value = value.strip()
    if required and not value:
        raise ActionError(f"请填写{what}")
    return value


def parse_reason(raw: object) -> Reason:
    """``{category, code, text}``: a known category and code; free text required for 其他."""
    if not isinstance(raw, dict):
        raise ActionError('每项操作都要写明原因：{"category": "environment", "code": …, "text": …}')
    category, code = raw.get("category"), raw.get("code")
    if category not in REASONS:
        raise ActionError(f"原因类别应为 {'、'.join(REASONS)} 之一")
    codes = REASONS[str(category)][1]
    if code not in codes:
        raise ActionError(f"「{REASONS[str(category)][0]}」类原因应为 {'、'.join(codes)} 之一")
    text = _text(raw.get("text"), "原因说明", required=code == "other")
    return Reason(str(category), str(code), text)


def parse_action(raw: object, parts: tuple[str, ...]) -> ActionRequest:
    """Check an action request from the board; ``parts`` are the plan's part kinds."""
    if not isinstance(raw, dict):
        raise ActionError("操作应为一个 JSON 对象")
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        raise ActionError(f"操作含未知字段 {'、'.join(unknown)}")
    action = raw.get("action")
    if action not in ACTIONS:
        raise ActionError(f"未知操作：应为 {'、'.join(ACTIONS)} 之一")
    name, scopes = ACTIONS[str(action)]
    targets = _targets(raw.get("targets"), name, scopes)
    part = raw.get("part")
    if action in PART_ACTIONS:
        if part not in parts:
            raise ActionError(f"{name}需要指明考试部分：应为 {'、'.join(parts)} 之一")
    elif part is not None:
        raise ActionError(f"{name}不针对某一考试部分：请去掉 part")
    minutes = 0
    if action == "extend":
        minutes = _int(raw.get("minutes"), "延长的分钟数")
        if minutes > MAX_EXTEND_MINUTES:
            raise ActionError(f"一次最多延长 {MAX_EXTEND_MINUTES} 分钟")
    message = _text(raw.get("message"), "通知内容", required=action == "broadcast")
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ActionError("enabled 应为 true 或 false")
    return ActionRequest(
        action=str(action),
        plan_id=_int(raw.get("plan_id"), "plan_id"),
        room_id=_int(raw.get("room_id"), "room_id"),
        targets=targets,
        reason=parse_reason(raw.get("reason")),
        part=str(part) if part is not None else None,
        minutes=minutes,
        message=message,
        enabled=enabled,
    )


def _targets(raw: Any, name: str, scopes: frozenset[str]) -> tuple[int, ...] | None:
    if raw == "room":
        if "room" not in scopes:
            raise ActionError(f"{name}只能针对选定的考生，不能针对整个考场")
        return None
    if not isinstance(raw, list) or not raw:
        allowed = "“room”或考生报名号列表" if "room" in scopes else "考生报名号列表"
        raise ActionError(f"请选择操作对象 targets：{allowed}")
    if "candidates" not in scopes:
        raise ActionError(f"{name}针对整个考场：targets 应为 “room”")
    if len(raw) > MAX_TARGETS or any(type(t) is not int or t < 1 for t in raw):
        raise ActionError(f"targets 应为不超过 {MAX_TARGETS} 个报名号（正整数）")
    if name in (ACTIONS["approve_switch"][0], ACTIONS["refuse_switch"][0]) and len(raw) != 1:
        raise ActionError(f"{name}每次只处理一名考生")
    return tuple(dict.fromkeys(raw))
