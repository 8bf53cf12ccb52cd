"""Organization admins manage their own staff; everyone changes their own password."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.extensions import db
from tests.conftest import PASSWORD, sign_in

Client = Callable[..., FlaskClient]
NEW = {
    "username": "li.ming",
    "display_name": "李明",
    "password": "a long initial pw",
    "roles": ["author", "rater"],
}


def _user(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    assert user is not None
    db.session.refresh(user)
    return user


def test_admin_adds_a_colleague_who_can_sign_in(app: Flask, client_as: Client) -> None:
    admin = client_as(Role.ORG_ADMIN)
    assert admin.post("/auth/users", data=NEW).status_code == 302
    user = _user("li.ming")
    assert user.role_set == {Role.AUTHOR, Role.RATER}
    page = admin.get("/auth/users").get_data(as_text=True)
    assert "李明" in page and "li.ming" in page
    again = admin.post("/auth/users", data=NEW)
    assert again.status_code == 409 and "用户名“li.ming”已被使用" in again.get_data(as_text=True)
    short = admin.post("/auth/users", data=NEW | {"username": "x.y", "password": "short"})
    assert short.status_code == 422
    colleague = app.test_client()
    ok = colleague.post(
        "/auth/login", data={"username": "li.ming", "password": "a long initial pw"}
    )
    assert ok.status_code == 302


def test_admin_changes_roles_and_deactivates(
    app: Flask, client_as: Client, make_user: Callable[..., User]
) -> None:
    admin = client_as(Role.ORG_ADMIN)
    author = make_user(Role.AUTHOR)
    response = admin.post(f"/auth/users/{author.id}", data={f"u{author.id}-roles": ["reviewer"]})
    assert response.status_code == 302
    user = _user(author.username)
    assert (user.role_set, user.active) == ({Role.REVIEWER}, False)
    client = app.test_client()
    assert (
        client.post(
            "/auth/login", data={"username": author.username, "password": PASSWORD}
        ).status_code
        == 401
    )


def test_admin_cannot_lock_out_or_touch_other_organizations(
    client_as: Client, make_user: Callable[..., User]
) -> None:
    admin_user = make_user(Role.ORG_ADMIN)
    from flask import current_app

    admin = current_app.test_client()
    sign_in(admin, admin_user)
    demote = admin.post(
        f"/auth/users/{admin_user.id}",
        data={f"u{admin_user.id}-roles": ["author"], f"u{admin_user.id}-active": "y"},
    )
    assert demote.status_code == 422 and "不能取消自己的机构管理员角色" in demote.get_data(
        as_text=True
    )
    stranger = make_user(Role.AUTHOR, org="cflp")
    assert (
        admin.post(
            f"/auth/users/{stranger.id}", data={f"u{stranger.id}-roles": ["reviewer"]}
        ).status_code
        == 404
    )
    assert "stranger" not in admin.get("/auth/users").get_data(as_text=True)
    assert _user(stranger.username).role_set == {Role.AUTHOR}


def test_staff_change_their_own_password(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user(Role.INVIGILATOR)
    client = app.test_client()
    sign_in(client, user)
    wrong = client.post(
        "/auth/password",
        data={"current": "nope", "new": "brand new secret", "repeat": "brand new secret"},
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    differ = client.post(
        "/auth/password", data={"current": PASSWORD, "new": "brand new secret", "repeat": "other"}
    )
    assert differ.status_code == 422 and "两次输入的密码不一致。" in differ.get_data(as_text=True)
    ok = client.post(
        "/auth/password",
        data={"current": PASSWORD, "new": "brand new secret", "repeat": "brand new secret"},
    )
    assert ok.status_code == 302
    assert _user(user.username).check_password("brand new secret")
