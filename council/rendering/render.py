"""Rendering: DOCX through the compiled renderer (:mod:`council.rendering.docx_fast`), emails
(subject, text and HTML from one template name) through the sandboxed Jinja environment, and the
template-variable contract that tests and ``council templates check`` compare with each context model.
"""

from __future__ import annotations

from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import TemplateError, UndefinedError
from pydantic import BaseModel

from council.content.i18n import localized
from council.delivery.mail import RenderedMail
from council.errors import TemplateRenderError
from council.rendering.environment import (
    TEMPLATES_DIR,
    docx_environment,
    shared_text_environment,
    text_environment,
)


def render_docx(template_name: str, context: BaseModel, target: Path, lang: str = "fi") -> Path:
    """Render ``templates/<template_name>`` (its ``lang`` version) with ``context`` into ``target`` atomically.

    Each template is compiled once per process (:mod:`council.docx_fast`) and recompiled when the
    file changes on disk.
    """
    from council.rendering.docx_fast import compiled

    template_name = localized(template_name, lang)
    try:
        compiled(TEMPLATES_DIR / template_name).render_to(context.model_dump(), target)
    except UndefinedError as exc:
        raise TemplateRenderError(template_name, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(template_name, str(exc)) from exc
    return target


def render_text(template_name: str, context: dict, lang: str = "fi") -> str:
    """Render an email template from templates/email/ (its ``lang`` version)."""
    template_name = localized(template_name, lang)
    try:
        return shared_text_environment().get_template(template_name).render(**context)
    except UndefinedError as exc:
        raise TemplateRenderError(template_name, f"tuntematon muuttuja: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(template_name, str(exc)) from exc


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
