"""Real Chromium loads the bundles built from npm at set-up: window.io and window.ExamEditor work,
the editor keeps Chinese text, reports edits, and does not trap Tab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.e2e.test_browser import browser  # noqa: F401 (fixture)

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def _bundle(name: str) -> Path:
    path = VENDOR / name
    if not path.is_file():
        pytest.fail(f"{path} missing: run `make install` (it builds static/vendor from npm)")
    return path


@pytest.fixture
def page(browser: object) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(
        "<!doctype html><meta charset=utf-8><div id=editor></div><button id=next>下一题</button>"
    )
    page.add_script_tag(path=str(_bundle("socket.io.min.js")))
    page.add_script_tag(path=str(_bundle("editor.min.js")))
    yield page
    context.close()
    assert errors == []


def test_static_serves_the_bundles(app: Flask) -> None:
    client = app.test_client()
    for name in ("socket.io.min.js", "editor.min.js"):
        _bundle(name)
        response = client.get(f"/static/vendor/{name}")
        assert response.status_code == 200
        assert "javascript" in (response.mimetype or "")
        response.close()


@pytest.mark.browser
def test_io_and_editor_work_in_chromium(page: object) -> None:
    assert page.evaluate('typeof window.io === "function" && typeof io.Manager === "function"')  # type: ignore[attr-defined]
    text = page.evaluate(  # type: ignore[attr-defined]
        '() => ExamEditor.create(document.body, {doc: "<p>你好</p>", language: "html"}).getValue()'
    )
    assert text == "<p>你好</p>"
    for language in ("css", "javascript", "text"):
        assert (
            page.evaluate(  # type: ignore[attr-defined]
                "(l) => ExamEditor.create(document.body, {doc: 'x', language: l}).getValue()",
                language,
            )
            == "x"
        )


@pytest.mark.browser
def test_editor_reports_edits_and_lets_tab_leave(page: object) -> None:
    page.evaluate(  # type: ignore[attr-defined]
        """() => {
          window.changes = [];
          window.ed = ExamEditor.create(document.getElementById("editor"), {
            doc: "", language: "html", onChange: (t) => window.changes.push(t)});
          window.ed.focus();
        }"""
    )
    page.keyboard.type("<b>答")  # type: ignore[attr-defined]
    assert page.evaluate("ed.getValue()").startswith("<b>答")  # type: ignore[attr-defined]
    assert page.evaluate("changes.at(-1)") == page.evaluate("ed.getValue()")  # type: ignore[attr-defined]
    page.evaluate("ed.setValue('草稿')")  # type: ignore[attr-defined]
    assert page.evaluate("ed.getValue()") == "草稿"  # type: ignore[attr-defined]
    # setValue does not echo through onChange
    assert page.evaluate("changes.at(-1)") != "草稿"  # type: ignore[attr-defined]
    page.evaluate("ed.focus()")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.id") == "next"  # type: ignore[attr-defined]
    assert page.evaluate("ed.getValue()") == "草稿"  # type: ignore[attr-defined]
    page.evaluate("ed.destroy()")  # type: ignore[attr-defined]
    assert page.evaluate("document.querySelector('#editor .cm-editor')") is None  # type: ignore[attr-defined]
