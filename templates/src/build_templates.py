"""One-off bootstrap of the DOCX templates in templates/ (``make docs-templates``).

The committed .docx files are the source: a secretary edits them in Word or LibreOffice. This script
only writes a template that is missing. When a template exists and its parts' XML differ from what
the script would build, it is left untouched and a notice names it; ``--force`` overwrites it (and
so throws away every edit made in Word). Exit status 0 in both cases.

How the first versions were made: A4, SFS 2487 style header (sender top-left; document type, date,
diary number and the live page field "1 (N)" top-right), real paragraph styles (Title/Heading/List
Bullet/List Number) and every Jinja tag typed into one run so Word keeps it whole. ``{%p %}`` tags
make paragraph-level loops and conditions.

Usage: ``python templates/src/build_templates.py [--force] [--folder DIR]``
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from lxml import etree

LABELS = {
    "fi": {
        "registry": "Kirjaamo",
        "recipient": "Vastaanottaja",
        "preparer": "Valmistelija",
        "proposal": "Esitys",
        "examples": "Esimerkiksi:",
        "decided": "Jo päätetyt kohdat",
        "resolution": "Päätösehdotus",
        "sources": "Lähteet",
        "more": "Lisätietoja",
        "annex": "Liite: Järjestöyhdyshenkilön toimenkuva (malli)",
        "distribution": "Jakelu",
        "registry_lc": "kirjaamo",
        "purpose": "Tarkoitus",
        "liaison": "Järjestöyhdyshenkilö",
        "name": "Nimi",
        "title": "Tehtävänimike",
        "email": "Sähköposti",
        "work_time": "Työaika",
        "appointed": "Nimetty",
        "duties": "Tehtävät",
        "forums": "Yhteistyöfoorumit",
        "reporting": "Raportointi",
        "field": "Tieto",
        "entry": "Merkintä",
        "dnro": "Dnro",
        "reference": "Viite",
        "reply_by": "Vastaus viimeistään",
        "contact": "Yhteyshenkilö",
    },
    "sv": {
        "registry": "Registratorskontoret",
        "recipient": "Mottagare",
        "preparer": "Beredare",
        "proposal": "Förslag",
        "examples": "Till exempel:",
        "decided": "Redan beslutade punkter",
        "resolution": "Beslutsförslag",
        "sources": "Källor",
        "more": "Mer information",
        "annex": "Bilaga: Arbetsbeskrivning för organisationskontaktperson (modell)",
        "distribution": "Sändlista",
        "registry_lc": "registratorskontoret",
        "purpose": "Syfte",
        "liaison": "Organisationskontaktperson",
        "name": "Namn",
        "title": "Befattning",
        "email": "E-post",
        "work_time": "Arbetstid",
        "appointed": "Utsedd",
        "duties": "Uppgifter",
        "forums": "Samarbetsforum",
        "reporting": "Rapportering",
        "field": "Uppgift",
        "entry": "Anteckning",
        "dnro": "Dnr",
        "reference": "Hänvisning",
        "reply_by": "Svar senast",
        "contact": "Kontaktperson",
    },
}
#: The document language (styles' default and core properties) by template language.
LANGUAGE_TAGS = {"fi": "fi-FI", "sv": "sv-SE"}
HERE = Path(__file__).resolve().parent
OUT = HERE.parent
FONT = "Arial"
BLACK = RGBColor(0, 0, 0)


def _field(paragraph, instr: str, placeholder: str) -> None:
    """Append a complex field (PAGE, NUMPAGES) that Word and LibreOffice update when shown."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instr} "
    run._r.append(text)
    run = paragraph.add_run()
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run._r.append(sep)
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _styles(doc) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    for name, size in (("Title", 14), ("Heading 1", 12), ("Heading 2", 11)):
        style = styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = BLACK
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.append(rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            rfonts.set(qn(attr), FONT)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            rfonts.attrib.pop(qn(attr), None)
        fmt = style.paragraph_format
        fmt.space_before = Pt(12 if name != "Title" else 18)
        fmt.space_after = Pt(6)
        fmt.keep_with_next = True
        fmt.keep_together = True
    title = styles["Title"]
    # python-docx's Title has a bottom border; a municipal letter heading has none.
    ppr = title.element.pPr
    if ppr is not None and ppr.find(qn("w:pBdr")) is not None:
        ppr.remove(ppr.find(qn("w:pBdr")))
    title.font.all_caps = False
    for name in ("List Bullet", "List Number"):
        styles[name].font.name = FONT
        styles[name].paragraph_format.space_after = Pt(3)
    for name in ("Header", "Footer"):
        styles[name].font.name = FONT
        styles[name].font.size = Pt(10)


def _accessible(doc, lang: str) -> None:
    """What a screen reader and a PDF need: the language of the text (the styles' default, from
    which LibreOffice sets the PDF's /Lang) and the document's own title, author, type and language
    in its properties, filled per document. ``|safe``: python-docx escapes a property itself, so
    Jinja's escaping would show '&amp;' in the title."""
    lang_tag = LANGUAGE_TAGS[lang]
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    tag = rpr.find(qn("w:lang"))
    if tag is None:
        tag = OxmlElement("w:lang")
        rpr.append(tag)
    tag.set(qn("w:val"), lang_tag)
    props = doc.core_properties
    props.title = "{{ title|safe }}"
    props.author = "{{ sender|safe }}"
    props.subject = "{{ meta.doc_type|safe }}"
    props.language = "{{ meta.language }}"
    props.comments = ""
    props.last_modified_by = ""


def _header_row(row) -> None:
    """Mark a table's first row as its header: assistive technology reads it as the column titles,
    and Word and LibreOffice repeat it on each page."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _page(doc) -> None:
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(3.2), Cm(2.0)
    section.header_distance = Cm(1.0)


def _header_table(header, doc_type: str, L: dict[str, str], *, first: bool) -> None:  # noqa: N803
    """Sender left; document type, date, Dnro (and on the first page "Viite" and the reply-by date)
    right; "page (pages)" far right. Optional lines are whole ``{%p if %}`` paragraphs, so a value not
    known leaves no empty line."""
    table = header.add_table(rows=2, cols=3, width=Cm(16.5))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    widths = (Cm(8.5), Cm(5.5), Cm(2.5))
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    table.cell(0, 0).paragraphs[0].add_run("{{ sender }}").bold = True
    table.cell(0, 1).paragraphs[0].add_run(doc_type).bold = True
    page = table.cell(0, 2).paragraphs[0]
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _field(page, "PAGE", "1")
    page.add_run(" (")
    _field(page, "NUMPAGES", "1")
    page.add_run(")")
    left = table.cell(1, 0)
    right = table.cell(1, 1).merge(table.cell(1, 2))
    left.paragraphs[0].add_run("{{ sender_unit }}")
    right.paragraphs[0].add_run("{{ meta.date }}")
    lines = [(right, "meta.diary_number", f"{L['dnro']} {{{{ meta.diary_number }}}}")]
    if first:
        lines = [
            (left, "meta.contact", f"{L['contact']}: {{{{ meta.contact }}}}"),
            *lines,
            (right, "meta.reference", f"{L['reference']} {{{{ meta.reference }}}}"),
            (right, "meta.reply_by", f"{L['reply_by']} {{{{ meta.reply_by }}}}"),
        ]
    for cell, variable, line in lines:
        for text in (f"{{%p if {variable} %}}", line, "{%p endif %}"):
            cell.add_paragraph().add_run(text)
    header.paragraphs[0].text = ""


def _header(doc, doc_type: str, lang: str = "fi") -> None:
    """SFS 2487 style header: the first page carries every field a registry registers the document
    by; the following pages repeat sender, type, date, Dnro and 'page (pages)'."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    _header_table(section.first_page_header, doc_type, LABELS[lang], first=True)
    _header_table(section.header, doc_type, LABELS[lang], first=False)


def _p(doc, text: str, style: str | None = None, *, keep: bool = False):
    """A paragraph of one run; ``keep`` keeps it on the page of the next one (a closing block that
    must not be left alone on a last page)."""
    paragraph = doc.add_paragraph(style=style)
    paragraph.add_run(text)
    if keep:
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _compact(doc) -> None:
    """Tighter spacing for a one-page form (the duty description): single line spacing, less space
    around headings and list items."""
    styles = doc.styles
    styles["Normal"].paragraph_format.line_spacing = 1.0
    styles["Normal"].paragraph_format.space_after = Pt(4)
    styles["Title"].paragraph_format.space_before = Pt(6)
    for name in ("Heading 1", "Heading 2"):
        styles[name].paragraph_format.space_before = Pt(9)
        styles[name].paragraph_format.space_after = Pt(3)
    styles["List Bullet"].paragraph_format.space_after = Pt(1)


def _recipient(doc, labels: dict[str, str]) -> None:
    for line in ("{{ body.name }}", labels["registry"], "{{ body.registry_email }}"):
        p = _p(doc, line)
        p.paragraph_format.space_after = Pt(0)
    _p(doc, "")


def _suffix(lang: str) -> str:
    return "" if lang == "fi" else f".{lang}"


def build_proposal(lang: str = "fi") -> DocxDocument:
    L = LABELS[lang]  # noqa: N806
    doc = Document()
    _styles(doc)
    _accessible(doc, lang)
    _page(doc)
    _header(doc, "{{ meta.doc_type }}", lang)
    _recipient(doc, L)
    _p(doc, "{{ title }}", "Title")
    _p(doc, "{%p if is_reminder %}")
    _p(doc, "{{ reminder_note }}")
    _p(doc, "{%p endif %}")
    _p(doc, f"{L['recipient']}: {{{{ recipients_text }}}} / {{{{ body.deciding_body }}}}")
    _p(doc, f"{L['preparer']}: {{{{ preparer }}}}")
    _p(doc, "{%p for s in sections %}")
    _p(doc, "{%p if s.level == 1 %}")
    _p(doc, "{{ s.heading }}", "Heading 1")
    _p(doc, "{%p else %}")
    _p(doc, "{{ s.heading }}", "Heading 2")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p for para in s.paragraphs %}")
    _p(doc, "{{ para }}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endfor %}")
    _p(doc, L["proposal"], "Heading 1")
    _p(doc, "{{ proposal_lead }}")
    _p(doc, "{%p for pt in points %}")
    _p(doc, "{{ pt.number }}. {{ pt.title }}", "Heading 2")
    _p(doc, "{%p if pt.lead %}")
    _p(doc, "{{ pt.lead }}")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if pt.examples %}")
    _p(doc, L["examples"])
    _p(doc, "{%p for ex in pt.examples %}")
    _p(doc, "{{ ex }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p if decided_points %}")
    _p(doc, L["decided"], "Heading 2")
    _p(doc, "{%p for d in decided_points %}")
    _p(doc, "{{ d }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(doc, L["resolution"], "Heading 1")
    _p(doc, "{{ resolution_intro }}")
    _p(doc, "{%p for item in resolution_items %}")
    _p(doc, "{{ item }}", "List Number")
    _p(doc, "{%p endfor %}")
    _p(doc, "{{ resolution_outro }}", keep=True)
    _p(doc, "{%p if references %}")
    _p(doc, L["sources"], "Heading 2")
    _p(doc, "{%p for ref in references %}")
    _p(doc, "{{ ref }}", "List Bullet", keep=True)
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    # The closing block stays whole and on the page of the text before it.
    _p(doc, "", keep=True)
    _p(doc, "{{ sender }}", keep=True)
    _p(doc, f"{L['more']}: {{{{ preparer }}}}", keep=True)
    _p(doc, "", keep=True)
    _p(doc, "{%p if has_duty_description %}")
    _p(doc, L["annex"], keep=True)
    _p(doc, "{%p endif %}")
    _p(doc, f"{L['distribution']}: {{{{ body.name }}}}, {L['registry_lc']}")
    return doc


def build_duty_description(lang: str = "fi") -> DocxDocument:
    L = LABELS[lang]  # noqa: N806
    doc = Document()
    _styles(doc)
    _compact(doc)
    _accessible(doc, lang)
    _page(doc)
    _header(doc, "{{ meta.doc_type }}", lang)
    _recipient(doc, L)
    _p(doc, "{{ title }}", "Title")
    _p(doc, L["purpose"], "Heading 1")
    _p(doc, "{%p for para in purpose %}")
    _p(doc, "{{ para }}")
    _p(doc, "{%p endfor %}")
    _p(doc, L["liaison"], "Heading 1")
    table = doc.add_table(rows=6, cols=2)
    table.style = doc.styles["Table Grid"]
    rows = (
        (L["field"], L["entry"]),
        (L["name"], "{% if liaison %}{{ liaison.name }}{% else %}{{ blank }}{% endif %}"),
        (L["title"], "{% if liaison %}{{ liaison.title }}{% else %}{{ blank }}{% endif %}"),
        (L["email"], "{% if liaison %}{{ liaison.email }}{% else %}{{ blank }}{% endif %}"),
        (L["work_time"], "{% if liaison %}{{ liaison.work_time }}{% else %}{{ blank }}{% endif %}"),
        (L["appointed"], "{% if appointed_by %}{{ appointed_by }}{% else %}{{ blank }}{% endif %}"),
    )
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Cm(4.0), Cm(12.5)
    for index, (row, (label, value)) in enumerate(zip(table.rows, rows, strict=True)):
        row.cells[0].width, row.cells[1].width = Cm(4.0), Cm(12.5)
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value).bold = index == 0
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.space_before = Pt(2)
            cell.paragraphs[0].paragraph_format.space_after = Pt(2)
        # A row is never split across pages.
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    _header_row(table.rows[0])
    _p(doc, L["duties"], "Heading 1")
    _p(doc, "{{ duties_lead }}")
    _p(doc, "{%p for duty in duties %}")
    _p(doc, "{{ duty }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p if forums %}")
    _p(doc, L["forums"], "Heading 1")
    _p(doc, "{%p for forum in forums %}")
    _p(doc, "{{ forum }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(doc, L["reporting"], "Heading 1")
    _p(doc, "{%p for para in reporting %}")
    _p(doc, "{{ para }}", keep=True)
    _p(doc, "{%p endfor %}")
    # The closing line never stands alone on a page: it goes with the reporting paragraphs.
    _p(doc, "", keep=True)
    _p(doc, "{{ sender }}")
    return doc


def _table(
    doc, headers: list[str], row_tag: str, cells: list[str], widths: list[float], size: float | None = None
):
    """A table with a header row and one template row repeated by ``{%tr for … %}`` (text in
    ``size`` points when given, for a wide table whose long Finnish words must not break)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    # LibreOffice lays out by each cell's own width (w:tcW), not the grid: set both, or every
    # column comes out equally wide and long names break mid-word.
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        if size:
            run.font.size = Pt(size)
    # docxtpl: a row holding only {%tr %} is replaced by the loop tag itself.
    table.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr {row_tag} %}}")
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        run = cell.paragraphs[0].add_run(text)
        if size:
            run.font.size = Pt(size)
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    _header_row(table.rows[0])
    return table


def build_status_report() -> DocxDocument:
    doc = Document()
    _styles(doc)
    _accessible(doc, "fi")
    _page(doc)
    _header(doc, "{{ meta.doc_type }}")
    _p(doc, "{{ recipient }}")
    _p(doc, "")
    _p(doc, "{{ title }}", "Title")
    _p(doc, "{{ summary }}")
    _p(doc, "Eteneminen kohdittain", "Heading 1")
    _table(
        doc,
        ["Kohta", "Päätetty", "Osuus"],
        "for pt in points",
        ["{{ pt.label }}", "{{ pt.decided }} / {{ pt.total }}", "{{ pt.percent }} %"],
        [10.5, 3.0, 3.0],
    )
    _p(doc, "")
    _p(doc, "Päätökset vastaanottajittain", "Heading 1")
    _table(
        doc,
        ["Vastaanottaja", "Kohta", "Tila", "Päätös"],
        "for row in rows",
        ["{{ row.body }}", "{{ row.point }}", "{{ row.status }}", "{{ row.decision }}"],
        [4.6, 4.3, 3.0, 4.6],
        size=9,
    )
    _p(doc, "")
    _p(doc, "{%p if has_duty_description %}")
    _p(doc, "Nimetyt järjestöyhdyshenkilöt", "Heading 1")
    _p(doc, "{%p if liaisons %}")
    _table(
        doc,
        ["Vastaanottaja", "Nimi ja tehtävä", "Työaika"],
        "for l in liaisons",
        ["{{ l.body }}", "{{ l.person }}", "{{ l.work_time }}"],
        [5.0, 8.0, 3.5],
    )
    _p(doc, "{%p else %}")
    _p(doc, "Yhtään järjestöyhdyshenkilöä ei ole vielä nimetty.")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p endif %}")
    _p(doc, "Myöhässä", "Heading 1")
    _p(doc, "{%p if overdue %}")
    _p(doc, "{%p for o in overdue %}")
    _p(doc, "{{ o }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p else %}")
    _p(doc, "Yksikään vastaanottaja ei ole myöhässä määräajasta.")
    _p(doc, "{%p endif %}")
    _p(doc, "Muistutukset", "Heading 1")
    _p(doc, "{%p for r in reminders %}")
    _p(doc, "{{ r }}", "List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "")
    _p(doc, "{{ sender }}")
    return doc


#: Each template file and how its first version is built.
BUILDERS: dict[str, Callable[[], DocxDocument]] = {
    "esitys.docx": build_proposal,
    "toimenkuva.docx": build_duty_description,
    "tilannekatsaus.docx": build_status_report,
    "esitys.sv.docx": lambda: build_proposal("sv"),
    "toimenkuva.sv.docx": lambda: build_duty_description("sv"),
}


def docx_bytes(doc: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _part(data: bytes) -> bytes:
    """An XML part in canonical form (attribute order, quoting, namespace declarations normalised)."""
    try:
        return etree.tostring(etree.fromstring(data), method="c14n")
    except etree.XMLSyntaxError:
        return data


def parts(data: bytes) -> dict[str, bytes]:
    """The package's parts by name, XML ones canonicalised: what a template *is*, without the zip's
    member order, compression and timestamps."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {
            info.filename: _part(package.read(info))
            if info.filename.endswith((".xml", ".rels"))
            else package.read(info)
            for info in package.infolist()
            if not info.is_dir()
        }


