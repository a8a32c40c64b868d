"""Render every document of the roster, at every stage, for a person to check at a glance.

For each body: the first-send proposal, a reminder version (points 2–4 open, point 1 decided), the
blank and a filled duty description; plus the committee's status report. Where LibreOffice and
pdftoppm exist, each is converted to PDF/A and its first page to PNG under ``outputs/preview/``.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

from rich.progress import Progress

from council.config import Settings
from council.content.i18n import text, translated
from council.content.loading import load_roster
from council.delivery.pdf import soffice, to_pdfa
from council.paths import inside, safe_filename
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE
from council.rendering.render import render_docx
from council.rules.reminders import response_deadline
from council.services.committee import status_report_context
from council.services.send import render_first_send
from council.store.proposals import proposal_content
from models.contexts import LiaisonContext

EXAMPLE_LIAISON = LiaisonContext(
    name="Maija Meikäläinen",
    title="hyvinvointikoordinaattori",
    email="maija.meikalainen@kunta.example",
    work_time="8 h/kk",
)


def render_all(settings: Settings, *, today: date, progress: Progress | None = None) -> list[Path]:
    """Write every document under outputs/preview/docx/; returns their paths."""
    from council.rendering.environment import STATUS_REPORT_TEMPLATE

    proposal = proposal_content(settings)
    bodies = list(load_roster(settings.path(settings.roster_file)).bodies)
    folder = inside(settings.preview_dir, "docx")
    written: list[Path] = []
    task = progress.add_task("Tuotetaan asiakirjoja", total=len(bodies) + 1) if progress else None
    for body in bodies:
        lang = body.language.value
        local = translated(proposal, lang)
        sent = render_first_send(proposal, body, folder, on=today).attachments
        written += [a for a in sent if a.suffix == ".docx"]
        reminder = folder / safe_filename(text(lang, "file_reminder", name=body.name, round="1"), ".docx")
        decided = {1: f"hyväksytty ehdotuksen mukaisesti {today.day}.{today.month}.{today.year} § 59"}
        render_docx(
            PROPOSAL_TEMPLATE,
            proposal_context(
                local,
                body,
                on=today,
                open_points=[2, 3, 4],
                decided_notes=decided,
                reply_by=response_deadline(today, local.reminder_policy.merged(body.reminder_policy)),
            ),
            reminder,
            lang,
        )
        written.append(reminder)
        if local.duty_description is not None:  # a proposal without a liaison has no duty description
            filled = folder / safe_filename(text(lang, "file_duty_filled", name=body.name), ".docx")
            render_docx(
                DUTY_TEMPLATE,
                duty_description_context(
                    local,
                    body,
                    on=today,
                    liaison=EXAMPLE_LIAISON,
                    appointed_by=f"{body.deciding_body} {today.day}.{today.month}.{today.year} § 59",
                ),
                filled,
                lang,
            )
            written.append(filled)
        if progress and task is not None:
            progress.advance(task)
    report = folder / "Tilannekatsaus.docx"
    written.append(render_docx(STATUS_REPORT_TEMPLATE, status_report_context(settings, today=today), report))
    if progress and task is not None:
        progress.advance(task)
    return written


def first_page_pngs(pdfs: list[Path], folder: Path) -> list[Path]:
    """PNG of each PDF's first page (pdftoppm), at 80 dpi."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for pdf in pdfs:
        target = folder / pdf.stem
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        out.append(target.with_suffix(".png"))
    return out


def preview(
    settings: Settings, *, today: date, progress: Progress | None = None
) -> tuple[list[Path], list[Path], str]:
    """Documents, PNG previews and a note on what was skipped (tools missing)."""
    docs = render_all(settings, today=today, progress=progress)
    if soffice() is None or shutil.which("pdftoppm") is None:
        return (
            docs,
            [],
            "LibreOffice tai pdftoppm puuttuu: PNG-esikatselut ohitettiin (apt-get install libreoffice-writer-nogui poppler-utils).",
        )
    pdfs = to_pdfa(docs, inside(settings.preview_dir, "pdf"))
    pngs = first_page_pngs(pdfs, inside(settings.preview_dir, "png"))
    return docs, pngs, ""


def proposal_preview(settings: Settings, proposal_id: str, body_id: str, *, today: date) -> tuple[Path, Path | None]:
    """The proposal as one recipient would get it (DOCX) under outputs/preview/<proposal>/, and its
    first page as PNG where LibreOffice and pdftoppm are installed (else None)."""
    from council.content.loading import select_bodies

    proposal = proposal_content(settings, proposal_id)
    body = select_bodies(load_roster(settings.path(settings.roster_file)), [body_id])[0]
    folder = inside(settings.preview_dir, proposal_id)
    docx = render_first_send(proposal, body, folder, on=today).attachments[0]
    if soffice() is None or shutil.which("pdftoppm") is None:
        return docx, None
    pdfs = to_pdfa([docx], inside(folder, "pdf"))
    return docx, first_page_pngs(pdfs, inside(folder, "png"))[0]
