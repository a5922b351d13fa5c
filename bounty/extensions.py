"""Unbound extension objects, bound to an application by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bounty.models.engine import make_engine, make_sessionmaker


@dataclass(frozen=True)
class _Bound:
    engine: Engine
    sessionmaker: sessionmaker[Session]


class Database:
    """The application's engine, and one session per application context.

    Views and CLI commands hand `db.session` to services; services commit.
    """

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
        app.extensions["bounty.db"] = _Bound(engine, make_sessionmaker(engine))
        app.teardown_appcontext(self._close)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["bounty.db"].engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["bounty.db"].sessionmaker()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None = None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
