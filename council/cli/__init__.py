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
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from council.config import get_settings
from council.content.loading import load_proposal_by_id, load_roster, select_bodies
from council.errors import CouncilError, UnknownBodyError, validation_message
from council.rules.formatting import today_helsinki
from council.store.engine import checked_engine, upgrade

app = typer.Typer(
    help="Valtuustoesitysten seuranta: esitysten lähetys, päätösten seuranta ja muistutukset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

BodyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--body", "-b", help="Vastaanottajan tunniste (esim. jokioinen); toistettavissa. Oletus: kaikki."
    ),
]


TodayOpt = Annotated[
    str | None, typer.Option("--today", help="Päivä: 15.3.2021 tai 2021-03-15 (oletus: tänään; simulointiin)")
]


def _day(value: str | None, option: str = "--today") -> date:
    """The day given on the command line, or today in Helsinki."""
    from council.services.bulk import parse_date

    try:
        return parse_date(value) if value else today_helsinki()
    except ValueError as exc:
        raise CouncilError(f"{option}: {exc}") from exc


def _fail(exc: Exception) -> None:
    # User input may contain Rich markup ("[/a].csv"): escape it, never interpret it.
    err.print(f"[bold red]Virhe:[/] {escape(str(exc))}", highlight=False)
    raise typer.Exit(2)


def _body_id(settings, value: str) -> str:  # noqa: ANN001
    """The roster id a user meant: the id in any case ('Humppila') or the official name
    ('Jokioisten kunta'); an unknown one is refused with the known ids."""
    roster = load_roster(settings.path(settings.roster_file))
    wanted = value.strip().casefold()
    for b in roster.bodies:
        if wanted in (b.id.casefold(), b.name.casefold()):
            return b.id
    raise UnknownBodyError(value, sorted(b.id for b in roster.bodies))


def _after_change(settings, *, decisions: bool, actor: str) -> None:  # noqa: ANN001
    """Follow-on messages after recorded decisions, and the dashboard files after any change."""
    from council.delivery.mail import SmtpMailer
    from council.services.after_decision import after_decisions
    from council.services.committee import write_dashboard_files

    if decisions:
        report = after_decisions(settings, today=today_helsinki(), mailer=SmtpMailer(settings), actor=actor)
        for label in report.sent:
            console.print(f"Lähetetty: {label}", highlight=False)
        for label, why in report.failed.items():
            err.print(
                f"[yellow]Lähetys epäonnistui, uusitaan seuranta-ajossa:[/] {label}: {why}", highlight=False
            )
        html = report.dashboard[0] if report.dashboard else None
    else:
        html = write_dashboard_files(settings)[0]
    if html:
        console.print(f"Tilannesivu: {html}", highlight=False)


@app.command()
def init() -> None:
    """Luo tai päivitä tietokanta ja tallenna esitys ja vastaanottajat sisältötiedostoista."""
    from council.services.send import sync

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
    from council.services.send import render_first_send

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
                    console.print(str(path), markup=False, highlight=False)
                progress.advance(task)
    except CouncilError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(CouncilError(f"--out {out}: kansioon ei voi kirjoittaa ({exc.strerror})"))


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
    from council.services.send import (
        DeliveryReport,
        deliver_messages,
        prepare_proposal_messages,
        still_failed,
        sync,
    )
    from council.services.send import dry_run as do_dry_run

    settings = get_settings()
    try:
        if dry_run:
            for path in do_dry_run(settings, body or []):
                console.print(str(path))
            console.print(f"Viestit: {settings.outputs / 'dry-run' / 'mail'}")
            return
        sync(settings, actor="cli:send")
        with console.status("Valmistellaan asiakirjoja ja viestejä"):
            day = _day(today)
            pending = prepare_proposal_messages(settings, body or [], actor="cli:send", on=day)
        report = DeliveryReport()
        if pending:
            with console.status(f"Lähetetään {len(pending)} viestiä"):
                report = deliver_messages(settings, pending, SmtpMailer(settings), actor="cli:send")
            _after_change(settings, decisions=False, actor="cli:send")
        failed = {**still_failed(settings, body or []), **report.failed}
    except CouncilError as exc:
        _fail(exc)
    if not pending and not failed:
        console.print("Ei lähetettävää: kaikille valituille vastaanottajille on jo lähetetty.")
        return
    console.print(f"Lähetetty: {len(report.sent)}")
    for label, why in failed.items():
        err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Tulosta JSON-muodossa")] = False,
) -> None:
    """Näytä päätösten tilanne: vastaanottajat × esityksen kohdat, sekä lähettämättä jääneet viestit."""
    from council.services.send import undelivered
    from council.store.engine import check_schema
    from council.store.tracking import status_matrix

    settings = get_settings()
    try:
        engine = checked_engine(settings.effective_database_url)
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


