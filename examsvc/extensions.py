"""Flask extensions, created unbound here and bound to an app in the factory."""

from __future__ import annotations

from typing import Any

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
socketio = SocketIO()


def append_only(model: type, refusal: str) -> None:
    """Make rows of ``model`` unchangeable through the ORM once written: an audit record that can
    be edited afterwards does not stand up later. ``refusal`` is the message, ``{id}`` the row."""

    def refuse(_mapper: object, _connection: object, target: Any) -> None:
        raise PermissionError(refusal.format(id=target.id))

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
