"""Following without logging in: the iCalendar feed (meetings, deadlines, reminders) and the Atom feed of
status changes, written beside the dashboard, parsed by icalendar and feedparser, served by the server."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session

from council.config import Settings
from council.dashboard.publish import ATOM_NAME, ICS_NAME, write_dashboard
from council.dashboard.server import serve_dashboard
from council.store.decisions import record_decision
from council.store.engine import make_engine
from models.decisions import DecisionIn
from models.enums import Outcome
from tests.helpers import delivered_proposal
from tests.test_dashboard import delivered_reminder, put_on_agenda

MEETING = date(2026, 12, 9)
TODAY = date(2027, 1, 20)


def _write(settings: Settings, folder: Path, today: date = TODAY) -> None:
    with Session(make_engine(settings.effective_database_url)) as session:
        write_dashboard(session=session, proposal_id=settings.proposal_id, folder=folder, today=today)


@pytest.fixture
def followed(sent: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    """Humppila: sent 1.10.2026, one reminder, open; Tammela: on the agenda of 9.12.2026; Jokioinen: a decision."""
    delivered_proposal(sent, "humppila", sent_at=datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    delivered_proposal(sent, "tammela", sent_at=datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    delivered_reminder(sent, "humppila", 1, sent_at=datetime(2026, 10, 22, 8, 0, tzinfo=UTC))
    put_on_agenda(sent, "tammela", [1, 2], MEETING)
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=sent.proposal_id,
            decision=DecisionIn(
                body_id="jokioinen",
                point=1,
                outcome=Outcome.hyvaksytty,
                meeting_date=date(2026, 11, 16),
                section=59,
                recorded_by="Niina",
            ),
        )
    folder = tmp_path / "dashboard"
    _write(sent, folder)
    return sent, folder


def _events(folder: Path) -> dict[str, object]:
    calendar = Calendar.from_ical((folder / ICS_NAME).read_bytes())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_calendar_parses_and_holds_meetings_deadlines_and_reminders(followed: tuple[Settings, Path]) -> None:
    """icalendar reads the ICS; it has the agenda meeting, the decision meeting, deadlines and reminder dates."""
    settings, folder = followed
    raw = (folder / ICS_NAME).read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.rstrip().endswith(b"END:VCALENDAR")
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0" and "council" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]).startswith("Päätösten seuranta – ")
    events = _events(folder)
    prefix = settings.proposal_id
    agenda = events[f"{prefix}.tammela.kokous.2026-12-09@council"]
    assert agenda.decoded("DTSTART") == MEETING and agenda.decoded("DTEND") == MEETING + timedelta(days=1)
    assert str(agenda["SUMMARY"]) == "Tammelan kunta: esitys esityslistalla, kohdat 1, 2"
    assert "1. " in str(agenda["DESCRIPTION"]) and "esityslistalla" in str(agenda["DESCRIPTION"])
    decided = events[f"{prefix}.jokioinen.kokous.2026-11-16@council"]
    assert "hyväksytty ehdotuksen mukaisesti, § 59" in str(decided["DESCRIPTION"])
    deadline = events[f"{prefix}.humppila.vastausaika@council"]
    assert deadline.decoded("DTSTART") == date(2026, 12, 30)  # 1.10. + 90 days
    assert str(deadline["SUMMARY"]) == "Vastausaika päättyy: Humppilan kunta"
    sent_reminder = events[f"{prefix}.humppila.muistutus.1@council"]
    assert sent_reminder.decoded("DTSTART") == date(2026, 10, 22)
    assert str(sent_reminder["SUMMARY"]) == "Muistutus 1 lähetetty: Humppilan kunta"
    next_reminder = events[f"{prefix}.humppila.muistutus.2@council"]
    assert str(next_reminder["SUMMARY"]) == "Muistutus 2 erääntyy: Humppilan kunta"
    assert next_reminder.decoded("DTSTART") >= TODAY
    # Tammela's meeting has passed: the next reminder is due now, for the body to be asked again.
    assert f"{prefix}.tammela.muistutus.1@council" in events
    # Bodies without a delivered proposal email have no deadline or reminders.
    assert not any(uid.startswith(f"{prefix}.forssa.") for uid in events)
    for event in events.values():
        assert event.get("DTSTAMP") is not None and str(event["TRANSP"]) == "TRANSPARENT"


def test_calendar_uids_stay_the_same_across_rewrites(followed: tuple[Settings, Path]) -> None:
    """A rewrite keeps every event's UID, and a sent reminder takes over the UID of the one that was due."""
    settings, folder = followed
    before = _events(folder)
    _write(settings, folder)
    assert set(_events(folder)) == set(before)
    delivered_reminder(settings, "humppila", 2, sent_at=datetime(2027, 1, 20, 8, 0, tzinfo=UTC))
    _write(settings, folder)
    after = _events(folder)
    uid = f"{settings.proposal_id}.humppila.muistutus.2@council"
    assert str(after[uid]["SUMMARY"]) == "Muistutus 2 lähetetty: Humppilan kunta"
    assert f"{settings.proposal_id}.humppila.muistutus.3@council" in after


def test_atom_feed_parses_with_one_entry_per_change_newest_first(followed: tuple[Settings, Path]) -> None:
    """feedparser reads the Atom feed without errors: Finnish titles, unique ids, cells changed together in one entry."""
    settings, folder = followed
    parsed = feedparser.parse((folder / ATOM_NAME).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title.startswith("Tilamuutokset – ")
    assert parsed.feed.id == f"urn:council:{settings.proposal_id}:muutokset"
    titles = [e.title for e in parsed.entries]
    assert titles[0].startswith(
        "Jokioisten kunta – päätös kirjattu, kohta 1: hyväksytty ehdotuksen mukaisesti"
    )
    assert "Tammelan kunta – tila muuttui, kohdat 1, 2: lähetetty → esityslistalla" in titles
    assert "Forssan kaupunki – tila muuttui, kohdat 1, 2, 3, 4: lähettämättä → lähetetty" in titles
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)) and all(
        i.startswith(f"urn:council:{settings.proposal_id}:") for i in ids
    )
    updated = [e.updated_parsed for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    assert all(e.content[0].value for e in parsed.entries)
    assert not any("viesti" in t for t in titles)  # only status changes and decisions, no mail events


def test_feeds_are_served_without_logging_in(followed: tuple[Settings, Path]) -> None:
    """`council dashboard --serve` hands out the calendar and the feed; what it serves is what parses."""
    _, folder = followed
    server = serve_dashboard(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ics = httpx.get(f"{base}/{ICS_NAME}", timeout=10)
        atom = httpx.get(f"{base}/{ATOM_NAME}", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert ics.status_code == 200 and ics.headers["content-type"] == "text/calendar; charset=utf-8"
    assert Calendar.from_ical(ics.content).walk("VEVENT")
    assert atom.status_code == 200 and atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert not feedparser.parse(atom.content).bozo
