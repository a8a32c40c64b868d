"""Document contexts from the content: a proposal tailored to one body (its names in the right case,
its deciding body, a draft resolution, the reminder version with only the open points) and the
liaison's duty description, as the pydantic models in :mod:`models.contexts`.
"""

from __future__ import annotations

import re
from datetime import date

from council.content.i18n import text
from council.rules.formatting import fi_date
from models.contexts import (
    BodyContext,
    DocumentMeta,
    DutyDescriptionContext,
    LiaisonContext,
    PointContext,
    ProposalContext,
    SectionContext,
)
from models.schemas import BodyIn, ProposalIn

BLANK = "_" * 30

#: The document language as core properties and PDF/A name it (BCP 47).
DOCUMENT_LANGUAGE = {"fi": "fi-FI", "sv": "sv-SE"}


def document_meta(
    lang: str,
    doc_type_key: str,
    *,
    on: date,
    diary_number: str | None = None,
    reference: str | None = None,
    reply_by: date | None = None,
    contact: str | None = None,
) -> DocumentMeta:
    """The header fields a registry registers a document by (SFS 2487)."""
    return DocumentMeta(
        doc_type=text(lang, doc_type_key),
        date=fi_date(on),
        diary_number=diary_number or None,
        reference=reference or None,
        reply_by=fi_date(reply_by) if reply_by else None,
        contact=contact or None,
        language=DOCUMENT_LANGUAGE.get(lang, "fi-FI"),
    )


def body_context(body: BodyIn) -> BodyContext:
    return BodyContext(
        id=body.id,
        name=body.name,
        name_genitive=body.name_genitive,
        name_inessive=body.name_inessive,
        kind=body.kind.value,
        deciding_body=body.deciding_body,
        registry_email=str(body.registry_email),
    )


def proposal_context(
    proposal: ProposalIn,
    body: BodyIn,
    *,
    on: date,
    open_points: list[int] | None = None,
    decided_notes: dict[int, str] | None = None,
    diary_number: str | None = None,
    reference: str | None = None,
    reply_by: date | None = None,
) -> ProposalContext:
    """The proposal tailored to ``body``; with ``open_points`` it is the reminder version.

    The header carries the proposal's Dnro (``diary_number`` overrides it), the body's own case
    number as "Viite" (``reference``) and the reply-by date when given.
    """
    shown = [p for p in proposal.points if open_points is None or p.number in open_points]
    decided_notes = decided_notes or {}
    decided = [
        f"{p.number}. {p.short_title}: {decided_notes[p.number]}"
        for p in proposal.points
        if p.number in decided_notes
    ]
    is_reminder = open_points is not None
    lang = body.language.value
    return ProposalContext(
        meta=document_meta(
            lang,
            "proposal_type",
            on=on,
            diary_number=diary_number or proposal.diary_number,
            reference=reference,
            reply_by=reply_by,
            contact=proposal.preparer,
        ),
        sender=proposal.sender,
        sender_unit=proposal.sender_unit,
        title=proposal.title,
        recipients_text=proposal.recipients_text,
        preparer=proposal.preparer,
        body=body_context(body),
        is_reminder=is_reminder,
        reminder_note=(text(lang, "reminder_note") if is_reminder else ""),
        sections=[SectionContext(**s.model_dump()) for s in proposal.sections],
        proposal_lead=proposal.proposal_lead,
        points=[
            PointContext(number=p.number, title=p.title, lead=p.lead, examples=list(p.examples))
            for p in shown
        ],
        decided_points=decided,
        resolution_intro=text(
            lang, "resolution_intro", deciding_body=body.deciding_body, name_inessive=body.name_inessive
        ),
        resolution_items=[
            with_placeholders_filled(p.resolution, body) + (";" if i < len(shown) - 1 else ".")
            for i, p in enumerate(shown)
        ],
        resolution_outro=text(lang, "resolution_outro", sender_allative=proposal.sender_allative),
        references=list(proposal.references),
        has_duty_description=proposal.duty_description is not None,
    )


def duty_description_context(
    proposal: ProposalIn,
    body: BodyIn,
    *,
    on: date,
    liaison: LiaisonContext | None = None,
    appointed_by: str | None = None,
    diary_number: str | None = None,
    reference: str | None = None,
    reply_by: date | None = None,
) -> DutyDescriptionContext:
    """The liaison's duty description for ``body``: blank lines until a liaison is named.

    Header fields as in :func:`proposal_context`. Only for a proposal that has a duty description.
    """
    content = proposal.duty_description
    if content is None:
        raise ValueError(f"esityksessä {proposal.id} ei ole järjestöyhdyshenkilön toimenkuvaa")
    lang = body.language.value
    point = proposal.point(content.duties_point)
    return DutyDescriptionContext(
        meta=document_meta(
            lang,
            "duty_type",
            on=on,
            diary_number=diary_number or proposal.diary_number,
            reference=reference,
            reply_by=reply_by,
            contact=proposal.preparer,
        ),
        sender=proposal.sender,
        sender_unit=proposal.sender_unit,
        title=text(
            lang,
            "duty_title",
            name=body.name,
            name_genitive=body.name_genitive,
            title=content.title,
            title_lower=content.title[0].lower() + content.title[1:],
        ),
        body=body_context(body),
        purpose=list(content.purpose),
        liaison=liaison,
        appointed_by=appointed_by,
        blank=BLANK,
        duties_lead=text(lang, "duties_lead"),
        duties=list(point.examples),
        forums=list(content.forums),
        reporting=list(content.reporting),
    )


def body_recipients(body: BodyIn) -> list[str]:
    """A body's registry office first, then its contact people."""
    return [str(body.registry_email), *[str(c) for c in body.contacts]]


def with_placeholders_filled(text: str, body: BodyIn) -> str:
    """A draft resolution for one body: the authoring template's placeholders ([vastaanottaja],
    [vastaanottajan], [vastaanottajassa], [päättävä toimielin]; any case) in its own case forms."""
    values = {
        "[päättävä toimielin]": body.deciding_body,
        "[vastaanottajassa]": body.name_inessive,
        "[vastaanottajan]": body.name_genitive,
        "[vastaanottaja]": body.name,
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(0).lower(), m.group(0)), text)


_PLACEHOLDER = re.compile(r"\[(?:päättävä toimielin|vastaanottajassa|vastaanottajan|vastaanottaja)\]", re.I)
