"""The dashboard's contract: the pydantic models of ``dashboard.json`` (and of the page built from it).

Built by :mod:`council.dashboard.build`, written by :mod:`council.dashboard.publish`.

JSON shape (``dashboard.json``, ``schema_version`` 1; dates as ISO strings, ``*_text`` and
``meeting_date``/``deadline``/``sent_date`` fields are Finnish display forms like 15.3.2021)::

    {
      "schema_version": 1,
      "proposal_id": str,
      "title": str,
      "sender": str, "preparer": str,            # the committee and the person who prepared the proposal
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
            "meeting_date_iso": "YYYY-MM-DD"|null, "section": int|null,
            "reminders": int,                    # reminders delivered while this point was open
            "agenda_past": bool}                 # on the agenda of a meeting that has passed (still open)
         ],
         "open_points": [int],                   # points not decided or final
         "sent_at": datetime|null,               # the proposal email (round 0) was delivered
         "sent_date": "1.2.2021"|null,
         "deadline_days": int,                   # from the merged reminder policy
         "deadline": "2.5.2021"|null, "deadline_iso": "YYYY-MM-DD"|null,
         "overdue": bool, "days_overdue": int,   # open points and today past the deadline
         "reminders_sent": [                     # delivered reminders, in round order
           {"round": int, "date": "1.3.2021", "date_iso": "YYYY-MM-DD"}
         ],
         "next_reminder": "15.3.2021"|null, "next_reminder_iso": "YYYY-MM-DD"|null,
                                                 # when the next reminder falls due (none when all
                                                 # points are decided or the policy's maximum is reached)
         "follow_up": bool,                      # an agenda meeting passed with no decision recorded
         "pending_candidates": int,              # decisions found in replies/publications, unconfirmed
         "source_silent_since": "1.12.2026"|null,  # its meeting publication has failed for days
         "timeline": [                           # newest first, at most 50
           {"event_id": int, "occurred_at": datetime, "time": "15.3.2021 klo 10.15", "kind": str,
            "label": str, "point": int|null, "actor": str, "detail": str}
         ]}
      ],
      "duties_point": int,                       # the point whose decisions name the liaisons (0: none)
      "has_duty_description": bool,              # false: the proposal names no liaison (no duty description)
      "liaisons": [                              # from the duties point's decisions, in body order
        {"body_id": str, "body_name": str, "name": str, "title": str, "email": str, "work_time": str}
      ],
      "overdue": [str],                          # body ids, in body order
      "follow_up": [str],                        # body ids with ``follow_up``, in body order
      "pending_candidates": int                  # all bodies' unconfirmed candidates
    }

Fields are only ever added within ``schema_version`` 1 (``sender``, ``preparer``, the cells'
``reminders`` and ``agenda_past``, the bodies' ``reminders_sent``, ``next_reminder*`` and
``follow_up``, the timeline's ``event_id``, the top-level ``follow_up`` and ``has_duty_description``,
the bodies' ``pending_candidates`` and ``source_silent_since`` and the top-level ``pending_candidates``
came later); a reader ignores keys it does not know.

Percentages are rounded down, so 100 % means every cell (or every body) has decided.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from models.enums import DecisionStatus

SCHEMA_VERSION = 1


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
    reminders: int = 0
    agenda_past: bool = False


class TimelineEntry(BaseModel):
    event_id: int
    occurred_at: datetime
    time: str
    kind: str
    label: str
    point: int | None
    actor: str
    detail: str


class ReminderSent(BaseModel):
    round: int
    date: str
    date_iso: date


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
    reminders_sent: list[ReminderSent] = []
    next_reminder: str | None = None
    next_reminder_iso: date | None = None
    follow_up: bool = False
    #: Decisions found in replies and publications, waiting for the coordinator (issue 16).
    pending_candidates: int = 0
    #: The body's meeting publication has not been read successfully for days: since when (text).
    source_silent_since: str | None = None
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
    sender: str = ""
    preparer: str = ""
    today: date
    generated_at: datetime
    generated_at_text: str
    overall: Progress
    points: list[DashboardPoint]
    bodies: list[DashboardBody]
    duties_point: int = 1
    has_duty_description: bool = True
    liaisons: list[Liaison]
    overdue: list[str]
    follow_up: list[str] = []
    pending_candidates: int = 0


#: ``esitykset.json``'s own version (the index of every proposal's dashboard).
INDEX_SCHEMA_VERSION = 1


class IndexEntry(BaseModel):
    """One proposal on the dashboard index (``esitykset.json``'s ``proposals`` and ``index.html``)."""

    proposal_id: str
    title: str
    short_title: str
    state: str
    state_fi: str
    active: bool
    diary_number: str | None
    recipients: int
    progress: Progress
    overdue: int
    follow_up: int = 0
    deadline_first: str | None
    deadline_first_iso: date | None
    deadline_last: str | None
    deadline_last_iso: date | None
    closed_date: str | None = None
    close_reason: str | None = None
    page: str
    json_path: str


class MailboxStatus(BaseModel):
    """The committee's mailbox as the replies' source: its last reading and, when that failed, since
    when it has not answered (the dashboard says so rather than going silently stale)."""

    host: str
    ok: bool
    last_read: str  # "1.12.2026 klo 8.15"
    last_ok: str | None  # the last successful reading, None when it never answered
    failing_since: str | None  # the first failed reading after the last successful one
    error: str | None


class DashboardIndex(BaseModel):
    """Every stored proposal with its progress; its JSON form is ``esitykset.json``::

        {
          "schema_version": 1,
          "today": "YYYY-MM-DD",
          "generated_at": datetime, "generated_at_text": "28.11.2026 klo 10.15",
          "proposals": [                         # active (draft, sent) first, then closed and archived;
            {"proposal_id": str,                 # the newest first within each
             "title": str, "short_title": str,
             "state": "draft|sent|closed|archived", "state_fi": "luonnos|lähetetty|päättynyt|arkistoitu",
             "active": bool, "diary_number": str|null, "recipients": int,
             "progress": {"decided": int, "total": int, "percent": int},   # cells decided or final
             "overdue": int,                     # recipients past their response deadline
             "follow_up": int,                   # recipients with an agenda meeting passed, no decision
             "deadline_first": "2.5.2021"|null, "deadline_first_iso": "YYYY-MM-DD"|null,
             "deadline_last": "2.5.2021"|null, "deadline_last_iso": "YYYY-MM-DD"|null,
                                                 # response deadlines of recipients with open points
             "closed_date": "1.6.2021"|null, "close_reason": str|null,
             "page": "<proposal_id>/dashboard.html", "json_path": "<proposal_id>/dashboard.json"}
          ],
          "mailbox": null | {"host": str, "ok": bool, "last_read": "1.12.2026 klo 8.15",
                             "last_ok": str|null, "failing_since": str|null, "error": str|null}
        }

    Paths are relative to ``esitykset.json`` itself. Fields are only ever added within version 1
    (``mailbox`` was: null until the service has read a mailbox).
    """

    schema_version: int = INDEX_SCHEMA_VERSION
    today: date
    generated_at: datetime
    generated_at_text: str
    proposals: list[IndexEntry]
    mailbox: MailboxStatus | None = None
