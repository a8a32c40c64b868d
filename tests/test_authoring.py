"""Proposals written in Word on templates/esityspohja.docx: the seed reads back to data/, bad input
gives Finnish problems at the right paragraph, and nothing is returned or written on error."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from hypothesis import given
from hypothesis import strategies as st

from council.config import PROJECT_ROOT
from council.content import authoring, docx_blocks
from council.content.authoring import read_authoring_docx, slug
from council.content.docx_blocks import NOT_DOCX
from council.content.loading import dump_proposal_yaml, load_proposal
from council.errors import ContentError, Problem

SEED = PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml"
FIXTURE = PROJECT_ROOT / "tests/fixtures/esitys-jarjestoyhteistyomalli.docx"
TEMPLATE = PROJECT_ROOT / "templates/esityspohja.docx"


def paragraph(doc: Document, start: str) -> Paragraph:
    """The first paragraph (outside tables) whose text starts with ``start``."""
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def number_of(doc: Document, par: Paragraph) -> int:
    """The paragraph's number as the reader counts it: every w:p from the start, table cells too."""
    return list(doc.element.body.iter(qn("w:p"))).index(par._p) + 1


def set_text(par: Paragraph, text: str) -> None:
    for run in par.runs[1:]:
        run._r.getparent().remove(run._r)
    if par.runs:
        par.runs[0].text = text
    else:
        par.add_run(text)


def remove(par: Paragraph) -> None:
    par._p.getparent().remove(par._p)


def problems(path: Path) -> list[Problem]:
    with pytest.raises(ContentError) as caught:
        read_authoring_docx(path)
    return caught.value.problems


def test_the_seed_written_on_the_template_reads_as_the_content_in_data() -> None:
    """The fixture DOCX gives the same ProposalIn as data/proposals/<seed>.yaml."""
    assert read_authoring_docx(FIXTURE) == load_proposal(SEED)


def test_the_yaml_copy_loads_back_equal_and_is_readable(tmp_path: Path) -> None:
    """dump_proposal_yaml writes block-style UTF-8 YAML that load_proposal reads back equal."""
    proposal = read_authoring_docx(FIXTURE)
    target = tmp_path / f"{proposal.id}.yaml"
    assert dump_proposal_yaml(proposal, target) == target
    assert load_proposal(target) == proposal
    text = target.read_text(encoding="utf-8")
    assert "Järjestöyhdyshenkilö" in text and "\\x" not in text and "\\u" not in text
    assert text.startswith("id: jarjestoyhteistyomalli-forssan-seutu\n")
    assert "{" not in text and not re.search(r"^\s*\w+: \[", text, re.M), "flow style"
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "no temporary file left"


def test_the_empty_template_lists_what_to_fill_in_and_nothing_about_its_instructions() -> None:
    """The template as shipped is refused with one problem per required part, none from its Ohje text."""
    found = problems(TEMPLATE)
    fields = [p.field for p in found]
    assert fields == [
        "Otsikko",
        "Lyhyt otsikko",
        "Lähettäjä",
        "Lähettäjälle",
        "Lähettäjän organisaatio",
        "Vastaanottajat",
        "Valmistelija",
        "Esityksen johdanto",
        "Kohta 1: otsikko",
        "Kohta 1: lyhyt otsikko",
        "Kohta 1: päätösehdotus",
        "Toimenkuvan otsikko",
        "Toimenkuva: tarkoitus",
        "Toimenkuva: raportointi",
        "Luvut",
    ]
    assert all(p.unit == "kappale" for p in found)
    assert all(p.row is not None for p in found[:-1])
    assert "kappale 4, kenttä 'Otsikko'" in str(ContentError(TEMPLATE, found))


