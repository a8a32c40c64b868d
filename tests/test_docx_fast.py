"""The compile-once DOCX renderer: the same documents as docxtpl, escaping, errors, cache, threads.

The reference renders call docxtpl's ``DocxTemplate.render`` exactly as ``council.rendering`` did
before it used the compiled renderer, so these comparisons stay meaningful after the switch.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import jinja2
import pytest
from docx import Document
from docxtpl import DocxTemplate
from pydantic import BaseModel

from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.docx_fast import CompiledDocxTemplate, clear_cache, compiled
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE, TEMPLATES_DIR, docx_environment
from models.contexts import LiaisonContext
from models.schemas import BodyIn
from tests.helpers import docx_text

PROPOSAL = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
ROSTER = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")
DAY = date(2021, 2, 15)
NASTY = "Ab & Co <w:p> \"lainaus\" 'heittomerkki' {{ 7*7 }} {% if x %}"
CONTEXTS = {PROPOSAL_TEMPLATE: proposal_context, DUTY_TEMPLATE: duty_description_context}


def docxtpl_bytes(template: Path, context: dict) -> bytes:
    """What docxtpl itself produces (the reference)."""
    tpl = DocxTemplate(template)
    tpl.render(context, jinja_env=docx_environment(), autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def members(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.namelist()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def templates() -> dict[str, CompiledDocxTemplate]:
    return {name: CompiledDocxTemplate(TEMPLATES_DIR / name, docx_environment()) for name in CONTEXTS}


@pytest.mark.parametrize("template_name", list(CONTEXTS))
@pytest.mark.parametrize("body", ROSTER.bodies, ids=[b.id for b in ROSTER.bodies])
def test_same_document_as_docxtpl(
    tmp_path: Path, templates: dict[str, CompiledDocxTemplate], template_name: str, body: BodyIn
) -> None:
    """For every body and both templates the visible text and the zip members equal docxtpl's."""
    context = CONTEXTS[template_name](PROPOSAL, body, on=DAY).model_dump()
    expected = docxtpl_bytes(TEMPLATES_DIR / template_name, context)
    got = templates[template_name].render_bytes(context)
    assert docx_text(write(tmp_path, "fast.docx", got)) == docx_text(write(tmp_path, "ref.docx", expected))
    assert members(got) == members(expected)
    # The rendered parts are byte for byte what docxtpl writes.
    for name in templates[template_name].rendered_members:
        assert member(got, name) == member(expected, name), name
    # The core properties filled per document (title, author, type, language) are docxtpl's too.
    props = ("title", "author", "subject", "language", "comments", "identifier")
    ours, theirs = Document(io.BytesIO(got)).core_properties, Document(io.BytesIO(expected)).core_properties
    assert [getattr(ours, p) for p in props] == [getattr(theirs, p) for p in props]
    assert ours.title == context["title"] and ours.language == context["meta"]["language"]


@pytest.mark.parametrize("template_name", list(CONTEXTS))
def test_members_keep_order_and_compression(
    templates: dict[str, CompiledDocxTemplate], template_name: str
) -> None:
    """The output has the template's members in the same order, each with its compression and CRC intact."""
    context = CONTEXTS[template_name](PROPOSAL, ROSTER.bodies[0], on=DAY).model_dump()
    got = templates[template_name].render_bytes(context)
    with zipfile.ZipFile(TEMPLATES_DIR / template_name) as src, zipfile.ZipFile(io.BytesIO(got)) as out:
        assert out.testzip() is None
        assert [(i.filename, i.compress_type) for i in out.infolist()] == [
            (i.filename, i.compress_type) for i in src.infolist()
        ]
        # The parts that depend on the context: body, headers and the core properties (title,
        # author, language are filled per document).
        rendered = set(templates[template_name].render_parts(context))
        assert set(templates[template_name].rendered_members) <= rendered
        for info in src.infolist():
            if info.filename not in rendered:
                assert out.read(info.filename) == src.read(info)


