"""Locale selection: Simplified Chinese by default, English on request (?lang=en, kept in the session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, get_translations

from .extensions import babel
from .kept import per_app

KEPT = "examsvc.per_locale"
T = TypeVar("T")


def select_locale() -> str:
    """Prefer an explicit choice, then the session, then the configured default (zh)."""
    languages: list[str] = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
    remembered = session.get("lang")
    if remembered in languages:
        return str(remembered)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    # Flask-Babel's own template gettext (kept for plurals and contexts) looks the catalog up
    # through its request context at every call: ~8 µs of a template's ~16 µs per string, and
    # an exam page has about thirty strings.
    app.jinja_env.install_gettext_callables(
        gettext=template_gettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )


TEXTS = "examsvc.template_texts"


def template_gettext(string: str) -> str:
    """A template's ``_()``: each string translated once per language and process, the
    language's table found once per app context, where Flask-Babel keeps the locale too
    (``g``), so the two always agree. The catalogs do not change while the process runs."""
    texts: dict[str, str] | None = g.get(TEXTS)
    if texts is None:
        texts = per_app(TEXTS).setdefault(str(get_locale()), {})
        setattr(g, TEXTS, texts)
    found = texts.get(string)
    if found is None:
        found = texts[string] = get_translations().ugettext(string)
    return found


def per_locale(name: str, make: Callable[[], T]) -> T:
    """UI text made once per language and app (a process): the catalogs do not change while it
    runs. For text every page needs (the names the context processors give every template, an
    exam page's words): looked up again on each render, they cost a page a few hundred
    gettext calls' worth of Flask-Babel's context lookups."""
    kept: dict[tuple[str, str], Any] = per_app(KEPT)
    key = (name, str(get_locale()))
    if key not in kept:
        kept[key] = make()
    return kept[key]  # type: ignore[no-any-return]
