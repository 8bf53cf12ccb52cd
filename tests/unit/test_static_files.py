"""Static files under addresses that name their content (examsvc/static_files.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask, url_for

from examsvc import create_app
from examsvc.config import ROOT
from examsvc.static_files import YEAR, version


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}", "TESTING": True}
    )


def test_a_static_address_names_the_files_content(app: Flask) -> None:
    digest = hashlib.sha256((ROOT / "static/js/exam.js").read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        assert url_for("static", filename="js/exam.js") == f"/static/js/exam.js?v={digest}"
        assert url_for("static", filename="no/such.js") == "/static/no/such.js"


def test_a_page_links_its_styles_by_version(app: Flask) -> None:
    page = app.test_client().get("/exam/login").get_data(as_text=True)
    links = re.findall(r'href="(/static/css/[\w.]+\.css[^"]*)"', page)
    assert links and all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links)


def _get(app: Flask, address: str) -> tuple[int, str, bytes]:
    """Status, Cache-Control and body of a static file (its file closed)."""
    with app.test_client().get(address) as response:
        return response.status_code, response.headers["Cache-Control"], response.data


def test_the_current_version_is_kept_a_year_and_any_other_address_is_asked_again(
    app: Flask,
) -> None:
    with app.test_request_context():
        current = url_for("static", filename="css/app.css")
    status, cache, body = _get(app, current)
    assert status == 200 and cache == f"public, max-age={YEAR}"
    for address in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        # Flask's own answer: the browser asks again each time
        assert _get(app, address) == (200, "no-cache", body)


def test_an_edited_file_gets_a_new_address(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "static"
    folder.mkdir()
    app.static_folder = str(folder)
    (folder / "a.js").write_text("one")
    with app.test_request_context():
        before = url_for("static", filename="a.js")
        (folder / "a.js").write_text("two, longer")
        after = url_for("static", filename="a.js")
    assert before != after
    assert _get(app, after) == (200, f"public, max-age={YEAR}", b"two, longer")
    assert _get(app, before) == (200, "no-cache", b"two, longer")


def test_no_version_for_a_name_reaching_out_of_the_folder(app: Flask) -> None:
    with app.test_request_context():
        assert version("../wsgi.py") is None
        assert version("/etc/hostname") is None


def test_other_files_sent_keep_flasks_caching(app: Flask) -> None:
    with app.test_request_context("/certificates/x.png"):
        assert app.get_send_file_max_age("x.png") is None
