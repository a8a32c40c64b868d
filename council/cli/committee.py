"""council status, dashboard, report and digest: what the committee reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from council.cli.app import app, console, err
from council.cli.common import TodayOpt, parse_day
from council.config import get_settings
from council.errors import CouncilError
from council.rules.formatting import today_helsinki
from council.store.engine import checked_engine_for


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Tulosta JSON-muodossa")] = False,
) -> None:
    """Näytä päätösten tilanne: vastaanottajat × esityksen kohdat, sekä lähettämättä jääneet viestit."""
    from council.services.send import undelivered
    from council.store.engine import check_schema, checked_engine_for
    from council.store.tracking import status_matrix

    settings = get_settings()
    engine = checked_engine_for(settings)
    check_schema(engine)
    with Session(engine) as session:
        matrix = status_matrix(session=session, proposal_id=settings.proposal_id)
    problems = undelivered(settings, settings.proposal_id)
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


@app.command()
def dashboard(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Kopioi esityksen tilannesivu (ja sen JSON) tähän HTML-tiedostoon"),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Tarjoa tilannesivu (vain luku) osoitteessa 127.0.0.1")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Portti --serve-tilassa")] = 8050,
) -> None:
    """Kirjoita valiokunnan tilannesivut (jokaisen esityksen sivu ja kaikkien esitysten luettelo, HTML + JSON)
    tai tarjoa ne selaimelle vain luku -tilassa."""
    import shutil

    from council.dashboard.publish import INDEX_NAME
    from council.dashboard.server import serve_dashboard
    from council.services.committee import write_dashboard_files

    settings = get_settings()
    checked_engine_for(settings)
    html, data = write_dashboard_files(settings)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(html, out)
            shutil.copyfile(data, out.with_suffix(".json"))
        except OSError as exc:
            raise CouncilError(f"--out {out}: tiedostoa ei voi kirjoittaa ({exc.strerror or exc})") from exc
        console.print(f"Tilannesivu: {out} (ja {out.with_suffix('.json').name})", highlight=False)
    else:
        console.print(f"Tilannesivu: {html}", highlight=False)
    console.print(f"Kaikki esitykset: {settings.dashboard_dir / INDEX_NAME}", highlight=False)
    if serve:
        try:
            server = serve_dashboard(settings.dashboard_dir, port=port)
        except OSError as exc:
            raise CouncilError(
                f"--port {port}: tilannesivua ei voitu tarjota ({exc.strerror or exc})"
            ) from exc
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
        checked_engine_for(settings)
        path = write_status_report(settings, today=today_helsinki(), folder=out)
        console.print(str(path), highlight=False)
        if pdf:
            console.print(str(to_pdfa([path])[0]), highlight=False)
    except OSError as exc:
        where = exc.filename or out or settings.outputs
        raise CouncilError(f"{where}: tiedostoa ei voi kirjoittaa ({exc.strerror or exc})") from exc


@app.command()
def digest(
    ctx: typer.Context,
    today: TodayOpt = None,
) -> None:
    """Lähetä valiokunnalle viikkokooste jokaisesta lähetetystä esityksestä (vain jos viikolla
    tapahtui jotain)."""
    from council.delivery.mail import SmtpMailer
    from council.services.digest import DigestsFailed, send_digests

    settings = get_settings()
    checked_engine_for(settings)
    day = parse_day(today)
    chosen = (ctx.obj or {}).get("proposal")
    try:
        results = send_digests(
            settings,
            today=day,
            mailer=SmtpMailer(settings),
            actor="cli:digest",
            proposal_ids=[chosen] if chosen else None,
        )
    except DigestsFailed as exc:
        results = exc.results
        _print_digests(results)
        raise
    _print_digests(results)


def _print_digests(results: dict[str, str]) -> None:
    several = len(results) > 1
    for proposal_id, said in results.items():
        console.print(f"{proposal_id}: {said}" if several and proposal_id else said, highlight=False, markup=False)