def test_the_template_carries_instructions_a_real_numbered_list_and_every_part() -> None:
    """The template explains its placeholders in Ohje paragraphs and numbers the points with Word numbering."""
    doc = docx.Document(str(TEMPLATE))
    text = "\n".join(p.text for p in doc.paragraphs)
    for placeholder in authoring.PLACEHOLDERS:
        assert placeholder in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Perustiedot", "Esitys", "Lähteet", "Toimenkuva", "Muistutukset"]
    point = next(p for p in doc.paragraphs if p.style.name == "List Number")
    num_id = doc.styles["List Number"].element.pPr.numPr.numId.val
    numbering = doc.part.numbering_part.element
    assert point.text == "" and numbering.num_having_numId(num_id) is not None
    kinds = [(b.style, b.list_kind) for b in docx_blocks.document_blocks(doc)[0] if b.list_kind]
    assert kinds == [("List Number", "number"), ("List Bullet", "bullet"), ("List Bullet", "bullet")]
    assert all(p.text.startswith("Ohje:") for p in doc.paragraphs if p.style.name == "Ohje")


def _no_title(doc: Document) -> tuple[Paragraph, str]:
    title = next(p for p in doc.paragraphs if p.style.name == "Title")
    set_text(title, "")
    return title, "esityksen otsikko puuttuu"


def _point_without_short_title(doc: Document) -> tuple[Paragraph, str]:
    remove(paragraph(doc, "Lyhyt otsikko: Kehittämisyhteistyön kohdat"))
    return paragraph(doc, "Kehittämisyhteistyön kohdat kartoitetaan"), "kohdasta 3 puuttuu lyhyt otsikko"


def _unknown_placeholder(doc: Document) -> tuple[Paragraph, str]:
    par = paragraph(doc, "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] sovitaan")
    set_text(par, par.text.replace("sovitaan", "sovitaan [kunnan]"))
    return par, "tuntematon paikkamerkki [kunnan]"


def _placeholder_out_of_place(doc: Document) -> tuple[Paragraph, str]:
    par = paragraph(doc, "Elinvoimainen yhdistystoiminta")
    set_text(par, "Elinvoimainen yhdistystoiminta vaikuttaa [vastaanottajan] talouteen.")
    return par, "paikkamerkki [vastaanottajan] täytetään vain päätösehdotuksessa"


def _resolution_without_opening(doc: Document) -> tuple[Paragraph, str]:
    par = paragraph(doc, "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] vahvistetaan")
    set_text(par, "Päätösehdotus: Kunnanhallitus vahvistaa järjestötietoutta.")
    return par, "päätösehdotuksen on alettava sanoin '[päättävä toimielin] päättää, että [vastaanottajassa]'"


def _typed_numbers_with_a_gap(doc: Document) -> tuple[Paragraph, str]:
    points = [p for p in doc.paragraphs if p.style.name == "List Number"]
    for typed, par in zip((1, 2, 4, 5), points, strict=True):
        par.style = doc.styles["Normal"]
        set_text(par, f"{typed}. {par.text}")
    return points[2], "tämän kohdan numeron pitäisi olla 3"


def _heading_without_paragraphs(doc: Document) -> tuple[Paragraph, str]:
    heading = paragraph(doc, "Johtopäätökset")
    remove(paragraph(doc, "Yhdistysten ja julkisen sektorin yhteistyöllä"))
    remove(paragraph(doc, "Haasteeksi yhteistyölle"))
    return heading, "luvussa 'Johtopäätökset' ei ole yhtään kappaletta"


def _two_leads(doc: Document) -> tuple[Paragraph, str]:
    resolution = paragraph(
        doc, "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] vahvistetaan"
    )
    after = doc.paragraphs[[p._p for p in doc.paragraphs].index(resolution._p) + 1]
    after.insert_paragraph_before("Järjestötieto kootaan yhteen.")
    return after.insert_paragraph_before(
        "Tämä on toinen johdantokappale."
    ), "kohdan 4 johdannon on oltava yksi kappale"


def _bad_reference(doc: Document) -> tuple[Paragraph, str]:
    par = paragraph(doc, "https://yhdistysrekisteri.prh.fi/")
    set_text(par, "yhdistysrekisteri.prh.fi")
    return par, "anna linkki muodossa https://"


