"""Real Chromium on both sides of the room: an invigilator's board and candidates' exam pages,
against a live server speaking Socket.IO.

The invigilator opens the board and sees the candidate come online; pauses the room with a
reason (the candidate's page says so and its clock stands still), resumes, extends by ten
minutes (the candidate's time grows by ten minutes); a copy attempt shows on the board; the
candidate signs in on a second PC, the board shows the request, the invigilator approves it and
the new PC carries on with the saved answers while the old one is told it was replaced.

Then the board outlives a server restart (gunicorn killed and started again). A last test lays out a 120-seat room (10 × 12) on 1366 × 768 with a stand-in for the server
(the page's socket.io client replaced by a script answering ``watch`` with 120 seats): every
seat in view without scrolling the page, filters, sorting, alerts and the keyboard.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import services as delivery
from examsvc.delivery.models import Answer, Sitting
from examsvc.delivery.services import paper_items
from examsvc.extensions import db
from examsvc.proctoring import services
from examsvc.proctoring.actions import parse_action
from examsvc.registration.models import Registration
from examsvc.sites.models import Room
from tests.conftest import PASSWORD, open_demo_plan
from tests.e2e.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.e2e.test_exam_browser import _ready, _saved, _seconds, _sign_in_and_start
from tests.integration.test_exam_socket import Server

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1366, "height": 768}


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    """A screenshot; copied to $EXAMSVC_SCREENSHOTS when that is a directory."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    target = os.environ.get("EXAMSVC_SCREENSHOTS")
    if target and Path(target).is_dir():
        shutil.copy(path, Path(target) / path.name)
    return path


@dataclass
class Room101:
    plan_id: int
    room_id: int
    invigilator: User
    regs: list[Registration]


