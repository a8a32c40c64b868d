"""Engine and schema handling: SQLite by default (WAL, busy timeout), PostgreSQL by URL.

Callers own the session lifecycle::

    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session, session.begin():
        do_something(session=session)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from council.config import PROJECT_ROOT
from council.errors import DatabaseBusyError, DatabaseNotReadyError

#: How long a SQLite writer waits for another writer's lock before giving up (COUNCIL_SQLITE_BUSY_TIMEOUT_MS).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _busy_timeout_ms() -> int:
    return int(os.environ.get("COUNCIL_SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))


_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_busy(context) -> None:  # type: ignore[no-untyped-def]
    """Turn SQLite's 'database is locked' (after the busy timeout) into our own error."""
    original = context.original_exception
    if isinstance(original, sqlite3.OperationalError) and "locked" in str(original):
        raise DatabaseBusyError(
            f"tietokanta on toisen kirjoittajan lukitsema yli {_busy_timeout_ms() / 1000:.1f} s"
        ) from original


def make_engine(url: str) -> Engine:
    """One engine per URL and process (engines hold the connection pool)."""
    if url in _engines:
        return _engines[url]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling defers BEGIN; take the write lock up front
        # (BEGIN IMMEDIATE) so concurrent writers queue on the busy timeout instead of failing.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
                raise DatabaseBusyError(
                    f"tietokanta on toisen kirjoittajan lukitsema yli {_busy_timeout_ms() / 1000:.1f} s"
                ) from exc
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creates every table on an empty database)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not at the code's head revision."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise DatabaseNotReadyError(f"versio {current or 'tyhjä'}, koodi odottaa {head}")


_checked: set[str] = set()


def checked_engine(url: str) -> Engine:
    """The engine for ``url`` after checking (once per process) that its schema is current.

    A SQLite file that does not exist yet is reported without connecting (which would leave an
    empty database file behind)."""
    if url not in _checked:
        parsed = make_url(url)
        is_file_db = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        if is_file_db and not Path(parsed.database).exists():
            raise DatabaseNotReadyError(f"tiedostoa {parsed.database} ei ole")
        check_schema(make_engine(url))
        _checked.add(url)
    return make_engine(url)
