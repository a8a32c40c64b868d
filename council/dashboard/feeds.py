"""Follow a proposal without logging in: :func:`calendar_ics` (iCalendar, RFC 5545, written with
``icalendar``) and :func:`changes_atom` (Atom, RFC 4287, written with ``feedgen``), both from a built
dashboard, so they say exactly what the page says.

The calendar holds all-day events, each with a UID that stays the same across rewrites (a calendar
app updates the event instead of adding a copy):

* a meeting of a body with the proposal on its agenda (``<proposal>.<body>.kokous.<date>``), the
  points and what became of them;
* a body's response deadline while it has open points (``<proposal>.<body>.vastausaika``);
* each delivered reminder and the next one due (``<proposal>.<body>.muistutus.<round>``: the due
  event becomes the sent one).

The Atom feed has one entry per status change or recorded decision in the bodies' timelines (the
newest 50 events of each body), the cells changed together in one entry, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event

from council.dashboard.model import DashboardBody, DashboardCell, DashboardOut, TimelineEntry
from models.enums import EventKind

#: The Atom feed's newest entries (each one or more cells changed together).
ATOM_LIMIT = 200
PRODID = "-//council//Päätösten seuranta//FI"
FEED_KINDS = frozenset({EventKind.status_changed.value, EventKind.decision_recorded.value})


def _points(numbers: Iterable[int]) -> str:
    numbers = list(numbers)
    return f"kohta {numbers[0]}" if len(numbers) == 1 else "kohdat " + ", ".join(map(str, numbers))


def _cell_line(board: DashboardOut, cell: DashboardCell) -> str:
    titles = {p.number: p.short_title for p in board.points}
    parts = [cell.status_label] + ([cell.outcome] if cell.outcome else [])
    if cell.section is not None:
        parts.append(f"§ {cell.section}")
    return f"{cell.point}. {titles.get(cell.point, '')}: {', '.join(parts)}"


def _event(uid: str, day: date, summary: str, description: str, stamp: datetime, category: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("categories", [category])
    event.add("transp", "TRANSPARENT")  # a note in the calendar, not a busy time
    return event


def _body_events(board: DashboardOut, body: DashboardBody, stamp: datetime) -> list[Event]:
    prefix = f"{board.proposal_id}.{body.body_id}"
    events = []
    meetings: dict[date, list[DashboardCell]] = {}
    for cell in body.cells:
        if cell.meeting_date_iso is not None:
            meetings.setdefault(cell.meeting_date_iso, []).append(cell)
    for day, cells in sorted(meetings.items()):
        events.append(
            _event(
                f"{prefix}.kokous.{day.isoformat()}@council",
                day,
                f"{body.name}: esitys esityslistalla, {_points(c.point for c in cells)}",
                "\n".join([board.title, *(_cell_line(board, c) for c in cells)]),
                stamp,
                "Kokous",
            )
        )
    if body.deadline_iso is not None and body.open_points:
        events.append(
            _event(
                f"{prefix}.vastausaika@council",
                body.deadline_iso,
                f"Vastausaika päättyy: {body.name}",
                f"{board.title}\nEsitys lähetetty {body.sent_date}; avoinna {_points(body.open_points)}.",
                stamp,
                "Määräaika",
            )
        )
    for reminder in body.reminders_sent:
        events.append(
            _event(
                f"{prefix}.muistutus.{reminder.round}@council",
                reminder.date_iso,
                f"Muistutus {reminder.round} lähetetty: {body.name}",
                board.title,
                stamp,
                "Muistutus",
            )
        )
    if body.next_reminder_iso is not None:
        round_ = len(body.reminders_sent) + 1
        events.append(
            _event(
                f"{prefix}.muistutus.{round_}@council",
                body.next_reminder_iso,
                f"Muistutus {round_} erääntyy: {body.name}",
                f"{board.title}\nAvoinna {_points(body.open_points)}.",
                stamp,
                "Muistutus",
            )
        )
    return events


def calendar_ics(board: DashboardOut) -> bytes:
    """The proposal's meetings, deadlines and reminders as an iCalendar file (UTF-8, CRLF lines)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = f"Päätösten seuranta – {board.title}"
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Helsinki")
    stamp = board.generated_at.astimezone(UTC).replace(microsecond=0)
    for body in board.bodies:
        for event in _body_events(board, body, stamp):
            calendar.add_component(event)
    return calendar.to_ical()


def _changes(board: DashboardOut) -> list[tuple[DashboardBody, list[TimelineEntry]]]:
    """Status changes and decisions, the cells one action changed grouped, newest first."""
    groups: dict[tuple, tuple[DashboardBody, list[TimelineEntry]]] = {}
    for body in board.bodies:
        for entry in body.timeline:
            if entry.kind not in FEED_KINDS:
                continue
            key = (
                body.body_id,
                entry.kind,
                entry.actor,
                entry.detail,
                entry.occurred_at.replace(microsecond=0),
            )
            groups.setdefault(key, (body, []))[1].append(entry)
    ordered = sorted(
        groups.values(),
        key=lambda g: (max(e.occurred_at for e in g[1]), max(e.event_id for e in g[1])),
        reverse=True,
    )
    return ordered[:ATOM_LIMIT]


def changes_atom(board: DashboardOut) -> bytes:
    """The status changes of the proposal's bodies as an Atom feed (newest first)."""
    feed = FeedGenerator()
    feed.id(f"urn:council:{board.proposal_id}:muutokset")
    feed.title(f"Tilamuutokset – {board.title}")
    feed.subtitle("Vastaanottajien päätösten ja esityksen käsittelyn tilamuutokset")
    feed.author({"name": board.sender or "council"})
    feed.link(href="dashboard.html", rel="alternate", type="text/html")
    feed.language("fi")
    feed.generator("council")
    changes = _changes(board)
    feed.updated(max((e.occurred_at for _, g in changes for e in g), default=board.generated_at))
    for body, entries in reversed(changes):  # feedgen puts the last added first
        first = entries[0]
        points = sorted({e.point for e in entries if e.point is not None})
        title = f"{body.name} – {first.label}"
        if points:
            title += f", {_points(points)}"
        if first.detail:
            title += f": {first.detail}"
        item = feed.add_entry()
        item.id(f"urn:council:{board.proposal_id}:tapahtuma:{min(e.event_id for e in entries)}")
        item.title(title)
        item.updated(max(e.occurred_at for e in entries))
        item.published(min(e.occurred_at for e in entries))
        item.author({"name": first.actor or "council"})
        item.link(href="dashboard.html", rel="alternate", type="text/html")
        item.content(f"{title}. {first.time}, tekijä {first.actor}.", type="text")
    return feed.atom_str(pretty=True)
