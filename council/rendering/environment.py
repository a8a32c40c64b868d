"""The template names and the sandboxed Jinja environments of DOCX templates and email bodies.

Every template renders in a ``SandboxedEnvironment`` with ``StrictUndefined`` (a missing variable is
an error naming the template and the variable) and autoescape (a name with ``&``, ``<`` or
``{{ 7*7 }}`` appears literally and cannot break the document XML).
"""

from __future__ import annotations

from functools import cache

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from council.config import TEMPLATES_DIR
from council.rules.formatting import FILTERS

PROPOSAL_TEMPLATE = "esitys.docx"


DUTY_TEMPLATE = "toimenkuva.docx"
STATUS_REPORT_TEMPLATE = "tilannekatsaus.docx"


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


@cache
def shared_text_environment() -> SandboxedEnvironment:
    """One email environment per process, so Jinja's template cache compiles each template once."""
    return text_environment()
