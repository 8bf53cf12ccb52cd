"""Real Chromium sits the theory part: sign in, start, answer a single, a multiple and a
true/false item, flag one, reload and find them kept, go offline and answer two more (the page
says so and keeps them in its journal), come back online and see them acknowledged, submit
through the summary, and find every answer stored under the bank's original option keys.

The flow runs twice: over the HTTP fallback alone (Socket.IO blocked: its websocket closed and
its polling requests failed, as on a network that blocks both), and over Socket.IO when the
server side of the protocol (examsvc/delivery/sockets.py) is there. The practical part gets its
own test: the CodeMirror editor, the debounced autosave, and the sandboxed preview.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from examsvc.delivery.answers import original
from examsvc.delivery.models import Answer, Sitting
from examsvc.delivery.services import ShownItem, paper_items
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.e2e.conftest import variant
from tests.e2e.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.e2e.test_exam_http import reg  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
OFFLINE_TEXT = "离线：答案已暂存在本机，联网后自动提交"
HAVE_SOCKETS = importlib.util.find_spec("examsvc.delivery.sockets") is not None
TRANSPORTS = [
    "http",
    pytest.param(
        "socket",
        marks=pytest.mark.skipif(
            not HAVE_SOCKETS, reason="the Socket.IO handlers (delivery/sockets.py) are not there"
        ),
    ),
]


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    """A 1366×768 screenshot; copied to $EXAMSVC_SCREENSHOTS when that is a directory."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    target = os.environ.get("EXAMSVC_SCREENSHOTS")
    if target and Path(target).is_dir():
        shutil.copy(path, Path(target) / path.name)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    yield context
    context.close()


def _block_socketio(context: Any) -> None:
    """A network where neither the websocket nor long-polling of Socket.IO gets through."""
    context.route(re.compile(r".*/socket\.io/.*"), lambda route: route.abort())
    context.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: ws.close())


