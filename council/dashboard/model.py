"""The dashboard's contract: the pydantic models of ``dashboard.json`` (and of the page built from it).

Built by :mod:`council.dashboard.build`, written by :mod:`council.dashboard.publish`.

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
      "duties_point": int,                       # the point whose decisions name the liaisons
      "liaisons": [                              # from the duties point's decisions, in body order
        {"body_id": str, "body_name": str, "name": str, "title": str, "email": str, "work_time": str}
      ],
      "overdue": [str]                           # body ids, in body order
    }

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
    duties_point: int = 1
    liaisons: list[Liaison]
    overdue: list[str]
