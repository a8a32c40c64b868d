"""Context models of the DOCX templates: the only variables a template may use.

``tests/test_templates.py`` renders every template for every body of the roster and compares the
variables each template uses with the fields declared here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Ctx(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentMeta(_Ctx):
    doc_type: str  # ESITYS, TOIMENKUVA, TILANNEKATSAUS
    date: str  # formatted 15.2.2021
    diary_number: str | None = None


class BodyContext(_Ctx):
    id: str
    name: str
    name_genitive: str
    name_inessive: str
    kind: str
    deciding_body: str
    registry_email: str


class SectionContext(_Ctx):
    heading: str
    level: int
    paragraphs: list[str]


class PointContext(_Ctx):
    number: int
    title: str
    lead: str | None
    examples: list[str]


class ProposalContext(_Ctx):
    """templates/esitys.docx — the proposal tailored to one body."""

    meta: DocumentMeta
    sender: str
    sender_unit: str
    title: str
    recipients_text: str
    preparer: str
    body: BodyContext
    is_reminder: bool
    reminder_note: str
    sections: list[SectionContext]
    proposal_lead: str
    points: list[PointContext]
    decided_points: list[str]
    resolution_intro: str
    resolution_items: list[str]
    resolution_outro: str
    references: list[str]


class LiaisonContext(_Ctx):
    name: str
    title: str
    email: str
    work_time: str


class DutyDescriptionContext(_Ctx):
    """templates/toimenkuva.docx — the liaison's duty description, blank or filled."""

    meta: DocumentMeta
    sender: str
    sender_unit: str
    title: str
    body: BodyContext
    purpose: list[str]
    liaison: LiaisonContext | None
    appointed_by: str | None
    blank: str
    duties_lead: str
    duties: list[str]
    forums: list[str]
    reporting: list[str]
