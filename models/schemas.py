"""Pydantic schemas: content files going in (``*In``) and document contexts going out.

Content files are data, validated on load; a document template may use only the variables its
context model declares (checked by ``tests/test_templates.py``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)

from models.enums import BodyKind, Language, PublicationSystem
from models.fields import Email, Line, Text

_SLUG = r"^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$"


class LocatedValueError(ValueError):
    """A model-level check's error that knows where it is: ``loc`` relative to the model, e.g.
    ``("bodies", 3, "id")``. The content loader adds it to the error's location, so the message names
    the field and the line of the offending value rather than the whole file."""

    def __init__(self, message: str, loc: tuple[str | int, ...], value: object = None):
        super().__init__(message)
        self.loc = loc
        self.value = value


Slug = Annotated[str, StringConstraints(pattern=_SLUG)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SectionIn(_In):
    heading: Line
    level: int = Field(default=1, ge=1, le=2)
    paragraphs: list[Text] = Field(min_length=1)


class PointIn(_In):
    number: int = Field(ge=1, le=50)
    title: Text
    short_title: Line
    resolution: Text = Field(description="Completes '<päättävä elin> päättää, että <kunnassa>'")
    lead: Text | None = None
    examples: list[Text] = Field(default_factory=list)


class DutyDescriptionIn(_In):
    """Content of the liaison's duty description (järjestöyhdyshenkilön toimenkuva)."""

    title: Line
    purpose: list[Text] = Field(min_length=1)
    duties_point: int = Field(default=1, ge=1, description="The point whose examples are the duties")
    forums: list[Text] = Field(default_factory=list)
    reporting: list[Text] = Field(min_length=1)


class ReminderPolicyIn(_In):
    """When and how often a body is reminded (per proposal; a roster body may override fields)."""

    first_after_days: int = Field(default=21, ge=1, le=365, description="First reminder N days after sending")
    interval_days: int = Field(default=14, ge=1, le=365, description="Days between reminders")
    max_reminders: int = Field(default=4, ge=0, le=50)
    escalate_after: int = Field(
        default=2, ge=1, le=50, description="From the K-th reminder on, copy the escalation address"
    )
    escalation_email: Email | None = Field(default=None, description="e.g. the committee chair")
    deadline_days: int = Field(default=90, ge=1, le=730, description="Response deadline, days after sending")
    skip_weekends: bool = True
    skip_holidays: bool = Field(default=True, description="Finnish public holidays (holidays package)")
    skip_july: bool = Field(default=True, description="Boards do not meet in July")

    def merged(self, override: ReminderPolicyOverrideIn | None) -> ReminderPolicyIn:
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_unset=True))


class ReminderPolicyOverrideIn(_In):
    """Per-body changes to the proposal's reminder policy (only the fields given)."""

    first_after_days: int | None = Field(default=None, ge=1, le=365)
    interval_days: int | None = Field(default=None, ge=1, le=365)
    max_reminders: int | None = Field(default=None, ge=0, le=50)
    escalate_after: int | None = Field(default=None, ge=1, le=50)
    escalation_email: Email | None = None
    deadline_days: int | None = Field(default=None, ge=1, le=730)
    skip_weekends: bool | None = None
    skip_holidays: bool | None = None
    skip_july: bool | None = None


