"""new-proposal and close-proposal: the coordinator starts the committee's next proposal from a
file written on the authoring template, and ends the follow-up of one."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import State
from pydantic import BaseModel, ConfigDict, Field

from council.config import get_settings
from council.errors import CouncilError
from council.rules.formatting import today_helsinki
from council.services.preview import proposal_preview
from council.services.proposals import close_proposal, import_proposal, read_proposal_file
from council.store.proposals import choose_proposal
from flows.common import (
    ON_FAILURE,
    BodyName,
    actor,
    body_ids,
    body_name,
    form_title,
    push_choices,
    refuse,
    report_done,
)

#: A file in the coordinator's folder of new proposals, chosen in the form.
ProposalFile = Annotated[
    str, Field(min_length=1, max_length=300, json_schema_extra={"x-council-choices": "proposal_files"})
]


class NewProposalIn(BaseModel):
    """Tuo uusi esitys esityspohjalle kirjoitetusta tiedostosta.

    Tallenna tiedosto ensin uusien esitysten kansioon (oletus state/uudet-esitykset). Esitys
    tallentuu luonnokseksi; lähetä se sitten send-proposal-lomakkeella.
    """

    model_config = ConfigDict(title="Uusi esitys")

    tiedosto: ProposalFile = Field(  # type: ignore[valid-type]
        title="Tiedosto",
        description="Esityspohjalle kirjoitettu .docx (tai .yaml) uusien esitysten kansiosta",
    )
    vastaanottajat: list[BodyName] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Vastaanottajat",
        description="Kunnat ja kuntayhtymät, joille esitys lähetetään. Tyhjä valinta = koko vastaanottajaluettelo",
        json_schema_extra={"uniqueItems": True},
    )
    dnro: str = Field(
        default="",
        max_length=60,
        title="Diaarinumero (Dnro)",
        description="Valiokunnan oma diaarinumero, jos se ei ole tiedostossa",
    )
    vastausaika_paivina: int = Field(
        default=0,
        ge=0,
        le=730,
        title="Vastausaika (päivää)",
        description="Montako päivää lähettämisestä vastaanottajilla on aikaa päättää; 0 = tiedoston oma (oletus 90)",
    )


@flow(
    name="new-proposal",
    description="Tuo uusi esitys esityspohjalle kirjoitetusta tiedostosta luonnokseksi ja näytä esikatselu.",
    **ON_FAILURE,
)
def new_proposal(
    esitys: Annotated[NewProposalIn, form_title("Uusi esitys")],
) -> dict | State:
    logger = get_run_logger()
    settings = get_settings()
    path = Path(esitys.tiedosto)
    if not path.is_absolute():
        path = settings.proposals_inbox_dir / path
    try:
        proposal = read_proposal_file(path)
        recipients = body_ids(esitys.vastaanottajat)
        done = import_proposal(
            settings,
            proposal,
            recipients=recipients,
            actor=actor(),
            diary_number=esitys.dnro or None,
            deadline_days=esitys.vastausaika_paivina or None,
        )
    except CouncilError as exc:  # every problem of the file, the recipients or the state: nothing stored
        return refuse(exc.refusal())
    first = done.recipients[0]
    try:
        docx, png = proposal_preview(settings, proposal.id, first, today=today_helsinki())
    except (
        CouncilError,
        OSError,
        subprocess.SubprocessError,
    ) as exc:  # stored already; a preview is a nicety
        logger.warning("Esikatselua ei voitu tehdä: %s", exc)
        docx, png = None, None
    if png is not None:  # inline: the UI shows it without access to the worker's files
        image = base64.b64encode(png.read_bytes()).decode()
        create_markdown_artifact(
            markdown=f"![Esityksen ensimmäinen sivu: {body_name(first)}](data:image/png;base64,{image})",
            description=f"Esikatselu: {body_name(first)}",
        )
    push_choices(settings)
    names = ", ".join(body_name(b) for b in done.recipients)
    report_done(
        f"# Uusi esitys: {proposal.short_title}\n\n"
        f"- Tunniste: `{proposal.id}`, tila: luonnos\n"
        f"- Dnro: {proposal.diary_number or '–'}\n"
        f"- Kohtia {len(proposal.points)}; vastaanottajia {len(done.recipients)}: {names}\n"
        f"- Vastausaika {proposal.reminder_policy.deadline_days} päivää lähettämisestä\n"
        + (f"- Esikatselu ({body_name(first)}): `{docx}`" if docx else "- Esikatselua ei tehty (katso loki)")
        + (f", kuva `{png}`" if png else "")
        + "\n"
        f"- YAML-kopio: `{done.yaml_copy}`\n\n"
        f"**Seuraavaksi:** lähetä esitys send-proposal-lomakkeella (valitse Esitys: {proposal.short_title}). "
        "Esitys näkyy jo kaikkien lomakkeiden Esitys-valikossa."
    )
    return {"proposal": proposal.id, "recipients": done.recipients, "preview": str(docx or "")}


class CloseProposalIn(BaseModel):
    """Päätä esityksen seuranta: muistutukset loppuvat ja tilannesivu näyttää sen päättyneenä."""

    model_config = ConfigDict(title="Esityksen päättäminen")

    esitys: str = Field(
        min_length=1,
        max_length=500,
        title="Esitys",
        description="Päätettävä esitys",
        json_schema_extra={"x-council-choices": "proposals"},
    )
    syy: str = Field(
        min_length=3,
        max_length=500,
        title="Syy",
        description="Miksi seuranta päättyy (näkyy tapahtumalokissa)",
    )


@flow(name="close-proposal", description="Päätä esityksen seuranta syyn kanssa.", **ON_FAILURE)
def close_proposal_flow(
    paatos: Annotated[CloseProposalIn, form_title("Esityksen päättäminen")],
) -> dict | State:
    settings = get_settings()
    try:
        proposal_id = choose_proposal(settings, paatos.esitys)
        changed = close_proposal(settings, proposal_id, reason=paatos.syy, actor=actor())
    except CouncilError as exc:  # every problem of the file, the recipients or the state: nothing stored
        return refuse(exc.refusal())
    push_choices(settings)
    create_markdown_artifact(
        markdown=f"# Esitys päätetty\n\n`{proposal_id}`: {paatos.syy}\n\nMuistutuksia ei enää lähetetä.",
        description="Ajon yhteenveto",
    )
    return {"proposal": proposal_id, "closed": changed}