def differing_parts(existing: bytes, built: bytes) -> list[str]:
    """Names of the parts that differ, are missing or are extra in ``existing``."""
    old, new = parts(existing), parts(built)
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def bootstrap(folder: Path, *, force: bool = False, out: TextIO | None = None) -> dict[str, str]:
    """Write each missing template into ``folder``; never overwrite one that differs unless ``force``.

    Returns each file's outcome: ``written``, ``unchanged``, ``kept`` (differs, left as it is) or
    ``overwritten``.
    """
    out = out or sys.stdout
    outcome: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        path = folder / name
        built = docx_bytes(build())
        if not path.exists():
            path.write_bytes(built)
            outcome[name] = "written"
            print(f"{path}: luotu (tiedostoa ei ollut).", file=out)
            continue
        changed = differing_parts(path.read_bytes(), built)
        if not changed:
            outcome[name] = "unchanged"
            print(f"{path}: ajan tasalla.", file=out)
        elif force:
            path.write_bytes(built)
            outcome[name] = "overwritten"
            print(f"{path}: korvattu (--force); aiemmat muokkaukset hävisivät.", file=out)
        else:
            outcome[name] = "kept"
            print(
                f"{path}: ei korvattu, koska tiedosto poikkeaa siitä, minkä skripti rakentaisi "
                f"(osat: {', '.join(changed)}). Tiedostoa on muokattu Wordissa tai LibreOfficessa, "
                "ja muokattu tiedosto on mallipohjan lähde. Tarkista se komennolla "
                "`council templates check`. Käytä --force vain, jos haluat hylätä muokkaukset.",
                file=out,
            )
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Luo puuttuvat DOCX-mallipohjat; ei korvaa muokattuja.")
    parser.add_argument(
        "--force", action="store_true", help="korvaa myös muokatut mallipohjat (muokkaukset häviävät)"
    )
    parser.add_argument("--folder", type=Path, default=OUT, help="mallipohjien kansio (oletus: templates/)")
    args = parser.parse_args(argv)
    bootstrap(args.folder, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
