"""API tokens: created by staff for their institution's system, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..auth.models import User, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import ApiToken

PREFIX = "exs_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token acting as ``user``; the secret is returned here and never again."""
    name = name.strip()
    if not name:
        raise DomainError("请为令牌起一个名字，例如「教务系统对接」")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:100], prefix=secret[:10], token_hash=_digest(secret))
    db.session.add(row)
    db.session.flush()
    return row, secret


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke(user: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("令牌不存在")
    row.revoked_at = row.revoked_at or utcnow()
    db.session.flush()


def user_for(header: str | None) -> User | None:
    """The active user behind ``Authorization: Bearer <token>``, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = header.removeprefix("Bearer ").strip()
    if not token.startswith(PREFIX):
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
