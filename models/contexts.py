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


class ReportPoint(_Ctx):
    label: str
    decided: int
    total: int
    percent: int


class ReportRow(_Ctx):
    body: str
    point: str
    status: str
    decision: str


class ReportLiaison(_Ctx):
    body: str
    person: str
    work_time: str


class StatusReportContext(_Ctx):
    """templates/tilannekatsaus.docx — the committee's status report."""

    meta: DocumentMeta
    sender: str
    sender_unit: str
    recipient: str
    title: str
    summary: str
    points: list[ReportPoint]
    rows: list[ReportRow]
    liaisons: list[ReportLiaison]
    overdue: list[str]
    reminders: list[str]
