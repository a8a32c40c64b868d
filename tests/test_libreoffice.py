"""LibreOffice, the real client: the generated DOCX open and convert to PDF with the right text."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster
from council.services.send import render_first_send

pytestmark = pytest.mark.libreoffice


def test_documents_convert_to_pdf_with_names_case_and_page_numbers(libreoffice: str, tmp_path: Path) -> None:
    """Jokioinen's and the joint authority's documents convert; the PDF shows their names and '1 (N)'."""
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    roster = {b.id: b for b in load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").bodies}
    docs: list[Path] = []
    for body_id in ("jokioinen", "fshky"):
        docs += render_first_send(
            proposal, roster[body_id], tmp_path / body_id, on=date(2021, 2, 15)
        ).attachments
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            libreoffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            *map(str, docs),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    texts = {}
    for doc in docs:
        pdf = tmp_path / "pdf" / (doc.stem + ".pdf")
        assert pdf.exists(), f"LibreOffice ei tuottanut tiedostoa {pdf.name}"
        texts[doc.name] = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
    jok = texts["Esitys_Jokioisten_kunta.docx"]
    assert "Jokioisten kunnanhallitus päättää, että Jokioisten kunnassa" in " ".join(jok.split())
    pages = jok.count("\f")
    assert "1 (" in jok and f"({pages})" in jok and pages >= 3
    duty = texts["Järjestöyhdyshenkilön_toimenkuva_Forssan_seudun_hyvinvointikuntayhtymä.docx"]
    assert "Forssan seudun hyvinvointikuntayhtymän järjestöyhdyshenkilön" in " ".join(duty.split())


def test_every_document_of_every_body_converts_to_pdfa(libreoffice: str, settings, tmp_path: Path) -> None:  # noqa: ANN001
    """docs-preview: all bodies' first-send and reminder proposals, blank and filled duty descriptions
    and the status report convert to PDF/A with page numbers, the right names and no leftover tag."""
    from council.services.preview import preview
    from council.services.send import sync

    sync(settings, actor="test")
    docs, pngs, note = preview(settings, today=date(2026, 11, 28))
    assert note == "" and len(docs) == 6 * 4 + 1 and len(pngs) == len(docs)
    roster = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").bodies
    pdf_dir = settings.outputs / "preview" / "pdf"
    for doc in docs:
        pdf = pdf_dir / (doc.stem + ".pdf")
        data = pdf.read_bytes()
        assert b"pdfaid:part" in data, f"{pdf.name} ei ole PDF/A"
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
            ).stdout.split()
        )
        assert "{{" not in text and "{%" not in text and "1 (" in text, pdf.name
        body = next((b for b in roster if b.name.replace(" ", "_") in doc.stem), None)
        if body is None:
            assert doc.stem == "Tilannekatsaus"
            continue
        if doc.stem.startswith("Esitys"):
            assert f"{body.deciding_body} päättää, että {body.name_inessive}" in text, pdf.name
        else:
            assert f"{body.name_genitive} järjestöyhdyshenkilön toimenkuva" in text, pdf.name
        if "täytetty" in doc.stem:
            assert "Maija Meikäläinen" in text and "______" not in text
        if "muistutus" in doc.stem:
            assert "muistutusversio" in text and "Jo päätetyt kohdat" in text
    assert all(p.stat().st_size > 1000 for p in pngs)


NARPES = """
  - id: narpes
    name: "Närpes stad"
    name_genitive: "Närpes stads"
    name_inessive: "i Närpes stad"
    kind: kaupunki
    deciding_body: "Närpes stadsstyrelse"
    registry_email: "registrator@narpes.example"
    language: sv
"""
#: Fewer text lines than this below the repeated header (the closing line not counted) make a last
#: page "nearly empty": a page a secretary prints for one sentence.
MIN_LAST_PAGE_LINES = 4


def _pages(pdf: Path) -> list[list[str]]:
    """Each page's non-empty text lines (pdftotext -layout, page by page)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    count = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    pages = []
    for page in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


def _arial_metrics() -> None:
    """The page counts assume Arial's metrics: Liberation Sans (fonts-liberation2) stands in for it."""
    import shutil

    from tests.conftest import IN_CI

    found = subprocess.run(["fc-match", "Arial"], capture_output=True, text=True).stdout if shutil.which(
        "fc-match"
    ) else ""
    if "Liberation" not in found:
        reason = f"Arialin metriikka puuttuu ({found.strip() or 'fc-match puuttuu'}): apt-get install fonts-liberation2"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def test_every_document_fills_its_pages_and_page_one_names_dnro_and_reply_by(
    libreoffice: str, settings, env: pytest.MonkeyPatch, tmp_path: Path  # noqa: ANN001
) -> None:
    """Every document type for every body of the seed roster and a Swedish-language body, through
    LibreOffice to PDF/A: the duty description (blank and filled) is one page, no last page is nearly
    empty (only the repeated header and the closing line), the page count matches the header's
    "1 (N)", and the first page carries the Dnro and, where a reply is asked for, the reply-by date."""
    from council.config import get_settings
    from council.rules.formatting import fi_date
    from council.services.preview import preview
    from council.services.send import sync

    _arial_metrics()
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        (PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").read_text(encoding="utf-8").rstrip() + "\n" + NARPES,
        encoding="utf-8",
    )
    env.setenv("COUNCIL_ROSTER_FILE", str(roster))
    settings = get_settings()
    sync(settings, actor="test")
    today = date(2026, 11, 28)
    docs, _pngs, note = preview(settings, today=today)
    assert note == "" and len(docs) == 7 * 4 + 1
    reply_by = fi_date(date(2027, 2, 26))  # today + the seed's deadline_days (90)
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    repeated = (proposal.sender, proposal.sender_unit, "Dnro ", "Dnr ")
    for doc in docs:
        pdf = settings.outputs / "preview" / "pdf" / (doc.stem + ".pdf")
        pages = _pages(pdf)
        first = " ".join(pages[0])
        assert f"1 ({len(pages)})" in first, pdf.name
        body_lines = [line for line in pages[-1] if not any(r in line for r in repeated)]
        assert len(pages) == 1 or len(body_lines) >= MIN_LAST_PAGE_LINES, (pdf.name, pages[-1])
        assert "FSHKY/245/00.04.01/2026" in first, pdf.name
        if doc.stem == "Tilannekatsaus":
            assert len(pages) <= 3
            continue
        if "toimenkuva" in doc.stem or "Arbetsbeskrivning" in doc.stem:
            assert len(pages) == 1, f"{pdf.name}: {len(pages)} sivua"
        else:
            assert 3 <= len(pages) <= 8, pdf.name
        if "täytetty" not in doc.stem and "ifylld" not in doc.stem:  # a filled one answers already
            label = "Svar senast" if "Närpes" in doc.stem else "Vastaus viimeistään"
            assert f"{label} {reply_by}" in first, pdf.name
