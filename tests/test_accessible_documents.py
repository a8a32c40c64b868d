"""Documents everyone can use (law 306/2019, EN 301 549): real heading styles in reading order, the
language and title in the properties, table header rows marked; the PDF/A copy is tagged, says its
language and title and keeps the headings as bookmarks."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from council.config import PROJECT_ROOT
from council.content.i18n import translated
from council.content.loading import load_proposal, load_roster
from council.delivery.pdf import to_pdfa
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE, STATUS_REPORT_TEMPLATE
from council.rendering.render import render_docx
from models.contexts import LiaisonContext
from models.enums import Language

PROPOSAL = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
JOKIOINEN = next(
    b for b in load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").bodies if b.id == "jokioinen"
)
DAY = date(2026, 11, 28)
LIAISON = LiaisonContext(name="Maija Meikäläinen", title="koordinaattori", email="m@k.example", work_time="8 h/kk")
HEADING = {"Title": 0, "Heading 1": 1, "Heading 2": 2}


def _documents(folder: Path) -> list[tuple[Path, str, str, str]]:
    """(DOCX, language tag, title, author) of the proposal, its reminder and the filled duty
    description, in Finnish and in Swedish."""
    out = []
    for lang, tag in (("fi", "fi-FI"), ("sv", "sv-SE")):
        body = JOKIOINEN.model_copy(update={"language": Language(lang)})
        local = translated(PROPOSAL, lang)
        contexts = {
            f"esitys.{lang}": (PROPOSAL_TEMPLATE, proposal_context(local, body, on=DAY)),
            f"muistutus.{lang}": (
                PROPOSAL_TEMPLATE,
                proposal_context(local, body, on=DAY, open_points=[2, 3], decided_notes={1: "hylätty"}),
            ),
            f"toimenkuva.{lang}": (
                DUTY_TEMPLATE,
                duty_description_context(local, body, on=DAY, liaison=LIAISON, appointed_by="kh 1.12.2026 § 5"),
            ),
        }
        for stem, (template, context) in contexts.items():
            path = render_docx(template, context, folder / f"{stem}.docx", lang)
            out.append((path, tag, context.title, local.sender))
    return out


def _heading_levels(path: Path) -> list[tuple[int, str]]:
    doc = Document(str(path))
    return [(HEADING[p.style.name], p.text) for p in doc.paragraphs if p.style.name in HEADING]


def test_docx_language_title_headings_and_table_headers(tmp_path: Path) -> None:
    """Each document states its language (the styles' default and the core properties) and its own
    title; its headings start with the title and never skip a level; every table of the body marks
    its first row as the header row."""
    for path, tag, title, author in _documents(tmp_path):
        doc = Document(str(path))
        props = doc.core_properties
        assert (props.title, props.language, props.author) == (title, tag, author), path.name
        assert props.comments == "" and "python-docx" not in (props.author + props.last_modified_by)
        default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        assert default.find(qn("w:lang")).get(qn("w:val")) == tag, path.name
        levels = _heading_levels(path)
        assert levels[0] == (0, title), path.name
        for (before, _), (after, text) in zip(levels, levels[1:], strict=False):
            assert after <= before + 1, f"{path.name}: '{text}' skips a heading level"
        for table in doc.tables:
            tr_pr = table.rows[0]._tr.trPr
            assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None, path.name


def test_status_report_tables_mark_their_header_rows() -> None:
    """The status report's tables (progress, decisions, liaisons) each have a marked header row."""
    doc = Document(str(PROJECT_ROOT / "templates" / STATUS_REPORT_TEMPLATE))
    assert doc.tables
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def _outline(pdf: bytes) -> list[str]:
    """The PDF's bookmark titles in file order: the outline items (objects with a /Parent) hold
    them as UTF-16BE hex strings, as LibreOffice writes them (the document info's /Title has no
    /Parent)."""
    titles = []
    for obj in pdf.split(b"endobj"):
        match = re.search(rb"/Title<FEFF([0-9A-Fa-f]*)>", obj)
        if match and b"/Parent" in obj:
            titles.append(bytes.fromhex(match.group(1).decode()).decode("utf-16-be"))
    return titles


@pytest.mark.libreoffice
def test_pdf_is_tagged_with_language_title_and_headings_as_bookmarks(libreoffice: str, tmp_path: Path) -> None:
    """pdfinfo says 'Tagged: yes' and gives the title; the catalog names the language; the headings
    are the bookmarks, in reading order, and tagged as H1/H2."""
    documents = _documents(tmp_path)
    pdfs = to_pdfa([path for path, *_ in documents], tmp_path / "pdf")
    for (path, tag, title, _), pdf in zip(documents, pdfs, strict=True):
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        assert "Tagged:          yes" in info, pdf.name
        assert f"Title:           {title}" in info, pdf.name
        data = pdf.read_bytes()
        assert f"/Lang({tag})".encode() in data, pdf.name
        headings = [text for level, text in _heading_levels(path) if level > 0]
        assert _outline(data) == headings, pdf.name
        assert b"/S/H1" in data, pdf.name