@pytest.fixture
def room101(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Room101:
    make_user(Role.ORG_ADMIN, username="admin")
    make_user(Role.SITE_ADMIN, org="college", username="siteadmin")
    invigilator = make_user(Role.INVIGILATOR, org="college", username="invigilator")
    plan = open_demo_plan()
    room = next(pr.room for pr in plan.rooms if pr.room.number == 1)
    regs = services.registrations_in(plan, room.id)
    db.session.commit()
    return Room101(plan.id, room.id, invigilator, regs)


@pytest.fixture
def contexts(browser: Any) -> Iterator[Callable[[], Any]]:  # noqa: F811
    made: list[Any] = []

    def new() -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


def _watch_errors(page: Any) -> Any:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def _open_board(context: Any, base: str, user: User, plan_id: int, room_id: int) -> Any:
    page = _watch_errors(context.new_page())
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("nav >> a[href='/invigilation/']")
    page.click(f"a[href='/invigilation/{plan_id}/{room_id}']")
    page.wait_for_selector("#conn[data-state=online]")
    return page


def _tile(board: Any, reg: Registration) -> Any:
    return board.locator(f".tile[data-id='{reg.id}']")


def _act(board: Any, action: str, category: str, code: str, text: str = "", **fields: Any) -> str:
    """Carry out an action through the dialog; the result text shown."""
    board.click(f".action-bar [data-action={action}]")
    dialog = board.locator("#act-dialog")
    dialog.wait_for(state="visible")
    if "targets" in fields:
        dialog.locator(f"input[name=targets][value={fields['targets']}]").check()
    if "minutes" in fields:
        board.fill("#act-minutes", str(fields["minutes"]))
    if "message" in fields:
        board.fill("#act-message", fields["message"])
    # the reason is required: sending without one is refused in the dialog
    board.click("#act-send")
    assert board.inner_text("#act-error") != ""
    board.select_option("#act-category", category)
    board.select_option("#act-code", code)
    board.fill("#act-text", text)
    board.click("#act-send")
    board.wait_for_selector("#act-result:not([hidden])")
    result: str = board.inner_text("#act-result")
    board.click("#act-cancel")
    dialog.wait_for(state="hidden")
    return result


def _clock(page: Any) -> int:
    return _seconds(page.inner_text("#clock"))


def _strings(page: Any) -> dict[str, str]:
    data: dict[str, str] = page.evaluate(
        "JSON.parse(document.getElementById('exam-data').textContent).strings"
    )
    return data


def test_board_and_candidate_pages_live(
    contexts: Callable[[], Any],
    live_server: str,  # noqa: F811
    room101: Room101,
    tmp_path: Path,
) -> None:
    reg, neighbour = room101.regs[0], room101.regs[1]
    board = _open_board(
        contexts(), live_server, room101.invigilator, room101.plan_id, room101.room_id
    )
    tile = _tile(board, reg)
    tile.wait_for()
    assert board.locator(".seat-grid .tile[data-id]").count() == len(room101.regs)
    assert "pres-never" in (tile.get_attribute("class") or "")
    assert reg.candidate.name in tile.inner_text()
    assert str(reg.ticket_number)[-4:] in tile.inner_text()

    # the candidate signs in and starts: the board sees them online and answering
    candidate = _watch_errors(_sign_in_and_start(contexts(), live_server, reg, "theory"))
    _ready(candidate, "socket")
    board.wait_for_function(
        f"document.querySelector(\".tile[data-id='{reg.id}']\").classList.contains('pres-online')"
    )
    board.wait_for_selector(f".tile[data-id='{reg.id}'].st-in_progress")
    single = next(i for i in paper_items(reg) if i.view.item_type == "single")
    candidate.click(f"#qbtn-{single.view.position}")
    candidate.check(f"#q-{single.view.position} input[value=B]")
    _saved(candidate, single.view.position)
    board.wait_for_function(
        f"document.querySelector(\".tile[data-id='{reg.id}'] .t-state\").textContent.includes('1/')"
    )
    _shot(board, tmp_path, "board-live")

    # pause the room with a reason: the candidate's page locks and its clock stands still
    result = _act(board, "pause", "environment", "power_cut", "配电箱跳闸")
    assert result.strip()
    candidate.wait_for_selector("#lock-message:not([hidden])")
    assert _strings(candidate)["paused"] in candidate.inner_text("#lock-message")
    board.wait_for_selector(f".tile[data-id='{reg.id}'].st-paused")
    first = _clock(candidate)
    candidate.wait_for_timeout(3000)
    assert _clock(candidate) == first
    log = board.inner_text("#log")
    assert "暂停" in log and "环境 · 断电：配电箱跳闸" in log
    _shot(candidate, tmp_path, "candidate-paused")

    # resume: the clock runs again from where it stood
    _act(board, "resume", "environment", "power_cut", "已恢复供电")
    candidate.wait_for_selector("#lock-message", state="hidden")
    resumed = _clock(candidate)
    assert abs(resumed - first) <= 2
    candidate.wait_for_timeout(2100)
    assert _clock(candidate) < resumed

    # extend one candidate by ten minutes: their time grows by ten minutes
    tile.click()
    assert tile.get_attribute("aria-pressed") == "true"
    before, since = _clock(candidate), time.monotonic()
    text = _act(board, "extend", "technical", "pc_failure", "", targets="candidates", minutes=10)
    assert "1" in text
    candidate.wait_for_function(
        f"(() => {{ const p = document.getElementById('clock').textContent.split(':').map(Number);"
        f" return p.reduce((a, x) => a * 60 + x, 0) > {before + 300}; }})()"
    )
    expected = before + 600 - (time.monotonic() - since)  # the clock ran on meanwhile
    assert abs(_clock(candidate) - expected) <= 3
    board.wait_for_function(
        f"document.querySelector(\".board-list tr[data-id='{reg.id}']\").textContent.includes('+10')"
    )

    # an anomaly on the candidate's page shows on the board
    candidate.evaluate("document.dispatchEvent(new Event('copy'))")
    badge = tile.locator(".badge.b-anom")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "⚠1"
    assert "尝试复制" in board.inner_text("#feed")

    # a second PC: it waits; the board (reloaded: the state comes back whole) shows the request
    second = _watch_errors(contexts().new_page())
    second.goto(f"{live_server}/exam/login")
    second.fill("input[name=ticket_number]", str(reg.ticket_number))
    second.fill("input[name=id_number]", reg.candidate.id_number)
    second.click("button[type=submit]")
    second.wait_for_url(f"{live_server}/exam/pending")
    board.reload()
    board.wait_for_selector("#conn[data-state=online]")
    tile = _tile(board, reg)
    tile.locator(".badge.b-switch").wait_for(state="visible")
    assert board.locator("#alert-list li.kind-switch").count() == 1
    assert "+10" in board.inner_text(f".board-list tr[data-id='{reg.id}']")
    assert board.locator(".action-bar [data-action=approve_switch]").is_disabled()
    tile.click()
    board.wait_for_selector("#switch-actions:not([hidden])")
    _shot(board, tmp_path, "board-switch")
    _act(board, "approve_switch", "technical", "pc_failure", "")

    # the old PC is told it was replaced; the new one reaches the exam with the saved answers
    candidate.wait_for_function(
        "document.getElementById('lock-message').textContent.length > 0"
        " && !document.getElementById('lock-message').hidden"
    )
    assert _strings(candidate)["replaced"] in candidate.inner_text("#lock-message")
    second.wait_for_url(f"{live_server}/exam/", timeout=15000)
    second.click("a[href='/exam/paper/theory']")
    second.wait_for_url(f"{live_server}/exam/paper/theory")
    _ready(second, "socket")
    second.click(f"#qbtn-{single.view.position}")
    assert second.is_checked(f"#q-{single.view.position} input[value=B]")
    assert second.inner_text("#answered-count") == "1"
    board.wait_for_selector(f".tile[data-id='{reg.id}'] .badge.b-switch", state="hidden")

    # the board never offered an action on the neighbour, who never came
    assert "pres-never" in (_tile(board, neighbour).get_attribute("class") or "")
    log = board.inner_text("#log")
    assert "批准换机" in log and "延长时间" in log and "继续" in log
    for page in (board, candidate, second):
        assert page.errors == [], page.errors

    # the room record, printable, tells the same story
    board.click("a:has-text('考场情况记录表'), .board-head a[href$='/record']")
    board.wait_for_url(f"{live_server}/invigilation/{room101.plan_id}/{room101.room_id}/record")
    record = board.inner_text("main")
    assert "环境 · 断电：配电箱跳闸" in record and "批准换机" in record
    assert "尝试复制" in record and reg.candidate.name in record
    _shot(board, tmp_path, "record")
    board.emulate_media(media="print")
    assert board.locator(".topbar").is_hidden() and board.locator(".record-tools").is_hidden()

    db.session.expire_all()
    sitting = db.session.scalar(
        select(Sitting).where(Sitting.registration_id == reg.id, Sitting.part_kind == "theory")
    )
    assert sitting is not None and sitting.state == "in_progress"
    assert sitting.extensions == [600] and len(sitting.pauses) == 1
    assert db.session.scalar(select(Answer).where(Answer.sitting_id == sitting.id)) is not None


# ---- a server restart ----------------------------------------------------------------------------


def test_the_board_comes_back_whole_after_a_server_restart(
    app: Flask, contexts: Callable[[], Any], room101: Room101, tmp_path: Path
) -> None:
    """gunicorn (eventlet) killed and started again: the board says it lost the server,
    reconnects by itself and shows what happened meanwhile (a pause made elsewhere)."""
    reg = room101.regs[0]
    delivery.start(delivery.sitting_of(reg, "theory"), datetime.now(UTC))
    delivery.commit()
    server = Server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "server.log").start()
    try:
        board = _open_board(
            contexts(), server.url, room101.invigilator, room101.plan_id, room101.room_id
        )
        board.wait_for_selector(f".tile[data-id='{reg.id}'].st-in_progress")
        server.kill()
        board.wait_for_selector("#conn[data-state=offline]")
        request = parse_action(
            {
                "action": "pause",
                "plan_id": room101.plan_id,
                "room_id": room101.room_id,
                "targets": "room",
                "part": "theory",
                "reason": {"category": "environment", "code": "power_cut", "text": ""},
            },
            ("theory", "practical"),
        )
        services.act(room101.invigilator, request, datetime.now(UTC))
        delivery.commit()
        server.start()  # the same port
        board.wait_for_selector(f".tile[data-id='{reg.id}'].st-paused", timeout=20000)
        board.wait_for_selector("#conn[data-state=online]")
        assert "暂停" in board.inner_text("#log")
        assert board.errors == [], board.errors

        # the plan's organization admin watches only: no action bar, a click shows the details
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        viewer = _open_board(contexts(), server.url, admin, room101.plan_id, room101.room_id)
        _tile(viewer, reg).wait_for()
        assert viewer.locator(".action-bar, #act-dialog, #switch-actions").count() == 0
        _tile(viewer, reg).click()
        assert viewer.locator("#details").is_visible()
        assert reg.candidate.name in viewer.inner_text("#details")
        assert viewer.errors == [], viewer.errors
        viewer.goto(f"{server.url}/invigilation/{room101.plan_id}/site")
        row = viewer.locator(f"#room-{room101.room_id}")
        assert row.locator("[data-count=paused]").inner_text() == "1"
        _shot(viewer, tmp_path, "site-overview")
        viewer.goto(f"{server.url}/invigilation/")
        _shot(viewer, tmp_path, "invigilation-index")
    finally:
        server.stop()