def test_every_context_value_is_escaped(tmp_path: Path, templates: dict[str, CompiledDocxTemplate]) -> None:
    """&, <, quotes and Jinja/Word-XML fragments appear literally, exactly as docxtpl escapes them."""
    body = BodyIn(
        id="nasty",
        name=NASTY,
        name_genitive=NASTY + " gen",
        name_inessive=NASTY + " ine",
        kind="kunta",
        deciding_body=NASTY + " hallitus",
        registry_email="k@nasty.example",
    )
    proposal = PROPOSAL.model_copy(
        update={f: NASTY for f in ("title", "sender", "preparer", "proposal_lead", "recipients_text")}
    )
    liaison = LiaisonContext(name=NASTY, title=NASTY, email=NASTY, work_time=NASTY)
    contexts: dict[str, BaseModel] = {
        PROPOSAL_TEMPLATE: proposal_context(proposal, body, on=DAY, diary_number=NASTY),
        DUTY_TEMPLATE: duty_description_context(
            proposal, body, on=DAY, liaison=liaison, appointed_by=NASTY, diary_number=NASTY
        ),
    }
    for name, context in contexts.items():
        got = templates[name].render_bytes(context.model_dump())
        text = docx_text(write(tmp_path, name, got))
        assert NASTY in text
        assert "49" not in text.replace("2021", "")
        assert b"<w:p> " not in member(got, "word/document.xml")
        expected = docxtpl_bytes(TEMPLATES_DIR / name, context.model_dump())
        for part in templates[name].rendered_members:
            assert member(got, part) == member(expected, part), part


@pytest.mark.parametrize("missing", ["title", "meta"])
def test_undefined_variable_raises(templates: dict[str, CompiledDocxTemplate], missing: str) -> None:
    """A variable missing from the context (in the body or in the header) raises jinja2.UndefinedError."""
    context = proposal_context(PROPOSAL, ROSTER.bodies[0], on=DAY).model_dump()
    del context[missing]
    with pytest.raises(jinja2.UndefinedError):
        templates[PROPOSAL_TEMPLATE].render_bytes(context)


def test_template_syntax_error_raises_when_compiling(tmp_path: Path) -> None:
    """A broken Jinja tag in the template fails at construction, not at the first render."""
    doc = Document()
    doc.add_paragraph("{% if %}")
    doc.save(tmp_path / "broken.docx")
    with pytest.raises(jinja2.TemplateSyntaxError):
        CompiledDocxTemplate(tmp_path / "broken.docx", docx_environment())


def test_output_opens_in_python_docx(tmp_path: Path) -> None:
    """render_to writes a file python-docx opens, with the body's name in its text and header."""
    body = ROSTER.bodies[1]
    target = tmp_path / "out" / "esitys.docx"
    compiled(TEMPLATES_DIR / PROPOSAL_TEMPLATE).render_to(
        proposal_context(PROPOSAL, body, on=DAY).model_dump(), target
    )
    doc = Document(str(target))
    assert any(body.name in p.text for p in doc.paragraphs)
    header_cells = [c.text for t in doc.sections[0].first_page_header.tables for r in t.rows for c in r.cells]
    assert "ESITYS" in header_cells and "15.2.2021\nDnro FSHKY/245/00.04.01/2026" in header_cells
    later_pages = [c.text for t in doc.sections[0].header.tables for r in t.rows for c in r.cells]
    assert "ESITYS" in later_pages and "15.2.2021\nDnro FSHKY/245/00.04.01/2026" in later_pages
    assert [p.name for p in target.parent.iterdir()] == ["esitys.docx"]
    assert target.stat().st_mode & 0o777 == 0o644  # readable by the registry's other users, like the rest


def test_failed_render_leaves_no_file(tmp_path: Path) -> None:
    """A render that raises writes neither the target nor a temporary file."""
    target = tmp_path / "esitys.docx"
    with pytest.raises(jinja2.UndefinedError):
        compiled(TEMPLATES_DIR / PROPOSAL_TEMPLATE).render_to({}, target)
    assert list(tmp_path.iterdir()) == []


