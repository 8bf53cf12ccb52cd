"""Staff roles and the annotations that every view carries; the check itself is in setup.py."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Role(StrEnum):
    ORG_ADMIN = "org_admin"
    AUTHOR = "author"
    REVIEWER = "reviewer"
    SITE_ADMIN = "site_admin"
    INVIGILATOR = "invigilator"
    RATER = "rater"


ALL_STAFF = frozenset(Role)
BANK_READERS = frozenset({Role.ORG_ADMIN, Role.AUTHOR, Role.REVIEWER})
BANK_WRITERS = frozenset({Role.ORG_ADMIN, Role.AUTHOR})
# Who registers candidates: the organization for all its sites, a site admin for one site.
REGISTRARS = frozenset({Role.ORG_ADMIN, Role.SITE_ADMIN})


def roles_required(*roles: Role | frozenset[Role]) -> Callable[[F], F]:
    """Mark a view as open to staff holding any of ``roles``; enforced before every request."""
    allowed: set[Role] = set()
    for role in roles:
        allowed |= role if isinstance(role, frozenset) else {role}

    def mark(view: F) -> F:
        view.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Mark a view as open to everyone, signed in or not."""
    view.public = True  # type: ignore[attr-defined]
    return view
