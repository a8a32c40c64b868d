"""mark-agenda: the coordinator notes that a body has put points on a meeting's agenda."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from council.config import get_settings
from council.errors import INPUT_ERRORS, InvalidInputError, validation_message
from council.rendering.run_reports import agenda_summary
from council.rules.formatting import fi_date
from council.store.decisions import agenda_date_problem, mark_on_agenda
from council.store.engine import engine_for
from flows.common import (
    ON_FAILURE,
    BodyName,
    PointLabel,
    ProposalForm,
    ProposalTitle,
    actor,
    body_ids,
    for_chosen_proposal,
    form_title,
    point_number,
    refuse,
    report_done,
)
from flows.status import publish_status
from models.fields import FI_DATE_PATTERN, Line, parse_fi_date
from models.results import Refusal


class AgendaIn(ProposalForm):
    """Merkitse vastaanottajan kohdat kokouksen esityslistalle.

    Muistutuksia ei lähetetä ennen kokousta seuraavaa päivää. Kokouspäivä voi olla tulevaisuudessa.
    Jätä kohdat tyhjäksi, kun esityslistalla ovat kaikki vielä avoimet kohdat.
    """

    model_config = ConfigDict(title="Esityslistamerkintä")

    esitys: ProposalTitle = ""  # type: ignore[valid-type]
    vastaanottaja: BodyName = Field(title="Vastaanottaja", description="Kunta tai kuntayhtymä")  # type: ignore[valid-type]
    kokouspaiva: str = Field(
        title="Kokouspäivä",
        pattern=FI_DATE_PATTERN,
        description="Kokous, jonka esityslistalla kohdat ovat, muodossa 15.3.2021",
    )
    kohdat: list[PointLabel] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Kohdat",
        description="Tyhjä = kaikki avoimet kohdat",
        json_schema_extra={"uniqueItems": True},
    )
    kirjaaja: str = Field(
        default="koordinaattori",
        min_length=1,
        max_length=300,
        title="Kirjaaja",
        description="Kuka merkitsi (näkyy tapahtumalokissa)",
    )

    def meeting_date(self) -> date:
        """The meeting's date; InvalidInputError (Finnish) when it cannot be one."""
        try:
            value = parse_fi_date(self.kokouspaiva)
        except ValueError as exc:
            raise InvalidInputError("Virheellinen merkintä", [f"Kokouspäivä: {exc}"]) from None
        problem = agenda_date_problem(value)
        if problem:
            raise InvalidInputError("Virheellinen merkintä", [f"Kokouspäivä: {problem}"])
        return value

    def recorder(self) -> str:
        try:
            return TypeAdapter(Line).validate_python(self.kirjaaja)
        except ValidationError as exc:
            raise InvalidInputError(
                "Virheellinen merkintä", [f"Kirjaaja: {validation_message(e)}" for e in exc.errors()]
            ) from None


@task(name="store-agenda")
def store_agenda(body_id: str, points: list[int], meeting_date: date, by: str) -> int | Refusal:
    settings = get_settings()
    try:
        with Session(engine_for(settings)) as session, session.begin():
            return mark_on_agenda(
                session=session,
                proposal_id=settings.proposal_id,
                body_id=body_id,
                points=points,
                meeting_date=meeting_date,
                actor=by,
            )
    except INPUT_ERRORS as exc:
        return exc.refusal()


@flow(
    name="mark-agenda",
    description="Merkitsee vastaanottajan kohdat kokouksen esityslistalle (ei muistutuksia ennen kokousta).",
    **ON_FAILURE,
)
@for_chosen_proposal
def mark_agenda(
    merkinta: Annotated[AgendaIn, form_title("Esityslistamerkintä")],
) -> int | State:
    """Store the agenda entry, then refresh the status artifacts; returns how many points it covers."""
    try:
        meeting = merkinta.meeting_date()
        by = merkinta.recorder()
        body_id = body_ids([merkinta.vastaanottaja])[0]
    except INPUT_ERRORS as exc:
        return refuse(exc.refusal())
    count = store_agenda(
        body_id, [point_number(label) for label in merkinta.kohdat], meeting, f"{actor()} ({by})"
    )
    if isinstance(count, Refusal):
        return refuse(count)
    get_run_logger().info("%s: %s kohtaa esityslistalla %s", merkinta.vastaanottaja, count, fi_date(meeting))
    publish_status()
    report_done(agenda_summary(merkinta.vastaanottaja, count, meeting, settings=get_settings()))
    return count
