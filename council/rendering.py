"""Document rendering: DOCX templates (docxtpl) and email bodies (Jinja), both sandboxed.

Every template renders in a ``SandboxedEnvironment`` with ``StrictUndefined`` (a missing variable is
an error naming the template and the variable) and autoescape (a name with ``&``, ``<`` or
``{{ 7*7 }}`` appears literally and cannot break the document XML).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, UndefinedError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from council import PROJECT_ROOT
from council.errors import TemplateRenderError
from council.filters import FILTERS, fi_date
from council.i18n import localized, text
from council.mail import RenderedMail
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

TEMPLATES_DIR = PROJECT_ROOT / "templates"
PROPOSAL_TEMPLATE = "esitys.docx"
DUTY_TEMPLATE = "toimenkuva.docx"
BLANK = "_" * 30
SENDER_UNIT = "Forssan seudun hyvinvointikuntayhtymä"


def docx_environment() -> SandboxedEnvironment:
    """The Jinja environment every DOCX template renders in."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    env.filters.update(FILTERS)
    return env


def text_environment() -> SandboxedEnvironment:
    """Email templates: autoescape for .html, plain for .txt, undefined is an error."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR / "email"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


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
) -> ProposalContext:
    """The proposal tailored to ``body``; with ``open_points`` it is the reminder version."""
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
        meta=DocumentMeta(doc_type=text(lang, "proposal_type"), date=fi_date(on), diary_number=diary_number),
        sender=proposal.sender,
        sender_unit=SENDER_UNIT,
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
        resolution_items=[p.resolution + (";" if i < len(shown) - 1 else ".") for i, p in enumerate(shown)],
        resolution_outro=text(lang, "resolution_outro", sender_allative=proposal.sender_allative),
        references=list(proposal.references),
    )


def duty_description_context(
    proposal: ProposalIn,
    body: BodyIn,
    *,
    on: date,
    liaison: LiaisonContext | None = None,
    appointed_by: str | None = None,
    diary_number: str | None = None,
) -> DutyDescriptionContext:
    """The liaison's duty description for ``body``: blank lines until a liaison is named."""
    content = proposal.duty_description
    lang = body.language.value
    point = proposal.point(content.duties_point)
    return DutyDescriptionContext(
        meta=DocumentMeta(doc_type=text(lang, "duty_type"), date=fi_date(on), diary_number=diary_number),
        sender=proposal.sender,
        sender_unit=SENDER_UNIT,
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


def render_docx(template_name: str, context: BaseModel, target: Path, lang: str = "fi") -> Path:
    """Render ``templates/<template_name>`` (its ``lang`` version) with ``context`` into ``target`` atomically.

    Each template is compiled once per process (:mod:`council.docx_fast`) and recompiled when the
    file changes on disk.
    """
    from council.docx_fast import compiled

    template_name = localized(template_name, lang)
    try:
        compiled(TEMPLATES_DIR / template_name).render_to(context.model_dump(), target)
    except UndefinedError as exc:
        raise TemplateRenderError(template_name, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(template_name, str(exc)) from exc
    return target


_TEXT_ENV: SandboxedEnvironment | None = None


def _text_env() -> SandboxedEnvironment:
    """One email environment per process, so Jinja's template cache compiles each template once."""
    global _TEXT_ENV
    if _TEXT_ENV is None:
        _TEXT_ENV = text_environment()
    return _TEXT_ENV


def render_text(template_name: str, context: dict, lang: str = "fi") -> str:
    """Render an email template from templates/email/ (its ``lang`` version)."""
    template_name = localized(template_name, lang)
    try:
        return _text_env().get_template(template_name).render(**context)
    except UndefinedError as exc:
        raise TemplateRenderError(template_name, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(template_name, str(exc)) from exc


def body_recipients(body: BodyIn) -> list[str]:
    """A body's registry office first, then its contact people."""
    return [str(body.registry_email), *[str(c) for c in body.contacts]]


def render_mail(
    name: str,
    context: BaseModel,
    *,
    lang: str = "fi",
    body_id: str | None,
    recipients: list[str],
    attachments: list[Path],
    cc: list[str] | None = None,
) -> RenderedMail:
    """Render ``email/<name>_subject.txt``, ``<name>.txt`` and ``<name>.html`` into one mail."""
    values = context.model_dump()
    return RenderedMail(
        body_id=body_id,
        recipients=recipients,
        subject=render_text(f"{name}_subject.txt", values, lang).strip(),
        body_text=render_text(f"{name}.txt", values, lang),
        body_html=render_text(f"{name}.html", values, lang),
        attachments=attachments,
        cc=list(cc or []),
        language=lang,
    )


def docx_template_variables(template_name: str) -> set[str]:
    """Top-level variables a DOCX template uses (body, headers and footers)."""
    return set(
        DocxTemplate(TEMPLATES_DIR / template_name).get_undeclared_template_variables(docx_environment())
    )


def text_template_variables(template_name: str) -> set[str]:
    """Top-level variables an email template uses."""
    from jinja2 import meta

    env = text_environment()
    source = env.loader.get_source(env, template_name)[0]  # type: ignore[union-attr]
    return set(meta.find_undeclared_variables(env.parse(source)))


def contract_problems(template_name: str, used: set[str], model: type[BaseModel]) -> list[str]:
    """Differences between what a template uses and what its context model declares."""
    declared = set(model.model_fields)
    problems = [
        f"{template_name}: muuttuja '{v}' puuttuu mallista {model.__name__}" for v in sorted(used - declared)
    ]
    problems += [
        f"{template_name}: mallin {model.__name__} kenttää '{v}' ei käytetä" for v in sorted(declared - used)
    ]
    return problems