def _sign_in(context: Any, base: str, registration: Registration) -> Any:
    """A new page of ``context``, signed in and in the waiting room."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(f"{base}/exam/login")
    page.fill("input[name=ticket_number]", str(registration.ticket_number))
    page.fill("input[name=id_number]", registration.candidate.id_number)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/exam/")
    return page


def _sign_in_and_start(
    context: Any, base: str, registration: Registration, part: str, shots: Path | None = None
) -> Any:
    page = _sign_in(context, base, registration)
    start = page.locator(f"button[data-start='/exam/api/{part}/start']")
    assert start.is_disabled()  # the instructions first
    page.check("#ready")
    if shots is not None:
        _shot(page, shots, "waiting-room")
    start.click()
    page.wait_for_url(f"{base}/exam/paper/{part}")
    return page


def _ready(page: Any, transport: str) -> str:
    """Wait until the client talks to the server; the transport it uses."""
    page.wait_for_function("document.getElementById('connection').dataset.state === 'online'")
    if transport == "socket":
        page.wait_for_function("window.examClient.transport() === 'socket'", timeout=15000)
    used: str = page.evaluate("window.examClient.transport()")
    assert used == transport
    if transport == "socket":
        # websocket upgrades take a moment after a polling start; this server speaks both
        page.wait_for_function("window.examClient.engine() === 'websocket'", timeout=15000)
    return used


def _go(page: Any, position: int) -> None:
    page.click(f"#qbtn-{position}")
    page.wait_for_selector(f"#q-{position}", state="visible")


def _saved(page: Any, position: int) -> None:
    page.wait_for_selector(f"#q-{position} .save-state[data-save=saved]", state="attached")


def _seconds(clock: str) -> int:
    parts = [int(x) for x in clock.split(":")]
    return sum(x * 60**i for i, x in enumerate(reversed(parts)))


def _nth(items: list[ShownItem], kind: str, n: int) -> ShownItem:
    return [i for i in items if i.view.item_type == kind and i.view.part == "theory"][n]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_theory_answer_reload_offline_submit(
    context: Any,
    live_server: str,  # noqa: F811
    reg: Registration,  # noqa: F811
    transport: str,
    tmp_path: Path,
) -> None:
    if transport == "http":
        _block_socketio(context)
    items = paper_items(reg)
    single, multiple, truefalse = (_nth(items, k, 0) for k in ("single", "multiple", "truefalse"))
    single2, truefalse2 = _nth(items, "single", 1), _nth(items, "truefalse", 1)
    total = sum(1 for i in items if i.view.part == "theory")

    page = _sign_in_and_start(context, live_server, reg, "theory")
    _ready(page, transport)
    assert re.fullmatch(r"\d{1,2}:\d\d:\d\d|\d\d:\d\d", page.inner_text("#clock"))
    assert page.inner_text("#answered-count") == "0"

    # answer a single, a multiple (flagged) and a true/false item
    _go(page, single.view.position)
    page.check(f"#q-{single.view.position} input[value=B]")
    _saved(page, single.view.position)
    _go(page, multiple.view.position)
    page.check(f"#q-{multiple.view.position} input[value=A]")
    page.check(f"#q-{multiple.view.position} input[value=C]")
    page.click(f"#q-{multiple.view.position} .flag")
    _saved(page, multiple.view.position)
    _go(page, truefalse.view.position)
    page.check(f"#q-{truefalse.view.position} input[value=false]")
    _saved(page, truefalse.view.position)
    assert page.inner_text("#answered-count") == "3"
    assert "?" in page.inner_text(f"#qbtn-{multiple.view.position}")
    _shot(page, tmp_path, f"exam-theory-{transport}")
    page.click("[data-font=large]")  # the font size tool, kept across the reload
    assert (
        page.evaluate(
            f"getComputedStyle(document.getElementById('q-{truefalse.view.position}')).fontSize"
        )
        == "19px"
    )
    _shot(page, tmp_path, f"exam-theory-large-{transport}")

    # reload mid-exam: the answers and the flag are back, the clock goes on
    page.reload()
    _ready(page, transport)
    assert page.is_checked(f"#q-{single.view.position} input[value=B]")
    assert page.is_checked(f"#q-{multiple.view.position} input[value=A]")
    assert page.is_checked(f"#q-{multiple.view.position} input[value=C]")
    assert not page.is_checked(f"#q-{multiple.view.position} input[value=B]")
    assert page.is_checked(f"#q-{truefalse.view.position} input[value=false]")
    flag = page.locator(f"#q-{multiple.view.position} .flag")
    assert flag.get_attribute("aria-pressed") == "true"
    assert page.inner_text("#answered-count") == "3"
    assert page.get_attribute("[data-font=large]", "aria-pressed") == "true"
    page.click("[data-font=medium]")

    # offline: the page says so, and the two new answers wait in the journal
    context.set_offline(True)
    page.wait_for_selector("#connection[data-state=offline]")
    assert OFFLINE_TEXT in page.inner_text("#connection")
    _go(page, single2.view.position)
    page.check(f"#q-{single2.view.position} input[value=D]")
    _go(page, truefalse2.view.position)
    page.check(f"#q-{truefalse2.view.position} input[value=true]")
    for item in (single2, truefalse2):
        page.wait_for_selector(
            f"#q-{item.view.position} .save-state[data-save=stored]", state="attached"
        )
    assert page.evaluate("window.examClient.pending()") == 2
    assert page.evaluate("window.examClient.journal()") == "indexeddb"
    _shot(page, tmp_path, f"exam-offline-{transport}")
    db.session.expire_all()
    stored = {a.position for a in db.session.scalars(select(Answer))}
    assert single2.view.position not in stored and truefalse2.view.position not in stored

    # back online: replayed from the journal and acknowledged
    context.set_offline(False)
    _saved(page, single2.view.position)
    _saved(page, truefalse2.view.position)
    page.wait_for_function("window.examClient.pending() === 0")
    page.wait_for_selector("#connection[data-state=online]")
    assert OFFLINE_TEXT not in page.inner_text("#connection")
    assert page.inner_text("#answered-count") == "5"

    # submit through the summary: it names the counts, Cancel keeps answering
    page.click("#submit-button")
    summary = page.inner_text("#submit-summary")
    assert summary == f"还有 {total - 5} 题未答，1 题已标记，确定交卷吗？"
    _shot(page, tmp_path, f"exam-submit-{transport}")
    page.click("#submit-cancel")
    assert not page.is_visible("#submit-dialog")
    page.click("#submit-button")
    page.click("#submit-confirm")
    page.wait_for_url(f"{live_server}/exam/")
    assert "已交卷" in page.inner_text("main")
    assert page.errors == []

    # in the database: every answer under the original option keys, the flag, the state
    db.session.expire_all()
    sitting = db.session.scalar(
        select(Sitting).where(Sitting.registration_id == reg.id, Sitting.part_kind == "theory")
    )
    assert sitting is not None and sitting.state == "submitted"
    answers = {a.position: a for a in sitting.answers}
    expected = {
        single.view.position: (original(single.view.order, "B"), False),
        multiple.view.position: (
            sorted(original(multiple.view.order, x) for x in "AC"),
            True,
        ),
        truefalse.view.position: (False, False),
        single2.view.position: (original(single2.view.order, "D"), False),
        truefalse2.view.position: (True, False),
    }
    assert {p: (a.value, a.flagged) for p, a in answers.items()} == expected
    seqs = sorted(a.seq for a in answers.values())
    assert len(set(seqs)) == len(seqs) and sitting.last_seq == seqs[-1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_practical_editor_saves_and_previews_in_a_sandbox(
    context: Any,
    live_server: str,  # noqa: F811
    reg: Registration,  # noqa: F811
    transport: str,
    tmp_path: Path,
) -> None:
    if transport == "http":
        _block_socketio(context)
    # This PC's clock is an hour fast: the countdown must follow the server's clock anyway.
    context.add_init_script("(() => { const n = Date.now; Date.now = () => n() + 3600000; })()")
    practical = [i for i in paper_items(reg) if i.view.part == "practical"]
    task = practical[0]
    page = _sign_in_and_start(context, live_server, reg, "practical")
    _ready(page, transport)
    page.wait_for_function("window.examClient.offset().rtt < 1000")
    assert 115 * 60 < _seconds(page.inner_text("#clock")) <= 120 * 60  # 120 minutes, just begun
    editor = page.locator(f"#q-{task.view.position} .cm-content")
    editor.click()
    # inserted like an IME commits text (typing "<h1>" would make the editor close the tag)
    page.keyboard.insert_text(
        "<h1>你好，考生</h1>\n<script>document.body.append('脚本运行');"
        "try { parent.document.title = 'x' } catch (e) { document.body.append('隔离') }</script>"
    )
    _saved(page, task.view.position)
    # Tab leaves the editor for the next control
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.cm-editor') === null")
    frame_el = page.locator(f"#q-{task.view.position} iframe.preview")
    assert frame_el.get_attribute("sandbox") == "allow-scripts"
    page.click(f"#q-{task.view.position} .preview-run")
    frame = page.frame_locator(f"#q-{task.view.position} iframe.preview")
    assert frame.locator("h1").inner_text() == "你好，考生"
    body = frame.locator("body")
    page.wait_for_function("document.querySelector('iframe.preview:not([hidden])') !== null")
    assert "脚本运行" in body.inner_text() and "隔离" in body.inner_text()
    assert page.title() != "x"
    _shot(page, tmp_path, f"exam-practical-{transport}")

    page.reload()
    _ready(page, transport)
    restored = page.locator(f"#q-{task.view.position} .cm-content").inner_text()
    assert "<h1>你好，考生</h1>" in restored
    assert page.errors == []
    db.session.expire_all()
    answer = db.session.scalar(select(Answer).where(Answer.position == task.view.position))
    assert answer is not None and answer.value["text"].startswith("<h1>你好，考生</h1>")


def test_time_warning_keeps_focus_and_time_up_locks(
    context: Any,
    live_server: str,  # noqa: F811
    reg: Registration,  # noqa: F811
    tmp_path: Path,
) -> None:
    _block_socketio(context)  # nobody pushes: the page's own clock must act
    page = _sign_in_and_start(context, live_server, reg, "theory", tmp_path)
    _ready(page, "http")
    sitting = db.session.scalar(
        select(Sitting).where(Sitting.registration_id == reg.id, Sitting.part_kind == "theory")
    )
    assert sitting is not None and sitting.started_at is not None

    def left(seconds: int) -> None:
        sitting.started_at = datetime.now(UTC) - timedelta(minutes=sitting.duration_minutes)
        sitting.started_at += timedelta(seconds=seconds)
        db.session.commit()
        page.reload()
        _ready(page, "http")

    # crossing one minute left while answering: a message, read out, and the focus stays put
    left(63)
    first = page.locator("#q-1 input").first
    first.focus()
    page.wait_for_function("document.getElementById('announce').textContent.includes('1 分钟')")
    assert page.evaluate("document.activeElement === document.querySelector('#q-1 input')")
    assert page.is_visible("#toast") and "1 分钟" in page.inner_text("#toast")
    assert "red" in (page.get_attribute("#clock-box", "class") or "")
    assert page.locator("dialog[open]").count() == 0

    # time up: locked, said so, nothing more can be chosen
    left(4)
    page.wait_for_selector("#lock-message:not([hidden])", timeout=15000)
    assert "考试时间到" in page.inner_text("#lock-message")
    assert page.inner_text("#clock") == "00:00"
    assert first.is_disabled() and page.is_disabled("#submit-button")
    _shot(page, tmp_path, "exam-time-up")
    assert page.errors == []


@pytest.fixture
def short_token_server(app: Flask) -> Iterator[str]:
    """Like live_server, with CSRF tokens that expire after 3 seconds instead of an hour."""
    served = variant(app, TESTING=False, WTF_CSRF_TIME_LIMIT=3)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_an_expired_csrf_token_is_renewed(
    context: Any,
    short_token_server: str,
    reg: Registration,  # noqa: F811
) -> None:
    """Exams outlast the page's CSRF token (an hour by default): the fallback renews it."""
    _block_socketio(context)
    single = _nth(paper_items(reg), "single", 0)
    page = _sign_in_and_start(context, short_token_server, reg, "theory")
    _ready(page, "http")
    page.wait_for_timeout(4000)
    page.check(f"#q-{single.view.position} input[value=A]")
    _saved(page, single.view.position)
    db.session.expire_all()
    stored = db.session.scalar(select(Answer).where(Answer.position == single.view.position))
    assert stored is not None and stored.value == original(single.view.order, "A")
    assert page.errors == []