# ---- 120 seats on a laptop ----------------------------------------------------------------------

FAKE_IO = """
(() => {
  const BOARD = %s;
  const handlers = {};
  const sent = [];
  const socket = {
    connected: false,
    active: true,
    on(event, fn) { handlers[event] = fn; return socket; },
    emit() {},
    connect() {},
    timeout() {
      return {
        emitWithAck: async (event, payload) => {
          sent.push([event, payload]);
          if (event === "watch") {
            const now = Date.now();
            const board = JSON.parse(JSON.stringify(BOARD));
            board.server_time = now;
            for (const seat of board.seats) {
              if (seat.presence_since !== null) seat.presence_since = now - seat.presence_since;
              for (const p of seat.parts) if (p.state === "in_progress") p.deadline = now + p.remaining_ms;
            }
            return { ok: true, access: "act", board, log: [] };
          }
          const targets = Array.isArray(payload.targets) ? payload.targets : [];
          return { ok: true, applied: targets, skipped: [], data: {} };
        },
      };
    },
  };
  window.fakeBoard = { sent, push: (event, data) => handlers[event] && handlers[event](data) };
  window.io = () => {
    setTimeout(() => { socket.connected = true; handlers.connect && handlers.connect(); }, 10);
    return socket;
  };
})();
"""

