"""Short Finnish/Swedish phrases the documents and emails share: a cell's note, a file name, who appointed."""

from __future__ import annotations

from datetime import date

from council.content.i18n import outcome_label, text
from council.paths import safe_filename
from council.rules.formatting import fi_date
from council.rules.reminders import Cell
from models.enums import DecisionStatus
from models.schemas import BodyIn


def cell_note(cell: Cell, lang: str = "fi") -> str | None:
    """'pantu pöydälle 15.3.2021 § 60' for a tabled/returned point; None for one not yet handled."""
    if cell.outcome is None:
        if cell.status == DecisionStatus.on_agenda.value and cell.meeting_date:
            return text(lang, "agenda", date=fi_date(cell.meeting_date))
        return None
    where = f" {fi_date(cell.meeting_date)}" if cell.meeting_date else ""
    section = f" § {cell.section}" if cell.section else ""
    return f"{outcome_label(cell.outcome, lang)}{where}{section}"


def duty_description_filled_name(body: BodyIn) -> str:
    """File name of the body's filled duty description (written when point 1 names a liaison)."""
    return safe_filename(text(body.language.value, "file_duty_filled", name=body.name), ".docx")


def appointed_by(deciding_body: str | None, meeting_date: date | None, section: int | None) -> str:
    """'Jokioisten kunnanhallitus 15.3.2021 § 59'."""
    parts = [deciding_body or ""]
    if meeting_date:
        parts.append(fi_date(meeting_date))
    if section:
        parts.append(f"§ {section}")
    return " ".join(p for p in parts if p)
