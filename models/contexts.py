"""Context models of the DOCX templates: the only variables a template may use.

``tests/test_templates.py`` renders every template for every body of the roster and compares the
variables each template uses with the fields declared here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Ctx(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentMeta(_Ctx):
    """The registry's header fields (SFS 2487): what a registry office registers a document by."""

    doc_type: str  # ESITYS, TOIMENKUVA, TILANNEKATSAUS
    date: str  # formatted 15.2.2021
    diary_number: str | None = None  # the committee's own Dnro of the proposal
    reference: str | None = None  # "Viite": the body's own case number, once known
    reply_by: str | None = None  # the response deadline, formatted 15.5.2021
    contact: str | None = None  # the contact person (the proposal's preparer)
    language: str = "fi-FI"  # the document language (core properties), fi-FI or sv-SE


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
    has_duty_description: bool  # False: no duty description is attached (no "Liite" line)


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
    has_duty_description: bool  # False: the proposal names no liaison (no liaisons part)
    overdue: list[str]
    reminders: list[str]


class MailPoint(BaseModel):
    number: int
    short_title: str


class ProposalMailContext(BaseModel):
    """Variables of templates/email/esitys_subject.txt, esitys.txt and esitys.html."""

    body: BodyContext
    diary_number: str | None
    reference: str | None
    sender: str
    preparer: str
    title: str
    short_title: str
    points: list[MailPoint]
    reply_by: str
    duties_point: int | None  # None: the proposal has no duty description (none is attached)
    attachment_names: list[str]


class MailPointNote(BaseModel):
    number: int
    short_title: str
    note: str | None


class ReminderMailContext(BaseModel):
    """Variables of templates/email/muistutus_subject.txt, muistutus.txt and muistutus.html."""

    body: BodyContext
    diary_number: str | None
    reference: str | None
    sender: str
    preparer: str
    title: str
    short_title: str
    round: int
    sent_on: str
    deadline: str
    open_points: list[MailPointNote]
    decided_points: list[str]
    attachment_names: list[str]


class CombinedReminderMailContext(BaseModel):
    """Variables of templates/email/muistutus_koottu_subject.txt, muistutus_koottu.txt and .html:
    one email to a body due reminders of several proposals on the same day, each proposal's own
    reminder as one section (the oldest proposal first)."""

    body: BodyContext
    sender: str
    preparers: list[str]
    sections: list[ReminderMailContext]
    attachment_names: list[str]


class DutyMailContext(BaseModel):
    """Variables of templates/email/toimenkuva_subject.txt, toimenkuva.txt and toimenkuva.html."""

    body: BodyContext
    diary_number: str | None
    reference: str | None
    sender: str
    preparer: str
    short_title: str
    duties_point: int
    liaison: LiaisonContext
    appointed_by: str
    attachment_names: list[str]


class ConfirmationMailContext(BaseModel):
    """Variables of templates/email/kiitos_subject.txt, kiitos.txt and kiitos.html."""

    body: BodyContext
    diary_number: str | None
    reference: str | None
    sender: str
    preparer: str
    title: str
    short_title: str
    decisions: list[str]
    liaison: str | None
    attachment_names: list[str]


class DigestMailContext(BaseModel):
    """Variables of templates/email/viikkokooste_subject.txt, viikkokooste.txt and viikkokooste.html."""

    sender: str
    short_title: str
    diary_number: str | None = None
    week: str
    since: str
    until: str
    changes: list[str]
    summary: str
    attachment_names: list[str]
    #: Sources of decisions that have not answered for days, and the candidates waiting (issue 16).
    sources: list[str] = []


class CombinedDigestMailContext(BaseModel):
    """Variables of templates/email/viikkokooste_koottu_subject.txt, viikkokooste_koottu.txt and
    .html: the week's digest of several proposals in one email, one section per proposal."""

    sender: str
    week: str
    since: str
    until: str
    sections: list[DigestMailContext]
    attachment_names: list[str]
    sources: list[str] = []


class FailedRunMailContext(BaseModel):
    """Variables of templates/email/ajo_epaonnistui_subject.txt, ajo_epaonnistui.txt and .html."""

    sender: str
    short_title: str
    deployment: str
    run_name: str
    failed_at: str
    error: str
    what_to_do: str
    run_url: str
