"""Shared task: refresh the dashboard files (every proposal's page set and the index) and the keyed
Prefect artifacts after every change.

Artifacts, keyed per proposal so the Prefect UI keeps their history:
``paatokset-<id>`` (table: bodies × points with outcome, date and §),
``tilanne-<id>`` (markdown matrix with symbols and a legend) and ``edistyminen-<id>`` (progress).
"""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact

from council.config import get_settings
from council.dashboard.model import DashboardOut
from council.services.committee import every_dashboard, write_dashboard_files
from models.enums import STATUS_LABEL_FI, DecisionStatus

SYMBOL = {
    DecisionStatus.not_sent: "·",
    DecisionStatus.sent: "✉",
    DecisionStatus.reminded: "🔔",
    DecisionStatus.on_agenda: "📅",
    DecisionStatus.decided: "✔",
    DecisionStatus.final: "✅",
}


def _cell_text(cell) -> str:  # noqa: ANN001 - DashboardCell
    text = f"{SYMBOL[cell.status]} {cell.status_label}"
    if cell.outcome:
        text += f": {cell.outcome}"
    if cell.meeting_date:
        text += f" {cell.meeting_date}"
    if cell.section:
        text += f" § {cell.section}"
    return text


def matrix_markdown(board: DashboardOut) -> str:
    head = "| Vastaanottaja | " + " | ".join(f"{p.number}. {p.short_title}" for p in board.points) + " |"
    lines = [
        f"## {board.title}",
        "",
        f"Päätetty **{board.overall.decided}/{board.overall.total}** kohtaa ({board.overall.percent} %), "
        f"tilanne {board.generated_at_text}.",
        "",
        head,
        "|---" * (len(board.points) + 1) + "|",
    ]
    for body in board.bodies:
        late = " **(myöhässä)**" if body.overdue else ""
        lines.append(f"| {body.name}{late} | " + " | ".join(_cell_text(c) for c in body.cells) + " |")
    lines += [
        "",
        "**Selite:** " + ", ".join(f"{SYMBOL[s]} {STATUS_LABEL_FI[s]}" for s in DecisionStatus),
    ]
    if board.liaisons:
        lines += [
            "",
            "**Järjestöyhdyshenkilöt:** "
            + "; ".join(f"{x.body_name}: {x.name} ({x.title}, {x.work_time})" for x in board.liaisons),
        ]
    return "\n".join(lines)


def matrix_table(board: DashboardOut) -> list[dict]:
    rows = []
    for body in board.bodies:
        row = {"Vastaanottaja": body.name}
        for point, cell in zip(board.points, body.cells, strict=True):
            row[f"{point.number}. {point.short_title}"] = _cell_text(cell)
        rows.append(row)
    return rows


def publish_artifacts(board: DashboardOut) -> None:
    """The proposal's three artifacts, keyed by its id."""
    key = board.proposal_id
    create_table_artifact(
        key=f"paatokset-{key}", table=matrix_table(board), description="Päätökset: vastaanottajat × kohdat"
    )
    create_markdown_artifact(
        key=f"tilanne-{key}", markdown=matrix_markdown(board), description="Päätösten tilanne ja selite"
    )
    create_progress_artifact(
        progress=float(board.overall.percent),
        key=f"edistyminen-{key}",
        description=f"Päätetyt kohdat: {board.overall.decided}/{board.overall.total}",
    )


@task(name="publish-status")
def publish_status() -> int:
    """Rewrite the dashboard files of every proposal and their index, publish the artifacts of every
    active proposal (and of the one acted on); returns the % decided of the one acted on."""
    settings = get_settings()
    boards = every_dashboard(settings)
    write_dashboard_files(settings, boards=boards)
    acted_on = None
    for summary, board in boards:
        if summary.id == settings.proposal_id:
            acted_on = board
        if summary.active or summary.id == settings.proposal_id:
            publish_artifacts(board)
    return (acted_on or boards[0][1]).overall.percent