def _cell(doc: Document, label: str) -> Paragraph:
    for table in doc.tables:
        for row in table.rows:
            if row.cells[0].text.startswith(label):
                return row.cells[1].paragraphs[0]
    raise AssertionError(label)


def _bad_email(doc: Document) -> tuple[Paragraph, str]:
    par = _cell(doc, "Viikkokoosteen vastaanottajat")
    set_text(par, "hyvinvointivaliokunta@forssanseutu.example, puheenjohtaja(at)forssanseutu.example")
    return par, "anna pelkkä sähköpostiosoite"


def _words_for_days(doc: Document) -> tuple[Paragraph, str]:
    par = _cell(doc, "Muistutusväli")
    set_text(par, "kaksi viikkoa")
    return par, "on oltava kokonaisluku"


def _yes_or_no(doc: Document) -> tuple[Paragraph, str]:
    par = _cell(doc, "Ohita arkipyhät")
    set_text(par, "joskus")
    return par, "on oltava kyllä tai ei"


def _text_in_ohje_style(doc: Document) -> tuple[Paragraph, str]:
    par = paragraph(doc, "Elinvoimainen yhdistystoiminta")
    par.style = doc.styles["Ohje"]
    return par, "kappale on Ohje-tyyliä"


def _placeholder_in_a_table(doc: Document) -> tuple[Paragraph, str]:
    par = _cell(doc, "Vastaanottajat")
    set_text(par, "[vastaanottaja]")
    return par, "paikkamerkki [vastaanottaja] täytetään vain päätösehdotuksessa"


def _line_break_in_a_line(doc: Document) -> tuple[Paragraph, str]:
    par = _cell(doc, "Lähettäjä")
    par.add_run().add_break()
    par.add_run("ja toinen rivi")
    return par, "ei saa sisältää rivinvaihtoja"


BAD = [
    _no_title,
    _point_without_short_title,
    _unknown_placeholder,
    _placeholder_out_of_place,
    _resolution_without_opening,
    _typed_numbers_with_a_gap,
    _heading_without_paragraphs,
    _two_leads,
    _bad_reference,
    _bad_email,
    _words_for_days,
    _yes_or_no,
    _text_in_ohje_style,
    _line_break_in_a_line,
    _placeholder_in_a_table,
]


@pytest.mark.parametrize("spoil", BAD, ids=[f.__name__.strip("_") for f in BAD])
def test_a_bad_document_is_refused_with_one_finnish_problem_at_its_paragraph(
    spoil: Callable[[Document], tuple[Paragraph, str]], tmp_path: Path
) -> None:
    """Each spoiled copy of the seed gives exactly one problem, naming the spoiled paragraph, in Finnish."""
    doc = docx.Document(str(FIXTURE))
    par, message = spoil(doc)
    expected_row = number_of(doc, par)
    path = tmp_path / "esitys.docx"
    doc.save(str(path))
    before = sorted(tmp_path.iterdir())
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].row == expected_row and found[0].unit == "kappale"
    assert message in found[0].message
    assert str(path) in str(found[0]) and f"kappale {expected_row}" in str(found[0])
    assert sorted(tmp_path.iterdir()) == before, "nothing is written on error"


def test_every_problem_of_a_document_is_reported_together(tmp_path: Path) -> None:
    """Three spoiled parts give three problems in paragraph order, not just the first."""
    doc = docx.Document(str(FIXTURE))
    rows = sorted(number_of(doc, spoil(doc)[0]) for spoil in (_no_title, _unknown_placeholder, _bad_email))
    path = tmp_path / "esitys.docx"
    doc.save(str(path))
    assert [p.row for p in problems(path)] == rows