def test_cache_recompiles_after_mtime_change(tmp_path: Path) -> None:
    """compiled() returns the same object for an unchanged file and a new one once its mtime changes."""
    clear_cache()
    path = tmp_path / "malli.docx"
    shutil.copyfile(TEMPLATES_DIR / PROPOSAL_TEMPLATE, path)
    first = compiled(path)
    assert compiled(path) is first
    assert compiled(tmp_path / "." / "malli.docx") is first
    # Replace the template on disk with the duty description and move its mtime forward.
    shutil.copyfile(TEMPLATES_DIR / DUTY_TEMPLATE, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    second = compiled(path)
    assert second is not first
    assert compiled(path) is second
    context = duty_description_context(PROPOSAL, ROSTER.bodies[0], on=DAY).model_dump()
    text = docx_text(write(tmp_path, "t.docx", second.render_bytes(context)))
    assert "TOIMENKUVA" in text


def test_concurrent_renders_match_sequential(templates: dict[str, CompiledDocxTemplate]) -> None:
    """Renders from several threads at once give the same bytes as one at a time."""
    jobs = [(name, body) for name in CONTEXTS for body in ROSTER.bodies] * 3

    def render(job: tuple[str, BodyIn]) -> bytes:
        name, body = job
        return templates[name].render_bytes(CONTEXTS[name](PROPOSAL, body, on=DAY).model_dump())

    sequential = [render(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(render, jobs))
    assert parallel == sequential


def test_docxtpl_features_match_byte_for_byte(tmp_path: Path) -> None:
    """{%p %}, {%tr %}, {{r }}, headers, footers, core properties and \\n/\\t/\\a/\\f values render as docxtpl does."""
    doc = Document()
    doc.core_properties.title = "{{ title }}"
    doc.core_properties.author = "Tekijä {{ who }}"
    doc.add_paragraph("{%p if show %}")
    doc.add_paragraph("Näkyy: {{ value }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("Rivit: {{ multiline }}")
    doc.add_paragraph("Alku ").add_run("{{r rich }}")
    table = doc.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "{%tr for row in rows %}"
    table.cell(1, 0).text = "{{ row.a }}"
    table.cell(1, 1).text = "{{ row.b }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    doc.sections[0].header.paragraphs[0].text = "Ylä {{ title }}"
    doc.sections[0].footer.paragraphs[0].text = "Ala {{ value }}"
    path = tmp_path / "piirteet.docx"
    doc.save(path)
    context = {
        "title": "Otsikko & <x>",
        "who": "Mä",
        "show": True,
        "value": "a\tb",
        "multiline": "yksi\nkaksi\fkolme\aneljä",
        "rich": "teksti",
        "rows": [{"a": 1, "b": "x<y"}, {"a": 2, "b": "{{ 7*7 }}"}],
    }
    template = CompiledDocxTemplate(path, docx_environment())
    assert template.rendered_members == ["word/document.xml", "word/header1.xml", "word/footer1.xml"]
    got = template.render_bytes(context)
    expected = docxtpl_bytes(path, context)
    assert members(got) == members(expected)
    for name in members(expected):
        assert member(got, name) == member(expected, name), name
    # docxtpl renders core properties with the same autoescaping environment, so a property holds
    # the escaped text; the compiled renderer keeps that behaviour.
    assert Document(io.BytesIO(got)).core_properties.title == "Otsikko &amp; &lt;x&gt;"


def test_other_compression_methods_are_kept(tmp_path: Path) -> None:
    """A template with a stored and a bzip2 member keeps each member's method and renders the same text."""
    source = TEMPLATES_DIR / PROPOSAL_TEMPLATE
    path = tmp_path / "sekalainen.docx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as out:
        for i, info in enumerate(src.infolist()):
            method = (zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_DEFLATED)[i % 3]
            out.writestr(zipfile.ZipInfo(info.filename, info.date_time), src.read(info), compress_type=method)
    context = proposal_context(PROPOSAL, ROSTER.bodies[3], on=DAY).model_dump()
    got = CompiledDocxTemplate(path, docx_environment()).render_bytes(context)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(io.BytesIO(got)) as out:
        assert [(i.filename, i.compress_type) for i in out.infolist()] == [
            (i.filename, i.compress_type) for i in src.infolist()
        ]
    expected = docxtpl_bytes(source, context)
    assert docx_text(write(tmp_path, "a.docx", got)) == docx_text(write(tmp_path, "b.docx", expected))
