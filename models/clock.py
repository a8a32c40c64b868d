"""The service's clock: instants in UTC, calendar days in Finnish time.

Kept beside the models because their validators ask "is this date in the future?" too; everything
above imports the clock from here, and tests replace ``now`` where they need a fixed instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def now() -> datetime:
    """The current instant, timezone-aware UTC (what every ``*_at`` column stores)."""
    return datetime.now(UTC)


def today_helsinki() -> date:
    """Today's date in Finland (documents are dated by Finnish time, not UTC)."""
    return datetime.now(HELSINKI).date()
