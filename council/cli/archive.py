"""council proposal archive: one archive package of a proposal for the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from council.cli.app import console
from council.cli.common import TodayOpt, parse_day
from council.cli.proposals import proposal_app
from council.config import get_settings
from council.errors import CouncilError


@proposal_app.command("archive")
def archive(
    proposal_id: Annotated[
        str,
        typer.Argument(
            metavar="TUNNISTE", help="Esityksen tunniste, esim. jarjestoyhteistyomalli-forssan-seutu"
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Kansio, johon paketti kirjoitetaan (oletus: outputs/arkisto)"),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Lue kirjoitettu paketti uudelleen ja tarkista tarkistussummat")
    ] = False,
    today: TodayOpt = None,
) -> None:
    """Kirjoita esityksen arkistopaketti kirjaamolle: asiakirjat, viestit, päätökset, tapahtumat (ZIP)."""
    from council.services.archive import read_manifest, verify_archive
    from council.services.proposals import archive_proposal

    settings = get_settings()
    path = archive_proposal(settings, proposal_id, out, on=parse_day(today), actor="cli:proposal-archive")
    counts = read_manifest(path)["sisalto"]
    console.print(f"Arkistopaketti kirjoitettu: {path}", highlight=False)
    console.print(
        f"Asiakirjoja {counts['asiakirjoja']}, viestejä {counts['viesteja']}, "
        f"päätöksiä {counts['paatoksia']}, tapahtumia {counts['tapahtumia']}.",
        highlight=False,
    )
    if verify:
        problems = verify_archive(path)
        if problems:
            raise CouncilError(f"Paketissa {path} on virheitä:\n  " + "\n  ".join(problems))
        console.print("Tarkistettu: kaikki manifestin tiedostot ovat paketissa ja tarkistussummat täsmäävät.")
