"""Extension objects, made once and attached to the app in ``create_app``.

Kept apart from ``app.py`` so that packages can import them without importing the app.
"""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so that migrations are stable on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
# The client address is a rate-limit key only: it lives in the limiter's storage, never in a table.
# With the storage (Redis) away, each worker applies the same limits in its own memory (the
# switch is logged once; the storage is tried again now and then): nobody is shut out by a 500
# and no limit is lifted. ``core.counters`` does the same for the wrong-code counters.
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded.

    For a page that records that it was seen (an audit entry, messages marked read) and then
    shows what it read in this same request: a plain commit would expire every loaded object
    and load each one again to render it. Only where the commit's own changes went through
    the loaded objects (not through bulk SQL), so nothing loaded is stale."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
