"""Template contract: each template uses exactly the variables its context model declares."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import create_model

from council.config import PROJECT_ROOT
from council.content.i18n import localized
from council.content.loading import load_proposal, load_roster
from council.errors import TemplateRenderError
from council.rendering.check import CONTRACTS
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.environment import PROPOSAL_TEMPLATE, STATUS_REPORT_TEMPLATE
from council.rendering.render import (
    contract_problems,
    docx_template_variables,
    render_docx,
    text_template_variables,
)
from council.services.send import render_first_send
from models.contexts import DutyDescriptionContext, ProposalContext
from tests.helpers import docx_text

PROPOSAL = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
ROSTER = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")


def _used(name: str, kind: str) -> set[str]:
    return docx_template_variables(name) if kind == "docx" else text_template_variables(name)


ALL = [
    (tuple(localized(n, lang) for n in c.names), c.kind, c.model) for c in CONTRACTS for lang in c.languages
]


@pytest.mark.parametrize(("names", "kind", "model"), ALL, ids=[c[0][0] for c in ALL])
def test_template_variables_match_context_model(names: tuple[str, ...], kind: str, model: type) -> None:
    """No variable is used that the model lacks, and no model field goes unused by the group (fi and sv)."""
    used = {name: _used(name, kind) for name in names}
    declared = set(model.model_fields)
    for name, variables in used.items():
        assert variables <= declared, contract_problems(name, variables, model)
    assert contract_problems("+".join(names), set().union(*used.values()), model) == []


def test_contract_fails_when_a_field_is_removed_from_the_model() -> None:
    """Dropping `preparer` from the model makes the contract report that template and variable."""
    fields = {k: (v.annotation, v) for k, v in ProposalContext.model_fields.items() if k != "preparer"}
    reduced = create_model("ProposalContext", **fields)  # type: ignore[call-overload]
    problems = contract_problems(PROPOSAL_TEMPLATE, _used(PROPOSAL_TEMPLATE, "docx"), reduced)
    assert problems == [f"{PROPOSAL_TEMPLATE}: muuttuja 'preparer' puuttuu mallista ProposalContext"]


def test_misspelt_nested_variable_fails_naming_template_and_variable(tmp_path: Path) -> None:
    """A context missing a nested attribute fails the render with the template's name."""
    data = proposal_context(PROPOSAL, ROSTER.bodies[0], on=date(2021, 2, 15)).model_dump()
    del data["body"]["registry_email"]
    loose = create_model("Loose", **{k: (object, None) for k in data})(**data)
    with pytest.raises(TemplateRenderError) as caught:
        render_docx(PROPOSAL_TEMPLATE, loose, tmp_path / "x.docx")
    assert PROPOSAL_TEMPLATE in str(caught.value) and "registry_email" in str(caught.value)


@pytest.mark.parametrize("body", ROSTER.bodies, ids=[b.id for b in ROSTER.bodies])
def test_every_template_renders_for_every_body(tmp_path: Path, body) -> None:
    """Both DOCX and all email templates render for each body with no leftover tag."""
    rendered = render_first_send(PROPOSAL, body, tmp_path, on=date(2021, 2, 15))
    for text in (
        rendered.subject,
        rendered.body_text,
        rendered.body_html,
        *(docx_text(p) for p in rendered.attachments if p.suffix == ".docx"),
    ):
        assert "{{" not in text and "{%" not in text
    assert body.deciding_body in rendered.subject
    assert "\n" not in rendered.subject
    assert ctx_ok(duty_description_context(PROPOSAL, body, on=date(2021, 2, 15)))


def ctx_ok(ctx: DutyDescriptionContext) -> bool:
    return ctx.liaison is None and ctx.blank.startswith("___")


def test_status_report_tables_give_each_cell_its_width() -> None:
    """LibreOffice sizes columns by each cell's own width: every cell of the report's tables carries
    one, and the decisions table is wide enough for the longest names (no mid-word breaks)."""
    from docx import Document
    from docx.shared import Cm

    doc = Document(str(PROJECT_ROOT / "templates" / STATUS_REPORT_TEMPLATE))
    for table in doc.tables:
        for row in table.rows:
            assert all(cell.width is not None for cell in row.cells)
    decisions = next(
        t for t in doc.tables if t.rows[0].cells[0].text == "Vastaanottaja" and len(t.columns) == 4
    )
    widths = [round(cell.width / Cm(1), 1) for cell in decisions.rows[2].cells]
    assert widths == [4.6, 4.3, 3.0, 4.6] and sum(widths) <= 16.5  # the text width of the page
