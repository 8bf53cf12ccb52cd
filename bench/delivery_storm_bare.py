"""The ceiling of this stack for the start storm: a bare Flask app that answers the storm's
requests as the product's URLs do, with the same parts and nothing more.

Run under the same server as the product: ``gunicorn -k eventlet -w 1
bench.delivery_storm_bare:app`` with ``BARE_DATABASE`` naming a copy of the benchmark's database
(``delivery_setup.build``). The parts are the product's: Flask's signed session cookie,
Flask-WTF's CSRF tokens (form field on sign-in, header on start), Jinja pages, Flask-SocketIO and
SQLite through ``sqlite3`` (WAL, ``synchronous`` NORMAL). The work is the least a real exam can
do:

- ``GET /exam/login``: the sign-in form with its token.
- ``POST /exam/login``: ticket number and ID number checked against the registration and the
  candidate, one row stored, committed; the session names the registration.
- ``GET /exam/``: the waiting room with its token.
- ``POST /exam/api/theory/start``: the start and the deadline stored, committed; JSON back.
- ``GET /exam/paper/theory``: the candidate's own items of the part read from their paper and
  rendered (stem and options, escaped; no Markdown, no question panel).
- Socket.IO ``/exam``: a connect is accepted for a signed-in session, and ``hello`` acknowledges
  with the part's deadline.

No board, no events, no check-in, no rate limit, no clock: what the product does beyond this is
what its figures are measured against.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, abort, jsonify, redirect, request, session
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

NS = "/exam"
LOGIN = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>考生登录</title></head>
<body><h1>考生登录</h1>{% if error %}<p role="alert">{{ error }}</p>{% endif %}
<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<label>准考证号 <input name="ticket_number"></label><label>身份证号 <input name="id_number"></label>
<button type="submit">登录</button></form></body></html>"""
WAITING = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>候考</title></head>
<body data-csrf="{{ csrf_token() }}"><h1>{{ name }}，请阅读考生须知</h1>
<ol>{% for rule in rules %}<li>{{ rule }}</li>{% endfor %}</ol>
<label><input type="checkbox" id="ready"> 我已阅读</label>
<button data-start="/exam/api/theory/start">开始作答</button></body></html>"""
RULES = ["考试期间不得离开座位。", "答案自动保存。", "时间到自动交卷。", "如有问题请举手。"]
PAPER = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>理论知识</title></head>
<body><header>{{ name }} · {{ ticket }}</header><main>
{% for position, stem, options in items %}<article id="q-{{ position }}"><h2>第 {{ loop.index }} 题</h2>
<div class="stem">{{ stem }}</div><fieldset>{% for label, text in options %}
<label><input type="radio" name="q{{ position }}" value="{{ label }}"> <b>{{ label }}.</b> {{ text }}</label>
{% endfor %}</fieldset></article>{% endfor %}</main>
<script type="application/json" id="exam-data">{{ client|tojson }}</script></body></html>"""
ITEMS = """
SELECT paper_item.position, item_version.stem, item_version.options, paper_item.option_order
FROM paper_item JOIN item_version ON item_version.id = paper_item.item_version_id
WHERE paper_item.paper_id = ? AND paper_item.part_kind = 'theory'
ORDER BY paper_item.position
"""


def open_database(path: str) -> sqlite3.Connection:
    """One connection for the worker: sqlite3 never yields to another greenlet mid-statement."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bare_login (id INTEGER PRIMARY KEY, registration INTEGER, "
        "ip TEXT, user_agent TEXT, at TEXT)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bare_start (registration INTEGER, part TEXT, "
        "started_at TEXT, deadline TEXT, PRIMARY KEY (registration, part))"
    )
    conn.commit()
    return conn


def _shown(options: str, order: str) -> list[tuple[str, str]]:
    """The options under the labels shown, in the paper's order."""
    texts = [text for _, text in json.loads(options)]
    order = order or "ABCDEFGH"[: len(texts)]
    return [("ABCDEFGH"[k], texts["ABCDEFGH".index(key)]) for k, key in enumerate(order)]


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "delivery-bench")
    CSRFProtect(app)
    database = open_database(os.environ["BARE_DATABASE"])
    # compiled once, as Flask's render_template keeps a file's template (render_template_string
    # compiles its source on every call)
    login_page, waiting_page, paper_page = map(app.jinja_env.from_string, (LOGIN, WAITING, PAPER))
    mode = "eventlet" if "eventlet" in sys.modules else "threading"
    sio = SocketIO(app, async_mode=mode)

    def who() -> tuple[int, str, str, int]:
        reg = session.get("reg")
        row = database.execute(
            "SELECT registration.id, candidate.name, registration.ticket_number, "
            "registration.paper_id FROM registration "
            "JOIN candidate ON candidate.id = registration.candidate_id WHERE registration.id = ?",
            (reg,),
        ).fetchone()
        if row is None:
            abort(401)
        return row  # type: ignore[no-any-return]

    @app.route("/exam/login", methods=["GET", "POST"])
    def login() -> Any:
        error = ""
        if request.method == "POST":
            row = database.execute(
                "SELECT registration.id FROM registration "
                "JOIN candidate ON candidate.id = registration.candidate_id "
                "WHERE registration.ticket_number = ? AND candidate.id_number = ?",
                (request.form.get("ticket_number"), request.form.get("id_number")),
            ).fetchone()
            if row is not None:
                database.execute(
                    "INSERT INTO bare_login (registration, ip, user_agent, at) VALUES (?, ?, ?, ?)",
                    (row[0], request.remote_addr, request.user_agent.string, _now()),
                )
                database.commit()
                session["reg"] = row[0]
                return redirect("/exam/")
            error = "准考证号或身份证号不正确"
        return login_page.render(error=error)

    @app.route("/exam/")
    def waiting() -> Any:
        _, name, _, _ = who()
        return waiting_page.render(name=name, rules=RULES)

    @app.route("/exam/api/theory/start", methods=["POST"])
    def start() -> Any:
        reg = who()[0]
        now = datetime.now(UTC)
        deadline = (now + timedelta(minutes=90)).isoformat()
        database.execute(
            "INSERT OR IGNORE INTO bare_start VALUES (?, 'theory', ?, ?)",
            (reg, now.isoformat(), deadline),
        )
        database.commit()
        return jsonify(ok=True, state="in_progress", deadline=deadline)

    @app.route("/exam/paper/theory")
    def paper() -> Any:
        reg, name, ticket, paper_id = who()
        items = [
            (position, stem, _shown(options, order))
            for position, stem, options, order in database.execute(ITEMS, (paper_id,))
        ]
        client = {"registration": reg, "items": [p for p, _, _ in items]}
        return paper_page.render(name=name, ticket=ticket, items=items, client=client)

    def connect(auth: Any = None) -> bool:
        return session.get("reg") is not None

    def hello(_: Any = None) -> dict[str, Any]:
        row = database.execute(
            "SELECT deadline FROM bare_start WHERE registration = ? AND part = 'theory'",
            (session.get("reg"),),
        ).fetchone()
        return {"ok": True, "deadline": row[0] if row else None}

    sio.on_event("connect", connect, namespace=NS)
    sio.on_event("hello", hello, namespace=NS)
    return app


def _now() -> str:
    return datetime.now(UTC).isoformat()


app = create_app() if "BARE_DATABASE" in os.environ else None
