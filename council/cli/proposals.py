"""council proposal list | show | import | close | archive: the committee's proposals as campaigns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from council.cli.app import CouncilGroup, app, console
from council.cli.finnish import OPTIONS_METAVAR, SUBCOMMAND_METAVAR
from council.config import get_settings

proposal_app = typer.Typer(
    cls=CouncilGroup,
    help="Esitykset: luettelo, tiedot, tuonti, päättäminen ja arkistointi.",
    no_args_is_help=True,
    options_metavar=OPTIONS_METAVAR,
    subcommand_metavar=SUBCOMMAND_METAVAR,
)
app.add_typer(proposal_app, name="proposal")


@proposal_app.command("list")
def list_cmd() -> None:
    """Luettele esitykset: tunniste, tila, Dnro, vastaanottajien määrä ja otsikko."""
    from council.rules.formatting import fi_date
    from council.services.proposals import proposals

    found = proposals(get_settings())
    if not found:
        console.print("Ei tallennettuja esityksiä. Tuo esitys: council proposal import TIEDOSTO.")
        return
    for p in found:
        console.print(
            f"{p.id}\n    {p.short_title} – {p.state_fi}, Dnro {p.diary_number or '–'}, "
            f"{p.recipients} vastaanottajaa, luotu {fi_date(p.created_at.date())}",
            markup=False,
            highlight=False,
        )


@proposal_app.command("show")
def show_cmd(proposal_id: Annotated[str, typer.Argument(help="Esityksen tunniste")]) -> None:
    """Näytä esityksen tiedot: tila, Dnro, kohdat ja vastaanottajat."""
    from sqlalchemy.orm import Session

    from council.cli.common import body_name
    from council.services.proposals import find_proposal
    from council.store.engine import checked_engine_for
    from council.store.proposals import proposal_content
    from council.store.recipients import recipient_ids

    settings = get_settings()
    found = find_proposal(settings, proposal_id)
    content = proposal_content(settings, proposal_id)
    with Session(checked_engine_for(settings)) as session:
        bodies = recipient_ids(session=session, proposal_id=proposal_id)
    lines = [
        content.title,
        f"Tunniste: {found.id}",
        f"Tila: {found.state_fi}" + (f" ({found.close_reason})" if found.close_reason else ""),
        f"Dnro: {found.diary_number or '–'}",
        f"Vastausaika: {content.reminder_policy.deadline_days} päivää lähettämisestä",
        "Kohdat:",
        *[f"  {p.number}. {p.short_title}" for p in content.points],
        f"Vastaanottajat ({len(bodies)}):",
        *[f"  {body_name(settings, b)}" for b in bodies],
    ]
    console.print("\n".join(lines), markup=False, highlight=False)


@proposal_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="Esityspohjalle kirjoitettu .docx tai sisältötiedosto .yaml")],
    recipient: Annotated[
        list[str] | None,
        typer.Option("--recipient", "-r", help="Vastaanottaja (tunniste tai virallinen nimi); toistettavissa. Oletus: koko vastaanottajaluettelo."),
    ] = None,
    dnro: Annotated[str | None, typer.Option("--dnro", help="Valiokunnan diaarinumero, jos tiedostossa ei ole")] = None,
    deadline_days: Annotated[
        int | None, typer.Option("--deadline-days", min=1, max=730, help="Vastausaika päivinä lähettämisestä")
    ] = None,
) -> None:
    """Tuo uusi esitys luonnokseksi: tarkista tiedosto, tallenna esitys ja vastaanottajat ja kirjoita
    YAML-kopio kansioon data/proposals. Jos tiedostossa on virheitä, mitään ei tallenneta."""
    from council.services.proposals import import_proposal, read_proposal_file

    settings = get_settings()
    proposal = read_proposal_file(file)
    done = import_proposal(
        settings, proposal, recipients=recipient or [], actor="cli:proposal-import", diary_number=dnro,
        deadline_days=deadline_days,
    )
    verb = "Tuotiin" if done.created else "Päivitettiin"
    console.print(
        f"{verb} esitys {done.proposal.id}: {done.proposal.short_title}\n"
        f"Vastaanottajia {len(done.recipients)}, kohtia {len(done.proposal.points)}. "
        f"YAML-kopio: {done.yaml_copy}\n"
        f"Lähetä: council --proposal {done.proposal.id} send",
        markup=False,
        highlight=False,
    )


@proposal_app.command("close")
def close_cmd(
    proposal_id: Annotated[str, typer.Argument(help="Esityksen tunniste")],
    reason: Annotated[str, typer.Option("--reason", help="Miksi esitys päätetään (näkyy tapahtumalokissa)")],
) -> None:
    """Päätä esityksen seuranta: muistutukset loppuvat ja tilannesivu näyttää sen päättyneenä."""
    from council.services.proposals import close_proposal

    changed = close_proposal(get_settings(), proposal_id, reason=reason, actor="cli:proposal-close")
    console.print(
        f"Esitys {proposal_id} päätetty." if changed else f"Esitys {proposal_id} oli jo päätetty.", highlight=False
    )
