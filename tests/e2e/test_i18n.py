"""Simplified Chinese by default, English on request, and a complete Chinese catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask

from examsvc.config import ROOT


def test_chinese_by_default_and_english_on_request(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page
    english = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Staff sign in" in english
    # the choice sticks for the session
    assert "Staff sign in" in client.get("/auth/login").get_data(as_text=True)


def test_every_message_has_a_chinese_translation() -> None:
    path = Path(ROOT / "examsvc" / "translations" / "zh" / "LC_MESSAGES" / "messages.po")
    with path.open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_catalog_is_up_to_date_with_the_code() -> None:
    """Every translatable string in the code and templates is in the catalog (run `make messages`)."""
    from babel.messages.extract import extract_from_dir

    method_map = [("examsvc/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT), method_map, keywords=keywords)
    }
    path = ROOT / "examsvc" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        known = {m.id for m in read_po(f) if m.id}
    assert sorted(found - known) == []


def test_a_templates_strings_are_kept_per_language_not_across_them(app: Flask) -> None:
    """Templates translate through a table kept per language (i18n.template_gettext): after
    one visitor chose English, the next still gets Chinese, and the first keeps English."""
    english, chinese = app.test_client(), app.test_client()
    assert "Staff sign in" in english.get("/auth/login?lang=en").get_data(as_text=True)
    page = chinese.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page and "Staff sign in" not in page
    assert "Staff sign in" in english.get("/auth/login").get_data(as_text=True)
    with app.test_request_context("/"):  # variables and escaping as with Flask-Babel's own
        text = app.jinja_env.from_string("{{ _('seat %(n)s', n='<b>') }}").render()
    assert text == "&lt;b&gt; 号座"
