"""Locale selection: Simplified Chinese by default, English on request (?lang=en, kept in the session)."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import get_locale

from .extensions import babel


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
