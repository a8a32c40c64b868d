"""When a source of decisions (the mailbox, a body's meeting publication) counts as silent: it has
failed, or returned nothing recognisable, for :data:`SILENT_DAYS` days. The dashboard and the weekly
digest then say "lähde ei vastaa" instead of going silently stale (issue 16)."""

from __future__ import annotations

from datetime import date, datetime

from council.rules.formatting import HELSINKI

#: Days a source may fail before it is shown as silent (a publication is read once a day: three
#: failed readings in a row, over a weekend's maintenance break included).
SILENT_DAYS = 3


def source_silent(failing_since: datetime | None, today: date, days: int = SILENT_DAYS) -> bool:
    """Whether a source failing since ``failing_since`` (None: it answers) is silent on ``today``."""
    if failing_since is None:
        return False
    return (today - failing_since.astimezone(HELSINKI).date()).days >= days