def _decision_in(**values: object):
    """Build a DecisionIn from CLI values; pydantic errors become one Finnish message per field."""
    from pydantic import ValidationError

    from models.decisions import DecisionIn

    try:
        return DecisionIn(**values)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {validation_message(e)}" for e in exc.errors()]
        raise CouncilError("Virheellinen kirjaus:\n  " + "\n  ".join(lines)) from exc


@app.command("follow-up")
def follow_up_cmd(
    today: TodayOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Näytä kuka saisi mitä, älä lähetä")] = False,
) -> None:
    """Muistutusajo: erääntyneet muistutukset, kiitokset ja jonossa olevien viestien uusinta."""
    from council.delivery.mail import FileMailer, SmtpMailer
    from council.services.follow_up import run_follow_up

    settings = get_settings()
    try:
        checked_engine(settings.effective_database_url)
        day = _day(today)
        mailer = FileMailer(settings.outputs / "dry-run" / "mail") if dry_run else SmtpMailer(settings)
        report = run_follow_up(settings, today=day, mailer=mailer, actor="cli:follow-up", dry_run=dry_run)
    except CouncilError as exc:
        _fail(exc)
    from council.rules.formatting import fi_date

    verb = "saisi" if dry_run else "saa"
    for r in report.due:
        cc = f", kopio: {', '.join(r.cc)}" if r.cc else ""
        console.print(
            f"{r.body_id} {verb} muistutuksen {r.round} (erääntyi {fi_date(r.due_on)}), "
            f"avoimet kohdat: {', '.join(map(str, r.open_points))}{cc}",
            highlight=False,
        )
    if not report.due:
        console.print(f"{fi_date(day)}: ei erääntyneitä muistutuksia.")
    if not dry_run:
        console.print(f"Lähetetty {len(report.delivered)} viestiä, kiitoksia {report.confirmations}.")
        for label, why in report.failed.items():
            err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
        if any(v.startswith("failed") for v in report.failed.values()):
            raise typer.Exit(1)


