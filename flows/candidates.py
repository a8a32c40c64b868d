"""confirm-candidates: the coordinator confirms or rejects the decisions found in replies and
publications; a confirmed one is recorded exactly as a typed decision (council/services/intake.py)."""

from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from council.config import get_settings, using_proposal
from council.delivery.mail import SmtpMailer
from council.errors import CouncilError, InvalidInputError
from council.rules.formatting import today_helsinki
from council.services.after_decision import after_decisions
from council.services.forms import CHOICES_KEY
from council.services.intake import confirm, describe, label_number, names_liaison, reject
from council.store.engine import engine_for
from flows.common import ON_FAILURE, actor, form_title, push_choices, refuse, report_done
from flows.record_decision import LiaisonForm
from flows.status import publish_status
from models.decisions import LiaisonIn
from models.tables import Body

#: A pending candidate as the form lists it ("#12 Jokioisten kunta, kohta 1: … ”evidence”").
CandidateLabel = Annotated[
    str, Field(min_length=2, max_length=1000, json_schema_extra={CHOICES_KEY: "candidates"})
]


class CandidatesIn(BaseModel):
    """Vahvista tai hylkää päätökset, jotka löytyivät kirjaamoiden vastauksista ja toimielinten
    julkaisuista.

    Jokaisen löydöksen perässä on lause, josta se löytyi. Vahvistettu löydös kirjataan kuten käsin
    kirjattu päätös (tai esityslistamerkintä); hylätty jää kirjaamatta. Jätä luetteloon löydökset,
    joista et vielä tiedä: ne odottavat seuraavaa kertaa.
    """

    model_config = ConfigDict(title="Löydösten vahvistus")

    vahvista: list[CandidateLabel] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Vahvista",
        description="Löydökset, jotka pitävät paikkansa: ne kirjataan",
        json_schema_extra={"uniqueItems": True},
    )
    hylkaa: list[CandidateLabel] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Hylkää",
        description="Löydökset, jotka ovat väärin: niitä ei kirjata",
        json_schema_extra={"uniqueItems": True},
    )
    syy: str = Field(default="", max_length=500, title="Hylkäyksen syy", description="Näkyy tapahtumalokissa")
    yhdyshenkilo: LiaisonForm = Field(
        default_factory=LiaisonForm,
        title="Järjestöyhdyshenkilö",
        description="Täytä, kun vahvistat yhdyshenkilökohdan päätöksen (löydös kertoo pöytäkirjan nimen): "
        "yhdyshenkilön toimenkuva lähetetään näillä tiedoilla",
    )
    kirjaaja: str = Field(
        default="koordinaattori",
        min_length=1,
        max_length=300,
        title="Kirjaaja",
        description="Kuka vahvisti (näkyy tapahtumalokissa)",
    )

    def numbers(self) -> tuple[list[int], list[int]]:
        """The candidates to confirm and to reject; InvalidInputError when one is in both lists."""
        try:
            confirmed = [label_number(label) for label in self.vahvista]
            rejected = [label_number(label) for label in self.hylkaa]
        except CouncilError as exc:
            raise InvalidInputError("Virheellinen valinta", [str(exc)]) from None
        both = sorted(set(confirmed) & set(rejected))
        if both:
            raise InvalidInputError(
                "Sama löydös on sekä vahvistettavissa että hylättävissä", [", ".join(f"#{n}" for n in both)]
            )
        if not confirmed and not rejected:
            raise InvalidInputError("Mitään ei valittu", ["valitse löydöksiä kohtaan Vahvista tai Hylkää"])
        return confirmed, rejected


