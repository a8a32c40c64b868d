"""The committee dashboard as files: :func:`render_html` (one self-contained, accessible page) and
:func:`dashboard_json` turn a built dashboard into the page and its JSON; :func:`write_board` writes
both atomically into a folder.
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