def test_points_numbered_by_hand_read_like_a_word_list(tmp_path: Path) -> None:
    """Points typed as '1. …' in plain paragraphs (and examples typed as '- …') give the seed's points."""
    doc = docx.Document(str(FIXTURE))
    for number, par in enumerate((p for p in doc.paragraphs if p.style.name == "List Number"), start=1):
        par.style = doc.styles["Normal"]
        set_text(par, f"{number}. {par.text}")
    for par in [p for p in doc.paragraphs if p.style.name == "List Bullet"][:3]:
        par.style = doc.styles["Normal"]
        set_text(par, f"- {par.text}")
    path = tmp_path / "kasin.docx"
    doc.save(str(path))
    assert read_authoring_docx(path) == load_proposal(SEED)


def test_without_tunniste_the_id_comes_from_the_short_title(tmp_path: Path) -> None:
    """An empty Tunniste gives the short title's slug as the id."""
    doc = docx.Document(str(FIXTURE))
    set_text(_cell(doc, "Tunniste"), "")
    path = tmp_path / "esitys.docx"
    doc.save(str(path))
    assert read_authoring_docx(path).id == "jarjestojen-ja-julkisen-sektorin-yhteistyomalli"


@given(st.text(max_size=300))
def test_a_slug_is_lowercase_ascii_with_single_hyphens_inside(text: str) -> None:
    """Any short title gives at most 100 characters of a–z, 0–9 and inner single hyphens."""
    made = slug(text)
    assert len(made) <= 100
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", made)


def test_finnish_letters_in_a_slug() -> None:
    """ä, ö and å become a, o and a."""
    assert slug("Äänestys, öljy & Åland 2026!") == "aanestys-oljy-aland-2026"


def _refused(path: Path) -> Problem:
    found = problems(path)
    assert len(found) == 1 and found[0].row is None and found[0].field == "(tiedosto)"
    assert str(path) in str(found[0])
    return found[0]


@pytest.mark.parametrize(
    "content",
    [b"Esitys\n", b"PK\x03\x04 katkennut", b"{\\rtf1 Word 97}", FIXTURE.read_bytes()[:5000]],
    ids=["text", "broken-zip", "rtf", "truncated-docx"],
)
def test_a_file_that_is_not_a_docx_gets_one_finnish_message(content: bytes, tmp_path: Path) -> None:
    """Text, RTF, a broken or truncated zip: one problem that names the file and says to save as .docx."""
    path = tmp_path / "esitys.docx"
    path.write_bytes(content)
    assert _refused(path).message == NOT_DOCX


def test_a_zip_that_is_not_a_word_document_is_refused(tmp_path: Path) -> None:
    """A valid zip without Word's parts (e.g. a renamed .xlsx or .zip) is not read as a proposal."""
    path = tmp_path / "esitys.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("muistio.txt", "ei Word-asiakirja")
    assert _refused(path).message == NOT_DOCX


def test_an_empty_a_missing_and_a_huge_file_are_refused_before_reading(tmp_path: Path) -> None:
    """Empty, missing and over-limit files each give one Finnish problem; the huge one is not read."""
    empty = tmp_path / "tyhja.docx"
    empty.write_bytes(b"")
    assert _refused(empty).message == "tiedosto on tyhjä"
    assert _refused(tmp_path / "puuttuu.docx").message == "tiedostoa ei löydy"
    huge = tmp_path / "iso.docx"
    with huge.open("wb") as handle:
        handle.truncate(docx_blocks.MAX_AUTHORING_BYTES + 1)  # sparse: no 10 MB written
    assert _refused(huge).message.startswith("tiedosto on liian suuri")


