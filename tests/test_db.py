"""Database: migrations up and down on SQLite and PostgreSQL, SQLite in WAL mode, schema check."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from council.errors import DatabaseNotReadyError
from council.store.engine import check_schema, downgrade, make_engine, upgrade
from models.tables import Base

TABLES = {
    "proposal",
    "point",
    "body",
    "recipient",
    "decision",
    "event",
    "message",
    "candidate",
    "intake_source",
    "send_batch",
}


def test_migrations_go_up_and_down(database_url: str) -> None:
    """`upgrade head` creates exactly the model's tables; `downgrade base` removes them again."""
    upgrade(database_url)
    engine = make_engine(database_url)
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert names == TABLES == set(Base.metadata.tables)
    check_schema(engine)
    downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    upgrade(database_url)
    check_schema(engine)


def test_outbox_key_is_unique_in_the_schema(database_url: str) -> None:
    """The (proposal, body, kind, round) unique constraint exists in the migrated database."""
    upgrade(database_url)
    uniques = inspect(make_engine(database_url)).get_unique_constraints("message")
    assert any(set(u["column_names"]) == {"proposal_id", "body_id", "kind", "round"} for u in uniques)


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path) -> None:
    """SQLite connections run in WAL mode with a busy timeout, so readers never block the writer."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_unmigrated_database_is_refused_with_a_hint(tmp_path) -> None:
    """Working on an empty database tells the user to run `council init`."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotReadyError, match="council init"):
        check_schema(engine)


def test_timestamps_are_stored_in_utc_and_compared_across_zones(database_url: str) -> None:
    """A time written in Helsinki time reads back as the same instant in UTC, and a Helsinki-time bound
    selects by instant on SQLite too (SQLite itself keeps no offset); a naive time is refused."""
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.exc import StatementError
    from sqlalchemy.orm import Session

    from council.rules.formatting import HELSINKI
    from models.tables import Event

    upgrade(database_url)
    engine = make_engine(database_url)
    just_after_midnight = datetime(2026, 11, 21, 0, 30, tzinfo=HELSINKI)  # 22.30 UTC on 20.11.
    with Session(engine) as session, session.begin():
        session.add(Event(occurred_at=just_after_midnight, kind="note", actor="t", data={}))
    with Session(engine) as session:
        stored = session.scalars(select(Event.occurred_at)).one()
        assert (
            stored == datetime(2026, 11, 20, 22, 30, tzinfo=UTC) and stored.utcoffset().total_seconds() == 0
        )
        midnight = datetime(2026, 11, 21, tzinfo=HELSINKI)
        assert session.scalars(select(Event.id).where(Event.occurred_at < midnight)).all() == []
        assert len(session.scalars(select(Event.id).where(Event.occurred_at >= midnight)).all()) == 1
    with Session(engine) as session, pytest.raises(StatementError, match="aikavyöhyke"):
        session.add(Event(occurred_at=datetime(2026, 11, 21, 0, 30), kind="note", actor="t", data={}))
        session.flush()
    engine.dispose()
