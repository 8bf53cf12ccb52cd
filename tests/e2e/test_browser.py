"""Real Chromium: an author writes an item, another person approves it, the preview shows it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.services import ensure_bank
from examsvc.catalog.services import find_level
from examsvc.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import variant

pytestmark = pytest.mark.browser


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("EXAMSVC_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here but not installed (apt-get install chromium)")
        pytest.skip("Chromium not installed: browser tests did not run (apt-get install chromium)")
    return path


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app with CSRF on, served on a free localhost port from a background thread."""
    served = variant(app, TESTING=False)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()


def _sign_in(browser: object, base: str, user: User):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_author_creates_reviewer_approves_preview_shows(
    live_server: str, browser: object, make_user: Callable[..., User], tmp_path: Path
) -> None:
    ensure_bank("wf", "Web 前端开发（初级）", find_level("web-frontend", "junior"))
    db.session.commit()
    author_user, reviewer_user = make_user(Role.AUTHOR), make_user(Role.REVIEWER)

    author = _sign_in(browser, live_server, author_user)
    author.click("text=题库")
    author.click("text=Web 前端开发（初级）")
    author.click("text=新建单选题")
    author.fill("input[name=external_id]", "WF-B-1")
    author.fill("textarea[name=stem]", "在 CSS 中，哪个属性用于设置元素的**文字颜色**？")
    for key, text in zip(
        "abcd", ["`color`", "`font-color`", "`text-color`", "`fill`"], strict=True
    ):
        author.fill(f"input[name=option_{key}]", text)
    author.fill("input[name=answer]", "A")
    author.fill(
        "textarea[name=explanation]",
        "`color` 设置文字颜色，其余选项不是设置 HTML 文字颜色的 CSS 属性。",
    )
    author.fill("input[name=skills]", "1-1-2")
    author.click("text=保存草稿")
    author.wait_for_selector("text=版本 1")
    assert author.locator(".status").first.inner_text() == "草稿"
    author.click("text=提交审核")
    assert author.locator(".status").first.inner_text() == "待审核"

    reviewer = _sign_in(browser, live_server, reviewer_user)
    reviewer.click("text=审核队列")
    reviewer.click("text=WF-B-1")
    reviewer.click("text=审核通过")
    assert reviewer.locator(".status").first.inner_text() == "已审核"

    reviewer.click("text=考生视角预览")
    item = reviewer.locator("article.candidate-item")
    assert "文字颜色" in item.inner_text()
    assert item.locator("strong").inner_text() == "文字颜色"  # Markdown rendered
    assert item.locator("input[type=radio]").count() == 4
    assert item.locator("code").first.inner_text() == "color"
    assert "其余选项不是" not in reviewer.content() and "✔" not in item.inner_text()
    reviewer.check("input[value=B]")  # a candidate can pick an option
    reviewer.screenshot(path=str(tmp_path / "preview.png"))
    if os.environ.get("EXAMSVC_SCREENSHOTS"):
        shutil.copy(tmp_path / "preview.png", os.environ["EXAMSVC_SCREENSHOTS"])
