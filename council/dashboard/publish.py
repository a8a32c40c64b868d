"""The committee dashboard: one self-contained HTML page and the same data as JSON.

Plain Python, no Prefect. :func:`build_dashboard` reads the database in a constant number of SQL
statements (five, whatever the number of bodies); :func:`render_html` and :func:`dashboard_json`
turn the result into the page and the JSON; :func:`write_dashboard` writes both atomically and
:func:`serve_dashboard` serves them read-only over HTTP.

``build_dashboard`` does no file I/O: the caller passes the proposal's reminder policy and the
roster's per-body overrides (:func:`content_policies` reads them from the content files)::

    policy, overrides = content_policies(settings)
    with Session(engine_for(settings)) as session:
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
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from council.dashboard.build import DEFAULT_POLICY, NO_OVERRIDES, build_dashboard
from council.dashboard.model import DashboardOut
from council.errors import TemplateRenderError
from council.paths import write_atomic
from council.rendering.environment import TEMPLATES_DIR
from council.rules.formatting import FILTERS
from models.enums import STATUS_LABEL_FI, DecisionStatus
from models.schemas import ReminderPolicyIn, ReminderPolicyOverrideIn

log = logging.getLogger(__name__)


TEMPLATE = "dashboard.html.j2"


HTML_NAME = "dashboard.html"


JSON_NAME = "dashboard.json"


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
    write_atomic(json_path, data, durable=True)
    write_atomic(html_path, html, durable=True)
    return html_path, json_path