def _reset_once(context: Any, pattern: str) -> list[str]:
    """The first request for a static file matching ``pattern`` has its connection reset, as
    a loaded server did in the start storm; later ones get through. The requests seen."""
    seen: list[str] = []

    def handle(route: Any) -> None:
        seen.append(route.request.url)
        if len(seen) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route(re.compile(pattern), handle)
    return seen


@pytest.mark.parametrize("script", ["js/exam.js", "vendor/socket.io.min.js"])
def test_a_script_lost_on_the_way_reloads_the_exam_page(
    context: Any,
    live_server: str,  # noqa: F811
    reg: Registration,  # noqa: F811
    script: str,
) -> None:
    """Without its scripts the exam page would never show a question: it loads again."""
    items = paper_items(reg)
    first = min(i.view.position for i in items if i.view.part == "theory")
    page = _sign_in(context, live_server, reg)
    seen = _reset_once(context, r".*/static/" + re.escape(script) + r"(\?.*)?$")
    page.check("#ready")
    page.click("button[data-start='/exam/api/theory/start']")
    page.wait_for_url(f"{live_server}/exam/paper/theory*")
    page.wait_for_selector(f"#q-{first}", state="visible", timeout=20000)
    _ready(page, "socket")
    assert len(seen) == 2  # lost once, loaded by the page's second load
    assert page.evaluate("sessionStorage.getItem('examsvc-reloads')") is None


def test_a_waiting_room_whose_script_is_lost_loads_again(
    context: Any,
    live_server: str,  # noqa: F811
    reg: Registration,  # noqa: F811
) -> None:
    """Without exam.js the start button would never work: the waiting room loads again."""
    seen = _reset_once(context, r".*/static/js/exam\.js(\?.*)?$")
    page = _sign_in(context, live_server, reg)
    for _ in range(100):  # the reload comes two seconds after the lost script
        if len(seen) == 2:
            break
        page.wait_for_timeout(100)
    assert len(seen) == 2
    page.wait_for_load_state("load")
    page.check("#ready")  # enables the start button: exam.js is there now
    page.click("button[data-start='/exam/api/theory/start']")
    page.wait_for_url(f"{live_server}/exam/paper/theory*")
