"""What happens after every change: follow-on messages (duty description, thank-you) and the
dashboard files. The flows and the CLI call these after sending or recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from council.config import Settings
from council.dashboard import DashboardOut, build_dashboard, content_policies, write_board
from council.db import make_engine
from council.paths import inside


@dataclass
class AfterReport:
    queued: list[int] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    dashboard: tuple[Path, Path] | None = None


def dashboard_folder(settings: Settings) -> Path:
    return inside(settings.outputs, "dashboard")


def current_dashboard(settings: Settings, *, today: date | None = None) -> DashboardOut:
    """The dashboard of the configured proposal, with the content files' reminder policies."""
    policy, overrides = content_policies(settings, settings.proposal_id)
    with Session(make_engine(settings.effective_database_url)) as session:
        return build_dashboard(
            session=session, proposal_id=settings.proposal_id, today=today, policy=policy, overrides=overrides
        )


def write_dashboard_files(
    settings: Settings, *, today: date | None = None, board: DashboardOut | None = None
) -> tuple[Path, Path]:
    """Rewrite outputs/dashboard/dashboard.html and dashboard.json (from ``board`` when given)."""
    return write_board(board or current_dashboard(settings, today=today), dashboard_folder(settings))


def after_decisions(settings: Settings, *, today: date, mailer, actor: str) -> AfterReport:
    """Queue and deliver what recorded decisions call for, then refresh the dashboard:
    the filled duty description when point 1 named a liaison, and the thank-you when a body's
    last point is decided (each once)."""
    from council.documents import prepare_duty_descriptions
    from council.followup import prepare_confirmations
    from council.sending import deliver_messages

    report = AfterReport()
    report.queued = prepare_duty_descriptions(settings, today=today, actor=actor)
    report.queued += prepare_confirmations(settings, today=today, actor=actor)
    if report.queued:
        delivery = deliver_messages(settings, report.queued, mailer, actor=actor)
        report.sent, report.failed = delivery.sent, delivery.failed
    report.dashboard = write_dashboard_files(settings, today=today)
    return report
