"""Formatting helpers used when building document and email contexts.

Dates follow the Finnish public-sector convention (SFS 4175): ``15.2.2021``, no leading zeros,
formatted by Babel so the same call serves Swedish (``15.2.2021`` there too).
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from models.clock import HELSINKI, today_helsinki

__all__ = ["FILTERS", "HELSINKI", "fi_date", "today_helsinki"]


def fi_date(value: date, locale: str = "fi_FI") -> str:
    """Format a date as 15.2.2021.

    In a template: ``{{ meeting_date|fi_date }}`` (registered as a Jinja filter).
    """
    return format_date(value, format="d.M.yyyy", locale=locale)


FILTERS = {"fi_date": fi_date}