STATES = {
    "registered": "未签到",
    "waiting": "候考中",
    "in_progress": "答题中",
    "paused": "已暂停",
    "submitted": "已交卷",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["子涵", "浩然", "欣怡", "宇轩", "梓萱", "俊杰", "诗琪", "明哲", "雨桐", "嘉怡"]


def _big_board(room: Room) -> dict[str, Any]:
    """120 seats in every state; ``presence_since`` and ``remaining_ms`` are relative (ms ago,
    ms left) and made absolute by the stand-in at ``watch``."""
    seats = []
    for n in range(1, 121):
        state = ("in_progress",) * 6 + ("paused", "submitted", "waiting", "registered")
        kind = state[n % 10]
        presence = "never" if kind == "registered" else ("offline" if n % 17 == 0 else "online")
        left = (3 * 60 if n % 23 == 0 else 55 * 60 + n * 7) * 1000
        seats.append(
            {
                "registration_id": 1000 + n,
                "seat": n,
                "seat_label": room.seatmap.label(n),
                "name": SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)],
                "ticket_number": f"2600010010{n:05d}",
                "ip": f"10.0.1.{n}",
                "presence": presence,
                "presence_since": 45000
                if presence == "offline"
                else (600000 if presence == "online" else None),
                "parts": [
                    {
                        "part": "theory",
                        "state": kind,
                        "state_name": STATES[kind],
                        "answered": (n * 3) % 41,
                        "total": 40,
                        "deadline": None,
                        "remaining_ms": left,
                        "paused": kind == "paused",
                        "extended_minutes": 10 if n == 5 else 0,
                    },
                    {
                        "part": "practical",
                        "state": "registered",
                        "state_name": "未签到",
                        "answered": 0,
                        "total": 3,
                        "deadline": None,
                        "remaining_ms": 120 * 60000,
                        "paused": False,
                        "extended_minutes": 0,
                    },
                ],
                "anomalies": {
                    "count": 4 if n % 19 == 0 else (1 if n % 7 == 0 else 0),
                    "latest": {"kind": "focus_lost", "text": "离开考试页面", "at": 0}
                    if n % 7 == 0 or n % 19 == 0
                    else None,
                },
                "warnings": 1 if n == 40 else 0,
                "pending_switch": {"login_id": 9, "ip": "10.0.1.200", "at": 0} if n == 61 else None,
            }
        )
    return {
        "plan": {"id": 0, "batch": ""},
        "room": {"id": room.id, "title": room.title, "rows": 10, "columns": 12},
        "control": {"start_code": "482913", "needs_authorization": False, "authorized": {}},
        "parts": [],
        "server_time": 0,
        "seats": seats,
    }