def test_a_docx_that_unpacks_too_large_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document whose parts unpack past the limit (a zip bomb) is refused without being parsed."""
    monkeypatch.setattr(docx_blocks, "MAX_UNPACKED_BYTES", 10_000)
    assert "purettuna liian suuri" in _refused(FIXTURE).message


@pytest.mark.libreoffice
def test_libreoffice_opens_the_template_and_shows_its_parts(libreoffice: str, tmp_path: Path) -> None:
    """soffice converts the template to PDF; the PDF shows the parts' headings and the table labels."""
    subprocess.run(
        [
            libreoffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(TEMPLATE),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / "esityspohja.pdf"
    assert pdf.exists(), "LibreOffice ei tuottanut PDF-tiedostoa"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for expected in (
        "Perustiedot",
        "Esitys",
        "Lähteet",
        "Toimenkuva",
        "Muistutukset",
        "Lyhyt otsikko",
        "Ohje:",
    ):
        assert expected in text


@pytest.mark.libreoffice
def test_the_seed_saved_again_by_libreoffice_still_reads_as_the_seed(
    libreoffice: str, tmp_path: Path
) -> None:
    """LibreOffice rewrites styles and list numbering when it saves a DOCX; the reader still finds every part."""
    subprocess.run(
        [
            libreoffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(tmp_path / "lo"),
            str(FIXTURE),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    saved = tmp_path / "lo" / FIXTURE.name
    assert saved.read_bytes() != FIXTURE.read_bytes()
    assert read_authoring_docx(saved) == load_proposal(SEED)


def test_decomposed_letters_read_like_composed_ones(tmp_path: Path) -> None:
    """A label and a value typed with a combining diaeresis (NFD, as some Mac tools save) read as NFC."""
    doc = docx.Document(str(FIXTURE))
    for table in doc.tables:
        for row in table.rows:
            if row.cells[0].text == "Lähettäjä":
                set_text(row.cells[0].paragraphs[0], unicodedata.normalize("NFD", "Lähettäjä"))
                set_text(row.cells[1].paragraphs[0], unicodedata.normalize("NFD", row.cells[1].text))
    path = tmp_path / "nfd.docx"
    doc.save(str(path))
    assert read_authoring_docx(path) == load_proposal(SEED)


def test_deleting_any_one_paragraph_reads_or_gives_finnish_problems_only(tmp_path: Path) -> None:
    """Each paragraph of the seed deleted in turn: the reader returns a proposal or a ContentError whose
    every problem is in Finnish, never another exception or pydantic's English text."""
    count = len(docx.Document(str(FIXTURE)).paragraphs)
    english = re.compile(r"Field required|Input should|String should|Value error|validation error")
    refused = 0
    for index in range(count):
        doc = docx.Document(str(FIXTURE))
        remove(doc.paragraphs[index])
        path = tmp_path / f"poistettu-{index}.docx"
        doc.save(str(path))
        try:
            read_authoring_docx(path)
        except ContentError as exc:
            refused += 1
            assert exc.problems and not english.search(str(exc)), str(exc)
            assert all(p.unit == "kappale" for p in exc.problems)
    assert 10 < refused < count, "a required paragraph's loss is refused, an optional one's is not"


def test_placeholders_inside_a_resolution_are_filled_for_each_body(tmp_path: Path) -> None:
    """[vastaanottajan], [vastaanottaja], [vastaanottajassa] and [päättävä toimielin] inside a draft
    resolution are kept as written and printed in each body's own case forms."""
    from council.content.loading import load_roster
    from council.rendering.contexts import proposal_context
    from models.clock import today_helsinki

    doc = docx.Document(str(FIXTURE))
    par = paragraph(doc, "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] vahvistetaan")
    set_text(
        par,
        "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] päivitetään [vastaanottajan] "
        "yhdistysohjelma ja [vastaanottaja] raportoi siitä; [Päättävä toimielin] seuraa toteutumista.",
    )
    path = tmp_path / "esitys.docx"
    doc.save(str(path))
    proposal = read_authoring_docx(path)
    point = next(p for p in proposal.points if "[vastaanottajan]" in p.resolution)
    roster = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")
    jokioinen = next(b for b in roster.bodies if b.id == "jokioinen")
    context = proposal_context(proposal, jokioinen, on=today_helsinki())
    printed = context.resolution_items[point.number - 1]
    assert "Jokioisten kunnassa" not in printed  # the opening is the intro's, not the item's
    assert "päivitetään Jokioisten kunnan yhdistysohjelma ja Jokioisten kunta raportoi siitä" in printed
    assert "Jokioisten kunnanhallitus seuraa toteutumista" in printed and "[" not in printed
