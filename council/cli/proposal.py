"""council init, render, send and docs-preview: the proposal's documents and its first send."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from council.cli.app import app, console, err
from council.cli.common import BodyOpt, TodayOpt, parse_day
from council.config import get_settings
from council.content.loading import load_roster, select_bodies
from council.errors import CouncilError
from council.rules.formatting import today_helsinki
from council.store.engine import checked_engine_for, display_url, prepare_database_folder, upgrade
from council.store.proposals import proposal_content


@app.command()
def init() -> None:
    """Luo tai päivitä tietokanta ja tallenna esitykset ja vastaanottajat sisältötiedostoista
    (data/proposals/*.yaml)."""
    from council.services.proposals import import_file_ids
    from council.services.send import sync

    settings = get_settings()
    prepare_database_folder(settings)
    upgrade(settings.effective_database_url)
    console.print(f"Tietokanta valmis: {display_url(settings.effective_database_url)}")
    for proposal_id in import_file_ids(settings):
        proposal, bodies = sync(settings.model_copy(update={"proposal_id": proposal_id}), actor="cli:init")
        console.print(f"Esitys {proposal.id}: {proposal.short_title}\nVastaanottajia: {len(bodies)}", highlight=False)


@app.command()
def render(
    out: Annotated[Path, typer.Option("--out", help="Kansio, johon asiakirjat kirjoitetaan")],
    body: BodyOpt = None,
    on: Annotated[str | None, typer.Option("--date", help="Asiakirjojen päiväys (VVVV-KK-PP)")] = None,
) -> None:
    """Tuota esitys ja toimenkuvamalli DOCX-muodossa vastaanottajittain (ei lähetä mitään)."""
    from council.paths import inside
    from council.services.send import render_first_send

    settings = get_settings()
    try:
        day = date.fromisoformat(on) if on else today_helsinki()
    except ValueError:
        raise CouncilError(f"--date: virheellinen päivämäärä {on!r} (muoto VVVV-KK-PP)") from None
    try:
        proposal = proposal_content(settings)
        bodies = select_bodies(load_roster(settings.path(settings.roster_file)), body)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Tuotetaan asiakirjoja", total=len(bodies))
            for b in bodies:
                rendered = render_first_send(proposal, b, inside(out.resolve(), b.id), on=day)
                for path in rendered.attachments:
                    console.print(str(path), markup=False, highlight=False)
                progress.advance(task)
    except OSError as exc:
        raise CouncilError(f"--out {out}: kansioon ei voi kirjoittaa ({exc.strerror})") from exc


@app.command()
def send(
    body: BodyOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Tuota viestit kansioon outputs/dry-run lähettämättä")
    ] = False,
    today: TodayOpt = None,
) -> None:
    """Lähetä esitys vastaanottajille ilman Prefectia; jo lähetettyä viestiä ei lähetetä uudelleen."""
    from council.delivery.mail import SmtpMailer
    from council.delivery.pdf import pdf_warning
    from council.services.send import dry_run as do_dry_run
    from council.services.send import inline_send_steps, send_proposal

    settings = get_settings()
    if warning := pdf_warning(settings):
        err.print(f"[yellow]Varoitus:[/] {warning}", highlight=False)
    if dry_run:
        for path in do_dry_run(settings, body or []):
            console.print(str(path))
        console.print(f"Viestit: {settings.dry_run_dir / 'mail'}")
        return
    steps = inline_send_steps(settings, SmtpMailer(settings), actor="cli:send", on=parse_day(today))
    with console.status("Valmistellaan ja lähetetään asiakirjoja ja viestejä"):
        report = send_proposal(settings, body or [], steps)
    failed = report.failed
    if not (report.sent or report.failed or report.skipped):
        console.print("Ei lähetettävää: kaikille valituille vastaanottajille on jo lähetetty.")
        return
    console.print(f"Lähetetty: {len(report.sent)}")
    for label, why in failed.items():
        err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("docs-preview")
def docs_preview() -> None:
    """Tuota kaikki asiakirjat kaikille vastaanottajille ja ensimmäisten sivujen PNG-esikatselut."""
    from council.services.preview import preview

    settings = get_settings()
    checked_engine_for(settings)
    with Progress(console=console, transient=True) as progress:
        docs, pngs, note = preview(settings, today=today_helsinki(), progress=progress)
    console.print(f"Asiakirjoja {len(docs)}: {settings.preview_dir / 'docx'}", highlight=False)
    if pngs:
        console.print(f"Esikatselukuvia {len(pngs)}: {settings.preview_dir / 'png'}", highlight=False)
    if note:
        err.print(f"[yellow]{note}[/]", highlight=False)
