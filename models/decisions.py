"""Schemas of recording decisions: what a decision records and the rules it must satisfy.

Used by the CLI, the `record-decision` deployment's form, and the bulk import (one row each).
"""

from __future__ import annotations

from datetime import date

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, HttpUrl, ValidationInfo, field_validator

from models.clock import today_helsinki
from models.enums import Outcome
from models.fields import Email, Line, Text, WorkTime


def duties_point_of(info: ValidationInfo) -> int | None:
    """The proposal's duties point from the validation context (1 when none was given; None when the
    proposal has no duty description, so no point names a liaison)."""
    context = info.context if isinstance(info.context, dict) else {}
    duties = context.get("duties_point", 1)
    return None if duties is None else int(duties)


def no_liaison_message(point: int | None = None) -> str:
    """Why a liaison is refused on a proposal without a duty description (the CLI, the form, the store)."""
    where = f" (kohta {point})" if point is not None else ""
    return (
        "esityksessä ei ole järjestöyhdyshenkilön toimenkuvaa, joten järjestöyhdyshenkilöä ei kirjata"
        f"{where}; jätä yhdyshenkilön tiedot tyhjiksi"
    )


class LiaisonIn(BaseModel):
    """Järjestöyhdyshenkilö (the proposal's duties point, point 1 in the seed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line = Field(title="Nimi")
    title: Line = Field(title="Tehtävänimike", description="esim. hyvinvointikoordinaattori")
    email: Email = Field(title="Sähköposti")
    work_time: WorkTime = Field(title="Työaika", description="esim. 8 h/kk tai 10 % työajasta")


class DecisionIn(BaseModel):
    """One body's decision on one point, as recorded by the coordinator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    body_id: str = Field(title="Vastaanottaja")
    point: int = Field(ge=1, title="Kohta")
    outcome: Outcome = Field(title="Päätös")
    meeting_date: date = Field(title="Kokouspäivä")
    section: int = Field(ge=1, le=100000, title="Pykälä (§)")
    deciding_body: Line | None = Field(default=None, title="Toimielin")
    diary_number: Line | None = Field(default=None, max_length=60, title="Diaarinumero (Dnro)")
    minutes_url: HttpUrl | None = Field(default=None, title="Pöytäkirjanotteen linkki")
    note: Text | None = Field(default=None, title="Lisätieto")
    liaison: LiaisonIn | None = Field(default=None, title="Järjestöyhdyshenkilö")
    recorded_by: Line = Field(default="koordinaattori", title="Kirjaaja")
    expected_version: int | None = Field(default=None, ge=1, title="Korjattava versio")

    @field_validator("meeting_date")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > today_helsinki():
            raise ValueError(
                f"{value.day}.{value.month}.{value.year} on tulevaisuudessa; kirjaa päätös vasta kokouksen jälkeen"
            )
        if value.year < 2000:
            raise ValueError(f"{value.day}.{value.month}.{value.year} on ennen vuotta 2000")
        return value

    @field_validator("minutes_url")
    @classmethod
    def _http_only(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme not in ("http", "https"):
            raise ValueError("linkin on oltava http(s)-osoite")
        return value

    @field_validator("liaison")
    @classmethod
    def _liaison_only_on_duties_point(cls, value: LiaisonIn | None, info: ValidationInfo) -> LiaisonIn | None:
        # A field validator (not a model validator) so the error names the field `liaison`; `point`
        # is declared earlier and is in info.data when it was valid. The proposal's duties point comes
        # in the validation context (``DecisionIn.for_proposal``); without one it is point 1.
        point = info.data.get("point")
        duties = duties_point_of(info)
        if value is not None and duties is None:
            raise ValueError(no_liaison_message(point))
        if value is not None and point is not None and point != duties:
            raise ValueError(f"järjestöyhdyshenkilö kirjataan vain kohtaan {duties}, ei kohtaan {point}")
        return value

    @classmethod
    def for_proposal(cls, duties_point: int | None, /, **values: object) -> DecisionIn:
        """Validate ``values`` for a proposal whose liaison is named in point ``duties_point`` (None:
        the proposal has no duty description, and a liaison is refused on every point)."""
        return cls.model_validate(values, context={"duties_point": duties_point})


class StoredDecision(BaseModel):
    """A stored cell's free text, checked against today's field rules before it goes into a document
    or an email: an older version or a hand edit may have stored what is refused today."""

    model_config = ConfigDict(from_attributes=True)

    deciding_body: Line | None = Field(default=None, title="toimielin")
    diary_number: Line | None = Field(default=None, title="diaarinumero")
    liaison: LiaisonIn | None = Field(default=None, title="järjestöyhdyshenkilö")


class DecisionOut(BaseModel):
    """A stored cell as shown to users."""

    model_config = ConfigDict(from_attributes=True)

    proposal_id: str
    body_id: str
    point_number: int
    status: str
    outcome: str | None
    deciding_body: str | None
    meeting_date: date | None
    section: int | None
    diary_number: str | None
    minutes_url: str | None
    note: str | None
    liaison: dict | None
    recorded_by: str | None
    #: How many times the decision has been recorded (1 after the first); a correction names it.
    version: int = Field(validation_alias=AliasChoices("revision", "version"))
