"""The committee dashboard as files: :func:`render_html` (one self-contained, accessible page),
:func:`render_statement` (its accessibility statement, saavutettavuusseloste) and
:func:`dashboard_json` turn a built dashboard into the pages and its JSON, and
:mod:`council.dashboard.feeds` into a calendar and an Atom feed; :func:`write_board` writes them all
atomically into one folder (``FILES``). :func:`render_index` and :func:`index_json` turn the index of
every proposal into ``index.html`` and ``esitykset.json`` (``INDEX_FILES``), :func:`write_index`
writes them.

Layout of outputs/dashboard/ (written by ``council.services.committee.write_dashboard_files``)::

    index.html, esitykset.json          every proposal (the index)
    <proposal_id>/dashboard.html …      one page set (``FILES``) per proposal, linking back to the index
    dashboard.html …                    the default proposal's page set again (links of earlier releases)
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
from council.dashboard.feeds import calendar_ics, changes_atom
from council.dashboard.model import DashboardIndex, DashboardOut
from council.errors import TemplateRenderError
from council.paths import write_atomic
from council.rendering.environment import TEMPLATES_DIR
from council.rules.formatting import FILTERS
from models.enums import STATUS_LABEL_FI, DecisionStatus
from models.schemas import ReminderPolicyIn, ReminderPolicyOverrideIn

log = logging.getLogger(__name__)


TEMPLATE = "dashboard.html.j2"
STATEMENT_TEMPLATE = "saavutettavuusseloste.html.j2"
INDEX_TEMPLATE = "dashboard_index.html.j2"


HTML_NAME = "dashboard.html"
JSON_NAME = "dashboard.json"
STATEMENT_NAME = "saavutettavuusseloste.html"
ICS_NAME = "kalenteri.ics"
ATOM_NAME = "muutokset.atom"

#: Every file :func:`write_board` writes, with its media type (the server's route table).
FILES: dict[str, str] = {
    HTML_NAME: "text/html; charset=utf-8",
    JSON_NAME: "application/json; charset=utf-8",
    STATEMENT_NAME: "text/html; charset=utf-8",
    ICS_NAME: "text/calendar; charset=utf-8",
    ATOM_NAME: "application/atom+xml; charset=utf-8",
}
INDEX_NAME = "index.html"
INDEX_JSON_NAME = "esitykset.json"
#: The index's files, with their media types (beside them, one folder of ``FILES`` per proposal).
INDEX_FILES: dict[str, str] = {
    INDEX_NAME: "text/html; charset=utf-8",
    INDEX_JSON_NAME: "application/json; charset=utf-8",
}
#: The names the pages link to (the templates use these, never literal file names). ``index`` is
#: the way from a proposal's page set to the index ("" when the page set stands alone).
LINKS = {
    "dashboard": HTML_NAME,
    "json": JSON_NAME,
    "statement": STATEMENT_NAME,
    "ics": ICS_NAME,
    "atom": ATOM_NAME,
    "index": "",
    "index_json": INDEX_JSON_NAME,
}


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


def _render(template: str, *, index: str = "", **context: object) -> str:
    try:
        links = LINKS | {"index": index}
        return html_environment().get_template(template).render(links=links, **context)
    except UndefinedError as exc:
        raise TemplateRenderError(template, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(template, str(exc)) from exc


def render_html(dashboard: DashboardOut, *, index: str = "") -> str:
    """The dashboard as one self-contained Finnish HTML page (inline CSS, no scripts, no URLs);
    ``index`` is the relative link to the index of every proposal ("" for none)."""
    statuses = [{"value": s.value, "label": STATUS_LABEL_FI[s]} for s in DecisionStatus]
    return _render(TEMPLATE, index=index, d=dashboard.model_dump(mode="json"), statuses=statuses)


def render_statement(dashboard: DashboardOut, *, contact_email: str = "", index: str = "") -> str:
    """The dashboard's accessibility statement (saavutettavuusseloste), in Finnish, beside the page."""
    return _render(
        STATEMENT_TEMPLATE, index=index, d=dashboard.model_dump(mode="json"), contact_email=contact_email
    )


def render_index(index: DashboardIndex, *, statement: str = STATEMENT_NAME) -> str:
    """The index of every proposal as one self-contained Finnish HTML page, each proposal's short
    title linking to its page; ``statement`` is the accessibility statement's relative link."""
    return _render(INDEX_TEMPLATE, index=INDEX_NAME, x=index.model_dump(mode="json"), statement=statement)


def index_json(index: DashboardIndex) -> str:
    """The index as JSON (``esitykset.json``, the shape in ``DashboardIndex``'s docstring)."""
    return index.model_dump_json(indent=2)


def write_index(index: DashboardIndex, folder: Path) -> tuple[Path, Path]:
    """Write ``index.html`` and ``esitykset.json`` into ``folder`` atomically; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / INDEX_JSON_NAME, index_json(index), durable=True)
    write_atomic(folder / INDEX_NAME, render_index(index), durable=True)  # last, like the page
    return folder / INDEX_NAME, folder / INDEX_JSON_NAME


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
    contact_email: str = "",
) -> tuple[Path, Path]:
    """Build the dashboard and write every file of ``FILES`` into ``folder``; return the page and JSON."""
    dashboard = build_dashboard(
        session=session, proposal_id=proposal_id, today=today, policy=policy, overrides=overrides
    )
    return write_board(dashboard, folder, contact_email=contact_email)


def board_feeds(dashboard: DashboardOut) -> dict[str, str | bytes]:
    """The files of a page set that do not depend on where it is written: the JSON, the calendar and
    the Atom feed (a board written twice renders them once)."""
    return {
        JSON_NAME: dashboard_json(dashboard),
        ICS_NAME: calendar_ics(dashboard),
        ATOM_NAME: changes_atom(dashboard),
    }


def write_board(
    dashboard: DashboardOut,
    folder: Path,
    *,
    contact_email: str = "",
    index: str = "",
    feeds: dict[str, str | bytes] | None = None,
) -> tuple[Path, Path]:
    """Write an already built dashboard into ``folder``: the page, its JSON, the accessibility
    statement, the calendar and the Atom feed (each atomically); return the page's and JSON's paths.

    ``contact_email`` is the statement's feedback address (the committee's own); ``index`` the
    pages' relative link to the index of every proposal ("" when there is none); ``feeds`` the
    board's :func:`board_feeds` when they were rendered already.
    """
    contents: dict[str, str | bytes] = {
        **(feeds or board_feeds(dashboard)),
        STATEMENT_NAME: render_statement(dashboard, contact_email=contact_email, index=index),
        HTML_NAME: render_html(dashboard, index=index),  # last: the page appears once what it links to exists
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        # fsync (at a cost per file) only what the committee relies on; the others follow on rewrite
        write_atomic(folder / name, content, durable=name in (HTML_NAME, JSON_NAME))
    return folder / HTML_NAME, folder / JSON_NAME