def test_a_120_seat_room_fits_a_laptop_screen(
    contexts: Callable[[], Any],
    live_server: str,  # noqa: F811
    room101: Room101,
    tmp_path: Path,
) -> None:
    room = db.session.get(Room, room101.room_id)
    assert room is not None
    room.rows, room.columns, room.spare_seats = 10, 12, []
    db.session.commit()
    context = contexts()
    script = FAKE_IO % json.dumps(_big_board(room), ensure_ascii=False)
    context.route(
        re.compile(r".*/static/vendor/socket\.io\.min\.js(\?.*)?$"),  # with its version
        lambda route: route.fulfill(content_type="text/javascript", body=script),
    )
    board = _open_board(context, live_server, room101.invigilator, room101.plan_id, room.id)
    board.wait_for_function("document.querySelectorAll('.seat-grid .tile[data-id]').length === 120")
    shot = _shot(board, tmp_path, "board-120")

    # every seat in view, the page itself does not scroll, the side panel makes way
    assert board.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert board.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    main = board.locator("#board-main")
    assert board.evaluate(
        "(() => { const m = document.getElementById('board-main');"
        " return m.scrollWidth <= m.clientWidth; })()"
    )
    last = board.locator(".tile[data-id='1120']").bounding_box()
    box = main.bounding_box()
    assert last and box and last["y"] + last["height"] <= box["y"] + box["height"] + 1
    assert board.locator(".action-bar").bounding_box()["y"] + 30 <= VIEWPORT["height"]  # type: ignore[index]
    assert board.inner_text("#start-code-value") == "482913"
    assert shot.stat().st_size > 0

    # alerts: offline > 30 s, ≥ 3 anomalies, < 5 minutes left, a PC change waiting
    alerts = board.inner_text("#alert-list")
    kinds = board.eval_on_selector_all("#alert-list li", "els => els.map(e => e.dataset.kind)")
    assert {"offline", "anomalies", "time", "switch"} <= set(kinds)
    assert "10.0.1.200" in alerts
    assert board.locator(".tile.has-alert").count() >= 4

    # state tabs count and filter; the seat map dims what does not match
    assert board.inner_text("[data-count=all]") == "120"
    assert board.inner_text("[data-count=in_progress]") == "72"
    board.click(".state-tab[data-filter=paused]")
    assert board.locator(".tile[data-id].dim").count() == 108
    board.click(".state-tab[data-filter='']")
    board.check("#f-offline")
    assert board.locator(".tile[data-id]:not(.dim)").count() == int(
        board.inner_text("[data-count=offline]")
    )
    board.uncheck("#f-offline")

    # sorting by time left puts the hurried first; the list view has every column
    board.select_option("#sort", "remaining")
    first = board.eval_on_selector_all(
        ".seat-grid .tile[data-id]:not([hidden])",
        "els => els.sort((a, b) => a.style.order - b.style.order)[0].dataset.id",
    )
    assert first == "1023"  # 3 minutes left
    board.click("[data-view=list]")
    assert board.locator("#list-body tr:not([hidden])").count() == 120
    assert board.locator("#list-body tr").first.get_attribute("data-id") == "1023"
    _shot(board, tmp_path, "board-120-list")
    board.click("[data-view=grid]")
    board.select_option("#sort", "seat")

    # the keyboard: arrows move between seats, Space selects, Ctrl+A all shown, Esc none
    board.focus(".tile[data-id='1001']")
    board.keyboard.press("ArrowRight")
    board.keyboard.press("ArrowDown")
    assert board.evaluate("document.activeElement.dataset.id") == "1014"
    board.keyboard.press("Space")
    assert board.locator(".tile[aria-pressed=true]").count() == 1
    assert board.locator("#side").is_hidden()  # a wide room: the log makes way for the seats
    board.click("#side-toggle")
    assert board.locator("#details").is_visible()
    assert "1014" in board.inner_text("#details") or "2600010010" in board.inner_text("#details")
    _shot(board, tmp_path, "board-120-side")
    board.click("#side-toggle")
    board.focus(".tile[data-id='1014']")
    board.keyboard.press("Control+a")
    assert board.locator(".tile[aria-pressed=true]").count() == 120
    board.keyboard.press("Escape")
    assert board.locator(".tile[aria-pressed=true]").count() == 0

    # an action on two chosen seats goes out as the protocol says
    board.click(".tile[data-id='1003']")
    board.click(".tile[data-id='1004']")
    _act(board, "warn", "candidate", "misconduct", "交头接耳", message="请保持安静")
    sent = board.evaluate("window.fakeBoard.sent.filter(([e]) => e === 'act').map(([, p]) => p)")
    assert sent == [
        {
            "action": "warn",
            "plan_id": room101.plan_id,
            "room_id": room.id,
            "targets": [1003, 1004],
            "message": "请保持安静",
            "reason": {"category": "candidate", "code": "misconduct", "text": "交头接耳"},
        }
    ]
    # void needs the confirmation box
    board.click(".action-bar [data-action=void]")
    board.select_option("#act-category", "candidate")
    board.select_option("#act-code", "misconduct")
    board.click("#act-send")
    assert board.inner_text("#act-error") != ""
    assert board.locator("#act-result").is_hidden()
    _shot(board, tmp_path, "board-120-dialog")
    board.click("#act-cancel")
    assert board.errors == [], board.errors
