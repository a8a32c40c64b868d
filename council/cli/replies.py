"""council replies: read the registries' replies from the drop folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from council.cli.app import app, console
from council.config import get_settings
from council.errors import CouncilError
from council.store.engine import checked_engine_for


@app.command()
def replies(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="KANSIO",
            help="Kansio, jonne vastaukset on tallennettu .eml-tiedostoina (oletus state/saapuneet)"
        ),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Lue kirjaamoiden vastaukset: tunnista vastaanottaja ja tallenna sen asianumero (Viite).

    Kun COUNCIL_IMAP_HOST on asetettu, uudet viestit haetaan ensin postilaatikosta kansioon (vain
    lukien: mitään ei merkitä luetuksi, siirretä eikä poisteta).
    """
    from council.services.replies import take_replies

    settings = get_settings()
    where = folder or settings.inbox_dir
    if settings.imap_host:
        from council.delivery.imap import fetch_to_folder

        with console.status(f"Haetaan viestejä postilaatikosta {settings.imap_host}"):
            fetched = fetch_to_folder(settings, where)
        console.print(
            f"Postilaatikosta {settings.imap_host}: {len(fetched.new)} uutta viestiä "
            f"({fetched.already} haettu jo aiemmin)",
            markup=False,
            highlight=False,
        )
    if not where.is_dir():
        raise CouncilError(f"{where}: kansiota ei ole; tallenna vastaukset .eml-tiedostoina tähän kansioon")
    with Session(checked_engine_for(settings)) as session, session.begin():
        report = take_replies(session=session, folder=where, actor=f"cli:{by}")
    for line in report.matched:
        console.print(line, markup=False, highlight=False)
    for line in report.unmatched:
        console.print(f"Tunnistamaton: {line}", markup=False, highlight=False)
    console.print(
        f"Luettu {len(report.matched) + len(report.unmatched)} uutta vastausta "
        f"({report.already_read} luettu jo aiemmin) kansiosta {where}",
        markup=False,
        highlight=False,
    )
