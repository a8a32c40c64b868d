"""Backups of the SQLite database with SQLite's online backup API (safe while the service runs).

PostgreSQL is backed up with its own tools (``pg_dump``); see README.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from council.errors import ConfigurationError, CouncilError


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise ConfigurationError(
            "council backup/restore koskee SQLite-tietokantaa; PostgreSQL varmuuskopioidaan pg_dumpilla"
        )
    return Path(parsed.database)


def backup(url: str, target: Path) -> Path:
    """Copy the live database into ``target`` (a consistent snapshot, writers may go on)."""
    source = sqlite_path(url)
    if not source.is_file():
        raise CouncilError(f"Tietokantaa {source} ei ole: aja ensin council init")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
        src.backup(dst)
    tmp.replace(target)
    return target


def _check_backup(path: Path) -> None:
    if not path.is_file():
        raise CouncilError(f"Varmuuskopiota {path} ei löydy")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("PRAGMA quick_check").fetchone()
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise CouncilError(f"{path} ei ole tämän palvelun SQLite-varmuuskopio: {exc}") from exc


def restore(url: str, source: Path) -> Path:
    """Replace the database's contents with ``source``; the current database is kept beside it.

    Returns the path of the safety copy of the database as it was before the restore.
    """
    _check_backup(source)
    live = sqlite_path(url)
    safety = live.with_name(f"{live.name}.ennen-palautusta-{datetime.now():%Y%m%dT%H%M%S}")
    if live.is_file():
        backup(url, safety)
    else:
        live.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(live) as dst:
        src.backup(dst)
    return safety
