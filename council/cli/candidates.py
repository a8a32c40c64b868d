"""council candidates, confirm and reject: the decisions found in replies and publications."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from council.cli.app import app, console
from council.cli.common import after_change
from council.cli.decisions import LIAISON_OPTIONS, LiaisonEmail, LiaisonTitle, LiaisonWorkTime
from council.config import get_settings, using_proposal
from council.errors import CouncilError
from council.store.engine import checked_engine_for


@app.command()
def candidates(
    proposal: Annotated[
        str | None, typer.Option("--esitys", help="Vain tämän esityksen löydökset (tunniste)")
    ] = None,
) -> None:
    """Näytä vahvistamattomat löydökset: vastauksista ja julkaisuista löydetyt päätökset ja esityslistat."""
    from council.services.intake import describe, pending
    from models.tables import Body

    settings = get_settings()
    with Session(checked_engine_for(settings)) as session:
        found = pending(session, proposal)
        names = {b.id: b.name for b in session.query(Body)}
        if not found:
            console.print("Ei vahvistamattomia löydöksiä.", highlight=False)
            return
        current = None
        for candidate in found:
            if candidate.proposal_id != current:
                current = candidate.proposal_id
                console.print(f"\nEsitys {current}:", highlight=False)
            console.print(f"  {describe(candidate, names[candidate.body_id])}", markup=False, highlight=False)
            console.print(f"      lähde: {candidate.source}", markup=False, highlight=False)
    console.print(
        '\nVahvista: council confirm NUMERO  ·  Hylkää: council reject NUMERO --syy "…"', highlight=False
    )


@app.command()
def confirm(
    number: Annotated[int, typer.Argument(metavar="NUMERO", help="Löydöksen numero (council candidates)")],
    liaison_name: Annotated[
        str | None,
        typer.Option("--liaison-name", help="Järjestöyhdyshenkilön nimi (yhdyshenkilön nimeävä kohta)"),
    ] = None,
    liaison_title: LiaisonTitle = None,
    liaison_email: LiaisonEmail = None,
    liaison_work_time: LiaisonWorkTime = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Vahvista löydös: se kirjataan kuten käsin kirjattu päätös (tai esityslistamerkintä)."""
    from pydantic import ValidationError

    from council.errors import field_problems
    from council.services.intake import confirm as confirm_candidate
    from council.services.intake import describe
    from models.decisions import LiaisonIn
    from models.tables import Body

    parts = (liaison_name, liaison_title, liaison_email, liaison_work_time)
    liaison = None
    if any(parts):
        missing = [o for o, v in zip(LIAISON_OPTIONS, parts, strict=True) if not v]
        if missing:
            raise CouncilError(f"Anna yhdyshenkilöstä kaikki tiedot; puuttuu: {', '.join(missing)}")
        try:
            liaison = LiaisonIn(
                name=liaison_name, title=liaison_title, email=liaison_email, work_time=liaison_work_time
            )
        except ValidationError as exc:
            raise CouncilError(
                "Virheellinen yhdyshenkilö:\n  " + "\n  ".join(field_problems(exc, LiaisonIn))
            ) from exc
    settings = get_settings()
    with Session(checked_engine_for(settings)) as session, session.begin():
        candidate = confirm_candidate(session, number, actor=f"cli:{by}", liaison=liaison)
        line = describe(candidate, session.get_one(Body, candidate.body_id).name, evidence_chars=120)
        proposal_id = candidate.proposal_id
    console.print(f"Vahvistettu ja kirjattu: {line}", markup=False, highlight=False)
    with using_proposal(proposal_id):  # the duty description and thank-you of the candidate's proposal
        after_change(get_settings(), decisions=True, actor=f"cli:{by}")


@app.command()
def reject(
    number: Annotated[int, typer.Argument(metavar="NUMERO", help="Löydöksen numero (council candidates)")],
    reason: Annotated[str | None, typer.Option("--syy", help="Miksi löydös hylätään")] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Hylkää löydös: mitään ei kirjata, ja löydös poistuu vahvistettavien luettelosta."""
    from council.services.intake import describe
    from council.services.intake import reject as reject_candidate
    from models.tables import Body

    settings = get_settings()
    with Session(checked_engine_for(settings)) as session, session.begin():
        candidate = reject_candidate(session, number, actor=f"cli:{by}", reason=reason)
        line = describe(candidate, session.get_one(Body, candidate.body_id).name, evidence_chars=120)
    console.print(f"Hylätty: {line}", markup=False, highlight=False)


@app.command()
def publications(
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Lue toimielinten kokousjulkaisut nyt: esitystä koskevat asiat tulevat vahvistettaviksi löydöksiksi."""
    from council.services.publications import read_publications

    with console.status("Luetaan toimielinten julkaisuja"):
        report = read_publications(get_settings(), actor=f"cli:{by}")
    for line in report.lines:
        console.print(line, markup=False, highlight=False)
    if report.candidates:
        console.print(f"{report.candidates} uutta löydöstä: council candidates", highlight=False)
