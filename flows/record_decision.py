"""record-decision: the coordinator records one body's decisions from one meeting through a form."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from council.config import get_settings
from council.delivery.mail import SmtpMailer
from council.rules.formatting import today_helsinki
from council.services.after_decision import after_decisions
from council.store.decisions import record_many
from council.store.engine import engine_for
from flows.common import DUTIES_POINT, BodyName, PointLabel, actor, body_ids, point_number
from flows.status import publish_status
from models.decisions import DecisionIn, DecisionOut, LiaisonIn
from models.enums import Outcome
from models.fields import Email, Line, WorkTime
from models.results import DeliveryReport


class PointDecisionIn(BaseModel):
    kohta: PointLabel = Field(title="Kohta", description="Esityksen kohta, josta päätettiin")  # type: ignore[valid-type]
    paatos: Outcome = Field(title="Päätös", description="Pöytäkirjan mukainen päätös")
    pykala: int = Field(title="Pykälä (§)", ge=1, description="Pöytäkirjan pykälän numero")


class LiaisonForm(BaseModel):
    nimi: Line = Field(title="Nimi")
    nimike: Line = Field(title="Tehtävänimike", description="esim. hyvinvointikoordinaattori")
    sahkoposti: Email = Field(title="Sähköposti")
    tyoaika: WorkTime = Field(title="Työaika", description="esim. 8 h/kk tai 10 % työajasta")


class RecordDecisionIn(BaseModel):
    """Kirjaa yhden vastaanottajan yhden kokouksen päätökset.

    Valitse vastaanottaja ja kokouspäivä, lisää jokaisesta päätetystä kohdasta rivi (kohta, päätös,
    pykälä) ja täytä pöytäkirjanotteen tiedot. Kun kohdassa 1 nimettiin järjestöyhdyshenkilö,
    täytä myös yhdyshenkilön tiedot. Jo päätetyn kohdan korjaus vaatii korjattavan version
    (näkyy komennolla council history).
    """

    vastaanottaja: BodyName = Field(title="Vastaanottaja", description="Päättänyt kunta tai kuntayhtymä")  # type: ignore[valid-type]
    kokouspaiva: date = Field(title="Kokouspäivä", description="Päivä, jona toimielin päätti")
    kohdat: list[PointDecisionIn] = Field(
        title="Päätetyt kohdat",
        min_length=1,
        description="Yksi rivi kutakin kokouksessa päätettyä kohtaa kohden",
    )
    toimielin: str | None = Field(
        default=None, title="Toimielin", description="Tyhjä = vastaanottajan oma (esim. kunnanhallitus)"
    )
    dnro: str | None = Field(default=None, title="Diaarinumero (Dnro)")
    poytakirjaote: str | None = Field(
        default=None, title="Pöytäkirjanotteen linkki", description="http(s)-osoite"
    )
    lisatieto: str | None = Field(default=None, title="Lisätieto")
    yhdyshenkilo: LiaisonForm | None = Field(
        default=None, title=f"Järjestöyhdyshenkilö (kohta {DUTIES_POINT})"
    )
    korjattava_versio: int | None = Field(
        default=None, title="Korjattava versio", description="Vain jo päätetyn kohdan korjaukseen"
    )
    kirjaaja: str = Field(default="koordinaattori", title="Kirjaaja")

    @field_validator("kokouspaiva")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > today_helsinki():
            raise ValueError(f"kokouspäivä {value.day}.{value.month}.{value.year} on tulevaisuudessa")
        return value

    @field_validator("kohdat")
    @classmethod
    def _each_point_once(cls, value: list[PointDecisionIn]) -> list[PointDecisionIn]:
        labels = [item.kohta for item in value]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"sama kohta useammin kuin kerran: {', '.join(repeated)}")
        return value

    @field_validator("yhdyshenkilo")
    @classmethod
    def _liaison_needs_point_one(cls, value: LiaisonForm | None, info: ValidationInfo) -> LiaisonForm | None:
        points = [point_number(item.kohta) for item in info.data.get("kohdat") or []]
        if value is not None and DUTIES_POINT not in points:
            raise ValueError(
                f"järjestöyhdyshenkilö kirjataan vain kohdan {DUTIES_POINT} päätökseen: lisää kohta {DUTIES_POINT}"
            )
        return value

    def decisions(self) -> list[DecisionIn]:
        body_id = body_ids([self.vastaanottaja])[0]
        liaison = (
            LiaisonIn(
                name=self.yhdyshenkilo.nimi,
                title=self.yhdyshenkilo.nimike,
                email=self.yhdyshenkilo.sahkoposti,
                work_time=self.yhdyshenkilo.tyoaika,
            )
            if self.yhdyshenkilo
            else None
        )
        return [
            DecisionIn.for_proposal(
                DUTIES_POINT,
                body_id=body_id,
                point=point_number(item.kohta),
                outcome=item.paatos,
                meeting_date=self.kokouspaiva,
                section=item.pykala,
                deciding_body=self.toimielin or None,
                diary_number=self.dnro or None,
                minutes_url=self.poytakirjaote or None,
                note=self.lisatieto or None,
                liaison=liaison if point_number(item.kohta) == DUTIES_POINT else None,
                recorded_by=self.kirjaaja,
                expected_version=self.korjattava_versio,
            )
            for item in self.kohdat
        ]


@task(name="store-decisions")
def store_decisions(decisions: list[DecisionIn]) -> list[DecisionOut]:
    settings = get_settings()
    with Session(engine_for(settings)) as session, session.begin():
        return record_many(session=session, proposal_id=settings.proposal_id, decisions=decisions)


@task(name="follow-on-messages", retries=2, retry_delay_seconds=[5, 30])
def follow_on_messages() -> DeliveryReport:
    """Duty description when the duties point named a liaison, thank-you when the body is done (each once)."""
    settings = get_settings()
    report = after_decisions(settings, today=today_helsinki(), mailer=SmtpMailer(settings), actor=actor())
    return DeliveryReport(sent=report.sent, failed=report.failed)


@flow(
    name="record-decision",
    description="Kirjaa vastaanottajan päätökset esityksen kohdista (yksi kokous, yksi tai useampi kohta).",
)
def record_decision(kirjaus: RecordDecisionIn) -> list[dict]:
    """Validate and store the decisions of one meeting, then refresh the status artifact."""
    logger = get_run_logger()
    stored = store_decisions(kirjaus.decisions())
    for d in stored:
        logger.info(
            "Kirjattu: %s, kohta %s: %s (%s § %s), versio %s",
            d.body_id,
            d.point_number,
            d.outcome,
            d.meeting_date.isoformat() if d.meeting_date else None,
            d.section,
            d.version,
        )
    follow_on = follow_on_messages()
    for label in follow_on.sent:
        logger.info("Lähetetty: %s", label)
    for label, why in follow_on.failed.items():
        logger.warning("Lähetys epäonnistui (uusitaan seuranta-ajossa): %s: %s", label, why)
    publish_status()
    return [d.model_dump(mode="json") for d in stored]
