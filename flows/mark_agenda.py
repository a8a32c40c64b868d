"""mark-agenda: the coordinator notes that a body has put points on a meeting's agenda."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from council.config import get_settings
from council.rules.formatting import fi_date
from council.store.decisions import agenda_date_problem, mark_on_agenda
from council.store.engine import engine_for
from flows.common import BodyName, PointLabel, actor, body_ids, point_number
from flows.status import publish_status
from models.fields import Line


class AgendaIn(BaseModel):
    """Merkitse vastaanottajan kohdat kokouksen esityslistalle.

    Muistutuksia ei lähetetä ennen kokousta seuraavaa päivää. Kokouspäivä voi olla tulevaisuudessa.
    Jätä kohdat tyhjäksi, kun esityslistalla ovat kaikki vielä avoimet kohdat.
    """

    vastaanottaja: BodyName = Field(title="Vastaanottaja", description="Kunta tai kuntayhtymä")  # type: ignore[valid-type]
    kokouspaiva: date = Field(title="Kokouspäivä", description="Kokous, jonka esityslistalla kohdat ovat")
    kohdat: list[PointLabel] = Field(  # type: ignore[valid-type]
        default_factory=list, title="Kohdat", description="Tyhjä = kaikki avoimet kohdat"
    )
    kirjaaja: Line = Field(default="koordinaattori", title="Kirjaaja")  # type: ignore[valid-type]

    @field_validator("kokouspaiva")
    @classmethod
    def _plausible_date(cls, value: date) -> date:
        problem = agenda_date_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("kohdat")
    @classmethod
    def _each_point_once(cls, value: list[str]) -> list[str]:
        repeated = sorted({label for label in value if value.count(label) > 1})
        if repeated:
            raise ValueError(f"sama kohta useammin kuin kerran: {', '.join(repeated)}")
        return value


@task(name="store-agenda")
def store_agenda(body_id: str, points: list[int], meeting_date: date, by: str) -> int:
    settings = get_settings()
    with Session(engine_for(settings)) as session, session.begin():
        return mark_on_agenda(
            session=session,
            proposal_id=settings.proposal_id,
            body_id=body_id,
            points=points,
            meeting_date=meeting_date,
            actor=by,
        )


@flow(
    name="mark-agenda",
    description="Merkitsee vastaanottajan kohdat kokouksen esityslistalle (ei muistutuksia ennen kokousta).",
)
def mark_agenda(merkinta: AgendaIn) -> int:
    """Store the agenda entry, then refresh the status artifacts; returns how many points it covers."""
    body_id = body_ids([merkinta.vastaanottaja])[0]
    count = store_agenda(
        body_id,
        [point_number(label) for label in merkinta.kohdat],
        merkinta.kokouspaiva,
        f"{actor()} ({merkinta.kirjaaja})",
    )
    get_run_logger().info(
        "%s: %s kohtaa esityslistalla %s", merkinta.vastaanottaja, count, fi_date(merkinta.kokouspaiva)
    )
    publish_status()
    return count
