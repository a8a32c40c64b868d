"""record-decision: the coordinator records one body's decisions from one meeting through a form."""

from __future__ import annotations

from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from council.config import get_settings
from council.delivery.mail import SmtpMailer
from council.errors import INPUT_ERRORS, InvalidInputError, field_problems
from council.rendering.run_reports import decision_line, recorded_summary
from council.rules.formatting import today_helsinki
from council.services.after_decision import after_decisions
from council.store.decisions import record_many
from council.store.engine import engine_for
from council.store.proposals import proposal_content
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
from models.decisions import DecisionIn, DecisionOut, LiaisonIn, no_liaison_message
from models.enums import Outcome
from models.fields import FI_DATE_PATTERN, parse_fi_date
from models.results import DeliveryReport, Refusal

#: The outcomes as a plain dropdown (an Enum would add a definition titled with its class name).
OutcomeLabel = Literal[tuple(o.value for o in Outcome)]  # type: ignore[valid-type]


class PointDecisionIn(BaseModel):
    model_config = ConfigDict(title="Päätetty kohta")

    kohta: PointLabel = Field(title="Kohta", description="Esityksen kohta, josta päätettiin")  # type: ignore[valid-type]
    paatos: OutcomeLabel = Field(title="Päätös", description="Pöytäkirjan mukainen päätös")  # type: ignore[valid-type]
    pykala: int = Field(
        title="Pykälä (§)", ge=1, le=100000, description="Pöytäkirjan pykälän numero, esim. 59"
    )


class LiaisonForm(BaseModel):
    """Täytä kaikki neljä, kun kohdan päätöksessä nimettiin järjestöyhdyshenkilö; muuten jätä tyhjiksi."""

    model_config = ConfigDict(title="Järjestöyhdyshenkilö")

    nimi: str = Field(default="", max_length=300, title="Nimi", description="Etu- ja sukunimi")
    nimike: str = Field(
        default="", max_length=300, title="Tehtävänimike", description="Esim. hyvinvointikoordinaattori"
    )
    sahkoposti: str = Field(
        default="", max_length=254, title="Sähköposti", description="Pelkkä osoite, esim. maija@kunta.fi"
    )
    tyoaika: str = Field(
        default="", max_length=100, title="Työaika", description="Esim. 8 h/kk tai 10 % työajasta"
    )

    def _values(self) -> dict[str, str]:
        return {"name": self.nimi, "title": self.nimike, "email": self.sahkoposti, "work_time": self.tyoaika}

    def filled(self) -> bool:
        """True when any of the four fields has text."""
        return any(v.strip() for v in self._values().values())

    def liaison(self) -> LiaisonIn | None:
        """The liaison when any field is filled (all four are then required), None when all are empty."""
        values = self._values()
        if not self.filled():
            return None
        try:
            return LiaisonIn.model_validate(values)
        except ValidationError as exc:
            raise InvalidInputError(
                "Järjestöyhdyshenkilön tiedot ovat puutteelliset",
                [f"Järjestöyhdyshenkilö, {p}" for p in field_problems(exc, LiaisonIn)],
            ) from None


