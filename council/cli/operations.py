"""council run, smtp-server, backup and restore: running and keeping the service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from council.cli.app import app, console
from council.cli.common import after_change
from council.config import get_settings
from council.errors import CouncilError
from council.store.engine import upgrade


@app.command("backup")
def backup_cmd(
    file: Annotated[
        Path, typer.Argument(metavar="TIEDOSTO", help="Varmuuskopiotiedosto, esim. varmuuskopio.db")
    ],
) -> None:
    """Varmuuskopioi SQLite-tietokanta (SQLiten online backup -rajapinta, palvelu voi olla käynnissä)."""
    from council.store.backup import backup

    path = backup(get_settings().effective_database_url, file)
    console.print(f"Varmuuskopio: {path}", markup=False, highlight=False)


@app.command("restore")
def restore_cmd(
    file: Annotated[
        Path, typer.Argument(metavar="TIEDOSTO", help="Palautettava varmuuskopio (council backup)")
    ],
) -> None:
    """Palauta tietokanta varmuuskopiosta; nykyinen tietokanta säilytetään viereen. Pysäytä palvelut ensin."""
    from council.store.backup import restore

    settings = get_settings()
    safety = restore(settings.effective_database_url, file)
    upgrade(settings.effective_database_url)
    console.print(f"Palautettu {file}. Aiempi tietokanta: {safety}", markup=False, highlight=False)
    after_change(settings, decisions=False, actor="cli:restore")  # the dashboard shows the restored state


@app.command("refresh-forms")
def refresh_forms_cmd(
    api: Annotated[
        str | None,
        typer.Option("--api", help="Prefect-palvelimen API-osoite (oletus PREFECT_API_URL tai paikallinen palvelin)"),
    ] = None,
) -> None:
    """Päivitä lomakkeiden valintalistat (vastaanottajat, kohdat) käynnissä olevan Prefect-palvelimen
    deploymenteihin sisältötiedostoista: muutettu vastaanottajaluettelo näkyy ilman uudelleenkäynnistystä."""
    import os

    import httpx

    from council.services.forms import refresh_forms

    settings = get_settings()
    url = api or os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{settings.prefect_port}/api"
    try:
        changed = refresh_forms(settings, url)
    except httpx.HTTPError as exc:
        raise CouncilError(f"Prefect-palvelimeen {url} ei saada yhteyttä: {exc}") from exc
    console.print(f"Lomakkeita päivitetty: {changed} (palvelin {url})", markup=False, highlight=False)


@app.command("smtp-server")
def smtp_server(
    port: Annotated[int | None, typer.Option(help="Portti (oletus COUNCIL_LOCAL_SMTP_PORT tai 8025)")] = None,
) -> None:
    """Käynnistä paikallinen SMTP-palvelin 127.0.0.1:ssä; jokainen viesti tallentuu .eml-tiedostoksi."""
    from council.delivery.smtpd import serve

    serve(port, say=lambda line: console.print(line, markup=False, highlight=False))


@app.command()
def run(
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Käynnistä palvelut lähettämättä esitystä")
    ] = False,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Lopeta lähetyksen jälkeen (ei jää odottamaan Ctrl-C:tä)")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=16,
            help="Prefect-työntekijöiden määrä tällä koneella; lähetys jaetaan niiden kesken",
        ),
    ] = 1,
) -> None:
    """Pääajo: Prefect-palvelin, työntekijä ja SMTP-palvelin käyntiin, esityksen lähetys, odota Ctrl-C."""
    from council.cli.runner import main_job

    code = main_job(send=not no_send, wait=not exit_after, workers=workers)
    raise typer.Exit(code)
