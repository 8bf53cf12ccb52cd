"""Locale selection: Simplified Chinese by default, English on request (?lang=en, kept in the session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request, session
from flask_babel import get_locale

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
