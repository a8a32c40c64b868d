"""Engine and schema handling: SQLite by default (WAL, busy timeout), PostgreSQL by URL.

Callers own the session lifecycle::

    engine = engine_for(settings)
    with Session(engine) as session, session.begin():
        do_something(session=session)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from council.config import PROJECT_ROOT, Settings
from council.errors import DatabaseBusyError, DatabaseNotReadyError, DatabaseUnavailableError

#: How long a SQLite writer waits for another writer's lock (Settings.sqlite_busy_timeout_ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000

_engines: dict[tuple[str, int], Engine] = {}


def engine_for(settings: Settings) -> Engine:
    """The engine of the configured database (``COUNCIL_DATABASE_URL``, busy timeout)."""
    return make_engine(settings.effective_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def _busy_error(busy_timeout_ms: int) -> DatabaseBusyError:
    return DatabaseBusyError(f"tietokanta on toisen kirjoittajan lukitsema yli {busy_timeout_ms / 1000:.1f} s")


def make_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """One engine per URL (and SQLite busy timeout) and process; engines hold the connection pool."""
    key = (url, busy_timeout_ms)
    if key in _engines:
        return _engines[key]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # No folder is created here: a mistyped path must not become a new, empty database
        # (`council init` creates the default state/ folder; see prepare_database_folder).
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

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
                raise _busy_error(busy_timeout_ms) from exc
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _engines[key] = engine
    return engine


def prepare_database_folder(settings: Settings) -> None:
    """Create the default SQLite folder (state/) for ``council init``; any other folder must exist."""
    parsed = make_url(settings.effective_database_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).parent
    if folder.resolve() == settings.state_dir.resolve():
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise DatabaseUnavailableError(display_url(settings.effective_database_url), f"kansiota {folder} ei ole")


def display_url(url: str) -> str:
    """The database URL as it may be shown: no password."""
    return make_url(url).render_as_string(hide_password=True)


def database_error(exc: SQLAlchemyError, url: str = "") -> DatabaseUnavailableError:
    """A driver error (file cannot be opened or written, server down, database missing) as our own."""
    original = getattr(exc, "orig", None) or exc
    detail = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = detail.lower()
    if "readonly" in lowered or "read-only" in lowered:
        detail = f"tiedosto on vain luku -tilassa ({detail})"
    elif "unable to open database file" in lowered:
        detail = f"tiedostoa ei voi avata: kansio puuttuu tai siihen ei ole oikeuksia ({detail})"
    elif "does not exist" in lowered:
        detail = f"tietokantaa ei ole ({detail})"
    elif "connection" in lowered or "could not connect" in lowered:
        detail = f"palvelimeen ei saada yhteyttä ({detail})"
    return DatabaseUnavailableError(display_url(url) if url else "", detail)


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


def checked_engine_for(settings: Settings) -> Engine:
    """:func:`checked_engine` of the configured database."""
    return checked_engine(settings.effective_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def checked_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """The engine for ``url`` after checking (once per process) that its schema is current.

    A SQLite file that does not exist yet is reported without connecting (which would leave an
    empty database file behind)."""
    if url not in _checked:
        parsed = make_url(url)
        is_file_db = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        if is_file_db and not Path(parsed.database).exists():
            raise DatabaseNotReadyError(f"tiedostoa {parsed.database} ei ole")
        check_schema(make_engine(url, busy_timeout_ms=busy_timeout_ms))
        _checked.add(url)
    return make_engine(url, busy_timeout_ms=busy_timeout_ms)
