"""Use cases for staff accounts."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from .models import User, UserRole
from .roles import Role


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same answer for every failure)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def create_user(
    username: str,
    password: str,
    display_name: str,
    roles: set[Role],
    organization_id: int | None = None,
) -> User:
    """Create a staff user with hashed password and roles; flushes, the caller commits."""
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"用户名“{username}”已被使用，请换一个")
    if not roles:
        raise DomainError("至少需要选择一个角色")
    user = User(username=username, display_name=display_name, organization_id=organization_id)
    user.set_password(password)
    user.roles = [UserRole(role=str(r)) for r in sorted(roles)]
    db.session.add(user)
    db.session.flush()
    return user


def organization_users(admin: User) -> list[User]:
    """The staff of the admin's organization, by username."""
    query = select(User).where(User.organization_id == admin.organization_id)
    return list(db.session.scalars(query.order_by(User.username)))


def set_roles(admin: User, user_id: int, roles: set[Role], active: bool) -> User:
    """Change a colleague's roles and whether the account may sign in.

    An admin never removes their own admin role or deactivates themselves, so an organization
    cannot lock itself out.
    """
    user = db.session.get(User, user_id)
    if user is None or user.organization_id != admin.organization_id:
        raise NotFound("用户不存在或不属于您的机构")
    if user.id == admin.id and (Role.ORG_ADMIN not in roles or not active):
        raise DomainError("不能取消自己的机构管理员角色或停用自己的账号")
    if not roles:
        raise DomainError("至少需要选择一个角色")
    user.roles = [r for r in user.roles if Role(r.role) in roles]
    have = {Role(r.role) for r in user.roles}
    user.roles += [UserRole(role=str(r)) for r in sorted(roles - have)]
    user.active = active
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(current):
        raise DomainError("当前密码不正确")
    if current == new:
        raise DomainError("新密码不能与当前密码相同")
    user.set_password(new)
