"""The committee dashboard: one self-contained HTML page and the same data as JSON.

Plain Python, no Prefect. :func:`build_dashboard` reads the database in a constant number of SQL
statements (five, whatever the number of bodies); :func:`render_html` and :func:`dashboard_json`
turn the result into the page and the JSON; :func:`write_dashboard` writes both atomically and
:func:`serve_dashboard` serves them read-only over HTTP.

``build_dashboard`` does no file I/O: the caller passes the proposal's reminder policy and the
roster's per-body overrides (:func:`content_policies` reads them from the content files)::

    policy, overrides = content_policies(settings)
    with Session(make_engine(settings.effective_database_url)) as session:
        write_dashboard(session=session, proposal_id=settings.proposal_id, folder=folder,
                        policy=policy, overrides=overrides)

JSON shape (``dashboard.json``, ``schema_version`` 1; dates as ISO strings, ``*_text`` and
``meeting_date``/``deadline``/``sent_date`` fields are Finnish display forms like 15.3.2021)::

    {
      "schema_version": 1,
      "proposal_id": str,
      "title": str,
      "today": "YYYY-MM-DD",                     # the date statuses and deadlines are computed for
      "generated_at": "2026-11-28T10:15:00+02:00",   # timezone-aware, Europe/Helsinki
      "generated_at_text": "28.11.2026 klo 10.15",
      "overall": {"decided": int, "total": int, "percent": int},   # cells decided or final
      "points": [
        {"number": int, "short_title": str, "title": str,
         "progress": {"decided": int, "total": int, "percent": int}}  # bodies decided/final on it
      ],
      "bodies": [                                # sorted by name
        {"body_id": str, "name": str,
         "cells": [                              # one per point, in point order
           {"point": int, "status": "not_sent|sent|reminded|on_agenda|decided|final",
            "status_label": str, "outcome": str|null, "meeting_date": "15.3.2021"|null,
            "meeting_date_iso": "YYYY-MM-DD"|null, "section": int|null}
         ],
         "open_points": [int],                   # points not decided or final
         "sent_at": datetime|null,               # the proposal email (round 0) was delivered
         "sent_date": "1.2.2021"|null,
         "deadline_days": int,                   # from the merged reminder policy
         "deadline": "2.5.2021"|null, "deadline_iso": "YYYY-MM-DD"|null,
         "overdue": bool, "days_overdue": int,   # open points and today past the deadline
         "timeline": [                           # newest first, at most 50
           {"occurred_at": datetime, "time": "15.3.2021 klo 10.15", "kind": str, "label": str,
            "point": int|null, "actor": str, "detail": str}
         ]}
      ],
      "liaisons": [                              # from point-1 decisions, in body order
        {"body_id": str, "body_name": str, "name": str, "title": str, "email": str, "work_time": str}
      ],
      "overdue": [str]                           # body ids, in body order
    }

Percentages are rounded down, so 100 % means every cell (or every body) has decided.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.errors import TemplateRenderError, UnknownProposalError
from council.filters import FILTERS, HELSINKI, fi_date, today_helsinki
from council.perf import gc_paused
from council.rendering import TEMPLATES_DIR
from council.transitions import effective_status
from models.enums import EVENT_LABEL_FI, STATUS_LABEL_FI, DecisionStatus, EventKind, MessageKind, MessageState
from models.schemas import ReminderPolicyIn, ReminderPolicyOverrideIn
from models.tables import Body, Decision, Event, Message, Point, Proposal

if TYPE_CHECKING:
    from council.config import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TEMPLATE = "dashboard.html.j2"
HTML_NAME = "dashboard.html"
JSON_NAME = "dashboard.json"
TIMELINE_LIMIT = 50
DETAIL_MAX = 120
DONE = frozenset({DecisionStatus.decided, DecisionStatus.final})
DEFAULT_POLICY = ReminderPolicyIn()
NO_OVERRIDES: Mapping[str, ReminderPolicyOverrideIn] = MappingProxyType({})

MESSAGE_KIND_FI: dict[str, str] = {
    MessageKind.proposal: "esitys",
    MessageKind.reminder: "muistutus",
    MessageKind.duty_description: "toimenkuva",
    MessageKind.confirmation: "vahvistus",
    MessageKind.digest: "kooste",
}


class Progress(BaseModel):
    decided: int
    total: int
    percent: int


class DashboardPoint(BaseModel):
    number: int
    short_title: str
    title: str
    progress: Progress


class DashboardCell(BaseModel):
    point: int
    status: DecisionStatus
    status_label: str
    outcome: str | None
    meeting_date: str | None
    meeting_date_iso: date | None
    section: int | None


class TimelineEntry(BaseModel):
    occurred_at: datetime
    time: str
    kind: str
    label: str
    point: int | None
    actor: str
    detail: str


class DashboardBody(BaseModel):
    body_id: str
    name: str
    cells: list[DashboardCell]
    open_points: list[int]
    sent_at: datetime | None
    sent_date: str | None
    deadline_days: int
    deadline: str | None
    deadline_iso: date | None
    overdue: bool
    days_overdue: int
    timeline: list[TimelineEntry]


class Liaison(BaseModel):
    body_id: str
    body_name: str
    name: str
    title: str
    email: str
    work_time: str


class DashboardOut(BaseModel):
    """Everything the dashboard shows; its JSON form is the shape in the module docstring."""

    schema_version: int = SCHEMA_VERSION
    proposal_id: str
    title: str
    today: date
    generated_at: datetime
    generated_at_text: str
    overall: Progress
    points: list[DashboardPoint]
    bodies: list[DashboardBody]
    liaisons: list[Liaison]
    overdue: list[str]


# --- building -------------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def fi_datetime(value: datetime) -> str:
    """Helsinki time in the Finnish form: 28.11.2026 klo 10.15."""
    local = _aware(value).astimezone(HELSINKI)
    return f"{fi_date(local.date())} klo {local.hour}.{local.minute:02d}"


def _progress(decided: int, total: int) -> Progress:
    return Progress(decided=decided, total=total, percent=(100 * decided // total) if total else 0)


def _short(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _status_text(value: Any) -> str:
    """A status from an event: a plain value (mark_sent) or a cell snapshot (corrections)."""
    if isinstance(value, dict):
        value = value.get("status")
    try:
        return STATUS_LABEL_FI[DecisionStatus(value)]
    except ValueError:
        return str(value or "?")


def _event_detail(kind: str, data: Mapping[str, Any] | None) -> str:
    """A short, human detail of one event for the timeline."""
    data = data or {}
    try:
        if kind == EventKind.decision_recorded:
            new = data.get("new") or {}
            parts = [str(new.get("outcome") or "")]
            if new.get("meeting_date"):
                parts.append(fi_date(date.fromisoformat(new["meeting_date"])))
            if new.get("section") is not None:
                parts.append(f"§ {new['section']}")
            return _short(", ".join(p for p in parts if p))
        if kind in (EventKind.message_sent, EventKind.message_queued, EventKind.message_failed):
            text = MESSAGE_KIND_FI.get(str(data.get("kind")), str(data.get("kind") or ""))
            if data.get("round"):
                text += f" {data['round']}"
            if kind == EventKind.message_failed and data.get("error"):
                text += f": {data['error']}"
            return _short(text)
        if kind == EventKind.status_changed:
            return _short(f"{_status_text(data.get('old'))} → {_status_text(data.get('new'))}")
        if kind == EventKind.document_generated:
            return _short(str(data.get("document") or data.get("kind") or ""))
    except (TypeError, ValueError, KeyError):  # an odd event never breaks the dashboard
        log.warning("tapahtuman %s tietoja ei voitu tulkita", kind)
    return ""


def build_dashboard(*args, **kwargs) -> DashboardOut:  # noqa: ANN002, ANN003
    """See :func:`_build_dashboard`; runs it with the garbage collector paused."""
    with gc_paused():
        return _build_dashboard(*args, **kwargs)


def _build_dashboard(
    *,
    session: Session,
    proposal_id: str,
    today: date | None = None,
    policy: ReminderPolicyIn = DEFAULT_POLICY,
    overrides: Mapping[str, ReminderPolicyOverrideIn] = NO_OVERRIDES,
) -> DashboardOut:
    """The dashboard of one proposal, read in five SQL statements whatever the number of bodies.

    ``policy`` is the proposal's reminder policy and ``overrides`` the roster's per-body changes
    (body id → override); a body is overdue when it has an open point and its proposal email was
    delivered more than the merged ``deadline_days`` before ``today``.
    """
    today = today or today_helsinki()
    proposal = session.execute(select(Proposal.title).where(Proposal.id == proposal_id)).one_or_none()
    if proposal is None:
        raise UnknownProposalError(proposal_id, "Aja ensin: council init")
    points = session.execute(
        select(Point.number, Point.short_title, Point.title)
        .where(Point.proposal_id == proposal_id)
        .order_by(Point.number)
    ).all()
    cells = session.execute(
        select(
            Decision.body_id,
            Body.name,
            Decision.point_number,
            Decision.status,
            Decision.outcome,
            Decision.meeting_date,
            Decision.section,
            Decision.liaison,
        )
        .join(Body, Body.id == Decision.body_id)
        .where(Decision.proposal_id == proposal_id)
    ).all()
    # The business day of sending (``logical_date``) drives the deadline; ``sent_at`` is the clock time.
    sent_rows = {
        body_id: (_aware(at), day)
        for body_id, at, day in session.execute(
            select(Message.body_id, Message.sent_at, Message.logical_date).where(
                Message.proposal_id == proposal_id,
                Message.kind == MessageKind.proposal.value,
                Message.round == 0,
                Message.state == MessageState.sent.value,
                Message.sent_at.is_not(None),
            )
        )
    }
    ranked = (
        select(
            Event.id,
            Event.body_id,
            Event.occurred_at,
            Event.point_number,
            Event.kind,
            Event.actor,
            Event.data,
            func.row_number()
            .over(partition_by=Event.body_id, order_by=(Event.occurred_at.desc(), Event.id.desc()))
            .label("rank"),
        )
        .where(Event.proposal_id == proposal_id, Event.body_id.is_not(None))
        .subquery()
    )
    timelines: dict[str, list[TimelineEntry]] = {}
    for row in session.execute(
        select(ranked).where(ranked.c.rank <= TIMELINE_LIMIT).order_by(ranked.c.body_id, ranked.c.rank)
    ):
        occurred = _aware(row.occurred_at).astimezone(HELSINKI)
        timelines.setdefault(row.body_id, []).append(
            TimelineEntry(
                occurred_at=occurred,
                time=fi_datetime(occurred),
                kind=row.kind,
                label=EVENT_LABEL_FI.get(row.kind, row.kind),
                point=row.point_number,
                actor=row.actor,
                detail=_event_detail(row.kind, row.data),
            )
        )

    names: dict[str, str] = {}
    by_body: dict[str, dict[int, DashboardCell]] = {}
    liaison_rows: dict[str, dict] = {}
    for body_id, name, number, stored, outcome, meeting_date, section, liaison in cells:
        names[body_id] = name
        status = effective_status(DecisionStatus(stored), meeting_date, today)
        by_body.setdefault(body_id, {})[number] = DashboardCell(
            point=number,
            status=status,
            status_label=STATUS_LABEL_FI[status],
            outcome=outcome,
            meeting_date=fi_date(meeting_date) if meeting_date else None,
            meeting_date_iso=meeting_date,
            section=section,
        )
        if number == 1 and isinstance(liaison, dict) and liaison.get("name"):
            liaison_rows[body_id] = liaison

    numbers = [p.number for p in points]
    bodies: list[DashboardBody] = []
    for body_id in sorted(names, key=lambda b: (names[b].casefold(), b)):
        row_cells = [
            by_body[body_id].get(n)
            or DashboardCell(
                point=n,
                status=DecisionStatus.not_sent,
                status_label=STATUS_LABEL_FI[DecisionStatus.not_sent],
                outcome=None,
                meeting_date=None,
                meeting_date_iso=None,
                section=None,
            )
            for n in numbers
        ]
        open_points = [c.point for c in row_cells if c.status not in DONE]
        days = policy.merged(overrides.get(body_id)).deadline_days
        sent, logical_day = sent_rows.get(body_id, (None, None))
        sent_day = logical_day or (sent.astimezone(HELSINKI).date() if sent else None)
        deadline = sent_day + timedelta(days=days) if sent_day else None
        late = (today - deadline).days if deadline and open_points and today > deadline else 0
        bodies.append(
            DashboardBody(
                body_id=body_id,
                name=names[body_id],
                cells=row_cells,
                open_points=open_points,
                sent_at=sent.astimezone(HELSINKI) if sent else None,
                sent_date=fi_date(sent_day) if sent_day else None,
                deadline_days=days,
                deadline=fi_date(deadline) if deadline else None,
                deadline_iso=deadline,
                overdue=late > 0,
                days_overdue=late,
                timeline=timelines.get(body_id, []),
            )
        )

    done = {n: sum(1 for b in bodies if b.cells[i].status in DONE) for i, n in enumerate(numbers)}
    generated = datetime.now(HELSINKI)
    return DashboardOut(
        proposal_id=proposal_id,
        title=proposal.title,
        today=today,
        generated_at=generated,
        generated_at_text=fi_datetime(generated),
        overall=_progress(sum(done.values()), len(bodies) * len(numbers)),
        points=[
            DashboardPoint(
                number=p.number,
                short_title=p.short_title,
                title=p.title,
                progress=_progress(done[p.number], len(bodies)),
            )
            for p in points
        ],
        bodies=bodies,
        liaisons=[
            Liaison(
                body_id=b.body_id,
                body_name=b.name,
                name=str(liaison_rows[b.body_id].get("name", "")),
                title=str(liaison_rows[b.body_id].get("title", "")),
                email=str(liaison_rows[b.body_id].get("email", "")),
                work_time=str(liaison_rows[b.body_id].get("work_time", "")),
            )
            for b in bodies
            if b.body_id in liaison_rows
        ],
        overdue=[b.body_id for b in bodies if b.overdue],
    )


def content_policies(
    settings: Settings, proposal_id: str | None = None
) -> tuple[ReminderPolicyIn, dict[str, ReminderPolicyOverrideIn]]:
    """The proposal's reminder policy and the roster's per-body overrides, from the content files."""
    from council.content import load_proposal_by_id, load_roster

    proposal = load_proposal_by_id(settings.path(settings.data_dir), proposal_id or settings.proposal_id)
    roster = load_roster(settings.path(settings.roster_file))
    overrides = {b.id: b.reminder_policy for b in roster.bodies if b.reminder_policy is not None}
    return proposal.reminder_policy, overrides


# --- output -----------------------------------------------------------------------------------------


def html_environment() -> SandboxedEnvironment:
    """templates/ with autoescape on every template and undefined variables as errors."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(dashboard: DashboardOut) -> str:
    """The dashboard as one self-contained Finnish HTML page (inline CSS, no scripts, no URLs)."""
    statuses = [{"value": s.value, "label": STATUS_LABEL_FI[s]} for s in DecisionStatus]
    try:
        return (
            html_environment()
            .get_template(TEMPLATE)
            .render(d=dashboard.model_dump(mode="json"), statuses=statuses)
        )
    except UndefinedError as exc:
        raise TemplateRenderError(TEMPLATE, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(TEMPLATE, str(exc)) from exc


def dashboard_json(dashboard: DashboardOut) -> str:
    """The dashboard as JSON (the shape in the module docstring)."""
    return dashboard.model_dump_json(indent=2)


def _write_atomic(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_dashboard(
    *,
    session: Session,
    proposal_id: str,
    folder: Path,
    today: date | None = None,
    policy: ReminderPolicyIn = DEFAULT_POLICY,
    overrides: Mapping[str, ReminderPolicyOverrideIn] = NO_OVERRIDES,
) -> tuple[Path, Path]:
    """Write ``folder/dashboard.html`` and ``folder/dashboard.json`` atomically; return both paths."""
    dashboard = build_dashboard(
        session=session, proposal_id=proposal_id, today=today, policy=policy, overrides=overrides
    )
    return write_board(dashboard, folder)


def write_board(dashboard: DashboardOut, folder: Path) -> tuple[Path, Path]:
    """Write an already built dashboard as ``folder/dashboard.html`` and ``dashboard.json``."""
    html, data = render_html(dashboard), dashboard_json(dashboard)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, json_path = folder / HTML_NAME, folder / JSON_NAME
    _write_atomic(json_path, data)
    _write_atomic(html_path, html)
    return html_path, json_path


# --- serving ----------------------------------------------------------------------------------------

ROUTES: dict[str, tuple[str, str]] = {
    "/": (HTML_NAME, "text/html; charset=utf-8"),
    f"/{HTML_NAME}": (HTML_NAME, "text/html; charset=utf-8"),
    f"/{JSON_NAME}": (JSON_NAME, "application/json; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


class _DashboardHandler(BaseHTTPRequestHandler):
    """GET/HEAD of three fixed names; every other path 404, every other method 405."""

    folder: Path
    server_version = "council-dashboard"
    sys_version = ""

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; any method without one is refused.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str, *, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _text(self, status: HTTPStatus, message: str, *, head: bool = False) -> None:
        self._reply(status, (message + "\n").encode(), "text/plain; charset=utf-8", head=head)

    def _not_allowed(self) -> None:
        self._text(HTTPStatus.METHOD_NOT_ALLOWED, "Vain luku: sallitut menetelmät ovat GET ja HEAD.")

    def _serve(self, *, head: bool) -> None:
        route = ROUTES.get(urlsplit(self.path).path)
        if route is None:
            self._text(HTTPStatus.NOT_FOUND, "Ei löydy.", head=head)
            return
        name, content_type = route
        target = (self.folder / name).resolve()
        if target.parent != self.folder:  # a symlink pointing out of the folder
            self._text(HTTPStatus.NOT_FOUND, "Ei löydy.", head=head)
            return
        try:
            body = target.read_bytes()
        except FileNotFoundError:
            self._text(HTTPStatus.NOT_FOUND, "Tilannekuvaa ei ole vielä tuotettu.", head=head)
            return
        self._reply(HTTPStatus.OK, body, content_type, head=head)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


def serve_dashboard(folder: Path, host: str = "127.0.0.1", port: int = 8050) -> ThreadingHTTPServer:
    """A read-only HTTP server for ``folder``'s dashboard; the caller runs ``serve_forever``.

    ``/`` and ``/dashboard.html`` serve the page, ``/dashboard.json`` the JSON, each read from
    disk on every request (a rewrite shows on reload). Nothing else in the folder or outside it is
    ever served.
    """
    handler = type("DashboardHandler", (_DashboardHandler,), {"folder": folder.resolve()})
    return ThreadingHTTPServer((host, port), handler)
