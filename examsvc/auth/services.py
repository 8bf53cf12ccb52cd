"""Use cases for staff accounts."""

from __future__ import annotations

from sqlalchemy import select

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
    user = User(username=username, display_name=display_name, organization_id=organization_id)
    user.set_password(password)
    user.roles = [UserRole(role=str(r)) for r in sorted(roles)]
    db.session.add(user)
    db.session.flush()
    return user