class ProposalIn(_In):
    """A proposal content file (data/proposals/<id>.yaml)."""

    id: Slug
    title: Text
    short_title: Line
    sender: Line
    sender_allative: Line = Field(description="Allatiivi, esim. 'Forssan seudun hyvinvointivaliokunnalle'")
    sender_unit: Line = Field(
        description="The organisation the sender works in, in the document header "
        "(e.g. 'Forssan seudun hyvinvointikuntayhtymä')"
    )
    recipients_text: Line
    preparer: Line
    diary_number: Annotated[Line, StringConstraints(max_length=60)] | None = Field(
        default=None, description="The committee's own diary number (Dnro), e.g. 'FSHYV/123/00.04.01/2026'"
    )
    sections: list[SectionIn] = Field(min_length=1)
    proposal_lead: Text
    points: list[PointIn] = Field(min_length=1)
    references: list[Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]] = Field(
        default_factory=list
    )
    source_note: Line | None = None
    duty_description: DutyDescriptionIn | None = Field(
        default=None, description="None when no point names an NGO liaison (no duty description is sent)"
    )
    reminder_policy: ReminderPolicyIn = Field(default_factory=ReminderPolicyIn)
    committee_emails: list[Email] = Field(default_factory=list, description="Weekly digest recipients")

    @model_validator(mode="after")
    def _points_numbered(self) -> ProposalIn:
        count = len(self.points)
        for index, point in enumerate(self.points):
            if point.number != index + 1:
                raise LocatedValueError(
                    f"kohtien numeroiden on oltava 1..{count} järjestyksessä; "
                    f"{index + 1}. kohdan numero on {point.number}",
                    ("points", index, "number"),
                    str(point.number),
                )
        if self.duty_description is None:
            return self
        if self.duty_description.duties_point > count:
            raise LocatedValueError(
                f"esityksessä on vain {count} kohtaa",
                ("duty_description", "duties_point"),
                str(self.duty_description.duties_point),
            )
        duties = self.duty_description.duties_point
        if not self.points[duties - 1].examples:
            # The duty description lists its duties from this point's examples: without any, its
            # "Tehtävät" heading would stand over an empty list in every body's document.
            raise LocatedValueError(
                f"toimenkuvan tehtävät otetaan kohdan {duties} esimerkeistä: lisää kohtaan {duties} "
                "vähintään yksi esimerkki (luettelo kohdan alle) tai valitse toinen kohta",
                ("duty_description", "duties_point"),
                str(duties),
            )
        return self

    def point(self, number: int) -> PointIn:
        return self.points[number - 1]

    @property
    def duties_point(self) -> int | None:
        """The point whose decision names the NGO liaison; None when the proposal has no duty description."""
        return self.duty_description.duties_point if self.duty_description is not None else None


class PublicationIn(_In):
    """A body's meeting publication: the system and the address of its feed or list of meetings."""

    system: PublicationSystem = Field(description="dynasty, tweb tai pdf-lista")
    address: HttpUrl = Field(description="Syötteen tai kokousluettelon http(s)-osoite")


class BodyIn(_In):
    """One recipient body in a roster file, with the Finnish case forms documents need."""

    id: Slug
    name: Line = Field(description="Nominatiivi, esim. 'Jokioisten kunta'")
    name_genitive: Line = Field(description="Genetiivi, esim. 'Jokioisten kunnan'")
    name_inessive: Line = Field(description="Inessiivi, esim. 'Jokioisten kunnassa'")
    kind: BodyKind
    deciding_body: Line = Field(description="Päättävä elin, esim. 'Jokioisten kunnanhallitus'")
    registry_email: Email
    language: Language = Language.fi
    contacts: list[Email] = Field(default_factory=list)
    reminder_policy: ReminderPolicyOverrideIn | None = None
    publication: PublicationIn | None = Field(
        default=None, description="Missä toimielin julkaisee esityslistansa ja pöytäkirjansa"
    )


class RosterIn(_In):
    """A roster file (data/rosters/<name>.yaml): the bodies a proposal is sent to."""

    name: Line
    bodies: list[BodyIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RosterIn:
        seen: dict[str, int] = {}
        for index, body in enumerate(self.bodies):
            if body.id in seen:
                raise LocatedValueError(
                    f"tunniste {body.id!r} esiintyy useammin kuin kerran (myös bodies[{seen[body.id] + 1}])",
                    ("bodies", index, "id"),
                    body.id,
                )
            seen[body.id] = index
        return self
