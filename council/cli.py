"""The ``council`` command line (Finnish help texts), over the same domain functions as the flows."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from council.config import get_settings
from council.content import load_proposal_by_id, load_roster, select_bodies
from council.db import make_engine, upgrade
from council.errors import CouncilError
from council.filters import today_helsinki

app = typer.Typer(
    help="Valtuustoesitysten seuranta: esitysten lähetys, päätösten seuranta ja muistutukset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

BodyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--body", "-b", help="Vastaanottajan tunniste (esim. jokioinen); toistettavissa. Oletus: kaikki."
    ),
]


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]Virhe:[/] {exc}", highlight=False)
    raise typer.Exit(2)


@app.command()
def init() -> None:
    """Luo tai päivitä tietokanta ja tallenna esitys ja vastaanottajat sisältötiedostoista."""
    from council.sending import sync

    settings = get_settings()
    try:
        upgrade(settings.effective_database_url)
        proposal, bodies = sync(settings, actor="cli:init")
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Tietokanta valmis: {settings.effective_database_url.split('@')[-1]}")
    console.print(f"Esitys: {proposal.title}\nVastaanottajia: {len(bodies)}")


@app.command()
def render(
    out: Annotated[Path, typer.Option("--out", help="Kansio, johon asiakirjat kirjoitetaan")],
    body: BodyOpt = None,
    on: Annotated[str | None, typer.Option("--date", help="Asiakirjojen päiväys (VVVV-KK-PP)")] = None,
) -> None:
    """Tuota esitys ja toimenkuvamalli DOCX-muodossa vastaanottajittain (ei lähetä mitään)."""
    from council.paths import inside
    from council.sending import render_first_send

    settings = get_settings()
    try:
        day = date.fromisoformat(on) if on else today_helsinki()
    except ValueError:
        _fail(CouncilError(f"--date: virheellinen päivämäärä {on!r} (muoto VVVV-KK-PP)"))
    try:
        proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
        bodies = select_bodies(load_roster(settings.path(settings.roster_file)), body)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Tuotetaan asiakirjoja", total=len(bodies))
            for b in bodies:
                rendered = render_first_send(proposal, b, inside(out.resolve(), b.id), on=day)
                for path in rendered.attachments:
                    console.print(str(path))
                progress.advance(task)
    except CouncilError as exc:
        _fail(exc)


@app.command()
def send(
    body: BodyOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Tuota viestit kansioon outputs/dry-run lähettämättä")
    ] = False,
) -> None:
    """Lähetä esitys vastaanottajille ilman Prefectia; jo lähetettyä viestiä ei lähetetä uudelleen."""
    from council.mail import SmtpMailer
    from council.sending import deliver_messages, prepare_proposal_messages, sync
    from council.sending import dry_run as do_dry_run

    settings = get_settings()
    try:
        if dry_run:
            for path in do_dry_run(settings, body or []):
                console.print(str(path))
            console.print(f"Viestit: {settings.outputs / 'dry-run' / 'mail'}")
            return
        sync(settings, actor="cli:send")
        with console.status("Valmistellaan asiakirjoja ja viestejä"):
            pending = prepare_proposal_messages(settings, body or [], actor="cli:send")
        if not pending:
            console.print("Ei lähetettävää: kaikille valituille vastaanottajille on jo lähetetty.")
            return
        with console.status(f"Lähetetään {len(pending)} viestiä"):
            report = deliver_messages(settings, pending, SmtpMailer(settings), actor="cli:send")
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Lähetetty: {len(report.sent)}")
    for label, why in report.failed.items():
        err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Tulosta JSON-muodossa")] = False,
) -> None:
    """Näytä päätösten tilanne: vastaanottajat × esityksen kohdat, sekä lähettämättä jääneet viestit."""
    from council.db import check_schema
    from council.sending import undelivered
    from council.tracking import status_matrix

    settings = get_settings()
    try:
        engine = make_engine(settings.effective_database_url)
        check_schema(engine)
        with Session(engine) as session:
            matrix = status_matrix(session=session, proposal_id=settings.proposal_id)
        problems = undelivered(settings, settings.proposal_id)
    except CouncilError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(matrix.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    table = Table(title=matrix.title, show_lines=False)
    table.add_column("Vastaanottaja")
    for p in matrix.points:
        table.add_column(f"{p['number']}. {p['short_title']}")
    for row in matrix.bodies:
        table.add_row(
            row.name, *[c.status_label + (f"\n{c.outcome}" if c.outcome else "") for c in row.cells]
        )
    console.print(table)
    for m in problems:
        err.print(
            f"[yellow]Viesti {m.body_id}/{m.kind}/{m.round}: {m.state}[/] {m.last_error or ''}",
            highlight=False,
        )


@app.command("smtp-server")
def smtp_server(
    port: Annotated[int | None, typer.Option(help="Portti (oletus COUNCIL_LOCAL_SMTP_PORT tai 8025)")] = None,
) -> None:
    """Käynnistä paikallinen SMTP-palvelin 127.0.0.1:ssä; jokainen viesti tallentuu .eml-tiedostoksi."""
    from council.smtpd import LocalSmtpServer

    settings = get_settings()
    folder = settings.outputs / "mail"
    server = LocalSmtpServer(folder, port=port or settings.local_smtp_port)
    try:
        server.start()
    except OSError as exc:
        _fail(CouncilError(f"SMTP-palvelinta ei voitu käynnistää porttiin {server.port}: {exc}"))
    console.print(f"SMTP-palvelin: 127.0.0.1:{server.port}, viestit kansioon {folder}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()


@app.command()
def run(
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Käynnistä palvelut lähettämättä esitystä")
    ] = False,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Lopeta lähetyksen jälkeen (ei jää odottamaan Ctrl-C:tä)")
    ] = False,
) -> None:
    """Pääajo: Prefect-palvelin, työntekijä ja SMTP-palvelin käyntiin, esityksen lähetys, odota Ctrl-C."""
    from council.runner import main_job

    try:
        code = main_job(send=not no_send, wait=not exit_after)
    except CouncilError as exc:
        _fail(exc)
    raise typer.Exit(code)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