@app.command()
def record(
    body: Annotated[str, typer.Argument(help="Vastaanottajan tunniste, esim. jokioinen")],
    point: Annotated[int, typer.Argument(help="Esityksen kohta (1–4)")],
    outcome: Annotated[str, typer.Argument(help="Päätös, esim. 'hyväksytty ehdotuksen mukaisesti'")],
    on: Annotated[str, typer.Option("--date", help="Kokouspäivä: 15.3.2021 tai 2021-03-15")],
    section: Annotated[str, typer.Option("--section", help="Pykälä (§), positiivinen kokonaisluku")],
    deciding_body: Annotated[
        str | None, typer.Option("--deciding-body", help="Toimielin (oletus: vastaanottajan oma)")
    ] = None,
    dnro: Annotated[str | None, typer.Option("--dnro", help="Diaarinumero")] = None,
    link: Annotated[str | None, typer.Option("--link", help="Pöytäkirjanotteen http(s)-linkki")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Lisätieto")] = None,
    liaison_name: Annotated[
        str | None, typer.Option("--liaison-name", help="Järjestöyhdyshenkilön nimi (kohta 1)")
    ] = None,
    liaison_title: Annotated[
        str | None, typer.Option("--liaison-title", help="Yhdyshenkilön tehtävänimike")
    ] = None,
    liaison_email: Annotated[
        str | None, typer.Option("--liaison-email", help="Yhdyshenkilön sähköposti")
    ] = None,
    liaison_work_time: Annotated[
        str | None, typer.Option("--liaison-work-time", help="Työaika, esim. 8 h/kk")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Korjattava versio (jo päätetyn kohdan korjaus)")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Kirjaa yhden vastaanottajan päätös yhdestä kohdasta."""
    from council.services.bulk import parse_date, parse_int, parse_outcome
    from council.store.decisions import record_decision

    settings = get_settings()
    try:
        try:
            parsed_outcome = parse_outcome(outcome)
            meeting = parse_date(on)
            number = parse_int(section, "pykälä")
        except ValueError as exc:
            raise CouncilError(f"Virheellinen kirjaus: {exc}") from exc
        liaison = None
        parts = (liaison_name, liaison_title, liaison_email, liaison_work_time)
        if any(parts):
            if not all(parts):
                raise CouncilError(
                    "Anna yhdyshenkilöstä kaikki: --liaison-name, --liaison-title, --liaison-email, --liaison-work-time"
                )
            liaison = {
                "name": liaison_name,
                "title": liaison_title,
                "email": liaison_email,
                "work_time": liaison_work_time,
            }
        decision = _decision_in(
            body_id=_body_id(settings, body),
            point=point,
            outcome=parsed_outcome,
            meeting_date=meeting,
            section=number,
            deciding_body=deciding_body,
            diary_number=dnro,
            minutes_url=link,
            note=note,
            liaison=liaison,
            recorded_by=by,
            expected_version=version,
        )
        engine = checked_engine(settings.effective_database_url)
        with Session(engine) as session, session.begin():
            stored = record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)
    except CouncilError as exc:
        _fail(exc)
    from council.rules.formatting import fi_date
    from models.enums import STATUS_LABEL_FI, DecisionStatus

    console.print(
        f"Kirjattu: {stored.body_id}, kohta {stored.point_number}: {stored.outcome} "
        f"({fi_date(stored.meeting_date)} § {stored.section}), "
        f"tila: {STATUS_LABEL_FI[DecisionStatus(stored.status)]}, versio {stored.version}",
        highlight=False,
    )
    try:
        _after_change(settings, decisions=True, actor=f"cli:{by}")
    except CouncilError as exc:
        _fail(exc)


@app.command()
def agenda(
    body: Annotated[str, typer.Argument(help="Vastaanottajan tunniste, esim. jokioinen")],
    on: Annotated[str, typer.Option("--date", help="Kokouspäivä (voi olla tulevaisuudessa): 15.3.2021")],
    point: Annotated[
        list[int] | None, typer.Option("--point", help="Kohta; toistettavissa. Oletus: kaikki avoimet kohdat")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Merkitse kohdat kokouksen esityslistalle: muistutuksia ei lähetetä ennen kokousta seuraavaa päivää."""
    from council.store.decisions import mark_on_agenda

    settings = get_settings()
    try:
        meeting = _day(on, "--date")
        body = _body_id(settings, body)
        engine = checked_engine(settings.effective_database_url)
        with Session(engine) as session, session.begin():
            count = mark_on_agenda(
                session=session,
                proposal_id=settings.proposal_id,
                body_id=body,
                points=point or [],
                meeting_date=meeting,
                actor=f"cli:{by}",
            )
        _after_change(settings, decisions=False, actor=f"cli:{by}")
    except CouncilError as exc:
        _fail(exc)
    from council.rules.formatting import fi_date

    console.print(f"{body}: {count} kohtaa esityslistalla {fi_date(meeting)}", markup=False, highlight=False)


@app.command()
def history(
    body: Annotated[str | None, typer.Argument(help="Vastaanottajan tunniste (oletus: kaikki)")] = None,
) -> None:
    """Näytä tapahtumaloki (vanhin ensin): tilamuutokset, kirjaukset, viestit."""
    from council.store.decisions import history as read_history

    settings = get_settings()
    try:
        engine = checked_engine(settings.effective_database_url)
        if body is not None:
            body = _body_id(settings, body)
        with Session(engine) as session:
            events = read_history(session=session, proposal_id=settings.proposal_id, body_id=body)
    except CouncilError as exc:
        _fail(exc)
    from council.rules.formatting import HELSINKI
    from models.enums import EVENT_LABEL_FI

    if not events:
        console.print("Ei tapahtumia.")
    for e in events:
        detail = dict(e.data.get("new") if isinstance(e.data.get("new"), dict) else e.data)
        # the version first: a correction needs it (--version N), and long details are cut
        version = detail.pop("version", None)
        shown = ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "", {}, []))
        if version is not None:
            shown = f"versio {version}: {shown}"
        point = f" kohta {e.point_number}" if e.point_number else ""
        console.print(
            f"{e.occurred_at.astimezone(HELSINKI):%d.%m.%Y %H:%M}  {e.body_id or '-'}{point}  "
            f"{EVENT_LABEL_FI.get(e.kind, e.kind)} ({e.actor})  {shown[:300]}",
            highlight=False,
        )


@app.command("import-decisions")
def import_decisions_cmd(
    file: Annotated[Path, typer.Argument(help="CSV- tai XLSX-tiedosto (sarakkeet: katso README)")],
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "cli:import",
) -> None:
    """Tuo päätökset tiedostosta: kaikki rivit tarkistetaan ensin, virheellinen rivi estää koko tuonnin."""
    from council.services.bulk import import_decisions

    settings = get_settings()
    try:
        engine = checked_engine(settings.effective_database_url)
        with Session(engine) as session, session.begin():
            count = import_decisions(session=session, proposal_id=settings.proposal_id, path=file, actor=by)
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Tuotu {count} päätöstä tiedostosta {file}", markup=False, highlight=False)
    try:
        _after_change(settings, decisions=True, actor=by)
    except CouncilError as exc:
        _fail(exc)


@app.command("export-decisions")
def export_decisions_cmd(
    file: Annotated[Path, typer.Argument(help="Kohdetiedosto: .csv tai .xlsx")],
) -> None:
    """Vie kirjatut päätökset tiedostoon samassa muodossa kuin tuonti."""
    from council.services.bulk import export_decisions

    settings = get_settings()
    try:
        with Session(checked_engine(settings.effective_database_url)) as session:
            count = export_decisions(session=session, proposal_id=settings.proposal_id, path=file)
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Viety {count} päätöstä tiedostoon {file}", markup=False, highlight=False)


@app.command()
def dashboard(
    out: Annotated[
        Path | None, typer.Option("--out", help="Kirjoita tilannesivu tähän HTML-tiedostoon")
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Tarjoa tilannesivu (vain luku) osoitteessa 127.0.0.1")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Portti --serve-tilassa")] = 8050,
) -> None:
    """Kirjoita valiokunnan tilannesivu (HTML + JSON) tai tarjoa se selaimelle vain luku -tilassa."""
    import shutil

    from council.dashboard.server import serve_dashboard
    from council.services.committee import dashboard_folder, write_dashboard_files

    settings = get_settings()
    try:
        checked_engine(settings.effective_database_url)
        html, data = write_dashboard_files(settings)
    except CouncilError as exc:
        _fail(exc)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(html, out)
            shutil.copyfile(data, out.with_suffix(".json"))
        except OSError as exc:
            _fail(CouncilError(f"--out {out}: tiedostoa ei voi kirjoittaa ({exc.strerror or exc})"))
        console.print(f"Tilannesivu: {out} (ja {out.with_suffix('.json').name})", highlight=False)
    else:
        console.print(f"Tilannesivu: {html}", highlight=False)
    if serve:
        try:
            server = serve_dashboard(dashboard_folder(settings), port=port)
        except OSError as exc:
            _fail(CouncilError(f"--port {port}: tilannesivua ei voitu tarjota ({exc.strerror or exc})"))
        bound = server.server_address[1]  # the real port when --port 0 let the system choose
        try:
            console.print(
                f"Tilannesivu selaimessa: http://127.0.0.1:{bound}/ (vain luku). Lopeta: Ctrl-C",
                highlight=False,
            )
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


@app.command()
def report(
    out: Annotated[Path | None, typer.Option("--out", help="Kansio (oletus outputs/<esitys>/)")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Tee myös PDF/A-kopio (LibreOffice)")] = False,
) -> None:
    """Tee valiokunnan tilannekatsaus (DOCX, valinnaisesti PDF/A)."""
    from council.delivery.pdf import to_pdfa
    from council.services.committee import write_status_report

    settings = get_settings()
    try:
        checked_engine(settings.effective_database_url)
        path = write_status_report(settings, today=today_helsinki(), folder=out)
        console.print(str(path), highlight=False)
        if pdf:
            console.print(str(to_pdfa([path])[0]), highlight=False)
    except CouncilError as exc:
        _fail(exc)
    except OSError as exc:
        where = exc.filename or out or settings.outputs
        _fail(CouncilError(f"{where}: tiedostoa ei voi kirjoittaa ({exc.strerror or exc})"))


@app.command("docs-preview")
def docs_preview() -> None:
    """Tuota kaikki asiakirjat kaikille vastaanottajille ja ensimmäisten sivujen PNG-esikatselut."""
    from council.services.preview import preview

    settings = get_settings()
    try:
        checked_engine(settings.effective_database_url)
        with Progress(console=console, transient=True) as progress:
            docs, pngs, note = preview(settings, today=today_helsinki(), progress=progress)
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Asiakirjoja {len(docs)}: {settings.outputs / 'preview' / 'docx'}", highlight=False)
    if pngs:
        console.print(f"Esikatselukuvia {len(pngs)}: {settings.outputs / 'preview' / 'png'}", highlight=False)
    if note:
        err.print(f"[yellow]{note}[/]", highlight=False)


@app.command()
def digest(
    today: TodayOpt = None,
) -> None:
    """Lähetä valiokunnalle viikkokooste (vain jos viikolla tapahtui jotain)."""
    from council.delivery.mail import SmtpMailer
    from council.services.digest import send_digest

    settings = get_settings()
    try:
        checked_engine(settings.effective_database_url)
        day = _day(today)
        console.print(send_digest(settings, today=day, mailer=SmtpMailer(settings), actor="cli:digest"))
    except CouncilError as exc:
        _fail(exc)


@app.command("backup")
def backup_cmd(
    file: Annotated[Path, typer.Argument(help="Varmuuskopiotiedosto, esim. varmuuskopio.db")],
) -> None:
    """Varmuuskopioi SQLite-tietokanta (SQLiten online backup -rajapinta, palvelu voi olla käynnissä)."""
    from council.store.backup import backup

    try:
        path = backup(get_settings().effective_database_url, file)
    except CouncilError as exc:
        _fail(exc)
    console.print(f"Varmuuskopio: {path}", markup=False, highlight=False)


@app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="Palautettava varmuuskopio (council backup)")],
) -> None:
    """Palauta tietokanta varmuuskopiosta; nykyinen tietokanta säilytetään viereen. Pysäytä palvelut ensin."""
    from council.store.backup import restore

    settings = get_settings()
    try:
        safety = restore(settings.effective_database_url, file)
        upgrade(settings.effective_database_url)
        console.print(f"Palautettu {file}. Aiempi tietokanta: {safety}", markup=False, highlight=False)
        _after_change(
            settings, decisions=False, actor="cli:restore"
        )  # the dashboard shows the restored state
    except CouncilError as exc:
        _fail(exc)


@app.command("smtp-server")
def smtp_server(
    port: Annotated[int | None, typer.Option(help="Portti (oletus COUNCIL_LOCAL_SMTP_PORT tai 8025)")] = None,
) -> None:
    """Käynnistä paikallinen SMTP-palvelin 127.0.0.1:ssä; jokainen viesti tallentuu .eml-tiedostoksi."""
    from council.delivery.smtpd import LocalSmtpServer

    settings = get_settings()
    folder = settings.outputs / "mail"
    server = LocalSmtpServer(folder, port=port or settings.local_smtp_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before start: a Ctrl-C while starting stops cleanly too
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        _fail(CouncilError(f"SMTP-palvelinta ei voitu käynnistää porttiin {server.port}: {exc}"))
    console.print(f"SMTP-palvelin: 127.0.0.1:{server.port}, viestit kansioon {folder}")
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
    from council.cli.runner import main_job

    try:
        code = main_job(send=not no_send, wait=not exit_after)
    except CouncilError as exc:
        _fail(exc)
    raise typer.Exit(code)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