class RecordDecisionIn(ProposalForm):
    """Kirjaa yhden vastaanottajan yhden kokouksen päätökset.

    Valitse vastaanottaja, kirjoita kokouspäivä (15.3.2021) ja lisää jokaisesta päätetystä kohdasta
    rivi. Jätä tyhjäksi kentät, joita pöytäkirjanote ei kerro.
    """

    model_config = ConfigDict(title="Päätösten kirjaus")

    esitys: ProposalTitle = ""  # type: ignore[valid-type]
    vastaanottaja: BodyName = Field(title="Vastaanottaja", description="Päättänyt kunta tai kuntayhtymä")  # type: ignore[valid-type]
    kokouspaiva: str = Field(
        title="Kokouspäivä",
        pattern=FI_DATE_PATTERN,
        description="Päivä, jona toimielin päätti, muodossa 15.3.2021",
    )
    kohdat: list[PointDecisionIn] = Field(
        title="Päätetyt kohdat",
        min_length=1,
        description="Yksi rivi kustakin kokouksessa päätetystä kohdasta",
    )
    toimielin: str = Field(
        default="",
        max_length=300,
        title="Toimielin",
        description="Tyhjä = vastaanottajan oma, esim. kunnanhallitus",
    )
    dnro: str = Field(
        default="", max_length=60, title="Diaarinumero (Dnro)", description="Vastaanottajan asianumero"
    )
    poytakirjaote: str = Field(
        default="",
        max_length=2000,
        pattern=r"^\s*(https?://\S+)?\s*$",
        title="Pöytäkirjanotteen linkki",
        description="Osoite, joka alkaa http:// tai https://",
    )
    lisatieto: str = Field(default="", max_length=5000, title="Lisätieto", description="Vapaa huomautus")
    yhdyshenkilo: LiaisonForm = Field(
        default_factory=LiaisonForm,
        title="Järjestöyhdyshenkilö",
        description="Täytä vain, kun päätöksessä nimettiin yhdyshenkilö (esityksen yhdyshenkilökohta, "
        "yleensä kohta 1); jätä tyhjäksi, jos esityksessä ei ole järjestöyhdyshenkilön toimenkuvaa",
    )
    korjattava_versio: int = Field(
        default=0,
        ge=0,
        title="Korjattava versio",
        description="0 = uusi kirjaus; jo päätetyn kohdan korjaukseen sen versio tilannesivulta",
    )
    kirjaaja: str = Field(
        default="koordinaattori",
        min_length=1,
        max_length=300,
        title="Kirjaaja",
        description="Kuka kirjasi (näkyy tapahtumalokissa)",
    )

    def decisions(self) -> list[DecisionIn]:
        """The form as validated decisions; InvalidInputError names each problem by its Finnish title."""
        labels = [item.kohta for item in self.kohdat]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise InvalidInputError("Sama kohta on lomakkeella kahdesti", [", ".join(repeated)])
        # The proposal as it is now; None when it has no duty description (no point names a liaison).
        duties = proposal_content(get_settings()).duties_point
        if duties is None and self.yhdyshenkilo.filled():
            raise InvalidInputError("Virheellinen kirjaus", [f"Järjestöyhdyshenkilö: {no_liaison_message()}"])
        liaison = self.yhdyshenkilo.liaison()
        points = [point_number(label) for label in labels]
        if liaison is not None and duties not in points:
            raise InvalidInputError(
                "Järjestöyhdyshenkilö kirjataan vain kohdan päätökseen",
                [f"lisää rivi kohdalle {duties} tai tyhjennä yhdyshenkilön tiedot"],
            )
        try:
            meeting = parse_fi_date(self.kokouspaiva)
        except ValueError as exc:
            raise InvalidInputError("Virheellinen kirjaus", [f"Kokouspäivä: {exc}"]) from None
        body_id = body_ids([self.vastaanottaja])[0]
        decisions = []
        for item, point in zip(self.kohdat, points, strict=True):
            try:
                decisions.append(
                    DecisionIn.for_proposal(
                        duties,
                        body_id=body_id,
                        point=point,
                        outcome=Outcome(item.paatos),
                        meeting_date=meeting,
                        section=item.pykala,
                        deciding_body=self.toimielin.strip() or None,
                        diary_number=self.dnro.strip() or None,
                        minutes_url=self.poytakirjaote.strip() or None,
                        note=self.lisatieto.strip() or None,
                        liaison=liaison if point == duties else None,
                        recorded_by=self.kirjaaja,
                        expected_version=self.korjattava_versio or None,
                    )
                )
            except ValidationError as exc:
                raise InvalidInputError("Virheellinen kirjaus", field_problems(exc, DecisionIn)) from None
        return decisions


@task(name="store-decisions")
def store_decisions(decisions: list[DecisionIn]) -> list[DecisionOut] | Refusal:
    """Store all of them, or none: a conflict or a rule the store checks is returned as a Refusal
    (the transaction is rolled back), so the run can end with it without a traceback."""
    settings = get_settings()
    try:
        with Session(engine_for(settings)) as session, session.begin():
            return record_many(session=session, proposal_id=settings.proposal_id, decisions=decisions)
    except INPUT_ERRORS as exc:
        return exc.refusal()


@task(name="follow-on-messages", retries=2, retry_delay_seconds=[5, 30])
def follow_on_messages() -> DeliveryReport:
    """Duty description when the duties point named a liaison, thank-you when the body is done (each once)."""
    settings = get_settings()
    report = after_decisions(settings, today=today_helsinki(), mailer=SmtpMailer(settings), actor=actor())
    return DeliveryReport(sent=report.sent, failed=report.failed)


@flow(
    name="record-decision",
    description="Kirjaa vastaanottajan päätökset esityksen kohdista (yksi kokous, yksi tai useampi kohta).",
    **ON_FAILURE,
)
@for_chosen_proposal
def record_decision(
    kirjaus: Annotated[RecordDecisionIn, form_title("Päätösten kirjaus")],
) -> list[dict] | State:
    """Validate and store the decisions of one meeting, then refresh the status artifact."""
    logger = get_run_logger()
    try:
        decisions = kirjaus.decisions()
    except INPUT_ERRORS as exc:
        return refuse(exc.refusal())
    stored = store_decisions(decisions)
    if isinstance(stored, Refusal):
        return refuse(stored)
    for d in stored:
        logger.info("Kirjattu: %s", decision_line(d, kirjaus.vastaanottaja))
    follow_on = follow_on_messages()
    for label in follow_on.sent:
        logger.info("Lähetetty: %s", label)
    for label, why in follow_on.failed.items():
        logger.warning("Lähetys epäonnistui (uusitaan seuranta-ajossa): %s: %s", label, why)
    publish_status()
    report_done(
        recorded_summary(
            kirjaus.vastaanottaja,
            stored,
            sent=follow_on.sent,
            failed=list(follow_on.failed),
            settings=get_settings(),
        )
    )
    return [d.model_dump(mode="json") for d in stored]