def _liaison_target(numbers: list[int], liaison: LiaisonIn | None) -> int | None:
    """The one confirmed candidate the form's liaison belongs to (a decision on its proposal's
    duties point); InvalidInputError when a liaison is given and not exactly one such candidate is."""
    if liaison is None:
        return None
    with Session(engine_for(get_settings())) as session:
        targets = [number for number in numbers if names_liaison(session, number)]
    if len(targets) != 1:
        raise InvalidInputError(
            "Järjestöyhdyshenkilö kuuluu yhden yhdyshenkilökohdan päätökseen",
            [
                "vahvista samalla kertaa täsmälleen yksi yhdyshenkilökohdan löydös"
                if targets
                else "yksikään vahvistettava löydös ei ole yhdyshenkilökohdan päätös; tyhjennä yhdyshenkilön tiedot"
            ],
        )
    return targets[0]


@task(name="settle-candidates")
def settle(
    confirmed: list[int],
    rejected: list[int],
    liaison: LiaisonIn | None,
    target: int | None,
    reason: str,
    by: str,
) -> tuple[list[str], list[str], set[str]]:
    """Each candidate in its own transaction: one that cannot be recorded (a decision recorded
    meanwhile, a closed proposal) is reported and the others go on. Returns the lines done, the
    lines refused, and the proposals whose decisions changed."""
    done: list[str] = []
    refused: list[str] = []
    changed: set[str] = set()
    engine = engine_for(get_settings())
    for number, confirming in [(n, True) for n in confirmed] + [(n, False) for n in rejected]:
        try:
            with Session(engine) as session, session.begin():
                if confirming:
                    settled = confirm(
                        session, number, actor=by, liaison=liaison if number == target else None
                    )
                    changed.add(settled.proposal_id)
                else:
                    settled = reject(session, number, actor=by, reason=reason or None)
                name = session.get_one(Body, settled.body_id).name
                done.append(
                    ("Vahvistettu: " if confirming else "Hylätty: ")
                    + describe(settled, name, evidence_chars=120)
                )
        except CouncilError as exc:
            refused.append(f"#{number}: {exc}")
    return done, refused, changed


@task(name="follow-on-messages", retries=2, retry_delay_seconds=[5, 30])
def follow_on(proposal_ids: set[str]) -> list[str]:
    """Duty descriptions and thank-yous of each proposal whose decisions changed, as for a typed decision."""
    lines: list[str] = []
    for proposal_id in sorted(proposal_ids):
        with using_proposal(proposal_id):
            report = after_decisions(
                get_settings(), today=today_helsinki(), mailer=SmtpMailer(get_settings()), actor=actor()
            )
        lines += [f"Lähetetty: {label}" for label in report.sent]
        lines += [f"Ei lähetetty: {label}: {why.error}" for label, why in report.failed.items()]
    return lines


@flow(
    name="confirm-candidates",
    description="Vahvistaa tai hylkää vastauksista ja julkaisuista löydetyt päätökset; vahvistettu kirjataan.",
    **ON_FAILURE,
)
def confirm_candidates(
    vahvistus: Annotated[CandidatesIn, form_title("Löydösten vahvistus")],
) -> dict | State:
    logger = get_run_logger()
    try:
        confirmed, rejected = vahvistus.numbers()
        liaison = vahvistus.yhdyshenkilo.liaison()
        target = _liaison_target(confirmed, liaison)
    except InvalidInputError as exc:
        return refuse(exc.refusal())
    by = f"{actor()} ({vahvistus.kirjaaja.strip() or 'koordinaattori'})"
    done, refused, changed = settle(confirmed, rejected, liaison, target, vahvistus.syy.strip(), by)
    lines = done + [f"Ei voitu käsitellä: {line}" for line in refused]
    if changed:
        lines += follow_on(changed)
        publish_status()
    push_choices(get_settings())
    for line in lines:
        logger.info(line)
    report_done("\n".join(["## Löydösten vahvistus", "", *[f"- {line}" for line in lines]]))
    if refused and not done:
        return refuse(InvalidInputError("Yhtäkään löydöstä ei voitu käsitellä", refused).refusal())
    return {"done": done, "refused": refused}
