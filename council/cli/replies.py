"""council replies: read the registries' replies from the drop folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from council.cli.app import app, console
from council.config import get_settings


@app.command()
def replies(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="KANSIO",
            help="Kansio, jonne vastaukset on tallennettu .eml- tai .msg-tiedostoina (oletus state/saapuneet)"
        ),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Lue kirjaamoiden vastaukset: tunnista vastaanottaja ja tallenna sen asianumero (Viite).

    Kun COUNCIL_IMAP_HOST on asetettu, uudet viestit haetaan ensin postilaatikosta kansioon (vain
    lukien: mitään ei merkitä luetuksi, siirretä eikä poisteta).
    """
    from council.services.replies import read_replies

    settings = get_settings()
    if settings.imap_host:
        with console.status(f"Haetaan viestejä postilaatikosta {settings.imap_host}"):
            result = read_replies(settings, actor=f"cli:{by}", folder=folder)
    else:
        result = read_replies(settings, actor=f"cli:{by}", folder=folder)
    for line in result.lines():
        console.print(line, markup=False, highlight=False)
