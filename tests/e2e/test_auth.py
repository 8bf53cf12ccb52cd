"""Sign-in: hashed passwords, CSRF on every form, rate limits, safe redirects."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.extensions import db
from tests.conftest import PASSWORD, sign_in
from tests.e2e.conftest import variant


def test_passwords_are_hashed_and_wrong_ones_refused(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.AUTHOR)
    assert PASSWORD not in user.password_hash and user.password_hash.startswith(
        ("scrypt:", "pbkdf2:")
    )
    client = app.test_client()
    bad = client.post("/auth/login", data={"username": user.username, "password": "nope"})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_users_cannot_sign_in(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user(Role.AUTHOR)
    user.active = False
    db.session.commit()
    response = app.test_client().post(
        "/auth/login", data={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 401


def test_next_only_follows_local_paths(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user(Role.AUTHOR)
    data = {"username": user.username, "password": PASSWORD}
    away = app.test_client().post("/auth/login?next=https://evil.example/", data=data)
    assert away.headers["Location"] == "/"
    local = app.test_client().post("/auth/login?next=/bank/", data=data)
    assert local.headers["Location"] == "/bank/"


def test_sign_out_is_post_only(app: Flask, make_user: Callable[..., User]) -> None:
    client = app.test_client()
    sign_in(client, make_user(Role.AUTHOR))
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_is_enforced_on_forms(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user(Role.ORG_ADMIN)
    strict = variant(app)
    client = strict.test_client()
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400  # no token: refused before the password is even checked
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post(
        "/auth/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert ok.status_code == 302
    # a signed-in POST without a token is refused too
    assert client.post("/auth/logout").status_code == 400


def test_sign_in_is_rate_limited(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user(Role.AUTHOR)
    limited = variant(
        app, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"
    )
    client = limited.test_client()
    codes = [
        client.post(
            "/auth/login", data={"username": user.username, "password": "wrong"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert client.get("/auth/login").status_code == 200  # the form itself stays reachable
